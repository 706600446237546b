/* account.c: accounts and sessions (hashes only, never passwords or secrets). */
#include "store-private.h"

#include <string.h>

struct _RoomsAccount
{
  char *name, *full_name, *role, *scope, *hash;
  gboolean disabled, must_change;
  gint64 created_at, updated_at;
};

struct _RoomsSession
{
  char *id, *hash, *account, *csrf_hash;
  gint64 created_at, last_seen;
};

const char *
rooms_account_get_name (const RoomsAccount *a)
{
  return a->name;
}
const char *
rooms_account_get_full_name (const RoomsAccount *a)
{
  return a->full_name;
}
const char *
rooms_account_get_role (const RoomsAccount *a)
{
  return a->role;
}
const char *
rooms_account_get_scope (const RoomsAccount *a)
{
  return a->scope;
}
gboolean
rooms_account_get_disabled (const RoomsAccount *a)
{
  return a->disabled;
}
gboolean
rooms_account_get_must_change (const RoomsAccount *a)
{
  return a->must_change;
}
const char *
rooms_account_get_password_hash (const RoomsAccount *a)
{
  return a->hash;
}
gint64
rooms_account_get_created_at (const RoomsAccount *a)
{
  return a->created_at;
}
gint64
rooms_account_get_updated_at (const RoomsAccount *a)
{
  return a->updated_at;
}

void
rooms_account_free (RoomsAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->full_name);
  g_free (a->role);
  g_free (a->scope);
  g_free (a->hash);
  g_free (a);
}

const char *
rooms_session_get_id (const RoomsSession *s)
{
  return s->id;
}
const char *
rooms_session_get_account (const RoomsSession *s)
{
  return s->account;
}
const char *
rooms_session_get_csrf_hash (const RoomsSession *s)
{
  return s->csrf_hash;
}
const char *
rooms_session_get_hash (const RoomsSession *s)
{
  return s->hash;
}
gint64
rooms_session_get_created_at (const RoomsSession *s)
{
  return s->created_at;
}
gint64
rooms_session_get_last_seen (const RoomsSession *s)
{
  return s->last_seen;
}

void
rooms_session_free (RoomsSession *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->hash);
  g_free (s->account);
  g_free (s->csrf_hash);
  g_free (s);
}

/* Why ASCII only: user names are typed on every sign-in, on any keyboard; Vietnamese
 * full names go in full_name. With ASCII, folding is plain lower-casing and two names
 * that look alike are the same name. */
char *
rooms_account_fold_name (const char *name)
{
  gsize n = name ? strlen (name) : 0;
  if (n == 0 || n > ROOMS_ACCOUNT_NAME_MAX)
    return NULL;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return NULL;
  return g_ascii_strdown (name, -1);
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
rooms_store_add_account (RoomsStore *store, const char *name, const char *full_name,
                         const char *role, const char *scope, const char *password_hash,
                         gboolean must_change, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autofree char *folded = rooms_account_fold_name (name);
  if (folded == NULL || full_name == NULL || *full_name == '\0'
      || !g_utf8_validate (full_name, -1, NULL) || role == NULL || *role == '\0'
      || password_hash == NULL || *password_hash == '\0'
      || (scope && !g_utf8_validate (scope, -1, NULL)))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "an account needs a valid user name, a full name, a role and a "
                   "password");
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO accounts (name, full_name, role, scope, disabled, password,"
      " must_change, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)",
      error);
  if (!st)
    return FALSE;
  gint64 now = rooms_store_now (store);
  rooms_bind_text (st, 1, folded);
  rooms_bind_text (st, 2, full_name);
  rooms_bind_text (st, 3, role);
  rooms_bind_text (st, 4, scope);
  rooms_bind_text (st, 5, password_hash);
  sqlite3_bind_int (st, 6, must_change ? 1 : 0);
  sqlite3_bind_int64 (st, 7, now);
  sqlite3_bind_int64 (st, 8, now);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT,
                   "the user name '%s' is taken", folded);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "add account");
      return FALSE;
    }
  return TRUE;
}

#define ACCOUNT_COLUMNS                                                        \
  "name, full_name, role, scope, disabled, password, must_change, created_at," \
  " updated_at"

static RoomsAccount *
account_from_row (sqlite3_stmt *st)
{
  RoomsAccount *a = g_new0 (RoomsAccount, 1);
  a->name = rooms_column_dup (st, 0);
  a->full_name = rooms_column_dup (st, 1);
  a->role = rooms_column_dup (st, 2);
  a->scope = rooms_column_dup (st, 3);
  a->disabled = sqlite3_column_int (st, 4) != 0;
  a->hash = rooms_column_dup (st, 5);
  a->must_change = sqlite3_column_int (st, 6) != 0;
  a->created_at = sqlite3_column_int64 (st, 7);
  a->updated_at = sqlite3_column_int64 (st, 8);
  return a;
}

RoomsAccount *
rooms_store_get_account (RoomsStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autofree char *folded = rooms_account_fold_name (name);
  g_autoptr (RoomsStmt) st = NULL;
  if (folded != NULL)
    st = rooms_store_prepare (
        store, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?", error);
  if (folded != NULL && st == NULL)
    return NULL;
  if (st != NULL)
    rooms_bind_text (st, 1, folded);
  if (st == NULL || sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such account");
      return NULL;
    }
  return account_from_row (st);
}

GPtrArray *
rooms_store_list_accounts (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_account_free);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY name", NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, account_from_row (st));
  return out;
}

/* Deletes the sessions of @account except @keep (nullable), collecting their ids. */
static gboolean
end_sessions (RoomsStore *store, const char *account, const char *keep, GPtrArray *ended,
              GError **error)
{
  g_autoptr (RoomsStmt) sel = rooms_store_prepare (
      store, "SELECT id FROM sessions WHERE account = ? AND id IS NOT ?", error);
  if (!sel)
    return FALSE;
  rooms_bind_text (sel, 1, account);
  rooms_bind_text (sel, 2, keep);
  while (sqlite3_step (sel) == SQLITE_ROW)
    g_ptr_array_add (ended, rooms_column_dup (sel, 0));
  g_autoptr (RoomsStmt) del = rooms_store_prepare (
      store, "DELETE FROM sessions WHERE account = ? AND id IS NOT ?", error);
  if (!del)
    return FALSE;
  rooms_bind_text (del, 1, account);
  rooms_bind_text (del, 2, keep);
  if (sqlite3_step (del) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "end sessions");
      return FALSE;
    }
  return TRUE;
}

/* One UPDATE of an account's row and the end of its sessions, in one transaction:
 * a password changed or an account disabled never leaves a session behind. */
static gboolean
update_account (RoomsStore *store, const char *name, const char *sql, const char *text,
                int flag, gboolean end, const char *keep, GPtrArray **ended,
                GError **error)
{
  g_autofree char *folded = rooms_account_fold_name (name);
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  if (folded == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such account");
      return FALSE;
    }
  if (!rooms_store_begin (store, error))
    return FALSE;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (store, sql, error);
  if (st == NULL)
    goto fail;
  int i = 1;
  if (text != NULL)
    rooms_bind_text (st, i++, text);
  sqlite3_bind_int (st, i++, flag);
  sqlite3_bind_int64 (st, i++, rooms_store_now (store));
  rooms_bind_text (st, i++, folded);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "update account");
      goto fail;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such account");
      goto fail;
    }
  if (end && !end_sessions (store, folded, keep, ids, error))
    goto fail;
  if (!rooms_store_commit (store, error))
    goto fail;
  if (ended != NULL)
    *ended = g_steal_pointer (&ids);
  return TRUE;
fail:
  rooms_store_rollback (store);
  return FALSE;
}

gboolean
rooms_store_set_account_disabled (RoomsStore *store, const char *name, gboolean disabled,
                                  GPtrArray **ended, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  return update_account (
      store, name, "UPDATE accounts SET disabled = ?, updated_at = ? WHERE name = ?",
      NULL, disabled ? 1 : 0, disabled, NULL, ended, error);
}

gboolean
rooms_store_set_account_password (RoomsStore *store, const char *name,
                                  const char *password_hash, gboolean must_change,
                                  const char *keep_session, GPtrArray **ended,
                                  GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (password_hash == NULL || *password_hash == '\0')
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "an empty password hash");
      return FALSE;
    }
  return update_account (store, name,
                         "UPDATE accounts SET password = ?, must_change = ?,"
                         " updated_at = ? WHERE name = ?",
                         password_hash, must_change ? 1 : 0, TRUE, keep_session, ended,
                         error);
}

gboolean
rooms_store_add_session (RoomsStore *store, const char *id, const char *hash_hex,
                         const char *account, const char *csrf_hash_hex, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (id == NULL || *id == '\0' || !is_sha256_hex (hash_hex)
      || !is_sha256_hex (csrf_hash_hex))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a session needs an id and two 64-hex-digit hashes");
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO sessions (id, hash, account, csrf, created_at, last_seen)"
      " SELECT ?, ?, name, ?, ?, ? FROM accounts WHERE name = ?",
      error);
  if (!st)
    return FALSE;
  gint64 now = rooms_store_now (store);
  rooms_bind_text (st, 1, id);
  rooms_bind_text (st, 2, hash_hex);
  rooms_bind_text (st, 3, csrf_hash_hex);
  sqlite3_bind_int64 (st, 4, now);
  sqlite3_bind_int64 (st, 5, now);
  rooms_bind_text (st, 6, account);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a session with this id or hash exists");
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "add session");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such account");
      return FALSE;
    }
  return TRUE;
}

RoomsSession *
rooms_store_find_session_by_hash (RoomsStore *store, const char *hash_hex, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT id, hash, account, csrf, created_at, last_seen FROM sessions"
      " WHERE hash = ?",
      error);
  if (!st)
    return NULL;
  rooms_bind_text (st, 1, hash_hex);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such session");
      return NULL;
    }
  RoomsSession *s = g_new0 (RoomsSession, 1);
  s->id = rooms_column_dup (st, 0);
  s->hash = rooms_column_dup (st, 1);
  s->account = rooms_column_dup (st, 2);
  s->csrf_hash = rooms_column_dup (st, 3);
  s->created_at = sqlite3_column_int64 (st, 4);
  s->last_seen = sqlite3_column_int64 (st, 5);
  return s;
}

gboolean
rooms_store_touch_session (RoomsStore *store, const char *id, gint64 now, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "UPDATE sessions SET last_seen = MAX(last_seen, ?) WHERE id = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, now);
  rooms_bind_text (st, 2, id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "touch session");
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_store_delete_session (RoomsStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "DELETE FROM sessions WHERE id = ?", error);
  if (!st)
    return FALSE;
  rooms_bind_text (st, 1, id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "delete session");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no such session");
      return FALSE;
    }
  return TRUE;
}
