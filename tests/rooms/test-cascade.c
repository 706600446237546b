/* Suite rooms-cascade: proves the cascade plan rule on real data: with nodes at VN, 08
 * and 076, a Tuyên Quang meeting puts 076's communes on the 076 node, the rest of 08 on
 * the 08 node and links VN -> 08 -> 076; nationally, with a node per province, every
 * site lands on its province's node (or the central one) and every province node dials
 * VN; capacity overruns are refused naming the node; the plan is deterministic and is
 * attached to bookings. */
#include "rooms-test-util.h"

START_TEST (test_plan_tuyen_quang)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2024-tuyen-quang.csv");
  g_autoptr (RoomsStore) s
      = rt_open_shared (":memory:", "vn-units-2024-tuyen-quang.csv", NULL);
  ck_assert (rooms_store_register_node (s, "n-vn", "VN", 100, NULL));
  ck_assert (rooms_store_register_node (s, "n-08", "08", 200, NULL));
  ck_assert (rooms_store_register_node (s, "n-076", "076", 50, NULL));
  g_autoptr (RoomsMeetingSpec) spec = rooms_meeting_spec_new ("TQ", "VN", 1000, 2000);
  rooms_meeting_spec_add_selection (spec, "08", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_book (s, spec, &b, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (rooms_booking_get_site_ids (b)->len, 147);
  RoomsCascadePlan *p = rooms_booking_get_plan (b);
  ck_assert_ptr_nonnull (p);
  ck_assert_uint_eq (rooms_cascade_plan_get_n_nodes (p), 3);
  ck_assert_str_eq (rooms_cascade_plan_get_node_id (p, 0), "n-vn");
  ck_assert_str_eq (rooms_cascade_plan_get_node_id (p, 1), "n-08");
  ck_assert_str_eq (rooms_cascade_plan_get_node_id (p, 2), "n-076");
  ck_assert_ptr_null (rooms_cascade_plan_get_parent_node_id (p, 0));
  ck_assert_str_eq (rooms_cascade_plan_get_parent_node_id (p, 1), "n-vn");
  ck_assert_str_eq (rooms_cascade_plan_get_parent_node_id (p, 2), "n-08");
  ck_assert_uint_eq (rooms_cascade_plan_get_n_links (p), 2);
  const char *from, *to;
  rooms_cascade_plan_get_link (p, 1, &from, &to);
  ck_assert_str_eq (from, "n-08");
  ck_assert_str_eq (to, "n-076");
  /* VN: its own site; 076: itself + 31 communes; 08: the rest (1 + 6 districts + 107) */
  ck_assert_uint_eq (rooms_cascade_plan_get_node_sites (p, 0)->len, 1);
  ck_assert_uint_eq (rooms_cascade_plan_get_node_sites (p, 2)->len, 32);
  ck_assert_uint_eq (rooms_cascade_plan_get_node_sites (p, 1)->len, 147 - 1 - 32);
  g_autoptr (GPtrArray) sd = rooms_store_get_children (s, "076", NULL);
  for (guint i = 0; i < sd->len; i++)
    ck_assert_str_eq (rooms_cascade_plan_node_for_site (
                          p, rt_site_of (s, rooms_unit_get_code (sd->pdata[i]))),
                      "n-076");
  ck_assert_str_eq (rooms_cascade_plan_node_for_site (p, rt_site_of (s, "070")), "n-08");

  /* a meeting inside 08 does not climb to VN */
  GArray *sites = rooms_booking_get_site_ids (b);
  g_autoptr (GArray) no_vn = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 vn_site = rt_site_of (s, "VN");
  for (guint i = 0; i < sites->len; i++)
    if (g_array_index (sites, gint64, i) != vn_site)
      g_array_append_val (no_vn, g_array_index (sites, gint64, i));
  g_autoptr (RoomsCascadePlan) p2
      = rooms_store_compute_plan (s, (const gint64 *)no_vn->data, no_vn->len, NULL);
  ck_assert_uint_eq (rooms_cascade_plan_get_n_nodes (p2), 2);
  ck_assert_str_eq (rooms_cascade_plan_get_node_id (p2, 0), "n-08");

  /* deterministic: the same input in reverse order gives the same plan */
  g_autoptr (GArray) rev = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = sites->len; i > 0; i--)
    g_array_append_val (rev, g_array_index (sites, gint64, i - 1));
  g_autoptr (RoomsCascadePlan) p3
      = rooms_store_compute_plan (s, (const gint64 *)rev->data, rev->len, NULL);
  for (guint i = 0; i < 3; i++)
    {
      GArray *x = rooms_cascade_plan_get_node_sites (p, i);
      GArray *y = rooms_cascade_plan_get_node_sites (p3, i);
      ck_assert_uint_eq (x->len, y->len);
      ck_assert (memcmp (x->data, y->data, x->len * sizeof (gint64)) == 0);
    }

  /* capacity: 076's node may host 20 sites only */
  ck_assert (rooms_store_register_node (s, "n-076", "076", 20, NULL));
  g_autoptr (RoomsMeetingSpec) again = rooms_meeting_spec_new ("TQ2", "VN", 5000, 6000);
  rooms_meeting_spec_add_selection (again, "08", "commune");
  g_autoptr (GError) e2 = NULL;
  ck_assert (!rooms_store_book (s, again, NULL, NULL, &e2));
  ck_assert_int_eq (e2->code, ROOMS_ERROR_CAPACITY);
  ck_assert_ptr_nonnull (
      strstr (e2->message, "node 'n-076' (unit 076) would host 32 sites, capacity 20"));
  /* one node per unit */
  ck_assert (!rooms_store_register_node (s, "other", "076", 10, NULL));
}
END_TEST

START_TEST (test_plan_national)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2024.csv");
  g_autoptr (RoomsStore) s = rt_open_shared (":memory:", "vn-units-2024.csv", NULL);
  ck_assert (rooms_store_register_node (s, "central", "VN", 100, NULL));
  g_autoptr (GPtrArray) provinces = rooms_store_get_children (s, "VN", NULL);
  for (guint i = 0; i < provinces->len; i++)
    {
      g_autofree char *id
          = g_strdup_printf ("p-%s", rooms_unit_get_code (provinces->pdata[i]));
      ck_assert (rooms_store_register_node (
          s, id, rooms_unit_get_code (provinces->pdata[i]), 1000, NULL));
    }
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Toàn quốc", "VN", 1000, 2000);
  rooms_meeting_spec_add_selection (spec, "VN", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_book (s, spec, &b, NULL, &error), "%s",
                 error ? error->message : "");
  RoomsCascadePlan *p = rooms_booking_get_plan (b);
  ck_assert_uint_eq (rooms_cascade_plan_get_n_nodes (p), 64);
  ck_assert_uint_eq (rooms_cascade_plan_get_n_links (p), 63);
  guint total = 0;
  for (guint i = 0; i < 64; i++)
    {
      total += rooms_cascade_plan_get_node_sites (p, i)->len;
      if (i > 0)
        ck_assert_str_eq (rooms_cascade_plan_get_parent_node_id (p, i), "central");
    }
  ck_assert_uint_eq (total, 11364);
  ck_assert_uint_eq (rooms_cascade_plan_get_node_sites (p, 0)->len, 1);
  int tq = rooms_cascade_plan_find_node (p, "p-08");
  ck_assert_uint_eq (rooms_cascade_plan_get_node_sites (p, tq)->len, 146);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-cascade");
  TCase *tc = tcase_create ("cascade");
  tcase_add_test (tc, test_plan_tuyen_quang);
  tcase_add_test (tc, test_plan_national);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
