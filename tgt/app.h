/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TGT_APP_H
#define TGT_APP_H

/* Parse the command line, load the config, start reactors and the RPC server, run until
 * SIGINT/SIGTERM. */
int tgt_app_main(int argc, char **argv);

#endif
