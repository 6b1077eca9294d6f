/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listing the file engine's folders. Every listing reads the directory and
 * stats every sidecar — what is on disk is the truth, files changed or removed
 * by hand included — but parses a sidecar again only when its inode, size,
 * mtime or ctime changed. Sidecars are replaced by rename, so a rewrite is a
 * new inode: a listing of 1,000 volumes costs readdir and 2,000 stats.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "file_internal.h"
#include "slio/uuid.h"

#define SIDECAR_NAME_LEN (36 + 5) /* "<uuid>.json" */

void file_describe(const struct file_engine *e, const struct file_meta *m, struct agent_volume *ret)
{
    struct agent_volume v = {
        .kind = m->kind,
        .state = m->copying ? AGENT_VOL_COPYING : AGENT_VOL_READY,
        .thin = m->thin,
        .has_origin = m->has_origin,
        .size = m->size,
        .used_percent = -1,
        .stripes = 1,
    };
    struct stat st;

    uuid_copy(v.uuid, m->uuid);
    uuid_copy(v.origin, m->origin);
    file_path(e, m->kind, m->uuid, "img", v.path);
    snprintf(v.name, sizeof(v.name), "%s", strrchr(v.path, '/') + 1);
    if (stat(v.path, &st) < 0)
        v.state = m->copying ? AGENT_VOL_COPYING : AGENT_VOL_INVALID;
    else if (m->thin)
        v.used_percent = SLIO_MIN(100.0, (double)st.st_blocks * 512.0 * 100.0 / (double)m->size);
    *ret = v;
}

static int rec_cmp(const void *a, const void *b)
{
    return strcmp(((const struct file_rec *)a)->name, ((const struct file_rec *)b)->name);
}

static bool same_file(const struct file_rec *r, const struct stat *st)
{
    return r->ino == st->st_ino && r->size == st->st_size &&
           r->mtime.tv_sec == st->st_mtim.tv_sec && r->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           r->ctime.tv_sec == st->st_ctim.tv_sec && r->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Parse the sidecar and decide if it is ours: this pool, its uuid in its name, right folder. */
static void rec_load(const struct file_engine *e, enum agent_vol_kind kind, const char *dir,
                     struct file_rec *rec)
{
    char path[AGENT_PATH_MAX * 2], name[SLIO_UUID_STR_LEN];
    uuid_t u;

    memcpy(name, rec->name, 36);
    name[36] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, rec->name);
    rec->ours = slio_uuid_parse(name, u) == 0 && file_meta_read(e, path, &rec->m, NULL) == 0 &&
                uuid_compare(u, rec->m.uuid) == 0 && rec->m.kind == kind;
}

static int push(struct file_dir_cache *c, size_t *cap, const struct file_rec *rec)
{
    if (c->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        void *p = reallocarray(c->recs, ncap, sizeof(*c->recs));
        if (!p)
            return -ENOMEM;
        c->recs = p;
        *cap = ncap;
    }
    c->recs[c->n++] = *rec;
    return 0;
}

/* A fresh cache of the folder's sidecars, reusing parses from the old one. */
static int rescan(const struct file_engine *e, enum agent_vol_kind kind, const char *dir,
                  const struct file_dir_cache *old, struct file_dir_cache *ret)
{
    struct file_dir_cache c = {0};
    size_t cap = 0;
    struct dirent *de;
    DIR *d = opendir(dir);
    int r = 0;

    if (!d)
        return slio_neg_errno();
    while (r == 0 && (de = readdir(d))) {
        struct file_rec rec = {0}, *prev;
        struct stat st;

        if (strlen(de->d_name) != SIDECAR_NAME_LEN || strcmp(de->d_name + 36, ".json") != 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        memcpy(rec.name, de->d_name, SIDECAR_NAME_LEN + 1);
        prev = old->n ? bsearch(&rec, old->recs, old->n, sizeof(rec), rec_cmp) : NULL;
        if (prev && same_file(prev, &st)) {
            rec = *prev;
        } else {
            rec.ino = st.st_ino;
            rec.size = st.st_size;
            rec.mtime = st.st_mtim;
            rec.ctime = st.st_ctim;
            rec_load(e, kind, dir, &rec);
        }
        r = push(&c, &cap, &rec);
    }
    closedir(d);
    if (r < 0) {
        free(c.recs);
        return r;
    }
    if (c.n)
        qsort(c.recs, c.n, sizeof(*c.recs), rec_cmp);
    *ret = c;
    return 0;
}

int file_scan(struct file_engine *e, enum agent_vol_kind kind, struct agent_volume_list *l,
              size_t *cap)
{
    struct file_dir_cache *cache = &e->cache[kind], fresh;
    char dir[AGENT_PATH_MAX];
    int r;

    snprintf(dir, sizeof(dir), "%s/%s", e->dir,
             kind == AGENT_VOL_SNAPSHOT ? FILE_SNAP_DIR : FILE_VOL_DIR);
    r = rescan(e, kind, dir, cache, &fresh);
    if (r < 0)
        return r;
    free(cache->recs);
    *cache = fresh;
    for (size_t i = 0; i < cache->n; i++) {
        if (!cache->recs[i].ours)
            continue; /* not a record of ours: ignored, like an untagged LV */
        if (l->n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            void *p = reallocarray(l->items, ncap, sizeof(*l->items));
            if (!p)
                return -ENOMEM;
            l->items = p;
            *cap = ncap;
        }
        file_describe(e, &cache->recs[i].m, &l->items[l->n++]);
    }
    return 0;
}
