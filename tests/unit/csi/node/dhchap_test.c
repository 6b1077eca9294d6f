/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP on the node half (csi/node/dhchap.c, nvme.c, stage.c): the
 * node-stage secrets are validated, reach nvme connect's argv through the
 * exec seam, and never appear in a reply, an error or a log line — not even
 * at debug level, where the seam logs every argv it runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "../../../../csi/node/stage.c"
#include "node/fixture.h"
#include "slio/exec.h"
#include "slio/fileio.h"

#define VOL "0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10"
#define NQN "nqn.2024-01.io.slite:vol:" VOL
/* As `nvme gen-dhchap-key -m 1` / `-m 0` print them (32-byte keys + CRC-32). */
#define HOST_KEY "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:"
#define CTRL_KEY "DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"
#define CONNECT_ARGV                                                                               \
    "\"nvme\", \"connect\", \"-t\", \"tcp\", \"-a\", \"10.0.0.5\", \"-s\", \"4420\", \"-n\", "     \
    "\"" NQN "\", \"--ctrl-loss-tmo\", \"60\", \"--reconnect-delay\", \"2\", \"--hostnqn\", "      \
    "\"nqn.2024-01.io.slite:node:n1\""

static void test_secret_format(void **state)
{
    (void)state;
    assert_true(csi_dhchap_secret_ok(HOST_KEY));
    assert_true(csi_dhchap_secret_ok(CTRL_KEY));
    assert_true(csi_dhchap_secret_ok("DHHC-1:03:" /* 64-byte key + CRC-32: 92 base64 characters */
                                     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJj"
                                     "ZGVmMDEyMzQ1Njc4OWFiY2RlZmOsfKc=:"));
    const char *bad[] = {
        "",
        "secret",
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0nW:",  /* CRC-32 wrong */
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0nW",   /* no final ':' */
        "DHHC-1:04:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0nW:",  /* hash 04 */
        "DHHC-2:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0nW:",  /* version */
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0n:",   /* 47 characters */
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWaXt0n!:",  /* not base64 */
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3: ", /* trailing */
        "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:\n-a",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++)
        assert_false(csi_dhchap_secret_ok(bad[i]));
    char huge[512];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    memcpy(huge, "DHHC-1:01:", 10);
    assert_false(csi_dhchap_secret_ok(huge));
}

static Csi__V1__NodeStageVolumeRequest__SecretsEntry entry(const char *k, const char *v)
{
    Csi__V1__NodeStageVolumeRequest__SecretsEntry e =
        CSI__V1__NODE_STAGE_VOLUME_REQUEST__SECRETS_ENTRY__INIT;
    e.key = (char *)k;
    e.value = (char *)v;
    return e;
}

static void test_from_secrets(void **state)
{
    (void)state;
    Csi__V1__NodeStageVolumeRequest__SecretsEntry e[3] = {entry("other", "x"),
                                                          entry(CSI_SECRET_DHCHAP_CTRL, CTRL_KEY),
                                                          entry(CSI_SECRET_DHCHAP, HOST_KEY)};
    Csi__V1__NodeStageVolumeRequest__SecretsEntry *p[3] = {&e[0], &e[1], &e[2]};
    struct csi_dhchap k;
    char why[160];
    assert_int_equal(csi_dhchap_from_secrets(p, 0, &k, why, sizeof(why)), 0);
    assert_null(k.host);
    assert_null(k.ctrl);
    assert_int_equal(csi_dhchap_from_secrets(p, 3, &k, why, sizeof(why)), 0);
    assert_string_equal(k.host, HOST_KEY);
    assert_string_equal(k.ctrl, CTRL_KEY);
    /* a controller secret alone cannot authenticate anyone */
    assert_int_equal(csi_dhchap_from_secrets(p, 2, &k, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, CSI_SECRET_DHCHAP));
    /* a malformed one is named by its key, its value never quoted */
    e[2] = entry(CSI_SECRET_DHCHAP, "DHHC-1:01:tooshort-but-secret:");
    assert_int_equal(csi_dhchap_from_secrets(p, 3, &k, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "secret " CSI_SECRET_DHCHAP ":"));
    assert_null(strstr(why, "tooshort-but-secret"));
}

/* Everything logged while fn runs, at debug level, for every component. */
static char *capture_logs(void (*fn)(struct node_fixture *), struct node_fixture *f)
{
    char path[PATH_MAX];
    node_fixture_path(f, "log", path, sizeof(path));
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    slio_log_set_level(SLIO_LOG_DEBUG);
    slio_log_enable_debug("all");
    slio_log_set_fd(fd);
    fn(f);
    slio_log_set_fd(2);
    slio_log_set_level(SLIO_LOG_INFO);
    close(fd);
    char *text = NULL;
    size_t n;
    assert_int_equal(slio_read_file(path, 1 << 20, &text, &n), 0);
    return text;
}

static void connect_with_keys(struct node_fixture *f)
{
    struct csi_dhchap keys = {.host = HOST_KEY, .ctrl = CTRL_KEY};
    struct slio_err err = {0};
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [" CONNECT_ARGV
                           ", \"--dhchap-secret\", \"" HOST_KEY
                           "\", \"--dhchap-ctrl-secret\", \"" CTRL_KEY "\"]}]}");
    /* the argv is exactly this (the replay knows no other) */
    assert_int_equal(csi_nvme_connect(&f->ctx.node, NQN, "10.0.0.5", "4420", &keys, &err), 0);
    /* the host secret alone: no --dhchap-ctrl-secret */
    keys.ctrl = NULL;
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [" CONNECT_ARGV
                           ", \"--dhchap-secret\", \"" HOST_KEY "\"],"
                           " \"exit\": 1, \"stderr\": \"Failed to write to /dev/nvme-fabrics\"}]}");
    assert_int_equal(csi_nvme_connect(&f->ctx.node, NQN, "10.0.0.5", "4420", &keys, &err), -EIO);
    /* the failure quotes the argv, redacted */
    assert_non_null(strstr(err.text, "--dhchap-secret <redacted>"));
    assert_null(strstr(err.text, "DHHC-1"));
    log_warn("%s", err.text);
    /* an argv the replay does not know is logged by the seam: redacted too */
    keys.ctrl = CTRL_KEY;
    assert_int_equal(csi_nvme_connect(&f->ctx.node, NQN, "10.0.0.6", "4420", &keys, &err), -ENOENT);
    assert_null(strstr(err.text, "DHHC-1"));
}

static void test_connect_argv_and_no_leak(void **state)
{
    struct node_fixture *f = *state;
    _cleanup_free_ char *logs = capture_logs(connect_with_keys, f);
    assert_non_null(strstr(logs, "<redacted>"));
    assert_null(strstr(logs, "DHHC-1"));
    assert_null(strstr(logs, "MDEyMzQ1Njc4OWFi"));
    assert_null(strstr(logs, "ZmVkY2JhOTg3NjU0"));
}

/* The seam's redaction outside nvme: a secret-looking argument anywhere, an option's value
 * only for nvme (other programs' -S/-C mean other things). */
static void test_format_argv_redacts(void **state)
{
    (void)state;
    char buf[512];
    const char *a[] = {"nvme", "connect", "-S", "plain", "-C", "x", "--tls-key", "k", NULL};
    assert_string_equal(slio_exec_format_argv(a, buf, sizeof(buf)),
                        "nvme connect -S <redacted> -C <redacted> --tls-key <redacted>");
    const char *b[] = {"tool", "-S", "kept", "DHHC-1:00:abc:", NULL};
    assert_string_equal(slio_exec_format_argv(b, buf, sizeof(buf)), "tool -S kept <redacted>");
}

static void stage_with_bad_secret(struct node_fixture *f)
{
    char stage[PATH_MAX];
    node_fixture_path(f, "stage", stage, sizeof(stage));
    Csi__V1__VolumeCapability c = CSI__V1__VOLUME_CAPABILITY__INIT;
    Csi__V1__VolumeCapability__BlockVolume b = CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
    Csi__V1__VolumeCapability__AccessMode m = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
    m.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
    c.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
    c.block = &b;
    c.access_mode = &m;
    Csi__V1__NodeStageVolumeRequest__SecretsEntry e =
        entry(CSI_SECRET_DHCHAP, "DHHC-1:01:c2VjcmV0LXZhbHVlLW5vdC1sb2dnZWQ=:");
    Csi__V1__NodeStageVolumeRequest__SecretsEntry *ep = &e;
    Csi__V1__NodeStageVolumeRequest q = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.staging_target_path = stage;
    q.volume_capability = &c;
    q.secrets = &ep;
    q.n_secrets = 1;
    node_fixture_replay(f, "{\"calls\": []}");
    struct csi_reply r = {.deadline_ms = csi_now_ms() + 5000};
    csi_node_stage_volume(&f->ctx, &q, &r);
    /* refused before anything is attached or run (the replay has nothing recorded) */
    assert_true(r.done);
    assert_int_equal(r.code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.message, CSI_SECRET_DHCHAP));
    assert_null(strstr(r.message, "c2VjcmV0"));
    log_info("reply: %s", r.message);
}

static void test_stage_refuses_bad_secret(void **state)
{
    struct node_fixture *f = *state;
    _cleanup_free_ char *logs = capture_logs(stage_with_bad_secret, f);
    assert_non_null(strstr(logs, "reply: "));
    assert_null(strstr(logs, "c2VjcmV0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_format),
        cmocka_unit_test(test_from_secrets),
        cmocka_unit_test(test_format_argv_redacts),
        cmocka_unit_test_setup_teardown(test_connect_argv_and_no_leak, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stage_refuses_bad_secret, node_fixture_setup,
                                        node_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
