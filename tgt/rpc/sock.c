/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RPC socket's file: who may create it, replace it and connect to it.
 * Whoever can call bdev_aio_create makes the target open any path it can
 * open, so the socket is guarded at every step:
 *  - its directory is ours or root's, and nobody else can write to it
 *    (except a sticky one like /tmp, where others cannot remove our file);
 *    a missing directory (the default /run/slio-tgt) is created 0700;
 *  - an existing path is replaced only when it is a socket we own and
 *    nothing answers on it: a file planted by someone else stops us with
 *    a clear error rather than being used or answering in our place;
 *  - the socket is created 0600 whatever the umask;
 *  - every client's credentials are checked at accept (SO_PEERCRED): our
 *    uid or root, so a socket made reachable by mistake still refuses.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/rpc.h"
#include "slio/log.h"

#define SOCK_MODE 0600
#define DIR_MODE  0700

static int make_addr(const char *path, struct sockaddr_un *sa)
{
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

/* The directory part of path into dir ("." for a bare name, "/" for the root). */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* The socket's directory: created 0700 if missing, else ours or root's and private. */
static int check_dir(const char *path, struct slio_err *err)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;

    dir_of(path, dir, sizeof(dir));
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || (mkdir(dir, DIR_MODE) < 0 && errno != EEXIST) ||
            chmod(dir, DIR_MODE) < 0 || stat(dir, &st) < 0) {
            int r = slio_neg_errno();
            slio_err_set(err, "RPC socket \"%s\": cannot create its directory \"%s\": %s", path,
                         dir, strerror(-r));
            return r;
        }
        log_info("created the RPC socket's directory \"%s\" (mode 0700)", dir);
    }
    if (!S_ISDIR(st.st_mode)) {
        slio_err_set(err, "RPC socket \"%s\": \"%s\" is not a directory", path, dir);
        return -ENOTDIR;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        slio_err_set(err, "RPC socket \"%s\": its directory \"%s\" belongs to uid %u, not to us",
                     path, dir, (unsigned)st.st_uid);
        return -EPERM;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
        slio_err_set(err,
                     "RPC socket \"%s\": its directory \"%s\" is writable by other users "
                     "(mode %04o): anyone could replace the socket",
                     path, dir, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

/* Is a live server accepting on path? Removes a stale socket of ours. */
static int check_existing(const char *path, const struct sockaddr_un *sa, struct slio_err *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : slio_neg_errno();
    if (!S_ISSOCK(st.st_mode)) {
        slio_err_set(err, "RPC socket \"%s\" exists and is not a socket", path);
        return -EEXIST;
    }
    if (st.st_uid != geteuid()) {
        slio_err_set(err, "RPC socket \"%s\" exists and belongs to uid %u, not to us", path,
                     (unsigned)st.st_uid);
        return -EPERM;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return slio_neg_errno();
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0) {
        slio_err_set(err, "RPC socket \"%s\" is in use by another running target", path);
        return -EADDRINUSE;
    }
    if (e != ECONNREFUSED) {
        slio_err_set(err, "RPC socket \"%s\": cannot probe: %s", path, strerror(e));
        return -e;
    }
    log_info("removing stale RPC socket \"%s\"", path);
    if (unlink(path) < 0 && errno != ENOENT) {
        slio_err_set(err, "RPC socket \"%s\": cannot remove the stale file: %m", path);
        return slio_neg_errno();
    }
    return 0;
}

/* bind() creates the file with 0777 & ~umask: narrow the umask around it, then make sure. */
static int bind_private(int fd, const struct sockaddr_un *sa)
{
    mode_t old = umask(0777 & ~SOCK_MODE);
    int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));

    umask(old);
    if (r < 0 || chmod(sa->sun_path, SOCK_MODE) < 0)
        return slio_neg_errno();
    return 0;
}

int tgt_rpc_sock_listen(const char *path, struct slio_err *err, int *ret_fd)
{
    struct sockaddr_un sa;
    int r = make_addr(path, &sa);

    if (r < 0) {
        slio_err_set(err, "RPC socket path \"%.200s\" is empty or too long (at most %zu bytes)",
                     path, sizeof(sa.sun_path) - 1);
        return r;
    }
    r = check_dir(path, err);
    if (r == 0)
        r = check_existing(path, &sa, err);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (r = bind_private(fd, &sa)) < 0 || listen(fd, 64) < 0) {
        r = r < 0 ? r : slio_neg_errno();
        slio_err_set(err, "RPC socket \"%s\": %s", path, strerror(-r));
        if (fd >= 0)
            close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

bool tgt_rpc_sock_peer_allowed(int fd, unsigned *ret_uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
        *ret_uid = (unsigned)-1;
        return false;
    }
    *ret_uid = (unsigned)cred.uid;
    return cred.uid == geteuid() || cred.uid == 0;
}
