/* SPDX-License-Identifier: Apache-2.0 */
/* mountinfo lookups and the command runner of the node half. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/call.h"
#include "node/node.h"
#include "slio/exec.h"
#include "slio/fileio.h"

#define MOUNTINFO_MAX (16u << 20)

bool csi_path_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n >= CSI_PATH_MAX || p[0] != '/')
        return false;
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20)
            return false;
    return true;
}

int csi_volume_path_args(struct csi_reply *r, const char *volume_id, const char *volume_path)
{
    if (!volume_id[0] || !volume_path[0])
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id and volume_path needed"),
               -EINVAL;
    if (!csi_path_ok(volume_path))
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT,
                              "volume_path: not a clean absolute path"),
               -EINVAL;
    return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int unescape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        if (c == '\\' && in[i + 1] >= '0' && in[i + 1] <= '3' && in[i + 2] >= '0' &&
            in[i + 2] <= '7' && in[i + 3] >= '0' && in[i + 3] <= '7') {
            c = (char)((in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0'));
            i += 3;
        }
        if (o + 1 >= len)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static bool has_option(const char *opts, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = opts; p; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

/*
 * "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
 *  id par maj  root mount opts   optional...  - type source superopts
 */
int csi_mountinfo_parse_line(char *line, char *ret_point, size_t point_len, struct csi_mount *ret)
{
    char *f[8], *save = NULL;
    size_t n = 0;
    char *tok = strtok_r(line, " ", &save);
    for (; tok && n < 6; tok = strtok_r(NULL, " ", &save))
        f[n++] = tok;
    if (n < 6)
        return -EINVAL;
    while (tok && strcmp(tok, "-") != 0) /* optional fields */
        tok = strtok_r(NULL, " ", &save);
    char *fstype = tok ? strtok_r(NULL, " ", &save) : NULL;
    char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
    if (!source)
        return -EINVAL;
    struct csi_mount m = {0};
    if (unescape(f[4], ret_point, point_len) < 0 ||
        unescape(source, m.source, sizeof(m.source)) < 0 || strlen(fstype) >= sizeof(m.fstype))
        return -EINVAL;
    memcpy(m.fstype, fstype, strlen(fstype) + 1);
    m.read_only = has_option(f[5], "ro");
    *ret = m;
    return 0;
}

int csi_mount_find(const char *mountinfo, const char *mountpoint, struct csi_mount *ret)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = slio_read_file(mountinfo, MOUNTINFO_MAX, &buf, &len);
    if (r < 0)
        return r;
    int found = -ENOENT;
    char *save = NULL;
    /* The last entry wins: a later mount on the same point hides the earlier one. */
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char point[CSI_PATH_MAX];
        struct csi_mount m;
        if (csi_mountinfo_parse_line(line, point, sizeof(point), &m) < 0)
            continue; /* the kernel writes well-formed lines; a fixture may not */
        if (strcmp(point, mountpoint) == 0) {
            if (ret)
                *ret = m;
            found = 0;
        }
    }
    return found;
}

int csi_run_status(const char *const *argv, uint32_t timeout_ms, char **out, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct slio_exec_opts o = {.timeout_ms = (int)timeout_ms, .max_output = 1u << 20};
    int r = slio_exec(argv, &o, &res, err);
    if (r < 0)
        return r;
    if (res.timed_out || res.signal) {
        char argbuf[256], why[96];
        slio_err_set(err, "%s: %s", slio_exec_format_argv(argv, argbuf, sizeof(argbuf)),
                     slio_exec_describe(&res, why, sizeof(why)));
        return -ETIMEDOUT;
    }
    if (out) {
        *out = res.out;
        res.out = NULL;
    }
    return res.exit_code;
}

int csi_run(const char *const *argv, uint32_t timeout_ms, char **out, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct slio_exec_opts o = {.timeout_ms = (int)timeout_ms, .max_output = 1u << 20};
    int r = slio_exec(argv, &o, &res, err);
    if (r < 0)
        return r;
    if (!slio_exec_succeeded(&res)) {
        char argbuf[256], why[96];
        slio_err_set(err, "%s: %s: %.120s", slio_exec_format_argv(argv, argbuf, sizeof(argbuf)),
                     slio_exec_describe(&res, why, sizeof(why)), res.err ? res.err : "");
        return -EIO;
    }
    if (out) {
        *out = res.out;
        res.out = NULL;
    }
    return 0;
}
