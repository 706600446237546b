/* Suite rooms-meetings: proves that a booking refuses every conflicting site with the
 * full structured list, that recurrence follows libical's RRULE with EXDATE and lets
 * one occurrence be moved or cancelled, that the lifecycle refuses illegal moves and
 * the due-transition query drives it (also after a "restart"), that attendance
 * classes sites present/late/absent and exports CSV, that the scope rule holds, that
 * an idempotency key books once, and that updates and saved groups work; and that
 * checking a booking before saving finds what booking would and stores nothing. */
#include "rooms-test-util.h"

#include <sqlite3.h>

#define T0 1767243600 /* 2026-01-01 05:00 UTC = 12:00 in Hà Nội */
#define HOUR 3600
#define DAY 86400

static RoomsBooking *
book (RoomsStore *s, const char *title, const char *chair, gint64 start, gint64 end,
      const char *sel, const char *down_to)
{
  g_autoptr (RoomsMeetingSpec) spec = rooms_meeting_spec_new (title, chair, start, end);
  if (sel)
    rooms_meeting_spec_add_selection (spec, sel, down_to);
  RoomsBooking *b = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_book (s, spec, &b, NULL, &error), "book %s: %s", title,
                 error ? error->message : "");
  return b;
}

START_TEST (test_conflicts_full_list)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (RoomsBooking) a = book (s, "A", "076", T0, T0 + HOUR, "076", "commune");
  ck_assert_uint_eq (rooms_booking_get_site_ids (a)->len, 3); /* 076 + 2 communes */
  g_autoptr (RoomsBooking) b = book (s, "B", "080", T0, T0 + HOUR, NULL, NULL);
  /* back to back is not a conflict */
  g_autoptr (RoomsBooking) c = book (s, "C", "076", T0 + HOUR, T0 + 2 * HOUR, NULL, NULL);

  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Province", "08", T0 + 1800, T0 + 5400);
  rooms_meeting_spec_add_selection (spec, "VN", "commune");
  g_autoptr (RoomsConflictList) list = NULL;
  g_autoptr (GError) error = NULL;
  guint meetings_before = 0;
  {
    g_autoptr (GPtrArray) all = rooms_store_list_meetings (s, 0, G_MAXINT64, NULL, NULL);
    meetings_before = all->len;
  }
  ck_assert (!rooms_store_book (s, spec, NULL, &list, &error));
  ck_assert_int_eq (error->code, ROOMS_ERROR_CONFLICT);
  /* 3 sites of A, 1 of B, 1 of C (076 again, in the second hour) */
  ck_assert_uint_eq (rooms_conflict_list_get_length (list), 5);
  guint with_a = 0, with_c = 0;
  for (guint i = 0; i < rooms_conflict_list_get_length (list); i++)
    {
      const RoomsConflict *k = rooms_conflict_list_get (list, i);
      if (k->meeting_id == rooms_booking_get_meeting_id (a))
        {
          with_a++;
          ck_assert_str_eq (k->meeting_title, "A");
        }
      if (k->meeting_id == rooms_booking_get_meeting_id (c))
        {
          with_c++;
          ck_assert_str_eq (k->unit_code, "076");
        }
      if (i > 0)
        ck_assert_int_le (rooms_conflict_list_get (list, i - 1)->site_id, k->site_id);
    }
  ck_assert_uint_eq (with_a, 3);
  ck_assert_uint_eq (with_c, 1);
  g_autoptr (GPtrArray) all = rooms_store_list_meetings (s, 0, G_MAXINT64, NULL, NULL);
  ck_assert_uint_eq (all->len, meetings_before); /* nothing stored */

  /* the check before saving finds the same clashes, in the same order */
  g_autoptr (RoomsConflictList) checked = NULL;
  g_autoptr (GError) cerr = NULL;
  ck_assert (!rooms_store_check_booking (s, spec, NULL, NULL, &checked, &cerr));
  ck_assert_int_eq (cerr->code, ROOMS_ERROR_CONFLICT);
  ck_assert_uint_eq (rooms_conflict_list_get_length (checked),
                     rooms_conflict_list_get_length (list));
  for (guint i = 0; i < rooms_conflict_list_get_length (list); i++)
    ck_assert_int_eq (rooms_conflict_list_get (checked, i)->site_id,
                      rooms_conflict_list_get (list, i)->site_id);
  /* a free slot: counted, and still nothing stored */
  g_autoptr (RoomsMeetingSpec) free_spec
      = rooms_meeting_spec_new ("Later", "08", T0 + 3 * HOUR, T0 + 4 * HOUR);
  rooms_meeting_spec_add_selection (free_spec, "076", "commune");
  rooms_meeting_spec_set_rrule (free_spec, "FREQ=WEEKLY;COUNT=4");
  guint n_sites = 0, n_occ = 0;
  ck_assert (rooms_store_check_booking (s, free_spec, &n_sites, &n_occ, NULL, NULL));
  ck_assert_uint_eq (n_sites, 4); /* the chair 08, 076 and its 2 communes */
  ck_assert_uint_eq (n_occ, 4);
  g_autoptr (GPtrArray) after = rooms_store_list_meetings (s, 0, G_MAXINT64, NULL, NULL);
  ck_assert_uint_eq (after->len, meetings_before);

  /* a cancelled meeting no longer blocks its sites */
  ck_assert (rooms_store_cancel_meeting (s, rooms_booking_get_meeting_id (b), NULL));
  ck_assert (!rooms_store_cancel_meeting (s, rooms_booking_get_meeting_id (b), NULL));
  g_autoptr (RoomsBooking) d = book (s, "D", "080", T0, T0 + HOUR, NULL, NULL);
}
END_TEST

START_TEST (test_recurrence_with_exceptions)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Giao ban tuần", "08", T0, T0 + HOUR);
  rooms_meeting_spec_add_selection (spec, "08", "district");
  rooms_meeting_spec_set_rrule (spec, "FREQ=WEEKLY;COUNT=5");
  rooms_meeting_spec_add_exdate (spec, T0 + 14 * DAY);
  g_autoptr (RoomsBooking) b = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_book (s, spec, &b, NULL, &error), "%s",
                 error ? error->message : "");
  g_autoptr (GPtrArray) occ
      = rooms_store_list_occurrences (s, rooms_booking_get_meeting_id (b), NULL);
  ck_assert_uint_eq (occ->len, 4);
  const gint64 want[] = { T0, T0 + 7 * DAY, T0 + 21 * DAY, T0 + 28 * DAY };
  for (guint i = 0; i < 4; i++)
    {
      ck_assert_int_eq (rooms_occurrence_get_start (occ->pdata[i]), want[i]);
      ck_assert_int_eq (rooms_occurrence_get_end (occ->pdata[i]), want[i] + HOUR);
    }
  /* the excluded week is free for 076; the second week is not */
  g_autoptr (RoomsBooking) free_week = book (s, "Sơn Dương riêng", "076", T0 + 14 * DAY,
                                             T0 + 14 * DAY + HOUR, NULL, NULL);
  g_autoptr (RoomsMeetingSpec) clash
      = rooms_meeting_spec_new ("x", "076", T0 + 7 * DAY, T0 + 7 * DAY + 60);
  ck_assert (!rooms_store_book (s, clash, NULL, NULL, NULL));

  /* move week 2 a day later: its old slot frees up; cancel week 4 */
  gint64 w2 = rooms_occurrence_get_id (occ->pdata[1]);
  ck_assert (
      rooms_store_move_occurrence (s, w2, T0 + 8 * DAY, T0 + 8 * DAY + HOUR, NULL, NULL));
  ck_assert (rooms_store_book (s, clash, NULL, NULL, NULL));
  g_autoptr (RoomsOccurrence) moved = rooms_store_get_occurrence (s, w2, NULL);
  ck_assert_int_eq (rooms_occurrence_get_original_start (moved), T0 + 7 * DAY);
  ck_assert_int_eq (rooms_occurrence_get_start (moved), T0 + 8 * DAY);
  /* moving onto Sơn Dương's own meeting conflicts */
  g_autoptr (RoomsConflictList) list = NULL;
  ck_assert (!rooms_store_move_occurrence (s, w2, T0 + 14 * DAY, T0 + 14 * DAY + HOUR,
                                           &list, NULL));
  ck_assert_uint_eq (rooms_conflict_list_get_length (list), 1);
  ck_assert (
      rooms_store_cancel_occurrence (s, rooms_occurrence_get_id (occ->pdata[2]), NULL));
  g_autoptr (RoomsBooking) w4
      = book (s, "after cancel", "076", T0 + 21 * DAY, T0 + 21 * DAY + HOUR, NULL, NULL);

  /* a bad rule is refused */
  rooms_meeting_spec_set_rrule (spec, "FREQ=SOMETIMES");
  g_autoptr (GError) e2 = NULL;
  ck_assert (!rooms_store_book (s, spec, NULL, NULL, &e2));
  ck_assert_int_eq (e2->code, ROOMS_ERROR_INVALID);
}
END_TEST

START_TEST (test_lifecycle_and_due)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  rooms_store_set_lobby_window (s, 600);
  g_autoptr (RoomsBooking) b = book (s, "L", "08", T0, T0 + HOUR, NULL, NULL);
  gint64 id = g_array_index (rooms_booking_get_occurrence_ids (b), gint64, 0);
  g_autoptr (GError) e = NULL;
  ck_assert (!rooms_store_start_occurrence (s, id, &e));
  ck_assert_int_eq (e->code, ROOMS_ERROR_ILLEGAL_STATE);
  ck_assert (!rooms_store_end_occurrence (s, id, NULL));

  g_autoptr (GArray) none = rooms_store_due_transitions (s, T0 - 601, NULL);
  ck_assert_uint_eq (none->len, 0);
  ck_assert_int_eq (rooms_store_next_due_time (s, T0 - 601), T0 - 600);
  g_autoptr (GArray) d1 = rooms_store_due_transitions (s, T0 - 600, NULL);
  ck_assert_uint_eq (d1->len, 1);
  ck_assert_int_eq (g_array_index (d1, RoomsDueTransition, 0).to, ROOMS_OCCURRENCE_OPEN);
  ck_assert (rooms_store_open_occurrence (s, id, NULL));
  ck_assert (!rooms_store_open_occurrence (s, id, NULL));
  ck_assert_int_eq (rooms_store_next_due_time (s, T0 - 600), T0);
  ck_assert (rooms_store_start_occurrence (s, id, NULL));
  ck_assert (!rooms_store_cancel_occurrence (s, id, NULL)); /* live cannot cancel */
  ck_assert (rooms_store_end_occurrence (s, id, NULL));
  ck_assert_int_eq (rooms_store_next_due_time (s, T0), -1);

  /* after a restart long past the end: three steps, one per call */
  g_autoptr (RoomsBooking) late = book (s, "M", "10", T0, T0 + HOUR, NULL, NULL);
  gint64 lid = g_array_index (rooms_booking_get_occurrence_ids (late), gint64, 0);
  const RoomsOccurrenceState steps[]
      = { ROOMS_OCCURRENCE_OPEN, ROOMS_OCCURRENCE_LIVE, ROOMS_OCCURRENCE_ENDED };
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GArray) due = rooms_store_due_transitions (s, T0 + DAY, NULL);
      ck_assert_uint_eq (due->len, 1);
      RoomsDueTransition *t = &g_array_index (due, RoomsDueTransition, 0);
      ck_assert_int_eq (t->occurrence_id, lid);
      ck_assert_int_eq (t->to, steps[i]);
      gboolean ok
          = t->to == ROOMS_OCCURRENCE_OPEN   ? rooms_store_open_occurrence (s, lid, NULL)
            : t->to == ROOMS_OCCURRENCE_LIVE ? rooms_store_start_occurrence (s, lid, NULL)
                                             : rooms_store_end_occurrence (s, lid, NULL);
      ck_assert (ok);
    }
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (s, lid, NULL);
  ck_assert_int_eq (rooms_occurrence_get_state (o), ROOMS_OCCURRENCE_ENDED);
}
END_TEST

START_TEST (test_attendance_classes_and_csv)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (RoomsBooking) b
      = book (s, "Roll, \"call\"", "076", T0, T0 + HOUR, "076", "commune");
  gint64 occ = g_array_index (rooms_booking_get_occurrence_ids (b), gint64, 0);
  gint64 chair = rt_site_of (s, "076"), hop = rt_site_of (s, "02500"),
         tt = rt_site_of (s, "02501");
  ck_assert (rooms_store_record_join (s, occ, chair, T0 - 300, NULL));
  ck_assert (rooms_store_record_join (s, occ, hop, T0 + 600, NULL)); /* late */
  ck_assert (rooms_store_record_leave (s, occ, hop, T0 + 1200, NULL));
  ck_assert (!rooms_store_record_join (s, occ, rt_site_of (s, "080"), T0, NULL));
  g_autoptr (RoomsAttendanceReport) r = rooms_store_attendance_report (s, occ, 300, NULL);
  ck_assert_uint_eq (rooms_attendance_report_get_length (r), 3);
  for (guint i = 0; i < 3; i++)
    {
      const RoomsAttendanceEntry *e = rooms_attendance_report_get (r, i);
      if (e->site_id == chair)
        {
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_PRESENT);
          ck_assert_int_eq (e->seconds_present, HOUR);
        }
      else if (e->site_id == hop)
        {
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_LATE);
          ck_assert_int_eq (e->seconds_present, 600);
        }
      else
        {
          ck_assert_int_eq (e->site_id, tt);
          ck_assert_int_eq (e->cls, ROOMS_ATTENDANCE_ABSENT);
        }
    }
  /* with a 15-minute grace the late commune counts as present */
  g_autoptr (RoomsAttendanceReport) r2
      = rooms_store_attendance_report (s, occ, 900, NULL);
  ck_assert_uint_eq (rooms_attendance_report_count (r2, ROOMS_ATTENDANCE_PRESENT), 2);
  g_autofree char *csv = rooms_attendance_report_to_csv (r);
  ck_assert (g_str_has_prefix (csv, "site_id,site_name,unit_code,unit_name,status,"));
  ck_assert_ptr_nonnull (strstr (csv,
                                 ",02500,Xã Hợp Thành,late,2026-01-01T12:10:00+07:00,"
                                 "2026-01-01T12:20:00+07:00,600\n"));
  ck_assert_ptr_nonnull (strstr (csv, ",02501,Thị trấn Sơn Dương,absent,,,0\n"));
}
END_TEST

START_TEST (test_scope_rule)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (RoomsMeetingSpec) ok = rooms_meeting_spec_new ("x", "076", T0, T0 + 1);
  rooms_meeting_spec_add_selection (ok, "08", "commune");
  ck_assert (rooms_scope_may_book (s, "08", ok, NULL));
  ck_assert (rooms_scope_may_book (s, "VN", ok, NULL));
  g_autoptr (GError) e = NULL;
  ck_assert (!rooms_scope_may_book (s, "076", ok, &e)); /* 08 is above 076 */
  ck_assert_int_eq (e->code, ROOMS_ERROR_PERMISSION);
  ck_assert_ptr_nonnull (strstr (e->message, "participant 08"));
  g_autoptr (RoomsMeetingSpec) chair_out = rooms_meeting_spec_new ("x", "VN", T0, T0 + 1);
  rooms_meeting_spec_add_selection (chair_out, "08", NULL);
  g_autoptr (GError) e2 = NULL;
  ck_assert (!rooms_scope_may_book (s, "08", chair_out, &e2));
  ck_assert_ptr_nonnull (strstr (e2->message, "chair VN"));
  g_autoptr (RoomsMeetingSpec) other = rooms_meeting_spec_new ("x", "08", T0, T0 + 1);
  rooms_meeting_spec_add_selection (other, "080", NULL);
  ck_assert (!rooms_scope_may_book (s, "08", other, NULL));
  ck_assert (rooms_scope_contains (s, "08", "02500"));
  ck_assert (!rooms_scope_contains (s, "08", "02600"));
  /* a saved group counts as its selections */
  const RoomsSelection lc = { (char *)"10", (char *)"commune" };
  const RoomsSelection *sel[] = { &lc };
  ck_assert (rooms_store_save_group (s, "Lào Cai", sel, 1, NULL));
  g_autoptr (RoomsMeetingSpec) grp = rooms_meeting_spec_new ("x", "08", T0, T0 + 1);
  rooms_meeting_spec_add_group (grp, "Lào Cai");
  ck_assert (!rooms_scope_may_book (s, "08", grp, NULL));
  ck_assert (rooms_scope_may_book (s, "VN", grp, NULL));
}
END_TEST

START_TEST (test_idempotency_update_groups)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Once", "08", T0, T0 + HOUR);
  rooms_meeting_spec_add_selection (spec, "08", "district");
  rooms_meeting_spec_set_idempotency_key (spec, "req-42");
  g_autoptr (RoomsBooking) a = NULL, b = NULL;
  ck_assert (rooms_store_book (s, spec, &a, NULL, NULL));
  ck_assert (rooms_store_book (s, spec, &b, NULL, NULL));
  ck_assert (!rooms_booking_get_replayed (a));
  ck_assert (rooms_booking_get_replayed (b));
  ck_assert_int_eq (rooms_booking_get_meeting_id (a), rooms_booking_get_meeting_id (b));
  ck_assert_uint_eq (rooms_booking_get_site_ids (b)->len, 3);
  g_autoptr (GPtrArray) all = rooms_store_list_meetings (s, 0, G_MAXINT64, NULL, NULL);
  ck_assert_uint_eq (all->len, 1);

  gint64 id = rooms_booking_get_meeting_id (a);
  g_autoptr (RoomsMeetingPatch) p = rooms_meeting_patch_new ();
  rooms_meeting_patch_set_title (p, "Once, renamed");
  rooms_meeting_patch_set_times (p, T0 + DAY, T0 + DAY + HOUR);
  rooms_meeting_patch_add_selection (p, "076", "commune");
  g_autoptr (RoomsBooking) u = rooms_store_update_meeting (s, id, p, NULL, NULL);
  ck_assert_ptr_nonnull (u);
  ck_assert_uint_eq (rooms_booking_get_site_ids (u)->len, 4); /* 08 + 076 + 2 */
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (s, id, NULL);
  ck_assert_str_eq (rooms_meeting_get_title (m), "Once, renamed");
  ck_assert_int_eq (rooms_meeting_get_start (m), T0 + DAY);
  /* the old slot is free, the new one taken */
  g_autoptr (RoomsBooking) c = book (s, "old slot", "08", T0, T0 + HOUR, NULL, NULL);
  g_autoptr (RoomsMeetingSpec) clash
      = rooms_meeting_spec_new ("x", "02500", T0 + DAY, T0 + DAY + 1);
  ck_assert (!rooms_store_book (s, clash, NULL, NULL, NULL));
  /* an update that would clash is refused with the list, and changes nothing */
  g_autoptr (RoomsMeetingPatch) p2 = rooms_meeting_patch_new ();
  rooms_meeting_patch_set_times (p2, T0, T0 + HOUR);
  g_autoptr (RoomsConflictList) list = NULL;
  ck_assert_ptr_null (rooms_store_update_meeting (s, id, p2, &list, NULL));
  ck_assert_uint_eq (rooms_conflict_list_get_length (list), 1);
  g_autoptr (RoomsMeeting) m2 = rooms_store_get_meeting (s, id, NULL);
  ck_assert_int_eq (rooms_meeting_get_start (m2), T0 + DAY);

  /* scope listing */
  g_autoptr (GPtrArray) in10 = rooms_store_list_meetings (s, 0, G_MAXINT64, "10", NULL);
  ck_assert_uint_eq (in10->len, 0);
  g_autoptr (GPtrArray) in076 = rooms_store_list_meetings (s, 0, G_MAXINT64, "076", NULL);
  ck_assert_uint_eq (in076->len, 1);

  /* groups */
  const RoomsSelection a1 = { (char *)"076", (char *)"commune" };
  const RoomsSelection *sel[] = { &a1 };
  ck_assert (rooms_store_save_group (s, "Sơn Dương", sel, 1, NULL));
  g_autoptr (GPtrArray) g = rooms_store_get_group (s, "Sơn Dương", NULL);
  ck_assert_uint_eq (g->len, 1);
  g_auto (GStrv) names = rooms_store_list_groups (s);
  ck_assert_uint_eq (g_strv_length (names), 1);
  g_autoptr (RoomsMeetingSpec) gs
      = rooms_meeting_spec_new ("G", "076", T0 + 2 * DAY, T0 + 2 * DAY + 1);
  rooms_meeting_spec_add_group (gs, "Sơn Dương");
  g_autoptr (RoomsBooking) gb = NULL;
  ck_assert (rooms_store_book (s, gs, &gb, NULL, NULL));
  ck_assert_uint_eq (rooms_booking_get_site_ids (gb)->len, 3);
  ck_assert (rooms_store_delete_group (s, "Sơn Dương", NULL));
  ck_assert (!rooms_store_delete_group (s, "Sơn Dương", NULL));
}
END_TEST

/* The iCalendar SEQUENCE lives in the meeting row: 0 when booked, +1 with each
 * accepted change and with the cancellation, unchanged by a change the store refuses
 * (the bump is in the change's transaction), kept across reopening, and a store of
 * schema 2 (before the column) gains it at 0 when opened. Fails if a refused change
 * bumped it, a bump were lost on reopening, or the migration were missing. */
START_TEST (test_sequence_in_store)
{
  RtTmp t;
  rt_tmp_init (&t);
  gint64 id;
  {
    g_autoptr (RoomsStore) s = rt_open_small (t.path);
    g_autoptr (RoomsBooking) a = book (s, "A", "08", T0, T0 + HOUR, NULL, NULL);
    g_autoptr (RoomsBooking) other
        = book (s, "B", "08", T0 + DAY, T0 + DAY + HOUR, NULL, NULL);
    id = rooms_booking_get_meeting_id (a);
    g_autoptr (RoomsMeeting) m0 = rooms_store_get_meeting (s, id, NULL);
    ck_assert_int_eq (rooms_meeting_get_sequence (m0), 0);
    g_autoptr (RoomsMeetingPatch) p = rooms_meeting_patch_new ();
    rooms_meeting_patch_set_title (p, "A2");
    g_autoptr (RoomsBooking) u = rooms_store_update_meeting (s, id, p, NULL, NULL);
    ck_assert_ptr_nonnull (u);
    /* onto B's slot: refused, rolled back, SEQUENCE as it was */
    g_autoptr (RoomsMeetingPatch) clash = rooms_meeting_patch_new ();
    rooms_meeting_patch_set_title (clash, "A3");
    rooms_meeting_patch_set_times (clash, T0 + DAY, T0 + DAY + HOUR);
    ck_assert_ptr_null (rooms_store_update_meeting (s, id, clash, NULL, NULL));
    g_autoptr (RoomsMeeting) m1 = rooms_store_get_meeting (s, id, NULL);
    ck_assert_int_eq (rooms_meeting_get_sequence (m1), 1);
    ck_assert_str_eq (rooms_meeting_get_title (m1), "A2");
    ck_assert (rooms_store_raise_meeting_sequence (s, id, 5, NULL));
    ck_assert (rooms_store_raise_meeting_sequence (s, id, 3, NULL)); /* never lowers */
    ck_assert (!rooms_store_raise_meeting_sequence (s, 999, 3, NULL));
    ck_assert (rooms_store_cancel_meeting (s, id, NULL));
    ck_assert (!rooms_store_cancel_meeting (s, id, NULL));
  }
  {
    g_autoptr (RoomsStore) s = rooms_store_open (t.path, NULL, NULL);
    ck_assert_ptr_nonnull (s);
    g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (s, id, NULL);
    ck_assert_int_eq (rooms_meeting_get_sequence (m), 6);
  }
  /* back to schema 2, as an older librooms left it */
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open (t.path, &db), SQLITE_OK);
  ck_assert_int_eq (
      sqlite3_exec (db,
                    "ALTER TABLE meetings DROP COLUMN sequence;"
                    "ALTER TABLE tokens DROP COLUMN unit;"
                    /* schemas 6 and 7 */
                    "DROP TABLE sessions; DROP TABLE accounts; DROP TABLE audit;"
                    /* schema 8 (recordings) */
                    "DROP TABLE recording_pauses; DROP TABLE recording_files;"
                    "DROP TABLE recording_parts; DROP TABLE recordings;"
                    "ALTER TABLE meetings DROP COLUMN record;"
                    "ALTER TABLE units DROP COLUMN record_default;"
                    /* attendance as schema 2 kept it */
                    "DROP TABLE attendance;"
                    "CREATE TABLE attendance (id INTEGER PRIMARY KEY,"
                    " occurrence_id INTEGER NOT NULL, site_id INTEGER NOT"
                    " NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL);"
                    "PRAGMA user_version = 2;",
                    NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close (db);
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (RoomsStore) s = rooms_store_open (t.path, NULL, &e);
    ck_assert_msg (s != NULL, "%s", e ? e->message : "");
    g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (s, id, NULL);
    ck_assert_int_eq (rooms_meeting_get_sequence (m), 0);
  }
  rt_tmp_clear (&t);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-meetings");
  TCase *tc = tcase_create ("meetings");
  tcase_add_test (tc, test_conflicts_full_list);
  tcase_add_test (tc, test_recurrence_with_exceptions);
  tcase_add_test (tc, test_lifecycle_and_due);
  tcase_add_test (tc, test_attendance_classes_and_csv);
  tcase_add_test (tc, test_scope_rule);
  tcase_add_test (tc, test_idempotency_update_groups);
  tcase_add_test (tc, test_sequence_in_store);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
