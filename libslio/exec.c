/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Child-process runner. posix_spawn() rather than fork(): nothing of ours
 * runs between fork and exec, so there is no async-signal-safety to get
 * wrong, and glibc reports exec failures (ENOENT, EACCES) synchronously.
 *
 * The child gets its own process group so that a timeout can kill what it
 * started too (`sh -c 'sleep 5'` would otherwise leave `sleep` holding our
 * pipes open). One poll() loop feeds stdin, drains stdout/stderr (beyond the
 * cap output is read and dropped, so the child never blocks on a full pipe)
 * and watches a pidfd for the exit.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>

#define SLIO_LOG_COMPONENT "exec"
#include "exec_replay.h"
#include "slio/log.h"
#include "slio/strbuf.h"

#define DRAIN_AFTER_EXIT_MS 1000 /* grandchildren holding our pipes get this long */

extern char **environ;

struct stream {
    int fd;
    struct slio_strbuf buf;
    bool truncated;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Secrets on a command line (nvme connect --dhchap-secret DHHC-1:...): the
 * value after a secret-taking option, and anything in an NVMe secret
 * representation, is shown as "<redacted>" wherever an argv is quoted.
 */
static bool is_secret_arg(const char *const *argv, size_t i)
{
    static const char *const options[] = {"--dhchap-secret", "--dhchap-ctrl-secret", "-S", "-C",
                                          "--tls-key"};
    static const char *const prefixes[] = {"DHHC-1:", "NVMeTLSkey-1:"};

    for (size_t j = 0; j < SLIO_ARRAY_SIZE(prefixes); j++)
        if (strncmp(argv[i], prefixes[j], strlen(prefixes[j])) == 0)
            return true;
    for (size_t j = 0; i > 0 && strcmp(argv[0], "nvme") == 0 && j < SLIO_ARRAY_SIZE(options); j++)
        if (strcmp(argv[i - 1], options[j]) == 0)
            return true;
    return false;
}

const char *slio_exec_format_argv(const char *const *argv, char *buf, size_t len)
{
    struct slio_strbuf sb = SLIO_STRBUF_INIT(len > 4 ? len - 4 : 0);
    bool cut = false;

    for (size_t i = 0; argv && argv[i] && !cut; i++) {
        const char *a = is_secret_arg(argv, i) ? "<redacted>" : argv[i];
        bool quote = !*a || strpbrk(a, " \t\n'\"\\$") != NULL;
        int r = slio_strbuf_appendf(&sb, "%s%s%s%s", i ? " " : "", quote ? "'" : "", a,
                                    quote ? "'" : "");
        cut = r < 0;
    }
    snprintf(buf, len, "%s%s", slio_strbuf_str(&sb), cut ? " ..." : "");
    slio_strbuf_free(&sb);
    return buf;
}

/* write() that turns a closed reader into EPIPE instead of a process-killing SIGPIPE. */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
    sigset_t pipe_set, old;
    ssize_t n;
    int saved;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    n = write(fd, data, len);
    saved = errno;
    if (n < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0};
        sigtimedwait(&pipe_set, NULL, &zero); /* consume the SIGPIPE we caused */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read what is there; keep up to the cap, drop (and flag) the rest. */
static void drain(struct stream *s)
{
    char chunk[16384];
    ssize_t n = read(s->fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(&s->fd);
        return;
    }
    size_t room = s->buf.max - s->buf.len;
    size_t keep = SLIO_MIN((size_t)n, room);
    if (keep < (size_t)n)
        s->truncated = true;
    if (slio_strbuf_append(&s->buf, chunk, keep) < 0)
        s->truncated = true; /* out of memory: report as truncated rather than fail the run */
}

struct child {
    pid_t pid;
    int pidfd;
    int in_fd;
    const char *in_data;
    size_t in_left;
    struct stream out, err;
    bool exited;
    int status;
};

static void feed_stdin(struct child *c)
{
    ssize_t n = write_nosigpipe(c->in_fd, c->in_data, c->in_left);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {
        close_fd(&c->in_fd); /* the child closed its stdin: not our failure */
        return;
    }
    c->in_data += n;
    c->in_left -= (size_t)n;
    if (c->in_left == 0)
        close_fd(&c->in_fd);
}

static void reap(struct child *c, int flags)
{
    if (c->exited)
        return;
    for (;;) {
        pid_t p = waitpid(c->pid, &c->status, flags);
        if (p < 0 && errno == EINTR)
            continue;
        if (p == c->pid || p < 0)
            c->exited = true; /* p < 0 (ECHILD): someone else reaped it; nothing to wait for */
        return;
    }
}

static int spawn(const char *const *argv, const struct slio_exec_opts *o, int in_pipe[2],
                 int out_pipe[2], int err_pipe[2], pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int r;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (o->stdin_data)
        posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    r = posix_spawnp(ret_pid, argv[0], &fa, &attr, (char *const *)argv,
                     o->envp ? o->envp : environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return -r;
}

/* The poll loop; returns when the child is reaped and the pipes are done. */
static void supervise(struct child *c, const struct slio_exec_opts *o, bool *ret_timed_out)
{
    int64_t deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
    int64_t kill_at = 0, drain_until = 0;
    int grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : SLIO_EXEC_KILL_GRACE_MS;

    while (c->out.fd >= 0 || c->err.fd >= 0 || !c->exited) {
        struct pollfd p[4];
        int n = 0, wait = -1;
        int64_t now = now_ms();

        if (deadline && now >= deadline && !*ret_timed_out) {
            kill(-c->pid, SIGTERM);
            *ret_timed_out = true;
            kill_at = now + grace;
        }
        if (kill_at && now >= kill_at) {
            kill(-c->pid, SIGKILL);
            kill_at = 0;
        }
        if (c->exited && !drain_until)
            drain_until = now + DRAIN_AFTER_EXIT_MS;
        if (drain_until && now >= drain_until)
            break;
        int64_t next = *ret_timed_out ? kill_at : deadline;
        if (drain_until && (!next || drain_until < next))
            next = drain_until;
        if (next)
            wait = (int)SLIO_MAX(next - now, 0);

        int fds[4] = {c->in_fd, c->out.fd, c->err.fd, c->exited ? -1 : c->pidfd};
        short ev[4] = {POLLOUT, POLLIN, POLLIN, POLLIN};
        for (int i = 0; i < 4; i++)
            if (fds[i] >= 0)
                p[n++] = (struct pollfd){.fd = fds[i], .events = ev[i]};
        if (n == 0) {
            reap(c, 0); /* no pidfd (old kernel) and the pipes are closed */
            continue;
        }
        if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (p[i].fd == c->in_fd)
                feed_stdin(c);
            else if (p[i].fd == c->out.fd)
                drain(&c->out);
            else if (p[i].fd == c->err.fd)
                drain(&c->err);
            else if (p[i].fd == c->pidfd)
                reap(c, WNOHANG);
        }
    }
    if (!c->exited) {
        kill(-c->pid, SIGKILL);
        reap(c, 0);
    }
}

static void fill_result(struct child *c, bool timed_out, struct slio_exec_result *ret)
{
    *ret = (struct slio_exec_result){
        .exit_code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1,
        .signal = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0,
        .timed_out = timed_out,
        .out_truncated = c->out.truncated,
        .err_truncated = c->err.truncated,
    };
    ret->out = slio_strbuf_steal(&c->out.buf, &ret->out_len);
    ret->err = slio_strbuf_steal(&c->err.buf, &ret->err_len);
}

int slio_exec(const char *const *argv, const struct slio_exec_opts *opts,
              struct slio_exec_result *ret, struct slio_err *err)
{
    struct slio_exec_opts o = opts ? *opts : (struct slio_exec_opts){0};
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    char cmd[256];
    bool timed_out = false;
    int r;

    if (!argv || !argv[0] || !argv[0][0]) {
        slio_err_set(err, "exec: empty argv");
        return -EINVAL;
    }
    if (o.max_output == 0)
        o.max_output = SLIO_EXEC_OUTPUT_MAX_DEFAULT;
    r = exec_replay_lookup(argv, &o, ret, err);
    if (r != EXEC_REPLAY_OFF)
        return r;

    slio_exec_format_argv(argv, cmd, sizeof(cmd));
    log_debug("running %s", cmd);
    if ((o.stdin_data && pipe2(in_pipe, O_CLOEXEC) < 0) || pipe2(out_pipe, O_CLOEXEC) < 0 ||
        pipe2(err_pipe, O_CLOEXEC) < 0) {
        r = slio_neg_errno();
        slio_err_set(err, "%s: cannot create pipes: %s", cmd, strerror(-r));
        goto out_close;
    }
    struct child c = {
        .pidfd = -1,
        .in_fd = in_pipe[1],
        .in_data = o.stdin_data,
        .in_left = o.stdin_len,
        .out = {.fd = out_pipe[0], .buf = SLIO_STRBUF_INIT(o.max_output)},
        .err = {.fd = err_pipe[0], .buf = SLIO_STRBUF_INIT(o.max_output)},
    };
    r = spawn(argv, &o, in_pipe, out_pipe, err_pipe, &c.pid);
    if (r < 0) {
        slio_err_set(err, "cannot run %s: %s", cmd, strerror(-r));
        goto out_close;
    }
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    if (c.in_fd >= 0)
        fcntl(c.in_fd, F_SETFL, O_NONBLOCK);
    fcntl(c.out.fd, F_SETFL, O_NONBLOCK);
    fcntl(c.err.fd, F_SETFL, O_NONBLOCK);
    if (c.in_fd >= 0 && c.in_left == 0)
        close_fd(&c.in_fd);
    c.pidfd = pidfd_open(c.pid, 0); /* -1 on kernels before 5.3: then waitpid() after EOF */

    supervise(&c, &o, &timed_out);
    fill_result(&c, timed_out, ret);
    close_fd(&c.pidfd);
    close_fd(&c.in_fd);
    close_fd(&c.out.fd);
    close_fd(&c.err.fd);
    slio_strbuf_free(&c.out.buf);
    slio_strbuf_free(&c.err.buf);
    if (!ret->out || !ret->err) {
        slio_exec_result_free(ret);
        return -ENOMEM;
    }
    return 0;

out_close:
    for (int i = 0; i < 2; i++) {
        close_fd(&in_pipe[i]);
        close_fd(&out_pipe[i]);
        close_fd(&err_pipe[i]);
    }
    return r;
}

void slio_exec_result_free(struct slio_exec_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->out_len = r->err_len = 0;
}

bool slio_exec_succeeded(const struct slio_exec_result *r)
{
    return r->exit_code == 0 && r->signal == 0 && !r->timed_out;
}

const char *slio_exec_describe(const struct slio_exec_result *r, char *buf, size_t len)
{
    if (r->signal)
        snprintf(buf, len, "%skilled by signal %d (%s)", r->timed_out ? "timed out and was " : "",
                 r->signal, strsignal(r->signal));
    else if (r->timed_out)
        snprintf(buf, len, "timed out, then exited with status %d", r->exit_code);
    else
        snprintf(buf, len, "exited with status %d", r->exit_code);
    return buf;
}
