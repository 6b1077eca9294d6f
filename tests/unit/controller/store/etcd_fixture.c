/* SPDX-License-Identifier: Apache-2.0 */
/* Starting and stopping a test etcd (see etcd_fixture.h). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etcd_fixture.h"

#define START_TIMEOUT_MS 20000

extern char **environ;

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static bool healthy(const char *url)
{
    char health[96];
    long status = 0;
    CURL *c = curl_easy_init();
    snprintf(health, sizeof(health), "%s/health", url);
    curl_easy_setopt(c, CURLOPT_URL, health);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 500L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    bool ok = curl_easy_perform(c) == CURLE_OK &&
              curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    curl_easy_cleanup(c);
    return ok;
}

static int spawn(struct etcd_proc *e)
{
    const char *bin = getenv("SLIO_ETCD") ? getenv("SLIO_ETCD") : "/usr/bin/etcd";
    char data[96], log[96], cluster[96];
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "etcd fixture: %s is not installed (Debian: apt install etcd-server)\n",
                bin);
        return -ENOENT;
    }
    snprintf(data, sizeof(data), "%s/data", e->dir);
    snprintf(log, sizeof(log), "%s/etcd.log", e->dir);
    snprintf(cluster, sizeof(cluster), "test=%s", e->peer_url);
    /* fast raft timings: a single member elects itself in ~100 ms */
    char *argv[] = {(char *)bin,   "--name",
                    "test",        "--data-dir",
                    data,          "--listen-client-urls",
                    e->client_url, "--advertise-client-urls",
                    e->client_url, "--listen-peer-urls",
                    e->peer_url,   "--initial-advertise-peer-urls",
                    e->peer_url,   "--initial-cluster",
                    cluster,       "--heartbeat-interval",
                    "20",          "--election-timeout",
                    "200",         "--logger",
                    "zap",         NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int r = posix_spawn(&e->pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        return -r;
    struct timespec d = {0, 20 * 1000 * 1000};
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        if (healthy(e->client_url))
            return 0;
        if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
            fprintf(stderr, "etcd fixture: etcd exited at start (see %s)\n", log);
            e->pid = 0;
            return -ECHILD;
        }
        nanosleep(&d, NULL);
    }
    fprintf(stderr, "etcd fixture: %s not healthy after %d ms\n", e->client_url, START_TIMEOUT_MS);
    return -ETIMEDOUT;
}

int etcd_proc_start(struct etcd_proc *e)
{
    *e = (struct etcd_proc){0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(e->dir, sizeof(e->dir), "/tmp/slio-etcd-XXXXXX");
    if (!mkdtemp(e->dir))
        return -errno;
    int cp = free_port(), pp = free_port();
    if (cp < 0 || pp < 0 || cp == pp)
        return -EADDRINUSE;
    snprintf(e->client_url, sizeof(e->client_url), "http://127.0.0.1:%d", cp);
    snprintf(e->peer_url, sizeof(e->peer_url), "http://127.0.0.1:%d", pp);
    int r = spawn(e);
    if (r < 0) /* a failed setup gets no teardown: leave nothing behind */
        etcd_proc_stop(e);
    return r;
}

static void kill_wait(struct etcd_proc *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->pid = 0;
    }
}

int etcd_proc_restart(struct etcd_proc *e)
{
    kill_wait(e);
    return spawn(e);
}

void etcd_proc_stop(struct etcd_proc *e)
{
    kill_wait(e);
    if (e->dir[0]) {
        /* the data directory is etcd's tree (wal/, snap/): remove it whole */
        char *argv[] = {"rm", "-rf", e->dir, NULL};
        pid_t pid;
        if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
            waitpid(pid, NULL, 0);
    }
    e->dir[0] = '\0';
}
