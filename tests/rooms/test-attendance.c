/* Suite rooms-attendance: proves that the roll call keeps one row per site per
 * occurrence, however often a site joins and leaves, and that the report computed from
 * those rows gives what the per-event report gave (same classes, first join, last
 * leave, seconds present), whether the updates are written one by one, queued and
 * flushed in one batch, or migrated from a store of the old per-event schema; that a
 * join is refused, writing nothing, for a cancelled occurrence and outside the window
 * from start minus the lobby window to the end; and that queued updates are written
 * by the report and when the store is closed. */
#include "rooms-test-util.h"

#include <sqlite3.h>

#define T0 1767243600 /* 2026-01-01 05:00 UTC */
#define HOUR 3600

typedef struct
{
  gint64 meeting, occ, chair, hop, tt;
} Fixture;

static void
fixture_book (RoomsStore *s, Fixture *f)
{
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Roll", "076", T0, T0 + HOUR);
  rooms_meeting_spec_add_selection (spec, "076", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_book (s, spec, &b, NULL, &error), "book: %s",
                 error ? error->message : "");
  f->meeting = rooms_booking_get_meeting_id (b);
  f->occ = g_array_index (rooms_booking_get_occurrence_ids (b), gint64, 0);
  f->chair = rt_site_of (s, "076");
  f->hop = rt_site_of (s, "02500");
  f->tt = rt_site_of (s, "02501");
}

/* The story both the live and the migrated path tell, in time order:
 * chair: joins in the lobby, joins again while in (no new span), leaves, leaves
 *   again (nothing to close), joins again and stays to the end;
 * hop: a stray leave first, joins late, leaves after the end (clipped);
 * tt: joins and leaves in the same second (a span of 0). */
typedef struct
{
  int who; /* 0 chair, 1 hop, 2 tt */
  gboolean join;
  gint64 at;
} Event;

static const Event story[] = {
  { 1, FALSE, T0 - 600 },        { 0, TRUE, T0 - 300 },   { 0, TRUE, T0 - 100 },
  { 0, FALSE, T0 + 600 },        { 1, TRUE, T0 + 600 },   { 0, FALSE, T0 + 700 },
  { 2, TRUE, T0 + 1000 },        { 2, FALSE, T0 + 1000 }, { 0, TRUE, T0 + 1200 },
  { 1, FALSE, T0 + HOUR + 400 },
};

static gint64
who_site (const Fixture *f, int who)
{
  return who == 0 ? f->chair : who == 1 ? f->hop : f->tt;
}

/* What the per-event report computed for the story (grace 300). */
static void
check_story_report (RoomsStore *s, const Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsAttendanceReport) r
      = rooms_store_attendance_report (s, f->occ, 300, &error);
  ck_assert_msg (r != NULL, "report: %s", error ? error->message : "");
  ck_assert_uint_eq (rooms_attendance_report_get_length (r), 3);
  for (guint i = 0; i < 3; i++)
    {
      const RoomsAttendanceEntry *e = rooms_attendance_report_get (r, i);
      if (e->site_id == f->chair)
        {
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_PRESENT);
          ck_assert_int_eq (e->first_join, T0 - 300);
          ck_assert_int_eq (e->last_leave, T0 + 700);
          ck_assert_int_eq (e->seconds_present, 600 + (HOUR - 1200));
          ck_assert_uint_eq (e->joins, 3);
        }
      else if (e->site_id == f->hop)
        {
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_LATE);
          ck_assert_int_eq (e->first_join, T0 + 600);
          ck_assert_int_eq (e->last_leave, T0 + HOUR + 400);
          ck_assert_int_eq (e->seconds_present, HOUR - 600);
          ck_assert_uint_eq (e->joins, 1);
        }
      else
        {
          ck_assert_int_eq (e->site_id, f->tt);
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_LATE);
          ck_assert_int_eq (e->first_join, T0 + 1000);
          ck_assert_int_eq (e->last_leave, T0 + 1000);
          ck_assert_int_eq (e->seconds_present, 0);
        }
    }
  g_autofree char *csv = rooms_attendance_report_to_csv (r);
  ck_assert_ptr_nonnull (strstr (csv, ",076,Huyện Sơn Dương,present,"
                                      "2026-01-01T11:55:00+07:00,"
                                      "2026-01-01T12:11:40+07:00,3000\n"));
}

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  return db;
}

static gint64
raw_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  ck_assert_msg (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg (db));
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  gint64 v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static void
play_story (RoomsStore *s, const Fixture *f)
{
  for (guint i = 0; i < G_N_ELEMENTS (story); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 site = who_site (f, story[i].who);
      gboolean ok = story[i].join
                        ? rooms_store_record_join (s, f->occ, site, story[i].at, &error)
                        : rooms_store_record_leave (s, f->occ, site, story[i].at, &error);
      ck_assert_msg (ok, "event %u: %s", i, error ? error->message : "");
    }
}

/* Repeated joins and leaves of one site fold into one row, written one by one. */
START_TEST (test_one_row_per_site)
{
  RtTmp t;
  rt_tmp_init (&t);
  Fixture f;
  {
    g_autoptr (RoomsStore) s = rt_open_small (t.path);
    fixture_book (s, &f);
    play_story (s, &f);
    ck_assert_uint_eq (rooms_store_attendance_pending (s), 0);
    check_story_report (s, &f);
  }
  sqlite3 *db = raw_open (t.path);
  /* ten events, three sites: three rows */
  ck_assert_int_eq (raw_int (db, "SELECT count(*) FROM attendance"), 3);
  sqlite3_close (db);
  rt_tmp_clear (&t);
}
END_TEST

/* Batched: nothing is written until the flush, then the same rows as one by one; the
 * report writes what is queued before reading; closing the store writes the rest. */
START_TEST (test_batched_same_answers)
{
  RtTmp t;
  rt_tmp_init (&t);
  Fixture f;
  {
    g_autoptr (RoomsStore) s = rt_open_small (t.path);
    fixture_book (s, &f);
    rooms_store_set_attendance_batching (s, TRUE);
    g_autofree char *before = rt_hash_db (t.path);
    play_story (s, &f);
    ck_assert_uint_eq (rooms_store_attendance_pending (s), G_N_ELEMENTS (story));
    g_autofree char *queued = rt_hash_db (t.path);
    ck_assert_str_eq (before, queued); /* queued, not written */
    check_story_report (s, &f);        /* the report flushed the queue */
    ck_assert_uint_eq (rooms_store_attendance_pending (s), 0);

    /* one more join, queued, then the store closes: closing writes it */
    ck_assert (rooms_store_record_join (s, f.occ, f.tt, T0 + 2000, NULL));
    ck_assert_uint_eq (rooms_store_attendance_pending (s), 1);
  }
  sqlite3 *db = raw_open (t.path);
  ck_assert_int_eq (raw_int (db, "SELECT count(*) FROM attendance"), 3);
  g_autofree char *q
      = g_strdup_printf ("SELECT join_count * 1000000000 + open_since FROM attendance "
                         "WHERE site_id = %" G_GINT64_FORMAT,
                         f.tt);
  ck_assert_int_eq (raw_int (db, q), 2 * G_GINT64_CONSTANT (1000000000) + T0 + 2000);
  sqlite3_close (db);
  rt_tmp_clear (&t);
}
END_TEST

/* A store of schema 2 (one row per event) migrates to one row per site, and its
 * report answers as before. */
START_TEST (test_migrate_per_event_store)
{
  RtTmp t;
  rt_tmp_init (&t);
  Fixture f;
  {
    g_autoptr (RoomsStore) s = rt_open_small (t.path);
    fixture_book (s, &f);
  }
  sqlite3 *db = raw_open (t.path);
  ck_assert_int_eq (
      sqlite3_exec (
          db,
          "ALTER TABLE meetings DROP COLUMN sequence;"
          "ALTER TABLE tokens DROP COLUMN unit;"
          "DROP TABLE sessions;" /* schemas 6 and 7 */
          "DROP TABLE audit;"
          /* schema 8 (recordings) */
          "DROP TABLE recording_pauses; DROP TABLE recording_files;"
          "DROP TABLE recording_parts; DROP TABLE recordings;"
          "ALTER TABLE meetings DROP COLUMN record;"
          "ALTER TABLE units DROP COLUMN record_default;"
          "DROP TABLE accounts;"
          "DROP TABLE attendance;"
          "CREATE TABLE attendance (id INTEGER PRIMARY KEY, occurrence_id INTEGER NOT "
          "NULL"
          "  REFERENCES occurrences(id) ON DELETE CASCADE, site_id INTEGER NOT NULL"
          "  REFERENCES sites(id), kind INTEGER NOT NULL, at INTEGER NOT NULL);"
          "CREATE INDEX attendance_occ ON attendance(occurrence_id, site_id, at);"
          "PRAGMA user_version = 2;",
          NULL, NULL, NULL),
      SQLITE_OK);
  /* inserted out of time order: the replay orders by time, as the old report did */
  for (guint k = G_N_ELEMENTS (story); k > 0; k--)
    {
      const Event *e = &story[k - 1];
      g_autofree char *ins = g_strdup_printf (
          "INSERT INTO attendance (occurrence_id, site_id, kind, at) VALUES "
          "(%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %d, %" G_GINT64_FORMAT ")",
          f.occ, who_site (&f, e->who), e->join ? 0 : 1, e->at);
      ck_assert_int_eq (sqlite3_exec (db, ins, NULL, NULL, NULL), SQLITE_OK);
    }
  /* tt's join and leave share a second: the earlier row (by id) comes first, so fix
   * their ids in time order */
  g_autofree char *fix = g_strdup_printf (
      "UPDATE attendance SET id = id + 100 WHERE site_id = %" G_GINT64_FORMAT
      " AND kind = 1",
      f.tt);
  ck_assert_int_eq (sqlite3_exec (db, fix, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);

  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsStore) s = rooms_store_open (t.path, NULL, &error);
  ck_assert_msg (s != NULL, "reopen: %s", error ? error->message : "");
  check_story_report (s, &f);
  db = raw_open (t.path);
  ck_assert_int_eq (raw_int (db, "SELECT count(*) FROM attendance"), 3);
  ck_assert_int_ge (raw_int (db, "PRAGMA user_version"), 3);
  sqlite3_close (db);
  g_clear_pointer (&s, rooms_store_free);
  rt_tmp_clear (&t);
}
END_TEST

/* Joins are refused outside [start - lobby, end) and for a cancelled occurrence, with
 * ROOMS_ERROR_ILLEGAL_STATE, and the store is byte for byte unchanged; the edges of
 * the window are accepted. A leave is not a join: it is recorded after the end. */
START_TEST (test_join_window)
{
  RtTmp t;
  rt_tmp_init (&t);
  g_autoptr (RoomsStore) s = rt_open_small (t.path);
  rooms_store_set_lobby_window (s, 900);
  Fixture f;
  fixture_book (s, &f);
  g_autofree char *before = rt_hash_db (t.path);
  const gint64 refused[] = { T0 - 901, T0 - 30 * 86400, T0 + HOUR, T0 + HOUR + 1 };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      ck_assert (!rooms_store_record_join (s, f.occ, f.hop, refused[i], &error));
      ck_assert_int_eq (error->code, ROOMS_ERROR_ILLEGAL_STATE);
      ck_assert_msg (strstr (error->message, refused[i] < T0 ? "not open yet" : "ended"),
                     "%s", error->message);
    }
  g_autofree char *after = rt_hash_db (t.path);
  ck_assert_str_eq (before, after);
  ck_assert (rooms_store_record_join (s, f.occ, f.hop, T0 - 900, NULL));
  ck_assert (rooms_store_record_join (s, f.occ, f.tt, T0 + HOUR - 1, NULL));
  ck_assert (rooms_store_record_leave (s, f.occ, f.tt, T0 + HOUR + 60, NULL));

  /* cancelled: refused even inside its window */
  ck_assert (rooms_store_cancel_meeting (s, f.meeting, NULL));
  g_autofree char *cancelled = rt_hash_db (t.path);
  g_autoptr (GError) error = NULL;
  ck_assert (!rooms_store_record_join (s, f.occ, f.chair, T0, &error));
  ck_assert_int_eq (error->code, ROOMS_ERROR_ILLEGAL_STATE);
  ck_assert_ptr_nonnull (strstr (error->message, "cancelled"));
  g_autofree char *after_cancel = rt_hash_db (t.path);
  ck_assert_str_eq (cancelled, after_cancel);
  g_clear_pointer (&s, rooms_store_free);
  rt_tmp_clear (&t);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-attendance");
  TCase *tc = tcase_create ("attendance");
  tcase_add_test (tc, test_one_row_per_site);
  tcase_add_test (tc, test_batched_same_answers);
  tcase_add_test (tc, test_migrate_per_event_store);
  tcase_add_test (tc, test_join_window);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
