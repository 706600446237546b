/* attendance.c: roll call events and the attendance report. */
#include "meeting-private.h"

#include <string.h>

static const char *const class_names[] = { "present", "late", "absent" };

const char *
rooms_attendance_class_to_string (RoomsAttendanceClass cls)
{
  return (guint)cls < G_N_ELEMENTS (class_names) ? class_names[cls] : "unknown";
}

static gboolean
record (RoomsStore *store, gint64 occ_id, gint64 site_id, gint64 at, int kind,
        GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, occ_id, error);
  if (o == NULL)
    return FALSE;
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
                   site_id, occ_id);
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO attendance (occurrence_id, site_id, kind, at) VALUES (?, ?, ?, ?)",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, occ_id);
  sqlite3_bind_int64 (st, 2, site_id);
  sqlite3_bind_int (st, 3, kind);
  sqlite3_bind_int64 (st, 4, at);
  if (sqlite3_step (st) != SQLITE_DONE)
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
  return record (store, occ_id, site_id, at, 0, error);
}

gboolean
rooms_store_record_leave (RoomsStore *store, gint64 occ_id, gint64 site_id, gint64 at,
                          GError **error)
{
  return record (store, occ_id, site_id, at, 1, error);
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
 * that drops out for half the meeting should not be reported as there throughout. */
RoomsAttendanceReport *
rooms_store_attendance_report (RoomsStore *store, gint64 occ_id, gint64 grace,
                               GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, occ_id, error);
  if (o == NULL)
    return NULL;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT ms.site_id, a.kind, a.at FROM meeting_sites ms LEFT JOIN attendance a"
      " ON a.site_id = ms.site_id AND a.occurrence_id = ?1 WHERE ms.meeting_id = ?2"
      " ORDER BY ms.site_id, a.at, a.id",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, occ_id);
  sqlite3_bind_int64 (st, 2, rooms_occurrence_get_meeting_id (o));
  gint64 start = rooms_occurrence_get_start (o), end = rooms_occurrence_get_end (o);

  RoomsAttendanceReport *r = g_new0 (RoomsAttendanceReport, 1);
  r->entries = g_array_new (FALSE, FALSE, sizeof (RoomsAttendanceEntry));
  r->strings = g_string_chunk_new (1024);
  RoomsAttendanceEntry *e = NULL;
  gint64 open_since = -1;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 site = sqlite3_column_int64 (st, 0);
      if (e == NULL || e->site_id != site)
        {
          if (e && open_since >= 0)
            e->seconds_present += MAX (0, end - MAX (open_since, start));
          RoomsSite *s = rooms_site_lookup (store, site);
          RoomsUnit *u = s ? rooms_store_get_unit (store, s->unit_code) : NULL;
          RoomsAttendanceEntry ne = {
            .site_id = site,
            .site_name = g_string_chunk_insert_const (r->strings, s ? s->name : ""),
            .unit_code = g_string_chunk_insert_const (r->strings, s ? s->unit_code : ""),
            .unit_name = g_string_chunk_insert_const (r->strings, u ? u->name : ""),
            .cls = ROOMS_ATTENDANCE_ABSENT,
            .first_join = -1,
            .last_leave = -1,
          };
          g_array_append_val (r->entries, ne);
          e = &g_array_index (r->entries, RoomsAttendanceEntry, r->entries->len - 1);
          open_since = -1;
        }
      if (sqlite3_column_type (st, 1) == SQLITE_NULL)
        continue;
      gint64 at = sqlite3_column_int64 (st, 2);
      if (sqlite3_column_int (st, 1) == 0)
        {
          if (e->first_join < 0)
            {
              e->first_join = at;
              e->cls = at <= start + grace ? ROOMS_ATTENDANCE_PRESENT
                                           : ROOMS_ATTENDANCE_LATE;
            }
          if (open_since < 0)
            open_since = at;
        }
      else
        {
          e->last_leave = at;
          if (open_since >= 0)
            e->seconds_present += MAX (0, MIN (at, end) - MAX (open_since, start));
          open_since = -1;
        }
    }
  if (e && open_since >= 0)
    e->seconds_present += MAX (0, end - MAX (open_since, start));
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
