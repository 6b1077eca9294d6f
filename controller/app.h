/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SLIO_CONTROLLER_APP_H
#define SLIO_CONTROLLER_APP_H

/* slio-controller's command line and life cycle: config, store, view, monitor, HTTP. */
int ctl_app_main(int argc, char **argv);

#endif
