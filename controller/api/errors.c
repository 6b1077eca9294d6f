/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where an errno becomes an HTTP status and a stable error code. */
#include <errno.h>

#include "api.h"

static const struct api_error errors[] = {
    {-EINVAL, 400, "invalid_argument"}, {-EACCES, 401, "unauthenticated"},
    {-EPERM, 403, "forbidden"},         {-ENOENT, 404, "not_found"},
    {-EEXIST, 409, "conflict"},         {-EBUSY, 409, "conflict"},
    {-EMSGSIZE, 413, "too_large"},      {-ENOSPC, 422, "unschedulable"},
    {-EROFS, 503, "not_leader"},        {-EAGAIN, 503, "unavailable"},
};

static const struct api_error internal = {-EIO, 500, "internal"};

const struct api_error *api_error_of(int r)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(errors); i++)
        if (errors[i].err == r)
            return &errors[i];
    return &internal;
}

json_t *api_error_body(const struct api_error *e, const char *message, const char *leader)
{
    return json_pack("{s:{s:s,s:s,s:s*}}", "error", "code", e->code, "message", message, "leader",
                     leader && *leader ? leader : NULL);
}
