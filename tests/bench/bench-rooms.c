/* bench-rooms: librooms at national scale. Prints `name: value unit` lines: importing
 * the 2024 list, one search, resolving "VN down to commune", booking a national
 * meeting (all 11,364 units) against 1,000 existing meetings with the conflict check,
 * the same booking refused for conflicts, and computing its cascade plan (a node per
 * province). Usage: bench-rooms [CSV]  (default: $LT_SHARED_DATA/vn-units-2024.csv) */
#include "rooms.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

static double
ms_since (gint64 t0)
{
  return (double)(g_get_monotonic_time () - t0) / 1000.0;
}

int
main (int argc, char **argv)
{
  g_autofree char *path = NULL;
  if (argc > 1)
    path = g_strdup (argv[1]);
  else if (g_getenv ("LT_SHARED_DATA"))
    path = g_build_filename (g_getenv ("LT_SHARED_DATA"), "vn-units-2024.csv", NULL);
  g_autofree char *csv = NULL;
  gsize len = 0;
  if (path == NULL || !g_file_get_contents (path, &csv, &len, NULL))
    {
      printf ("bench-rooms: skipped: no unit list (give the CSV path as argument)\n");
      return 0;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-rooms-XXXXXX", &error);
  g_autofree char *db = g_build_filename (dir, "rooms.db", NULL);
  RoomsStore *s = rooms_store_open (db, NULL, &error);
  if (s == NULL)
    {
      fprintf (stderr, "open: %s\n", error->message);
      return 1;
    }

  gint64 t0 = g_get_monotonic_time ();
  if (!rooms_store_import_csv (s, csv, len, NULL, &error))
    {
      fprintf (stderr, "import: %s\n", error->message);
      return 1;
    }
  printf ("import_2024: %.1f ms\n", ms_since (t0));

  const guint searches = 200;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < searches; i++)
    g_ptr_array_unref (
        rooms_store_search_units (s, i % 2 ? "son duong" : "tuyen quang", 10));
  printf ("search: %.0f us\n", ms_since (t0) * 1000.0 / searches);

  t0 = g_get_monotonic_time ();
  GPtrArray *all = rooms_store_resolve_subtree (s, "VN", "commune", NULL);
  printf ("resolve_vn_down_to_commune: %.2f ms (%u units)\n", ms_since (t0), all->len);

  /* 1,000 existing provincial meetings, four a day on other days */
  const gint64 base = 1767243600, day = 86400;
  GPtrArray *provinces = rooms_store_get_children (s, "VN", NULL);
  for (guint i = 0; i < 1000; i++)
    {
      const char *p = rooms_unit_get_code (provinces->pdata[i % provinces->len]);
      gint64 st = base + day * (1 + i / 4) + (i % 4) * 7200;
      g_autoptr (RoomsMeetingSpec) spec
          = rooms_meeting_spec_new ("existing", p, st, st + 3600);
      rooms_meeting_spec_add_selection (spec, p, "commune");
      if (!rooms_store_book (s, spec, NULL, NULL, &error))
        {
          fprintf (stderr, "setup booking %u: %s\n", i, error->message);
          return 1;
        }
    }
  g_ptr_array_unref (all);

  g_autoptr (RoomsMeetingSpec) nat
      = rooms_meeting_spec_new ("Toàn quốc", "VN", base, base + 7200);
  rooms_meeting_spec_add_selection (nat, "VN", "commune");
  t0 = g_get_monotonic_time ();
  g_autoptr (RoomsBooking) b = NULL;
  if (!rooms_store_book (s, nat, &b, NULL, &error))
    {
      fprintf (stderr, "national booking: %s\n", error->message);
      return 1;
    }
  printf ("book_national_against_1000: %.1f ms (%u sites)\n", ms_since (t0),
          rooms_booking_get_site_ids (b)->len);

  /* the same meeting on a day of four provincial meetings: refused with the list */
  g_autoptr (RoomsMeetingSpec) clash
      = rooms_meeting_spec_new ("Toàn quốc 2", "VN", base + day, base + day + 8 * 3600);
  rooms_meeting_spec_add_selection (clash, "VN", "commune");
  g_autoptr (RoomsConflictList) list = NULL;
  g_clear_error (&error);
  t0 = g_get_monotonic_time ();
  gboolean ok = rooms_store_book (s, clash, NULL, &list, &error);
  printf ("book_national_refused_conflicts: %.1f ms (%u conflicts)\n", ms_since (t0),
          ok || list == NULL ? 0 : rooms_conflict_list_get_length (list));

  rooms_store_register_node (s, "central", "VN", 1000, NULL);
  for (guint i = 0; i < provinces->len; i++)
    {
      g_autofree char *id
          = g_strdup_printf ("p-%s", rooms_unit_get_code (provinces->pdata[i]));
      rooms_store_register_node (s, id, rooms_unit_get_code (provinces->pdata[i]), 2000,
                                 NULL);
    }
  GArray *sites = rooms_booking_get_site_ids (b);
  t0 = g_get_monotonic_time ();
  RoomsCascadePlan *plan
      = rooms_store_compute_plan (s, (const gint64 *)sites->data, sites->len, &error);
  printf ("cascade_plan_national: %.2f ms (%u nodes)\n", ms_since (t0),
          plan ? rooms_cascade_plan_get_n_nodes (plan) : 0);
  rooms_cascade_plan_free (plan);
  g_ptr_array_unref (provinces);

  rooms_store_free (s);
  const char *suffix[] = { "", "-wal", "-shm" };
  for (guint i = 0; i < G_N_ELEMENTS (suffix); i++)
    {
      g_autofree char *p = g_strconcat (db, suffix[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
  return 0;
}
