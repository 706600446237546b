/* attendance.c: the roll call (one row per site per occurrence, folded from its joins
 * and leaves, optionally queued and written in batches) and the attendance report. */
#include "meeting-private.h"

#include <string.h>

static const char *const class_names[] = { "present", "late", "absent" };

const char *
rooms_attendance_class_to_string (RoomsAttendanceClass cls)
{
  return (guint)cls < G_N_ELEMENTS (class_names) ? class_names[cls] : "unknown";
}

/* One join or leave waiting to be written: the occurrence's span is kept so that the
 * write clips to the same bounds the check saw. */
typedef struct
{
  gint64 occurrence_id, site_id, at, start, end;
  gboolean join;
} RoomsAttendanceUpdate;

static char *
format_utc (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}

/* Why the window is checked here and not only in signald: "present" must mean present
 * at an occurrence that was running; a join to a cancelled occurrence, one that has not
 * opened or one that has ended is refused by the store itself. */
static gboolean
check_open (RoomsStore *store, const RoomsOccurrence *o, gint64 at, GError **error)
{
  RoomsOccurrenceState s = rooms_occurrence_state_at (o, store->lobby_window, at);
  if (s == ROOMS_OCCURRENCE_OPEN || s == ROOMS_OCCURRENCE_LIVE)
    return TRUE;
  gint64 id = rooms_occurrence_get_id (o);
  if (s == ROOMS_OCCURRENCE_CANCELLED)
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                 "occurrence %" G_GINT64_FORMAT " is cancelled; it cannot be joined", id);
  else if (s == ROOMS_OCCURRENCE_SCHEDULED)
    {
      g_autofree char *opens
          = format_utc (rooms_occurrence_get_start (o) - store->lobby_window);
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT
                   " is not open yet; its lobby opens at %s",
                   id, opens);
    }
  else
    {
      g_autofree char *ended = format_utc (rooms_occurrence_get_end (o));
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " ended at %s; it cannot be joined", id,
                   ended);
    }
  return FALSE;
}

static gboolean
check_invited (RoomsStore *store, const RoomsOccurrence *o, gint64 site_id,
               GError **error)
{
  g_autoptr (RoomsStmt) inv = rooms_store_prepare (
      store, "SELECT 1 FROM meeting_sites WHERE meeting_id = ? AND site_id = ?", error);
  if (!inv)
    return FALSE;
  sqlite3_bind_int64 (inv, 1, rooms_occurrence_get_meeting_id (o));
  sqlite3_bind_int64 (inv, 2, site_id);
  if (sqlite3_step (inv) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "site %" G_GINT64_FORMAT
                   " is not invited to occurrence %" G_GINT64_FORMAT,
                   site_id, rooms_occurrence_get_id (o));
      return FALSE;
    }
  return TRUE;
}

/* Folds one update into the site's row. The spans are summed as the report always
 * did: a join opens a span unless one is open, a leave closes it, clipped to
 * [start, end]; first_join is the earliest join and last_leave the latest leave. */
static const char join_sql[]
    = "INSERT INTO attendance (occurrence_id, site_id, first_join, last_leave,"
      " seconds_present, join_count, open_since) VALUES (?1, ?2, ?3, NULL, 0, 1, ?3)"
      " ON CONFLICT (occurrence_id, site_id) DO UPDATE SET"
      " first_join = MIN(COALESCE(first_join, ?3), ?3), join_count = join_count + 1,"
      " open_since = COALESCE(open_since, ?3)";
static const char leave_sql[]
    = "INSERT INTO attendance (occurrence_id, site_id, first_join, last_leave,"
      " seconds_present, join_count, open_since) VALUES (?1, ?2, NULL, ?3, 0, 0, NULL)"
      " ON CONFLICT (occurrence_id, site_id) DO UPDATE SET"
      " last_leave = MAX(COALESCE(last_leave, ?3), ?3),"
      " seconds_present = seconds_present + CASE WHEN open_since IS NULL THEN 0"
      " ELSE MAX(0, MIN(?3, ?5) - MAX(open_since, ?4)) END, open_since = NULL";

static int
apply_update (sqlite3_stmt *st, const RoomsAttendanceUpdate *u)
{
  sqlite3_reset (st);
  sqlite3_bind_int64 (st, 1, u->occurrence_id);
  sqlite3_bind_int64 (st, 2, u->site_id);
  sqlite3_bind_int64 (st, 3, u->at);
  if (!u->join)
    {
      sqlite3_bind_int64 (st, 4, u->start);
      sqlite3_bind_int64 (st, 5, u->end);
    }
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  return rc;
}

static gboolean
record (RoomsStore *store, gint64 occ_id, gint64 site_id, gint64 at, gboolean join,
        GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  RoomsAttendanceUpdate u = { occ_id, site_id, at, 0, 0, join };
  {
    /* the checks' statements end here, before any write: a statement left running
     * would pin an old snapshot and keep the log from being reused */
    g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, occ_id, error);
    if (o == NULL || (join && !check_open (store, o, at, error))
        || !check_invited (store, o, site_id, error))
      return FALSE;
    u.start = rooms_occurrence_get_start (o);
    u.end = rooms_occurrence_get_end (o);
  }
  if (store->attendance_batching)
    {
      if (store->attendance_queue == NULL)
        store->attendance_queue
            = g_array_new (FALSE, FALSE, sizeof (RoomsAttendanceUpdate));
      g_array_append_val (store->attendance_queue, u);
      return TRUE;
    }
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, join ? join_sql : leave_sql, error);
  if (!st)
    return FALSE;
  if (apply_update (st, &u) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "attendance");
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_store_record_join (RoomsStore *store, gint64 occ_id, gint64 site_id, gint64 at,
                         GError **error)
{
  return record (store, occ_id, site_id, at, TRUE, error);
}

gboolean
rooms_store_record_leave (RoomsStore *store, gint64 occ_id, gint64 site_id, gint64 at,
                          GError **error)
{
  return record (store, occ_id, site_id, at, FALSE, error);
}

void
rooms_store_set_attendance_batching (RoomsStore *store, gboolean batching)
{
  g_return_if_fail (store != NULL);
  store->attendance_batching = batching;
}

guint
rooms_store_attendance_pending (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->attendance_queue ? store->attendance_queue->len : 0;
}

/* One transaction for the whole queue: one commit, one fsync. An update whose
 * occurrence or site was deleted since its check (a constraint fails) is dropped with
 * a warning rather than failing its batch; any other failure keeps the queue for the
 * next try. */
gboolean
rooms_store_flush_attendance (RoomsStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  GArray *q = store->attendance_queue;
  if (q == NULL || q->len == 0)
    return TRUE;
  if (!rooms_store_begin (store, error))
    return FALSE;
  g_autoptr (RoomsStmt) js = rooms_store_prepare (store, join_sql, error);
  g_autoptr (RoomsStmt) ls = js ? rooms_store_prepare (store, leave_sql, error) : NULL;
  if (ls == NULL)
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  for (guint i = 0; i < q->len; i++)
    {
      const RoomsAttendanceUpdate *u = &g_array_index (q, RoomsAttendanceUpdate, i);
      int rc = apply_update (u->join ? js : ls, u);
      if (rc == SQLITE_CONSTRAINT)
        g_warning ("attendance of site %" G_GINT64_FORMAT
                   " at occurrence %" G_GINT64_FORMAT " dropped: %s",
                   u->site_id, u->occurrence_id, sqlite3_errmsg (store->db));
      else if (rc != SQLITE_DONE)
        {
          rooms_store_set_sqlite_error (store, error, "attendance");
          rooms_store_rollback (store);
          return FALSE;
        }
    }
  g_clear_pointer (&js, sqlite3_finalize);
  g_clear_pointer (&ls, sqlite3_finalize);
  if (!rooms_store_commit (store, error))
    return FALSE;
  g_array_set_size (q, 0);
  return TRUE;
}

void
rooms_store_attendance_close (RoomsStore *store)
{
  g_autoptr (GError) error = NULL;
  if (store->db != NULL && !rooms_store_flush_attendance (store, &error))
    g_warning ("%u attendance updates lost at close: %s",
               rooms_store_attendance_pending (store), error->message);
  g_clear_pointer (&store->attendance_queue, g_array_unref);
}

struct _RoomsAttendanceReport
{
  GArray *entries; /* RoomsAttendanceEntry */
  GStringChunk *strings;
};

guint
rooms_attendance_report_get_length (const RoomsAttendanceReport *r)
{
  return r->entries->len;
}

const RoomsAttendanceEntry *
rooms_attendance_report_get (const RoomsAttendanceReport *r, guint i)
{
  g_return_val_if_fail (r != NULL && i < r->entries->len, NULL);
  return &g_array_index (r->entries, RoomsAttendanceEntry, i);
}

guint
rooms_attendance_report_count (const RoomsAttendanceReport *r, RoomsAttendanceClass cls)
{
  guint n = 0;
  for (guint i = 0; i < r->entries->len; i++)
    n += g_array_index (r->entries, RoomsAttendanceEntry, i).cls == cls;
  return n;
}

void
rooms_attendance_report_free (RoomsAttendanceReport *r)
{
  if (r == NULL)
    return;
  g_array_unref (r->entries);
  g_string_chunk_free (r->strings);
  g_free (r);
}

/* Why sum spans instead of taking first join to last leave: a commune on a weak link
 * that drops out for half the meeting should not be reported as there throughout.
 * The sum is kept per site as joins and leaves come (record); a span still open is
 * counted to the end here. Queued updates are written first, so the report shows
 * every join signald has answered. */
RoomsAttendanceReport *
rooms_store_attendance_report (RoomsStore *store, gint64 occ_id, gint64 grace,
                               GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  if (!rooms_store_flush_attendance (store, error))
    return NULL;
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, occ_id, error);
  if (o == NULL)
    return NULL;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT ms.site_id, a.first_join, a.last_leave, a.seconds_present, a.open_since,"
      " a.join_count FROM meeting_sites ms LEFT JOIN attendance a"
      " ON a.site_id = ms.site_id AND a.occurrence_id = ?1 WHERE ms.meeting_id = ?2"
      " ORDER BY ms.site_id",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, occ_id);
  sqlite3_bind_int64 (st, 2, rooms_occurrence_get_meeting_id (o));
  gint64 start = rooms_occurrence_get_start (o), end = rooms_occurrence_get_end (o);

  RoomsAttendanceReport *r = g_new0 (RoomsAttendanceReport, 1);
  r->entries = g_array_new (FALSE, FALSE, sizeof (RoomsAttendanceEntry));
  r->strings = g_string_chunk_new (1024);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 site = sqlite3_column_int64 (st, 0);
      RoomsSite *s = rooms_site_lookup (store, site);
      RoomsUnit *u = s ? rooms_store_get_unit (store, s->unit_code) : NULL;
      RoomsAttendanceEntry e = {
        .site_id = site,
        .site_name = g_string_chunk_insert_const (r->strings, s ? s->name : ""),
        .unit_code = g_string_chunk_insert_const (r->strings, s ? s->unit_code : ""),
        .unit_name = g_string_chunk_insert_const (r->strings, u ? u->name : ""),
        .cls = ROOMS_ATTENDANCE_ABSENT,
        .first_join = -1,
        .last_leave = -1,
        .seconds_present = sqlite3_column_int64 (st, 3),
        .joins = (guint)sqlite3_column_int64 (st, 5),
      };
      if (sqlite3_column_type (st, 1) != SQLITE_NULL)
        {
          e.first_join = sqlite3_column_int64 (st, 1);
          e.cls = e.first_join <= start + grace ? ROOMS_ATTENDANCE_PRESENT
                                                : ROOMS_ATTENDANCE_LATE;
        }
      if (sqlite3_column_type (st, 2) != SQLITE_NULL)
        e.last_leave = sqlite3_column_int64 (st, 2);
      if (sqlite3_column_type (st, 4) != SQLITE_NULL)
        e.seconds_present += MAX (0, end - MAX (sqlite3_column_int64 (st, 4), start));
      g_array_append_val (r->entries, e);
    }
  return r;
}

static void
csv_field (GString *out, const char *v)
{
  if (strpbrk (v, ",\"\r\n") == NULL)
    {
      g_string_append (out, v);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = v; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
csv_time (GString *out, gint64 t)
{
  if (t < 0)
    return;
  g_autoptr (GTimeZone) tz = g_time_zone_new_offset (7 * 3600);
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (t);
  g_autoptr (GDateTime) vn = dt ? g_date_time_to_timezone (dt, tz) : NULL;
  g_autofree char *s = vn ? g_date_time_format (vn, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
  if (s)
    g_string_append (out, s);
}

char *
rooms_attendance_report_to_csv (const RoomsAttendanceReport *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  GString *out = g_string_new (
      "site_id,site_name,unit_code,unit_name,status,first_join,last_leave,"
      "seconds_present\n");
  for (guint i = 0; i < r->entries->len; i++)
    {
      const RoomsAttendanceEntry *e
          = &g_array_index (r->entries, RoomsAttendanceEntry, i);
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",", e->site_id);
      csv_field (out, e->site_name);
      g_string_append_c (out, ',');
      csv_field (out, e->unit_code);
      g_string_append_c (out, ',');
      csv_field (out, e->unit_name);
      g_string_append_printf (out, ",%s,", rooms_attendance_class_to_string (e->cls));
      csv_time (out, e->first_join);
      g_string_append_c (out, ',');
      csv_time (out, e->last_leave);
      g_string_append_printf (out, ",%" G_GINT64_FORMAT "\n", e->seconds_present);
    }
  return g_string_free (out, FALSE);
}
