/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-tgt-rpc: send one JSON-RPC call to slio-tgt (or SPDK's nvmf_tgt).
 *
 *   slio-tgt-rpc [-s SOCK] [-t TIMEOUT_S] METHOD ['JSON-PARAMS']
 *   slio-tgt-rpc --version
 *
 * Exit status: 0 success (result on stdout), 1 the server answered with a
 * JSON-RPC error ("error CODE: MESSAGE" on stderr), 2 usage or connection
 * failure.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "slio/json.h"
#include "slio/jsonrpc.h"
#include "slio/parse.h"

/* slio-tgt's default, TGT_RPC_DEFAULT_SOCKET (tgt/rpc/rpc.h): a private directory */
#define DEFAULT_SOCKET  "/run/slio-tgt/rpc.sock"
#define DEFAULT_TIMEOUT 60

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: slio-tgt-rpc [-s SOCK] [-t TIMEOUT_S] METHOD ['JSON-PARAMS']\n"
            "  -s, --socket SOCK    JSON-RPC unix socket (default %s)\n"
            "  -t, --timeout SECS   give up after SECS seconds (default %d, 0: wait forever)\n"
            "  -h, --help           this text\n"
            "  -v, --version        print the version\n"
            "Example: slio-tgt-rpc bdev_aio_create '{\"name\": \"aio0\", \"filename\": "
            "\"/dev/sdb\"}'\n",
            DEFAULT_SOCKET, DEFAULT_TIMEOUT);
}

/* The client's message is `JSON-RPC "m" on "s": <message> (code N)`: keep <message>. */
static void print_remote_error(const char *method, const char *sock, int64_t code, const char *msg)
{
    char prefix[512];
    int n = snprintf(prefix, sizeof(prefix), "JSON-RPC \"%s\" on \"%s\": ", method, sock);
    const char *m = msg ? msg : "";
    size_t len;

    if (n > 0 && (size_t)n < sizeof(prefix) && strncmp(m, prefix, (size_t)n) == 0)
        m += n;
    len = strlen(m);
    const char *suffix = strstr(m, " (code ");
    for (const char *p = suffix; p; p = strstr(p + 1, " (code "))
        suffix = p; /* the last one */
    if (suffix && m[len - 1] == ')')
        len = (size_t)(suffix - m);
    fprintf(stderr, "error %" PRId64 ": %.*s\n", code, (int)len, m);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {0},
    };
    const char *sock = DEFAULT_SOCKET;
    uint32_t timeout_s = DEFAULT_TIMEOUT;
    int c;

    while ((c = getopt_long(argc, argv, "+s:t:hv", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sock = optarg;
            break;
        case 't':
            if (slio_parse_u32(optarg, 0, 86400, &timeout_s) < 0) {
                fprintf(stderr, "slio-tgt-rpc: -t \"%s\": expected 0-86400 seconds\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            puts("slio-tgt-rpc " SLIO_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        usage(stderr);
        return 2;
    }
    const char *method = argv[optind];
    _cleanup_json_ json_t *params = NULL;
    if (optind + 1 < argc) {
        struct slio_err e = {{0}};
        const char *text = argv[optind + 1];
        if (slio_json_loadb(text, strlen(text), SLIO_JSON_MAX_DEFAULT, &params, &e) < 0) {
            fprintf(stderr, "slio-tgt-rpc: parameters are not JSON: %s\n", e.text);
            return 2;
        }
    }

    struct slio_jsonrpc_opts o = {.timeout_ms = (int)timeout_s * 1000};
    _cleanup_json_ json_t *result = NULL;
    _cleanup_free_ char *msg = NULL;
    int64_t code = 0;
    int r = slio_jsonrpc_call_ex(sock, method, params, &o, &result, &code, &msg);
    if (r == -EREMOTEIO) {
        print_remote_error(method, sock, code, msg);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "slio-tgt-rpc: %s\n", msg ? msg : strerror(-r));
        return 2;
    }
    _cleanup_free_ char *out =
        json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!out) {
        fprintf(stderr, "slio-tgt-rpc: out of memory\n");
        return 2;
    }
    printf("%s\n", out);
    return 0;
}
