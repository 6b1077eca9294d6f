/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP keys of exports (agent/export/dhchap.c, slio_tgt.c) against the
 * fake target: key files (0600, private dir, atomic) before keyring entries,
 * hosts added with key names, rotation without touching the host, removal of
 * keys with the export, leftovers of a crash pruned; discovery's digest and
 * the desired state's decoding and plan.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "export/slio_tgt_internal.h"
#include "fake_tgt.h"
#include "reconcile/desired.h"
#include "reconcile/plan.h"
#include "slio/fileio.h"
#include "slio/uuid.h"

#define VOL      "6f1c0e1e-8a4b-4d35-9a39-0c1c2d3e4f50"
#define NQN      "nqn.2024-01.io.slite:vol:" VOL
#define HOST_A   "nqn.2024-01.io.slite:host-a"
#define HOST_B   "nqn.2024-01.io.slite:host-b"
#define HOST_KEY "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:"
#define CTRL_KEY "DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"
#define NEW_KEY  "DHHC-1:01:cm90YXRlZC1rZXktcm90YXRlZC1rZXktcm90YXRlZCGfaVSe:"

struct env {
    struct fake *f;
    struct agent_exporter *x;
    char root[64], keys[96];
    char hname[AGENT_KEY_NAME_MAX], cname[AGENT_KEY_NAME_MAX];
    uuid_t uuid;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    snprintf(e->root, sizeof(e->root), "/tmp/agent-keys-XXXXXX");
    assert_non_null(mkdtemp(e->root));
    snprintf(e->keys, sizeof(e->keys), "%s/keys", e->root);
    e->f = fake_start();
    e->x = exporter_in(e->f, false, e->keys);
    assert_int_equal(slio_uuid_parse(VOL, e->uuid), 0);
    agent_export_key_name(e->uuid, HOST_A, false, e->hname);
    agent_export_key_name(e->uuid, HOST_A, true, e->cname);
    json_object_set_new(e->f->answers, "nvmf_get_transports",
                        json_pack("[{s:s}]", "trtype", "TCP"));
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];

    agent_exporter_close(&e->x);
    fake_stop(e->f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->root);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static struct agent_export_spec spec(struct env *e, const char *const *hosts,
                                     const char *const *keys, const char *const *ctrls, size_t n)
{
    struct agent_export_spec s = {.path = "/pool/" VOL ".img",
                                  .hosts = hosts,
                                  .n_hosts = n,
                                  .host_keys = keys,
                                  .ctrl_keys = ctrls};

    uuid_copy(s.uuid, e->uuid);
    return s;
}

/* A complete export serving HOST_A, bound to the given key names (NULL: none). */
static struct agent_export_state served(struct env *e, char *key, char *ctrl)
{
    static char *hosts[1], *keys[1], *ctrls[1];
    struct agent_export_state s = {.has_bdev = true,
                                   .has_subsystem = true,
                                   .has_namespace = true,
                                   .has_listener = true,
                                   .hosts = hosts,
                                   .n_hosts = 1,
                                   .key_names = keys,
                                   .ctrl_key_names = ctrls};

    hosts[0] = (char *)HOST_A;
    keys[0] = key;
    ctrls[0] = ctrl;
    uuid_copy(s.uuid, e->uuid);
    return s;
}

static char *file_of(struct env *e, const char *name, mode_t *ret_mode)
{
    char path[256];
    char *buf = NULL;
    size_t n;
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", e->keys, name);
    if (stat(path, &st) < 0)
        return NULL;
    if (ret_mode)
        *ret_mode = st.st_mode & 07777;
    assert_int_equal(slio_read_file(path, 4096, &buf, &n), 0);
    return buf;
}

static size_t files_in(struct env *e)
{
    DIR *d = opendir(e->keys);
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_key_names(void **state)
{
    struct env *e = *state;
    char other[AGENT_KEY_NAME_MAX];

    assert_int_equal(strlen(e->hname), 60);
    assert_memory_equal(e->hname, "slio-" VOL "-", 42);
    assert_int_equal(e->hname[59], 'h');
    assert_int_equal(e->cname[59], 'c');
    assert_true(agent_export_key_name_ok(e->uuid, e->hname));
    agent_export_key_name(e->uuid, HOST_B, false, other);
    assert_string_not_equal(other, e->hname);
    assert_false(agent_export_key_name_ok(e->uuid, "../../etc/shadow"));
    assert_false(agent_export_key_name_ok(e->uuid, "slio-" VOL "-../../../etc/sh-h"));
    assert_false(agent_export_key_name_ok(e->uuid, "slio-" VOL "-0123456789abcdeF-h"));
}

static void test_new_export_with_keys(void **state)
{
    struct env *e = *state;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY}, *ctrls[] = {CTRL_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, ctrls, 1);
    struct agent_export_state none = {0};
    struct slio_err err = {{0}};
    struct stat st;
    mode_t mode = 0;
    json_t *p;

    assert_int_equal(agent_exporter_ensure(e->x, &s, &none, &err), 0);
    assert_string_equal(methods(e->f), "nvmf_get_transports,bdev_aio_create,nvmf_create_subsystem,"
                                       "keyring_file_add_key,keyring_file_add_key,"
                                       "nvmf_subsystem_add_host,nvmf_subsystem_add_ns,"
                                       "nvmf_subsystem_add_listener");
    p = params_of(e->f, "keyring_file_add_key", 0);
    assert_string_equal(json_string_value(json_object_get(p, "name")), e->hname);
    assert_non_null(strstr(json_string_value(json_object_get(p, "path")), e->keys));
    p = params_of(e->f, "nvmf_subsystem_add_host", 0);
    assert_string_equal(json_string_value(json_object_get(p, "host")), HOST_A);
    assert_string_equal(json_string_value(json_object_get(p, "dhchap_key")), e->hname);
    assert_string_equal(json_string_value(json_object_get(p, "dhchap_ctrlr_key")), e->cname);
    /* the secrets went to files only, never over the socket */
    char *all = json_dumps(e->f->calls, 0);
    assert_null(strstr(all, "DHHC-1"));
    free(all);
    char *h = file_of(e, e->hname, &mode);
    assert_string_equal(h, HOST_KEY);
    assert_int_equal(mode, 0600);
    free(h);
    h = file_of(e, e->cname, NULL);
    assert_string_equal(h, CTRL_KEY);
    free(h);
    assert_int_equal(stat(e->keys, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(files_in(e), 2);
}

static void test_rotation_keeps_the_host(void **state)
{
    struct env *e = *state;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY}, *newkeys[] = {NEW_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, NULL, 1);
    struct agent_export_state none = {0}, cur;
    struct slio_err err = {{0}};

    assert_int_equal(agent_exporter_ensure(e->x, &s, &none, &err), 0);
    json_array_clear(e->f->calls);
    cur = served(e, e->hname, NULL);
    s.host_keys = newkeys;
    assert_int_equal(agent_exporter_ensure(e->x, &s, &cur, &err), 0);
    /* no host removed or re-added, no keyring call: the file changed under its name */
    assert_string_equal(methods(e->f), "");
    char *h = file_of(e, e->hname, NULL);
    assert_string_equal(h, NEW_KEY);
    free(h);
    assert_int_equal(files_in(e), 1);
}

static void test_keys_given_then_taken(void **state)
{
    struct env *e = *state;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, NULL, 1);
    struct agent_export_state cur = served(e, NULL, NULL);
    struct slio_err err = {{0}};
    json_t *p;

    /* a host served without keys gets them: keyring first, then the host re-added */
    assert_int_equal(agent_exporter_ensure(e->x, &s, &cur, &err), 0);
    assert_string_equal(methods(e->f), "nvmf_get_transports,keyring_file_add_key,"
                                       "nvmf_subsystem_remove_host,nvmf_subsystem_add_host");
    p = params_of(e->f, "nvmf_subsystem_add_host", 0);
    assert_string_equal(json_string_value(json_object_get(p, "dhchap_key")), e->hname);
    assert_null(json_object_get(p, "dhchap_ctrlr_key"));
    /* and loses them: the host re-added bare, then its key leaves keyring and disk */
    json_array_clear(e->f->calls);
    cur = served(e, e->hname, NULL);
    s.host_keys = NULL;
    assert_int_equal(agent_exporter_ensure(e->x, &s, &cur, &err), 0);
    assert_string_equal(methods(e->f), "nvmf_subsystem_remove_host,nvmf_subsystem_add_host,"
                                       "keyring_file_remove_key");
    assert_null(json_object_get(params_of(e->f, "nvmf_subsystem_add_host", 0), "dhchap_key"));
    assert_int_equal(files_in(e), 0);
}

static void test_unexport_removes_keys(void **state)
{
    struct env *e = *state;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY}, *ctrls[] = {CTRL_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, ctrls, 1);
    struct agent_export_state none = {0}, cur;
    struct slio_err err = {{0}};

    assert_int_equal(agent_exporter_ensure(e->x, &s, &none, &err), 0);
    json_array_clear(e->f->calls);
    cur = served(e, e->hname, e->cname);
    assert_int_equal(agent_exporter_remove(e->x, e->uuid, &cur, &err), 0);
    assert_string_equal(methods(e->f), "nvmf_delete_subsystem,keyring_file_remove_key,"
                                       "keyring_file_remove_key,bdev_aio_delete");
    assert_int_equal(files_in(e), 0);
    /* again (a crash after the subsystem went): keys already gone is fine */
    json_array_clear(e->f->calls);
    json_object_set_new(
        e->f->answers, "!keyring_file_remove_key",
        json_pack("{s:i, s:s}", "code", -126, "message", "Required key not available"));
    cur.has_subsystem = false;
    assert_int_equal(agent_exporter_remove(e->x, e->uuid, &cur, &err), 0);
    assert_string_equal(methods(e->f), "bdev_aio_delete");
}

/* kill -9 left: a key file whose keyring entry exists (add answers "exists"), a file of a
 * host no longer wanted, and a temporary file of an interrupted write. */
static void test_crash_leftovers_converge(void **state)
{
    struct env *e = *state;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, NULL, 1);
    struct agent_export_state cur = served(e, NULL, NULL);
    struct slio_err err = {{0}};
    char stale[AGENT_KEY_NAME_MAX], path[256];

    assert_int_equal(mkdir(e->keys, 0700), 0);
    agent_export_key_name(e->uuid, HOST_B, false, stale);
    snprintf(path, sizeof(path), "%s/%s", e->keys, stale);
    assert_int_equal(slio_write_file_atomic(path, CTRL_KEY, strlen(CTRL_KEY), 0600), 0);
    snprintf(path, sizeof(path), "%s/%s.tmpAbC123", e->keys, e->hname);
    assert_int_equal(slio_write_file_atomic(path, "partial", 7, 0600), 0);
    snprintf(path, sizeof(path), "%s/%s", e->keys, e->hname);
    assert_int_equal(slio_write_file_atomic(path, HOST_KEY, strlen(HOST_KEY), 0600), 0);
    snprintf(path, sizeof(path), "%s/slio-other-volume-key", e->keys);
    assert_int_equal(slio_write_file_atomic(path, "x", 1, 0600), 0);
    json_object_set_new(e->f->answers, "!keyring_file_add_key",
                        json_pack("{s:i, s:s}", "code", -17, "message", "File exists"));
    assert_int_equal(agent_exporter_ensure(e->x, &s, &cur, &err), 0);
    assert_string_equal(methods(e->f), "nvmf_get_transports,keyring_file_add_key,"
                                       "nvmf_subsystem_remove_host,nvmf_subsystem_add_host,"
                                       "keyring_file_remove_key");
    assert_string_equal(
        json_string_value(json_object_get(params_of(e->f, "keyring_file_remove_key", 0), "name")),
        stale);
    /* left: the wanted key, and what is not this volume's */
    assert_int_equal(files_in(e), 2);
    /* a keyring failure other than "exists" is an error naming the key, not its secret */
    json_array_clear(e->f->calls);
    json_object_set_new(e->f->answers, "!keyring_file_add_key",
                        json_pack("{s:i, s:s}", "code", -1, "message", "Operation not permitted"));
    s.host_keys = (const char *const[]){NEW_KEY};
    cur = served(e, NULL, NULL);
    assert_int_equal(agent_exporter_ensure(e->x, &s, &cur, &err), -EREMOTEIO);
    assert_null(strstr(err.text, "DHHC-1"));
}

static void test_discovered_digest(void **state)
{
    struct env *e = *state;
    struct tgt_exporter *t = (struct tgt_exporter *)e->x;
    const char *hosts[] = {HOST_A}, *keys[] = {HOST_KEY}, *ctrls[] = {CTRL_KEY};
    struct agent_export_spec s = spec(e, hosts, keys, ctrls, 1);
    struct agent_export_state none = {0};
    struct agent_export_list list = {0};
    struct slio_err err = {{0}};
    struct agent_export_addr addr = {.traddr = "127.0.0.2", .trsvcid = "4420"};
    char path[256];
    uint64_t want = agent_export_auth_digest(hosts, keys, ctrls, 1);

    assert_int_equal(agent_exporter_ensure(e->x, &s, &none, &err), 0);
    json_t *subs = json_pack("[{s:s, s:b, s:[{s:s, s:s, s:s}], s:[], s:[]}]", "nqn", NQN,
                             "allow_any_host", 0, "hosts", "nqn", HOST_A, "dhchap_key", e->hname,
                             "dhchap_ctrlr_key", e->cname, "listen_addresses", "namespaces");
    assert_int_equal(tgt_decode_subsystems(subs, &addr, &list, &err), 0);
    assert_int_equal(list.n, 1);
    assert_string_equal(list.items[0].key_names[0], e->hname);
    tgt_discover_auth(t, &list.items[0]);
    assert_true(list.items[0].auth_digest == want);
    /* a rotation not written yet, or a file lost: the digests differ */
    assert_true(agent_export_auth_digest(hosts, (const char *const[]){NEW_KEY}, ctrls, 1) != want);
    snprintf(path, sizeof(path), "%s/%s", e->keys, e->cname);
    assert_int_equal(unlink(path), 0);
    tgt_discover_auth(t, &list.items[0]);
    assert_true(list.items[0].auth_digest != want);
    /* a name that is not ours is never opened as a path */
    free(list.items[0].key_names[0]);
    list.items[0].key_names[0] = strdup("../../../../etc/passwd");
    tgt_discover_auth(t, &list.items[0]);
    assert_true(list.items[0].auth_digest != want);
    /* no keys anywhere: digest 0 on both sides */
    assert_true(agent_export_auth_digest(hosts, NULL, NULL, 1) == 0);
    agent_export_list_free(&list);
    json_decref(subs);
}

static void test_desired_and_plan(void **state)
{
    (void)state;
    const char *body = "{\"revision\": 3, \"volumes\": [{\"id\": \"" VOL "\", \"pool\": \"p\","
                       " \"size\": 1048576, \"exports\": [{\"host_nqn\": \"" HOST_A "\","
                       " \"dhchap_key\": \"" HOST_KEY "\", \"dhchap_ctrl_key\": \"" CTRL_KEY "\"},"
                       " {\"host_nqn\": \"" HOST_B "\"}]}]}";
    json_t *j = json_loads(body, 0, NULL);
    struct agent_desired d;
    struct slio_err err = {{0}};

    assert_int_equal(agent_desired_decode(j, &d, &err), 0);
    assert_string_equal(d.volumes[0].host_keys[0], HOST_KEY);
    assert_string_equal(d.volumes[0].ctrl_keys[0], CTRL_KEY);
    assert_null(d.volumes[0].host_keys[1]);
    agent_desired_free(&d);
    json_decref(j);
    const char *bad[] = {
        "{\"revision\": 1, \"volumes\": [{\"id\": \"" VOL "\", \"pool\": \"p\", \"size\": 1,"
        " \"exports\": [{\"host_nqn\": \"" HOST_A
        "\", \"dhchap_key\": \"DHHC-1:01:c2VjcmV0:\"}]}]}",
        "{\"revision\": 1, \"volumes\": [{\"id\": \"" VOL "\", \"pool\": \"p\", \"size\": 1,"
        " \"exports\": [{\"host_nqn\": \"" HOST_A "\", \"dhchap_ctrl_key\": \"" CTRL_KEY "\"}]}]}",
    };
    for (size_t i = 0; i < 2; i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_int_equal(agent_desired_decode(j, &d, &err), -EINVAL);
        assert_non_null(strstr(err.text, "exports[0].dhchap_"));
        assert_null(strstr(err.text, "c2VjcmV0"));
        assert_null(strstr(err.text, "ZmVkY2Jh"));
        json_decref(j);
    }
}

static void test_plan_sees_key_changes(void **state)
{
    struct env *e = *state;
    char *hosts[] = {(char *)HOST_A}, *keys[] = {(char *)HOST_KEY}, *none[] = {NULL};
    struct agent_desired_volume v = {.pool = "p",
                                     .size = 1 << 20,
                                     .existed = true,
                                     .hosts = hosts,
                                     .n_hosts = 1,
                                     .host_keys = keys,
                                     .ctrl_keys = none};
    struct agent_desired d = {.revision = 1, .volumes = &v, .n_volumes = 1};
    struct agent_volume actual = {.kind = AGENT_VOL_VOLUME, .size = 1 << 20, .path = "/pool/x.img"};
    struct agent_volume_list al = {.items = &actual, .n = 1};
    struct agent_export_state st = served(e, e->hname, NULL);
    struct agent_export_list el = {.items = &st, .n = 1};
    struct agent_plan p;

    uuid_copy(v.id, e->uuid);
    uuid_copy(actual.uuid, e->uuid);
    st.bdev_size = 1 << 20;
    /* the target's key files hold something else (or nothing): export again */
    st.auth_digest = 0;
    assert_int_equal(agent_plan_make(&d, "p", &al, &el, &p), 0);
    assert_int_equal(p.n_actions, 1);
    assert_int_equal(p.actions[0].kind, AGENT_ACT_EXPORT);
    agent_plan_free(&p);
    /* they hold the wanted secrets: nothing to do */
    st.auth_digest =
        agent_export_auth_digest((const char *const *)hosts, (const char *const *)keys, NULL, 1);
    assert_int_equal(agent_plan_make(&d, "p", &al, &el, &p), 0);
    assert_int_equal(p.n_actions, 0);
    agent_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_export_with_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_keeps_the_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_given_then_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexport_removes_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_leftovers_converge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovered_digest, setup, teardown),
        cmocka_unit_test(test_desired_and_plan),
        cmocka_unit_test_setup_teardown(test_plan_sees_key_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
