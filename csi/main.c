/* SPDX-License-Identifier: Apache-2.0 */
/* slio-csi: the command line; the work is in app.c. */
int csi_app_main(int argc, char **argv);

int main(int argc, char **argv)
{
    return csi_app_main(argc, argv);
}
