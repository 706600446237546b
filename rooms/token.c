/* token.c: API tokens kept for signaling (hashes only, never secrets). */
#include "store-private.h"

#include <string.h>

struct _RoomsToken
{
  char *id, *hash, *role, *scope, *unit;
  gint64 expires_at, created_at;
};

const char *
rooms_token_get_id (const RoomsToken *t)
{
  return t->id;
}
const char *
rooms_token_get_hash (const RoomsToken *t)
{
  return t->hash;
}
const char *
rooms_token_get_role (const RoomsToken *t)
{
  return t->role;
}
const char *
rooms_token_get_scope (const RoomsToken *t)
{
  return t->scope;
}
const char *
rooms_token_get_unit (const RoomsToken *t)
{
  return t->unit;
}
gint64
rooms_token_get_expires_at (const RoomsToken *t)
{
  return t->expires_at;
}
gint64
rooms_token_get_created_at (const RoomsToken *t)
{
  return t->created_at;
}

void
rooms_token_free (RoomsToken *t)
{
  if (t == NULL)
    return;
  g_free (t->id);
  g_free (t->hash);
  g_free (t->role);
  g_free (t->scope);
  g_free (t->unit);
  g_free (t);
}

static gboolean
is_sha256_hex (const char *h)
{
  if (h == NULL || strlen (h) != 64)
    return FALSE;
  for (const char *p = h; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

gboolean
rooms_store_add_token (RoomsStore *store, const char *id, const char *hash_hex,
                       const char *role, const char *scope, const char *unit,
                       gint64 expires_at, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (id == NULL || *id == '\0' || role == NULL || *role == '\0'
      || !g_utf8_validate (id, -1, NULL) || !g_utf8_validate (role, -1, NULL)
      || (scope && !g_utf8_validate (scope, -1, NULL))
      || (unit && !g_utf8_validate (unit, -1, NULL)))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a token needs a non-empty id and role");
      return FALSE;
    }
  if (!is_sha256_hex (hash_hex))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a token hash is 64 lower-case hex digits");
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO tokens (id, hash, role, scope, expires_at, created_at, unit)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, hash_hex, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, role, -1, SQLITE_STATIC);
  rooms_bind_text (st, 4, scope);
  sqlite3_bind_int64 (st, 5, expires_at);
  sqlite3_bind_int64 (st, 6, rooms_store_now (store));
  rooms_bind_text (st, 7, unit);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a token with this id or hash exists");
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "add token");
      return FALSE;
    }
  return TRUE;
}

static RoomsToken *
token_from_row (sqlite3_stmt *st)
{
  RoomsToken *t = g_new0 (RoomsToken, 1);
  t->id = rooms_column_dup (st, 0);
  t->hash = rooms_column_dup (st, 1);
  t->role = rooms_column_dup (st, 2);
  t->scope = rooms_column_dup (st, 3);
  t->expires_at = sqlite3_column_int64 (st, 4);
  t->created_at = sqlite3_column_int64 (st, 5);
  t->unit = rooms_column_dup (st, 6);
  return t;
}

RoomsToken *
rooms_store_find_token_by_hash (RoomsStore *store, const char *hash_hex, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT id, hash, role, scope, expires_at, created_at, unit FROM tokens"
      " WHERE hash = ?",
      error);
  if (!st)
    return NULL;
  rooms_bind_text (st, 1, hash_hex);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such token");
      return NULL;
    }
  return token_from_row (st);
}

GPtrArray *
rooms_store_list_tokens (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_token_free);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT id, hash, role, scope, expires_at, created_at, unit FROM tokens"
      " ORDER BY id",
      NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, token_from_row (st));
  return out;
}

gboolean
rooms_store_delete_token (RoomsStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "DELETE FROM tokens WHERE id = ?", error);
  if (!st)
    return FALSE;
  rooms_bind_text (st, 1, id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "delete token");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no token '%s'",
                   id ? id : "(null)");
      return FALSE;
    }
  return TRUE;
}

gint64
rooms_store_delete_tokens_of (RoomsStore *store, const char *role, const char *scope,
                              GError **error)
{
  g_return_val_if_fail (store != NULL, -1);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "DELETE FROM tokens WHERE role = ? AND scope = ?", error);
  if (!st)
    return -1;
  rooms_bind_text (st, 1, role);
  rooms_bind_text (st, 2, scope);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "delete tokens");
      return -1;
    }
  return sqlite3_changes (store->db);
}
