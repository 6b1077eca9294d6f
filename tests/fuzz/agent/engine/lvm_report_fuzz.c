/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the lvm engine's report parsers: the same bytes go to the lvs, vgs,
 * pvs and losetup parsers (each must refuse or accept cleanly, never read past
 * the input, never leak) and, NUL-terminated, to the LVM tag parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lvm_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct slio_err err;
    struct lvm_lv *lvs = NULL;
    struct lvm_vg *vgs = NULL;
    struct lvm_pv *pvs = NULL;
    struct lvm_loop *loops = NULL;
    struct lvm_tags tags;
    size_t n;
    char *z;
    double d;

    if (lvm_parse_lvs(text, size, &lvs, &n, &err) == 0)
        free(lvs);
    if (lvm_parse_vgs(text, size, &vgs, &n, &err) == 0)
        free(vgs);
    if (lvm_parse_pvs(text, size, &pvs, &n, &err) == 0)
        free(pvs);
    if (lvm_parse_losetup(text, size, &loops, &n, &err) == 0)
        free(loops);
    z = strndup(text, size);
    if (z) {
        lvm_parse_tags(z, &tags);
        (void)!lvm_parse_percent(z, &d);
        free(z);
    }
    return 0;
}
