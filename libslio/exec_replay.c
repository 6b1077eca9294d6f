/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay test double of slio_exec(): the fake sits at this one seam, so
 * tests of LVM/nvme-cli code run recorded outputs instead of real commands.
 * The recording is validated entirely at load time (with the json.h decoder),
 * so a broken fixture fails where it is loaded, not in the middle of a test.
 */
#include <pthread.h>
#include <string.h>

#define SLIO_LOG_COMPONENT "exec"
#include "exec_replay.h"
#include "slio/json.h"
#include "slio/log.h"

#define RECORDING_MAX (64u << 20)

struct entry {
    json_t *argv;
    const char *in;
    const char *out;
    const char *err;
    int exit_code;
    int signal;
    bool timed_out;
};

static const struct slio_json_field entry_fields[] = {
    SLIO_JSON_FIELD(struct entry, argv, "argv", SLIO_JSON_VALUE, .required = true),
    SLIO_JSON_FIELD(struct entry, in, "stdin", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct entry, out, "stdout", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct entry, err, "stderr", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct entry, exit_code, "exit", SLIO_JSON_INT, .min = 0, .max = 255),
    SLIO_JSON_FIELD(struct entry, signal, "signal", SLIO_JSON_INT, .min = 0, .max = 64),
    SLIO_JSON_FIELD(struct entry, timed_out, "timed_out", SLIO_JSON_BOOL),
};

static pthread_mutex_t replay_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *recording;     /* the loaded file, owns the strings below */
static struct entry *entries; /* decoded, borrowed from recording */
static bool *used;
static size_t n_entries;

static void replay_clear(void)
{
    free(entries);
    free(used);
    json_decref(recording);
    recording = NULL;
    entries = NULL;
    used = NULL;
    n_entries = 0;
}

static int check_argv(const json_t *argv, struct slio_err *err)
{
    size_t i;
    json_t *a;

    if (!json_is_array(argv) || json_array_size(argv) == 0) {
        slio_err_set(err, "field 'argv': expected a non-empty array of strings");
        return -EINVAL;
    }
    json_array_foreach (argv, i, a) {
        if (!json_is_string(a)) {
            slio_err_set(err, "field 'argv[%zu]': expected string, got %s", i,
                         slio_json_type_name(a));
            return -EINVAL;
        }
    }
    return 0;
}

static int decode_recording(json_t *root, struct entry *list, struct slio_err *err)
{
    json_t *calls = json_object_get(root, "calls");
    size_t i;
    json_t *c;
    int r;

    json_array_foreach (calls, i, c) {
        list[i] = (struct entry){0};
        r = SLIO_JSON_DECODE(c, entry_fields, &list[i], 0, err);
        if (r == 0)
            r = check_argv(list[i].argv, err);
        if (r < 0) {
            slio_err_prefix(err, "calls[%zu]", i);
            return r;
        }
    }
    return 0;
}

int slio_exec_set_replay(const char *path, struct slio_err *err)
{
    _cleanup_json_ json_t *root = NULL;
    _cleanup_free_ struct entry *list = NULL;
    _cleanup_free_ bool *flags = NULL;
    json_t *calls;
    size_t n;
    int r;

    if (!path) {
        pthread_mutex_lock(&replay_lock);
        replay_clear();
        pthread_mutex_unlock(&replay_lock);
        return 0;
    }
    r = slio_json_load_file(path, RECORDING_MAX, &root, err);
    if (r < 0)
        return r;
    calls = json_object_get(root, "calls");
    if (!json_is_object(root) || !json_is_array(calls) || json_object_size(root) != 1) {
        slio_err_set(err, "\"%s\": expected {\"calls\": [...]}", path);
        return -EINVAL;
    }
    n = json_array_size(calls);
    list = calloc(n ? n : 1, sizeof(*list));
    flags = calloc(n ? n : 1, sizeof(*flags));
    if (!list || !flags)
        return -ENOMEM;
    r = decode_recording(root, list, err);
    if (r < 0) {
        slio_err_prefix(err, "\"%s\"", path);
        return r;
    }
    pthread_mutex_lock(&replay_lock);
    replay_clear();
    recording = TAKE_PTR(root);
    entries = TAKE_PTR(list);
    used = TAKE_PTR(flags);
    n_entries = n;
    pthread_mutex_unlock(&replay_lock);
    return 0;
}

static bool argv_matches(const json_t *rec, const char *const *argv)
{
    size_t i;

    for (i = 0; argv[i]; i++) {
        const json_t *a = json_array_get(rec, i);
        if (!a || strcmp(json_string_value(a), argv[i]) != 0)
            return false;
    }
    return i == json_array_size(rec);
}

static bool stdin_matches(const struct entry *e, const struct slio_exec_opts *o)
{
    if (!e->in)
        return true;
    size_t len = strlen(e->in);
    return o->stdin_data && o->stdin_len == len && memcmp(o->stdin_data, e->in, len) == 0;
}

/* Copy recorded output, applying the caller's cap like a real run would. */
static char *capped_copy(const char *s, size_t cap, size_t *ret_len, bool *ret_truncated)
{
    size_t len = s ? strlen(s) : 0;
    size_t keep = SLIO_MIN(len, cap);
    char *p = malloc(keep + 1);

    if (!p)
        return NULL;
    if (keep)
        memcpy(p, s, keep);
    p[keep] = '\0';
    *ret_len = keep;
    *ret_truncated = keep < len;
    return p;
}

static int answer(const struct entry *e, const struct slio_exec_opts *o,
                  struct slio_exec_result *ret)
{
    struct slio_exec_result r = {
        .exit_code = e->signal ? -1 : e->exit_code,
        .signal = e->signal,
        .timed_out = e->timed_out,
    };

    r.out = capped_copy(e->out, o->max_output, &r.out_len, &r.out_truncated);
    r.err = capped_copy(e->err, o->max_output, &r.err_len, &r.err_truncated);
    if (!r.out || !r.err) {
        slio_exec_result_free(&r);
        return -ENOMEM;
    }
    *ret = r;
    return 0;
}

int exec_replay_lookup(const char *const *argv, const struct slio_exec_opts *opts,
                       struct slio_exec_result *ret, struct slio_err *err)
{
    const struct entry *hit = NULL;
    int r;

    pthread_mutex_lock(&replay_lock);
    if (!recording) {
        pthread_mutex_unlock(&replay_lock);
        return EXEC_REPLAY_OFF;
    }
    for (size_t i = 0; i < n_entries; i++) {
        if (!argv_matches(entries[i].argv, argv) || !stdin_matches(&entries[i], opts))
            continue;
        hit = &entries[i]; /* the last match answers once all are used */
        if (!used[i]) {
            used[i] = true;
            break;
        }
    }
    if (hit) {
        r = answer(hit, opts, ret);
    } else {
        char cmd[200];
        slio_exec_format_argv(argv, cmd, sizeof(cmd));
        slio_err_set(err, "exec replay: no recording for argv [%s]", cmd);
        log_error("exec replay: no recording for argv [%s]", cmd);
        r = -ENOENT;
    }
    pthread_mutex_unlock(&replay_lock);
    return r;
}
