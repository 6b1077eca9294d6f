/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version 1: kv (etcd's key space: key, value, create_rev, mod_rev) and meta
 * (schema_version, revision). A later version migrates forward here, one step
 * per version, inside one transaction; a file of a newer version is refused.
 */
#include <stdlib.h>

#include "sqlite_schema.h"

static int exec_sql(sqlite3 *db, const char *sql, struct slio_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        slio_err_set(err, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return (rc & 0xff) == SQLITE_BUSY ? -EAGAIN : -EIO;
    }
    return 0;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *ret, struct slio_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        slio_err_set(err, "sqlite: %s: %s", sql, sqlite3_errmsg(db));
        return -EIO;
    }
    rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        slio_err_set(err, "sqlite: %s: %s", sql, sqlite3_errstr(rc));
        return -EIO;
    }
    return 0;
}

int sqlite_schema(sqlite3 *db, int64_t *ret_revision, struct slio_err *err)
{
    static const char create_v1[] =
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
        " create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT OR IGNORE INTO meta VALUES ('schema_version', 1), ('revision', 0);"
        "COMMIT;";
    int64_t version, rev;
    int r = exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err);
    if (r == 0)
        r = exec_sql(db, create_v1, err);
    if (r == 0)
        r = query_int(db, "SELECT v FROM meta WHERE k = 'schema_version'", &version, err);
    if (r == 0 && version != SQLITE_SCHEMA_VERSION) {
        slio_err_set(err, "schema version %lld, this controller knows %d", (long long)version,
                     SQLITE_SCHEMA_VERSION);
        r = -EPROTO;
    }
    if (r == 0)
        r = query_int(db, "SELECT v FROM meta WHERE k = 'revision'", &rev, err);
    if (r == 0)
        *ret_revision = rev;
    return r;
}
