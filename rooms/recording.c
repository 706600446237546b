/* recording.c: the recordings tables (see recording.h). */
#include "store-private.h"

static void
part_free (gpointer p)
{
  RoomsRecordingPart *x = p;
  g_free (x->node_id);
  g_free (x->reason);
  g_free (x);
}

static void
file_free (gpointer p)
{
  RoomsRecordingFile *x = p;
  g_free (x->name);
  g_free (x->track);
  g_free (x->sha256);
  g_free (x);
}

static void
pause_free (gpointer p)
{
  RoomsRecordingPause *x = p;
  g_free (x->by);
  g_free (x->resumed_by);
  g_free (x);
}

void
rooms_recording_free (RoomsRecording *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->title);
  g_free (rec->state);
  g_free (rec->started_by);
  g_free (rec->stop_reason);
  g_clear_pointer (&rec->parts, g_ptr_array_unref);
  g_clear_pointer (&rec->files, g_ptr_array_unref);
  g_clear_pointer (&rec->pauses, g_ptr_array_unref);
  g_free (rec);
}

gboolean
rooms_recording_is_active (const RoomsRecording *rec)
{
  return g_strcmp0 (rec->state, "recording") == 0
         || g_strcmp0 (rec->state, "paused") == 0;
}

guint64
rooms_recording_bytes (const RoomsRecording *rec)
{
  guint64 sum = 0;
  for (guint i = 0; i < rec->files->len; i++)
    sum += ((RoomsRecordingFile *)rec->files->pdata[i])->bytes;
  return sum;
}

/* The time between a node failing and the next part starting was not recorded, so
 * the duration adds up the parts rather than taking end - start. */
gint64
rooms_recording_duration (const RoomsRecording *rec, gint64 now)
{
  gint64 sum = 0;
  for (guint i = 0; i < rec->parts->len; i++)
    {
      const RoomsRecordingPart *p = rec->parts->pdata[i];
      gint64 end = p->ended_at ? p->ended_at : (rec->ended_at ? rec->ended_at : now);
      sum += MAX (0, end - p->started_at);
    }
  for (guint i = 0; i < rec->pauses->len; i++)
    {
      const RoomsRecordingPause *p = rec->pauses->pdata[i];
      gint64 end = p->resumed_at ? p->resumed_at : (rec->ended_at ? rec->ended_at : now);
      sum -= MAX (0, end - p->at);
    }
  return MAX (0, sum);
}

#define REC_COLUMNS                                                                     \
  "r.id, r.occurrence_id, o.meeting_id, m.title, r.state, r.started_by, r.stop_reason," \
  " r.started_at, r.ended_at FROM recordings r JOIN occurrences o ON o.id ="            \
  " r.occurrence_id JOIN meetings m ON m.id = o.meeting_id"

static gboolean
load_children (RoomsStore *store, RoomsRecording *r, GError **error)
{
  g_autoptr (RoomsStmt) p = rooms_store_prepare (
      store,
      "SELECT part, node_id, started_at, ended_at, reason FROM recording_parts"
      " WHERE recording_id = ? ORDER BY part",
      error);
  g_autoptr (RoomsStmt) f
      = p ? rooms_store_prepare (store,
                                 "SELECT name, part, track, bytes, sha256, at FROM"
                                 " recording_files WHERE recording_id = ? ORDER BY"
                                 " part, track DESC, name",
                                 error)
          : NULL;
  g_autoptr (RoomsStmt) z
      = f ? rooms_store_prepare (store,
                                 "SELECT at, by, resumed_at, resumed_by FROM"
                                 " recording_pauses WHERE recording_id = ? ORDER BY at,"
                                 " rowid",
                                 error)
          : NULL;
  if (z == NULL)
    return FALSE;
  sqlite3_bind_int64 (p, 1, r->id);
  sqlite3_bind_int64 (f, 1, r->id);
  sqlite3_bind_int64 (z, 1, r->id);
  while (sqlite3_step (p) == SQLITE_ROW)
    {
      RoomsRecordingPart *x = g_new0 (RoomsRecordingPart, 1);
      x->part = (guint)sqlite3_column_int64 (p, 0);
      x->node_id = rooms_column_dup (p, 1);
      x->started_at = sqlite3_column_int64 (p, 2);
      x->ended_at = sqlite3_column_int64 (p, 3);
      x->reason = rooms_column_dup (p, 4);
      g_ptr_array_add (r->parts, x);
    }
  while (sqlite3_step (f) == SQLITE_ROW)
    {
      RoomsRecordingFile *x = g_new0 (RoomsRecordingFile, 1);
      x->name = rooms_column_dup (f, 0);
      x->part = (guint)sqlite3_column_int64 (f, 1);
      x->track = rooms_column_dup (f, 2);
      x->bytes = (guint64)sqlite3_column_int64 (f, 3);
      x->sha256 = rooms_column_dup (f, 4);
      x->at = sqlite3_column_int64 (f, 5);
      g_ptr_array_add (r->files, x);
    }
  while (sqlite3_step (z) == SQLITE_ROW)
    {
      RoomsRecordingPause *x = g_new0 (RoomsRecordingPause, 1);
      x->at = sqlite3_column_int64 (z, 0);
      x->by = rooms_column_dup (z, 1);
      x->resumed_at = sqlite3_column_int64 (z, 2);
      x->resumed_by = rooms_column_dup (z, 3);
      g_ptr_array_add (r->pauses, x);
    }
  return TRUE;
}

static RoomsRecording *
recording_from_row (RoomsStore *store, sqlite3_stmt *st, GError **error)
{
  g_autoptr (RoomsRecording) r = g_new0 (RoomsRecording, 1);
  r->id = sqlite3_column_int64 (st, 0);
  r->occurrence_id = sqlite3_column_int64 (st, 1);
  r->meeting_id = sqlite3_column_int64 (st, 2);
  r->title = rooms_column_dup (st, 3);
  r->state = rooms_column_dup (st, 4);
  r->started_by = rooms_column_dup (st, 5);
  r->stop_reason = rooms_column_dup (st, 6);
  r->started_at = sqlite3_column_int64 (st, 7);
  r->ended_at = sqlite3_column_int64 (st, 8);
  r->parts = g_ptr_array_new_with_free_func (part_free);
  r->files = g_ptr_array_new_with_free_func (file_free);
  r->pauses = g_ptr_array_new_with_free_func (pause_free);
  return load_children (store, r, error) ? g_steal_pointer (&r) : NULL;
}

RoomsRecording *
rooms_store_get_recording (RoomsStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "SELECT " REC_COLUMNS " WHERE r.id = ?", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "unknown recording %" G_GINT64_FORMAT, id);
      return NULL;
    }
  return recording_from_row (store, st, error);
}

RoomsRecording *
rooms_store_active_recording (RoomsStore *store, gint64 occurrence_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT " REC_COLUMNS " WHERE r.occurrence_id = ? AND r.state IN ('recording',"
      " 'paused') ORDER BY r.id DESC LIMIT 1",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, occurrence_id);
  if (sqlite3_step (st) != SQLITE_ROW)
    return NULL;
  return recording_from_row (store, st, error);
}

GPtrArray *
rooms_store_list_recordings (RoomsStore *store, gint64 meeting_id, gint64 ended_before,
                             guint limit, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT " REC_COLUMNS " WHERE (?1 = 0 OR o.meeting_id = ?1) AND (?2 = 0 OR"
      " (r.state IN ('stopped', 'failed') AND r.ended_at < ?2)) ORDER BY r.id DESC"
      " LIMIT ?3",
      error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, meeting_id);
  sqlite3_bind_int64 (st, 2, ended_before);
  sqlite3_bind_int64 (st, 3, limit ? limit : G_MAXINT32);
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_recording_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RoomsRecording *r = recording_from_row (store, st, error);
      if (r == NULL)
        return NULL;
      g_ptr_array_add (out, r);
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "recordings");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* Runs one statement with int64/text arguments ('i' and 's' in @types) and fails
 * with @missing (ROOMS_ERROR_ILLEGAL_STATE or _NOT_FOUND) when it changed no row. */
static gboolean
change (RoomsStore *store, const char *sql, int missing, const char *what, GError **error,
        const char *types, ...)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (store, sql, error);
  if (st == NULL)
    return FALSE;
  va_list ap;
  va_start (ap, types);
  for (int i = 0; types[i]; i++)
    if (types[i] == 'i')
      sqlite3_bind_int64 (st, i + 1, va_arg (ap, gint64));
    else
      rooms_bind_text (st, i + 1, va_arg (ap, const char *));
  va_end (ap);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, what);
      return FALSE;
    }
  if (missing && sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, missing, "%s", what);
      return FALSE;
    }
  return TRUE;
}

RoomsRecording *
rooms_store_start_recording (RoomsStore *store, gint64 occurrence_id, const char *by,
                             gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL && by != NULL, NULL);
  GError *local = NULL;
  g_autoptr (RoomsRecording) running
      = rooms_store_active_recording (store, occurrence_id, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (running != NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT,
                   "occurrence %" G_GINT64_FORMAT " is already being recorded",
                   occurrence_id);
      return NULL;
    }
  if (!change (store,
               "INSERT INTO recordings (occurrence_id, state, started_by, started_at)"
               " SELECT id, 'recording', ?2, ?3 FROM occurrences WHERE id = ?1",
               ROOMS_ERROR_NOT_FOUND, "unknown occurrence", error, "isi", occurrence_id,
               by, at))
    return NULL;
  return rooms_store_get_recording (store, sqlite3_last_insert_rowid (store->db), error);
}

gboolean
rooms_store_recording_add_part (RoomsStore *store, gint64 id, guint part,
                                const char *node_id, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL && node_id != NULL && part > 0, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (!change (store,
               "UPDATE recording_parts SET ended_at = ?2, reason = 'node' WHERE"
               " recording_id = ?1 AND ended_at = 0",
               0, "recording part", error, "ii", id, at)
      || !change (store,
                  "INSERT INTO recording_parts (recording_id, part, node_id, started_at,"
                  " ended_at) SELECT id, ?2, ?3, ?4, 0 FROM recordings WHERE id = ?1 AND"
                  " state IN ('recording', 'paused')",
                  ROOMS_ERROR_ILLEGAL_STATE, "the recording does not run", error, "iisi",
                  id, (gint64)part, node_id, at))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return rooms_store_commit (store, error);
}

gboolean
rooms_store_recording_end_part (RoomsStore *store, gint64 id, guint part,
                                const char *reason, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  return change (store,
                 "UPDATE recording_parts SET ended_at = ?3, reason = ?4 WHERE"
                 " recording_id = ?1 AND part = ?2 AND ended_at = 0",
                 0, "recording part", error, "iiis", id, (gint64)part, at, reason);
}

gboolean
rooms_store_recording_add_file (RoomsStore *store, gint64 id, guint part,
                                const char *name, const char *track, guint64 bytes,
                                const char *sha256, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL && track != NULL && sha256 != NULL,
                        FALSE);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO recording_files (recording_id, name, part, track, bytes, sha256, at)"
      " SELECT recording_id, ?2, part, ?4, ?5, ?6, ?7 FROM recording_parts WHERE"
      " recording_id = ?1 AND part = ?3 ON CONFLICT DO NOTHING",
      error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  sqlite3_bind_text (st, 2, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, part);
  sqlite3_bind_text (st, 4, track, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, (gint64)MIN (bytes, (guint64)G_MAXINT64));
  sqlite3_bind_text (st, 6, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 7, at);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "recording file");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 1)
    return TRUE;
  /* nothing inserted: either the part is unknown, or the name is listed already */
  g_autoptr (RoomsStmt) q = rooms_store_prepare (
      store, "SELECT 1 FROM recording_files WHERE recording_id = ? AND name = ?", error);
  if (q == NULL)
    return FALSE;
  sqlite3_bind_int64 (q, 1, id);
  sqlite3_bind_text (q, 2, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (q) == SQLITE_ROW)
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT, "%s is listed already", name);
  else
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                 "%s: no part %u of that recording", name, part);
  return FALSE;
}

gboolean
rooms_store_recording_set_paused (RoomsStore *store, gint64 id, gboolean paused,
                                  const char *by, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL && by != NULL, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  gboolean ok
      = paused
            ? change (store,
                      "UPDATE recordings SET state = 'paused' WHERE id = ?1 AND state ="
                      " 'recording'",
                      ROOMS_ERROR_ILLEGAL_STATE, "the recording is not running", error,
                      "i", id)
                  && change (store,
                             "INSERT INTO recording_pauses (recording_id, at, by,"
                             " resumed_at) VALUES (?1, ?2, ?3, 0)",
                             0, "pause", error, "iis", id, at, by)
            : change (store,
                      "UPDATE recordings SET state = 'recording' WHERE id = ?1 AND state"
                      " = 'paused'",
                      ROOMS_ERROR_ILLEGAL_STATE, "the recording is not paused", error,
                      "i", id)
                  && change (
                      store,
                      "UPDATE recording_pauses SET resumed_at = ?2, resumed_by = ?3"
                      " WHERE recording_id = ?1 AND resumed_at = 0",
                      0, "pause", error, "iis", id, at, by);
  if (!ok)
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return rooms_store_commit (store, error);
}

gboolean
rooms_store_finish_recording (RoomsStore *store, gint64 id, const char *state,
                              const char *reason, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (
      g_strcmp0 (state, "stopped") == 0 || g_strcmp0 (state, "failed") == 0, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (!change (store,
               "UPDATE recordings SET state = ?2, stop_reason = ?3, ended_at = ?4 WHERE"
               " id = ?1 AND state IN ('recording', 'paused')",
               ROOMS_ERROR_ILLEGAL_STATE, "the recording does not run", error, "issi", id,
               state, reason, at)
      || !change (store,
                  "UPDATE recording_parts SET ended_at = ?2, reason = ?3 WHERE"
                  " recording_id = ?1 AND ended_at = 0",
                  0, "recording part", error, "iis", id, at, reason)
      || !change (store,
                  "UPDATE recording_pauses SET resumed_at = ?2 WHERE recording_id = ?1"
                  " AND resumed_at = 0",
                  0, "pause", error, "ii", id, at))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return rooms_store_commit (store, error);
}

gboolean
rooms_store_expire_recording (RoomsStore *store, gint64 id, gint64 at, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (!change (store,
               "UPDATE recordings SET state = 'expired', expired_at = ?2 WHERE id = ?1"
               " AND state IN ('stopped', 'failed')",
               ROOMS_ERROR_ILLEGAL_STATE, "the recording has not ended", error, "ii", id,
               at)
      || !change (store, "DELETE FROM recording_files WHERE recording_id = ?1", 0,
                  "recording files", error, "i", id))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return rooms_store_commit (store, error);
}
