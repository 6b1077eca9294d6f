/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server's certificate and key, reloaded when their files change.
 *
 * How: libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK hands GnuTLS a
 * certificate-retrieve function called during every handshake; ours returns
 * the current pair and, at most once a second, stat()s the two files and
 * loads them again when either changed. Chosen over restarting the daemon on
 * the same listening socket (MHD_quiesce_daemon + a new daemon) because that
 * restart must either close the connections the old daemon still serves —
 * the agents' desired-state long-polls last up to a minute — or keep old
 * daemons alive beside the new one; and between quiesce and the new start no
 * one accepts. With the callback nothing stops: the next handshake simply
 * gets the new pair, connections already open keep theirs.
 *
 * Lifetime: GnuTLS keeps pointers to what the callback returned for the
 * session (it does not copy or free them), and nothing tells us when a
 * session is gone. So a replaced pair is never freed before the server stops:
 * each generation (a few KiB) stays on a list. Certificates are rotated a few
 * times a year, not a second, so the list stays short.
 *
 * A pair that fails to load (one file rewritten but not yet the other, a key
 * that does not match the certificate, garbage) keeps the previous pair in
 * service; the failure is logged (rate-limited) and counted, and loading is
 * tried again once either file changes again.
 */
#define SLIO_LOG_COMPONENT "http"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "http_server_int.h"
#include "slio/fileio.h"
#include "slio/log.h"

#define MAX_TLS_FILE      (1u << 20)
#define MAX_CHAIN         16
#define CHECK_INTERVAL_NS 1000000000LL

struct tls_pair {
    gnutls_pcert_st pcerts[MAX_CHAIN];
    unsigned n_pcerts;
    gnutls_privkey_t key;
    struct tls_pair *older; /* generations replaced, kept until the server stops */
};

/* What identifies a file's content without reading it. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct http_tls {
    char *cert_file, *key_file;
    pthread_mutex_t lock; /* handshakes run on many connection threads */
    struct tls_pair *current;
    struct file_id cert_id, key_id; /* of the files last tried */
    struct timespec next_check;
    uint64_t reloads, failures;
    struct slio_ratelimit log_rl;
};

static void pair_free(struct tls_pair *p)
{
    while (p) {
        struct tls_pair *older = p->older;
        for (unsigned i = 0; i < p->n_pcerts; i++)
            gnutls_pcert_deinit(&p->pcerts[i]);
        gnutls_privkey_deinit(p->key);
        free(p);
        p = older;
    }
}

static int read_pem(const char *path, const char *what, char **ret, size_t *ret_len,
                    struct slio_err *err)
{
    int r = slio_read_file(path, MAX_TLS_FILE, ret, ret_len);

    if (r < 0)
        slio_err_set(err, "TLS %s \"%s\": %s", what, path, strerror(-r));
    return r;
}

/* The DER of a public key, to compare the certificate's with the private key's. */
static int pubkey_der(gnutls_pubkey_t pub, gnutls_datum_t *ret)
{
    return gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, ret);
}

static int key_matches(struct tls_pair *p, struct slio_err *err)
{
    gnutls_pubkey_t from_key = NULL;
    gnutls_datum_t a = {0}, b = {0};
    int g, r = -EINVAL;

    g = gnutls_pubkey_init(&from_key);
    if (g >= 0)
        g = gnutls_pubkey_import_privkey(from_key, p->key, 0, 0);
    if (g >= 0)
        g = pubkey_der(from_key, &a);
    if (g >= 0)
        g = pubkey_der(p->pcerts[0].pubkey, &b);
    if (g < 0)
        slio_err_set(err, "comparing the key with the certificate: %s", gnutls_strerror(g));
    else if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
        slio_err_set(err, "the key does not belong to the certificate");
    else
        r = 0;
    gnutls_free(a.data);
    gnutls_free(b.data);
    gnutls_pubkey_deinit(from_key);
    return r;
}

static int pair_load(const char *cert_file, const char *key_file, struct tls_pair **ret,
                     struct slio_err *err)
{
    _cleanup_free_ char *cert = NULL, *key = NULL;
    size_t cert_len, key_len;
    struct tls_pair *p;
    gnutls_datum_t d;
    int g, r;

    r = read_pem(cert_file, "certificate", &cert, &cert_len, err);
    if (r == 0)
        r = read_pem(key_file, "key", &key, &key_len, err);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    r = -ENOMEM;
    p = calloc(1, sizeof(*p));
    if (!p)
        goto out_zero;
    r = -EINVAL;
    p->n_pcerts = MAX_CHAIN;
    d = (gnutls_datum_t){(unsigned char *)cert, (unsigned)cert_len};
    g = gnutls_pcert_list_import_x509_raw(p->pcerts, &p->n_pcerts, &d, GNUTLS_X509_FMT_PEM, 0);
    if (g < 0) {
        p->n_pcerts = 0;
        slio_err_set(err, "TLS certificate \"%s\": %s", cert_file, gnutls_strerror(g));
        goto out_fail;
    }
    d = (gnutls_datum_t){(unsigned char *)key, (unsigned)key_len};
    g = gnutls_privkey_init(&p->key);
    if (g >= 0)
        g = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (g < 0) {
        slio_err_set(err, "TLS key \"%s\": %s", key_file, gnutls_strerror(g));
        goto out_fail;
    }
    if (key_matches(p, err) < 0) {
        slio_err_prefix(err, "TLS key \"%s\" and certificate \"%s\"", key_file, cert_file);
        goto out_fail;
    }
    explicit_bzero(key, key_len);
    *ret = p;
    return 0;

out_fail:
    pair_free(p);
out_zero:
    explicit_bzero(key, key_len);
    return r;
}

static void file_id_of(const char *path, struct file_id *ret)
{
    struct stat st;

    *ret = (struct file_id){0};
    if (stat(path, &st) == 0)
        *ret = (struct file_id){st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

int http_tls_new(const char *cert_file, const char *key_file, struct http_tls **ret,
                 struct slio_err *err)
{
    struct http_tls *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->log_rl = (struct slio_ratelimit)SLIO_RATELIMIT_INIT(10000000, 1);
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    if (!t->cert_file || !t->key_file) {
        http_tls_free(t);
        return -ENOMEM;
    }
    /* the ids first: a change racing with this load is then seen at the next check */
    file_id_of(cert_file, &t->cert_id);
    file_id_of(key_file, &t->key_id);
    r = pair_load(cert_file, key_file, &t->current, err);
    if (r < 0) {
        http_tls_free(t);
        return r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t->next_check);
    *ret = t;
    return 0;
}

void http_tls_free(struct http_tls *t)
{
    if (!t)
        return;
    pair_free(t->current);
    free(t->cert_file);
    free(t->key_file);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static bool check_due(struct http_tls *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < t->next_check.tv_sec ||
        (now.tv_sec == t->next_check.tv_sec && now.tv_nsec < t->next_check.tv_nsec))
        return false;
    t->next_check.tv_sec = now.tv_sec + CHECK_INTERVAL_NS / 1000000000LL;
    t->next_check.tv_nsec = now.tv_nsec;
    return true;
}

/* Under t->lock: load the pair again when a file changed since the last try. */
static void maybe_reload(struct http_tls *t)
{
    struct file_id cert_id, key_id;
    struct slio_err err = {{0}};
    struct tls_pair *p = NULL;

    if (!check_due(t))
        return;
    file_id_of(t->cert_file, &cert_id);
    file_id_of(t->key_file, &key_id);
    if (file_id_eq(&cert_id, &t->cert_id) && file_id_eq(&key_id, &t->key_id))
        return;
    t->cert_id = cert_id;
    t->key_id = key_id;
    if (pair_load(t->cert_file, t->key_file, &p, &err) < 0) {
        t->failures++;
        log_ratelimited(&t->log_rl, SLIO_LOG_WARN,
                        "TLS reload failed, keeping the previous pair: %s", err.text);
        return;
    }
    p->older = t->current;
    t->current = p;
    t->reloads++;
    log_info("TLS certificate \"%s\" reloaded", t->cert_file);
}

int http_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **ret_pcert, unsigned int *ret_pcert_length,
                      gnutls_privkey_t *ret_key)
{
    struct MHD_Connection *conn = gnutls_session_get_ptr(session); /* MHD sets it so */
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    struct http_tls *t = ci ? ci->socket_context : NULL;

    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (!t)
        return -1; /* the handshake fails; cannot happen with our notify callback */
    pthread_mutex_lock(&t->lock);
    maybe_reload(t);
    *ret_pcert = t->current->pcerts;
    *ret_pcert_length = t->current->n_pcerts;
    *ret_key = t->current->key;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

void http_tls_counts(struct http_tls *t, uint64_t *ret_reloads, uint64_t *ret_failures)
{
    pthread_mutex_lock(&t->lock);
    *ret_reloads = t->reloads;
    *ret_failures = t->failures;
    pthread_mutex_unlock(&t->lock);
}
