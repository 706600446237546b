/* alarm.c: the alarms table (see alarm.h). */
#include "store-private.h"

void
rooms_alarm_free (RoomsAlarm *alarm)
{
  if (alarm == NULL)
    return;
  g_free (alarm->kind);
  g_free (alarm->subject);
  g_free (alarm->detail);
  g_free (alarm);
}

#define ALARM_COLUMNS \
  "id, kind, subject, meeting_id, occurrence_id, detail, raised_at, cleared_at"

static RoomsAlarm *
alarm_from_row (sqlite3_stmt *st)
{
  RoomsAlarm *a = g_new0 (RoomsAlarm, 1);
  a->id = sqlite3_column_int64 (st, 0);
  a->kind = g_strdup ((const char *)sqlite3_column_text (st, 1));
  a->subject = g_strdup ((const char *)sqlite3_column_text (st, 2));
  a->meeting_id = sqlite3_column_int64 (st, 3);
  a->occurrence_id = sqlite3_column_int64 (st, 4);
  a->detail = g_strdup ((const char *)sqlite3_column_text (st, 5));
  a->raised_at = sqlite3_column_int64 (st, 6);
  a->cleared_at = sqlite3_column_int64 (st, 7);
  return a;
}

static RoomsAlarm *
find_open (RoomsStore *store, const char *kind, const char *subject, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT " ALARM_COLUMNS " FROM alarms WHERE kind = ? AND subject = ? AND "
      "cleared_at = 0",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
  return sqlite3_step (st) == SQLITE_ROW ? alarm_from_row (st) : NULL;
}

RoomsAlarm *
rooms_store_raise_alarm (RoomsStore *store, const char *kind, const char *subject,
                         gint64 meeting_id, gint64 occurrence_id, const char *detail,
                         gint64 at, gboolean *created, GError **error)
{
  g_return_val_if_fail (store != NULL && kind != NULL && subject != NULL, NULL);
  GError *local = NULL;
  RoomsAlarm *open = find_open (store, kind, subject, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (created)
    *created = open == NULL;
  if (open != NULL)
    return open;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO alarms (kind, subject, meeting_id, occurrence_id, detail, "
      "raised_at, cleared_at) VALUES (?, ?, ?, ?, ?, ?, 0)",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, meeting_id);
  sqlite3_bind_int64 (st, 4, occurrence_id);
  if (detail)
    sqlite3_bind_text (st, 5, detail, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, 5);
  sqlite3_bind_int64 (st, 6, at);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "alarm");
      return NULL;
    }
  RoomsAlarm *a = g_new0 (RoomsAlarm, 1);
  a->id = sqlite3_last_insert_rowid (store->db);
  a->kind = g_strdup (kind);
  a->subject = g_strdup (subject);
  a->meeting_id = meeting_id;
  a->occurrence_id = occurrence_id;
  a->detail = g_strdup (detail);
  a->raised_at = at;
  return a;
}

RoomsAlarm *
rooms_store_clear_alarm (RoomsStore *store, const char *kind, const char *subject,
                         gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL && kind != NULL && subject != NULL, NULL);
  RoomsAlarm *open = find_open (store, kind, subject, error);
  if (open == NULL)
    return NULL;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "UPDATE alarms SET cleared_at = ? WHERE id = ?", error);
  if (st == NULL)
    {
      rooms_alarm_free (open);
      return NULL;
    }
  /* a clearing in the same second as the raise still reads as cleared */
  open->cleared_at = MAX (at, open->raised_at) > 0 ? MAX (at, open->raised_at) : 1;
  sqlite3_bind_int64 (st, 1, open->cleared_at);
  sqlite3_bind_int64 (st, 2, open->id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "alarm");
      rooms_alarm_free (open);
      return NULL;
    }
  return open;
}

GPtrArray *
rooms_store_list_alarms (RoomsStore *store, gboolean open_only, gint64 since,
                         gint64 meeting_id, guint limit, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT " ALARM_COLUMNS " FROM alarms WHERE (? = 0 OR cleared_at = 0) AND "
      "(raised_at >= ? OR cleared_at >= ?) AND (? = 0 OR meeting_id = ?) "
      "ORDER BY raised_at DESC, id DESC LIMIT ?",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int (st, 1, open_only ? 1 : 0);
  sqlite3_bind_int64 (st, 2, since);
  sqlite3_bind_int64 (st, 3, since > 0 ? since : G_MAXINT64);
  sqlite3_bind_int64 (st, 4, meeting_id);
  sqlite3_bind_int64 (st, 5, meeting_id);
  sqlite3_bind_int64 (st, 6, limit);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_alarm_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (out, alarm_from_row (st));
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "alarms");
      g_ptr_array_unref (out);
      return NULL;
    }
  return out;
}
