/* SPDX-License-Identifier: Apache-2.0 */
/* Output of slio-perf: text for people, one JSON object (--json) for scripts and tests. */
#ifndef SLIO_PERF_REPORT_H
#define SLIO_PERF_REPORT_H

#include "cli.h"
#include "engine.h"
#include "host.h"

void perf_report_discovery(const struct nvmf_discovery_log *log, bool json);
void perf_report_identify(const struct slio_host_ctrl_info *info, uint32_t nsid,
                          const struct nvme_id_ns *ns);
void perf_report_result(const struct perf_cli *cli, const struct perf_backend *be,
                        const char *target, const struct perf_result *res, bool json);

#endif
