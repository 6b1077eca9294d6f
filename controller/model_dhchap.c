/* SPDX-License-Identifier: Apache-2.0 */
/* A consumer node's DH-HMAC-CHAP secrets: the stored document and its public view (model.h). */
#include <openssl/evp.h>
#include <string.h>

#include "model.h"
#include "slio/json.h"
#include "slio/nqn.h"

struct dhchap_body {
    const char *host_key, *ctrl_key;
};
static const struct slio_json_field dhchap_fields[] = {
    SLIO_JSON_FIELD(struct dhchap_body, host_key, "host_key", SLIO_JSON_STRING, .required = true,
                    .max = SLIO_DHCHAP_SECRET_MAX),
    SLIO_JSON_FIELD(struct dhchap_body, ctrl_key, "ctrl_key", SLIO_JSON_STRING,
                    .max = SLIO_DHCHAP_SECRET_MAX),
};

int model_dhchap_key_id(const char *secret, char ret[static MODEL_DHCHAP_ID_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL) ||
        n < MODEL_DHCHAP_ID_LEN / 2)
        return -EIO;
    for (unsigned i = 0; i < MODEL_DHCHAP_ID_LEN / 2; i++)
        snprintf(ret + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int model_dhchap_decode(const json_t *body, json_t **ret_doc, struct slio_err *err)
{
    struct dhchap_body b = {0};
    char hid[MODEL_DHCHAP_ID_LEN + 1], cid[MODEL_DHCHAP_ID_LEN + 1], now[32];
    int r = SLIO_JSON_DECODE(body, dhchap_fields, &b, 0, err);

    if (r < 0)
        return r;
    /* Name the field, never quote the value: it is a secret even when malformed. */
    if (!slio_dhchap_secret_valid(b.host_key) ||
        (b.ctrl_key && !slio_dhchap_secret_valid(b.ctrl_key))) {
        slio_err_set(err,
                     "field '%s': not an NVMe DH-HMAC-CHAP secret (\"DHHC-1:<hh>:<base64>:\", "
                     "as nvme gen-dhchap-key prints)",
                     slio_dhchap_secret_valid(b.host_key) ? "ctrl_key" : "host_key");
        return -EINVAL;
    }
    if (b.ctrl_key && strcmp(b.ctrl_key, b.host_key) == 0) {
        slio_err_set(err, "field 'ctrl_key': the same secret as host_key");
        return -EINVAL;
    }
    if (model_dhchap_key_id(b.host_key, hid) < 0 ||
        (b.ctrl_key && model_dhchap_key_id(b.ctrl_key, cid) < 0))
        return -EIO;
    model_now(now);
    *ret_doc =
        json_pack("{s:s,s:s*,s:s,s:s*,s:s}", "host_key", b.host_key, "ctrl_key", b.ctrl_key,
                  "host_key_id", hid, "ctrl_key_id", b.ctrl_key ? cid : NULL, "updated_at", now);
    return *ret_doc ? 0 : -ENOMEM;
}

json_t *model_dhchap_public(const char *node, const json_t *doc)
{
    if (!doc)
        return json_pack("{s:s,s:b}", "node", node, "configured", 0);
    return json_pack("{s:s,s:b,s:s,s:s*,s:b,s:s}", "node", node, "configured", 1, "host_key_id",
                     model_str(doc, "host_key_id"), "ctrl_key_id",
                     json_string_value(json_object_get(doc, "ctrl_key_id")), "bidirectional",
                     json_object_get(doc, "ctrl_key") != NULL, "updated_at",
                     model_str(doc, "updated_at"));
}
