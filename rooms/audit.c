/* audit.c: the audit log and the transaction an audited change runs in. */
#include "store-private.h"

void
rooms_audit_entry_free (RoomsAuditEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->actor_kind);
  g_free (e->actor_id);
  g_free (e->actor_label);
  g_free (e->action);
  g_free (e->target);
  g_free (e->address);
  g_free (e->detail);
  g_free (e);
}

gboolean
rooms_store_audit_begin (RoomsStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL && !store->outer, FALSE);
  if (!rooms_store_exec (store, "BEGIN IMMEDIATE", error))
    return FALSE;
  store->outer = TRUE;
  return TRUE;
}

gboolean
rooms_store_audit_commit (RoomsStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL && store->outer, FALSE);
  store->outer = FALSE;
  if (!rooms_store_exec (store, "COMMIT", error))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

void
rooms_store_audit_rollback (RoomsStore *store)
{
  g_return_if_fail (store != NULL);
  store->outer = FALSE;
  rooms_store_rollback (store);
}

gboolean
rooms_store_add_audit (RoomsStore *store, const RoomsAuditEntry *e, GError **error)
{
  g_return_val_if_fail (store != NULL && e != NULL, FALSE);
  if (e->actor_kind == NULL || e->actor_id == NULL || e->action == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "an audit entry needs an actor and an action");
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO audit (at, actor_kind, actor_id, actor_label, action, meeting_id,"
      " site_id, target, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, e->at > 0 ? e->at : rooms_store_now (store));
  rooms_bind_text (st, 2, e->actor_kind);
  rooms_bind_text (st, 3, e->actor_id);
  rooms_bind_text (st, 4, e->actor_label);
  rooms_bind_text (st, 5, e->action);
  if (e->meeting_id > 0)
    sqlite3_bind_int64 (st, 6, e->meeting_id);
  else
    sqlite3_bind_null (st, 6);
  if (e->site_id > 0)
    sqlite3_bind_int64 (st, 7, e->site_id);
  else
    sqlite3_bind_null (st, 7);
  rooms_bind_text (st, 8, e->target);
  rooms_bind_text (st, 9, e->address);
  rooms_bind_text (st, 10, e->detail);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "add audit entry");
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
rooms_store_list_audit (RoomsStore *store, gint64 meeting_id, const char *actor,
                        gint64 since, gint64 until, gint64 before_id, guint limit,
                        GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT id, at, actor_kind, actor_id, actor_label, action, meeting_id, site_id,"
      " target, address, detail FROM audit"
      " WHERE (?1 < 0 OR meeting_id = ?1) AND (?2 IS NULL OR actor_id = ?2)"
      " AND (?3 < 0 OR at >= ?3) AND (?4 < 0 OR at < ?4) AND (?5 < 0 OR id < ?5)"
      " ORDER BY id DESC LIMIT ?6",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, meeting_id);
  rooms_bind_text (st, 2, actor);
  sqlite3_bind_int64 (st, 3, since);
  sqlite3_bind_int64 (st, 4, until);
  sqlite3_bind_int64 (st, 5, before_id);
  sqlite3_bind_int64 (st, 6, limit);
  GPtrArray *out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_audit_entry_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RoomsAuditEntry *e = g_new0 (RoomsAuditEntry, 1);
      e->id = sqlite3_column_int64 (st, 0);
      e->at = sqlite3_column_int64 (st, 1);
      e->actor_kind = rooms_column_dup (st, 2);
      e->actor_id = rooms_column_dup (st, 3);
      e->actor_label = rooms_column_dup (st, 4);
      e->action = rooms_column_dup (st, 5);
      e->meeting_id = sqlite3_column_type (st, 6) == SQLITE_NULL
                          ? -1
                          : sqlite3_column_int64 (st, 6);
      e->site_id = sqlite3_column_type (st, 7) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int64 (st, 7);
      e->target = rooms_column_dup (st, 8);
      e->address = rooms_column_dup (st, 9);
      e->detail = rooms_column_dup (st, 10);
      g_ptr_array_add (out, e);
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "list audit");
      g_ptr_array_unref (out);
      return NULL;
    }
  return out;
}

gint64
rooms_store_prune_audit (RoomsStore *store, gint64 before, GError **error)
{
  g_return_val_if_fail (store != NULL, -1);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "DELETE FROM audit WHERE at < ?", error);
  if (!st)
    return -1;
  sqlite3_bind_int64 (st, 1, before);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "prune audit");
      return -1;
    }
  return sqlite3_changes (store->db);
}
