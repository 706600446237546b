/* Suite rooms-units: proves that both real national unit lists import with the right
 * counts per tier, that every class of malformed CSV is refused with its line and
 * column while the database file stays byte-for-byte unchanged, that a re-import
 * applies only the difference and refuses to remove a unit a meeting still uses
 * (naming the meeting), that subtree resolution and diacritic-free ranked search
 * work, and that sites and tokens are stored. */
#include "rooms-test-util.h"

static const char *const three_tiers[] = { "central", "province", "commune", NULL };

START_TEST (test_import_2024)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2024.csv");
  g_autoptr (RoomsStore) s = rt_open_shared (":memory:", "vn-units-2024.csv", NULL);
  ck_assert_uint_eq (rooms_store_count_units (s), 11364);
  ck_assert_uint_eq (rooms_store_count_tier (s, "central"), 1);
  ck_assert_uint_eq (rooms_store_count_tier (s, "province"), 63);
  ck_assert_uint_eq (rooms_store_count_tier (s, "district"), 705);
  ck_assert_uint_eq (rooms_store_count_tier (s, "commune"), 10595);
  /* an island district without communes is valid */
  RoomsUnit *u = rooms_store_get_unit (s, "318");
  ck_assert_ptr_nonnull (u);
  ck_assert_uint_eq (rooms_unit_get_n_children (u), 0);
  /* Tuyên Quang: 7 districts, 138 communes */
  g_autoptr (GPtrArray) d = rooms_store_resolve_subtree (s, "08", "district", NULL);
  ck_assert_uint_eq (d->len, 8);
  g_autoptr (GPtrArray) all = rooms_store_resolve_subtree (s, "08", "commune", NULL);
  ck_assert_uint_eq (all->len, 1 + 7 + 138);
  g_autoptr (GPtrArray) sd = rooms_store_get_children (s, "076", NULL);
  ck_assert_uint_eq (sd->len, 31);
  g_autoptr (GPtrArray) nat = rooms_store_resolve_subtree (s, "VN", "commune", NULL);
  ck_assert_uint_eq (nat->len, 11364);
  g_autoptr (GPtrArray) anc = rooms_store_get_ancestors (s, "02215", NULL);
  if (anc->len == 3)
    ck_assert_str_eq (rooms_unit_get_code (anc->pdata[0]), "VN");
  /* one default site per unit */
  g_autoptr (GPtrArray) sites = rooms_store_list_sites (s, "076", NULL);
  ck_assert_uint_eq (sites->len, 1);
  ck_assert (rooms_site_get_is_default (sites->pdata[0]));
}
END_TEST

START_TEST (test_import_2025_three_tiers)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2025.csv");
  g_autoptr (RoomsStore) s
      = rt_open_shared (":memory:", "vn-units-2025.csv", three_tiers);
  ck_assert_uint_eq (rooms_store_count_tier (s, "province"), 34);
  ck_assert_uint_eq (rooms_store_count_tier (s, "commune"), 3321);
  ck_assert_uint_eq (rooms_store_count_tier (s, "district"), 0);
  /* the 2025 file refuses to import under the four-tier default */
  g_autofree char *data = NULL;
  gsize len;
  ck_assert (g_file_get_contents (csv, &data, &len, NULL));
  g_autoptr (RoomsStore) four = rooms_store_open (":memory:", NULL, NULL);
  g_autoptr (GError) error = NULL;
  ck_assert (!rooms_store_import_csv (four, data, len, NULL, &error));
  ck_assert_int_eq (error->code, ROOMS_ERROR_INVALID);
  ck_assert_ptr_nonnull (strstr (error->message, "column parent_code"));
}
END_TEST

START_TEST (test_import_tuyen_quang_subsets)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2024-tuyen-quang.csv");
  g_autoptr (RoomsStore) s
      = rt_open_shared (":memory:", "vn-units-2024-tuyen-quang.csv", NULL);
  ck_assert_uint_eq (rooms_store_count_tier (s, "district"), 7);
  ck_assert_uint_eq (rooms_store_count_tier (s, "commune"), 138);
  g_autoptr (RoomsStore) s25
      = rt_open_shared (":memory:", "vn-units-2025-tuyen-quang.csv", three_tiers);
  ck_assert_uint_eq (rooms_store_count_tier (s25, "commune"), 124);
}
END_TEST

static const struct
{
  const char *what;
  const char *csv;
  const char *expect; /* substring of the message: line and column */
} bad_cases[] = {
  { "bad utf-8",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,T\xe1nh,province,VN\n",
    "line 3, column name" },
  { "duplicate code",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,A,province,VN\n08,B,province,VN\n",
    "line 4, column code: duplicate code '08'" },
  { "unknown parent",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,A,province,VN\n076,B,district,"
    "0999\n",
    "line 4, column parent_code: unknown parent '0999'" },
  { "parent not one tier up",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,A,province,VN\n02500,B,commune,"
    "08\n",
    "line 4, column parent_code: parent '08' is province" },
  { "unknown tier", "code,name,tier,parent_code\nVN,Trung,central,\n08,A,state,VN\n",
    "line 3, column tier: unknown tier 'state'" },
  { "cycle",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,A,province,076\n076,B,district,"
    "08\n",
    "column parent_code: cycle" },
  { "wrong header", "code,name,level,parent\nVN,Trung,central,\n",
    "line 1, column tier: wrong header" },
  { "wrong column count",
    "code,name,tier,parent_code\nVN,Trung,central,\n08,A,province\n",
    "line 3, column tier: expected 4 columns, found 3" },
  { "empty code", "code,name,tier,parent_code\nVN,Trung,central,\n,A,province,VN\n",
    "line 3, column code: empty code" },
  { "NUL byte", "code,name,tier,parent_code\nVN,Trung,central,\n08,A\0B,province,VN\n",
    "line 3" },
};

START_TEST (test_import_rejects_malformed)
{
  RtTmp t;
  rt_tmp_init (&t);
  RoomsStore *s = rt_open_small (t.path);
  g_autofree char *before = rt_hash_db (t.path);
  guint units = rooms_store_count_units (s);
  gsize len = strlen (bad_cases[_i].csv);
  if (g_str_equal (bad_cases[_i].what, "NUL byte"))
    len = sizeof ("code,name,tier,parent_code\nVN,Trung,central,\n08,A\0B,province,VN\n")
          - 1;
  g_autoptr (GError) error = NULL;
  ck_assert (!rooms_store_import_csv (s, bad_cases[_i].csv, len, NULL, &error));
  ck_assert_int_eq (error->code, ROOMS_ERROR_INVALID);
  ck_assert_msg (strstr (error->message, bad_cases[_i].expect) != NULL,
                 "%s: got '%s', want '%s'", bad_cases[_i].what, error->message,
                 bad_cases[_i].expect);
  ck_assert_uint_eq (rooms_store_count_units (s), units);
  g_autofree char *after = rt_hash_db (t.path);
  ck_assert_str_eq (before, after);
  rooms_store_free (s);
  /* still the old tree after reopening */
  s = rooms_store_open (t.path, NULL, NULL);
  ck_assert_uint_eq (rooms_store_count_units (s), units);
  rooms_store_free (s);
  rt_tmp_clear (&t);
}
END_TEST

START_TEST (test_reimport_difference_and_refusal)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  rooms_store_set_now (s, 1000);
  gint64 old_site = rt_site_of (s, "02500");
  /* rename 02501, remove 02200, add 02201, move 02500 from 076 to 070 */
  const char *v2 = "code,name,tier,parent_code\n"
                   "VN,Trung ương,central,\n"
                   "08,Tỉnh Tuyên Quang,province,VN\n"
                   "10,Tỉnh Lào Cai,province,VN\n"
                   "076,Huyện Sơn Dương,district,08\n"
                   "070,Thành phố Tuyên Quang,district,08\n"
                   "080,Thành phố Lào Cai,district,10\n"
                   "02500,Xã Hợp Thành,commune,070\n"
                   "02501,Xã Sơn Dương Mới,commune,076\n"
                   "02201,Phường Mới,commune,070\n"
                   "02600,Phường Cốc Lếu,commune,080\n";
  g_autoptr (RoomsImportReport) rep = NULL;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (rooms_store_import_csv (s, v2, strlen (v2), &rep, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (rooms_import_report_get_added (rep), 1);
  ck_assert_uint_eq (rooms_import_report_get_renamed (rep), 1);
  ck_assert_uint_eq (rooms_import_report_get_moved (rep), 1);
  ck_assert_uint_eq (rooms_import_report_get_removed (rep), 1);
  ck_assert_uint_eq (rooms_import_report_get_unchanged (rep), 7);
  ck_assert_ptr_null (rooms_store_get_unit (s, "02200"));
  ck_assert_str_eq (rooms_unit_get_parent_code (rooms_store_get_unit (s, "02500")),
                    "070");
  ck_assert_int_eq (rt_site_of (s, "02500"), old_site); /* sites survive a move */

  /* a future meeting uses 02201: removing it is refused, naming the meeting */
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Họp giao ban", "070", 5000, 8600);
  rooms_meeting_spec_add_selection (spec, "070", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  ck_assert (rooms_store_book (s, spec, &b, NULL, NULL));
  g_autoptr (GError) e2 = NULL;
  ck_assert (!rooms_store_import_csv (s, RT_SMALL_CSV, strlen (RT_SMALL_CSV), NULL, &e2));
  ck_assert_int_eq (e2->code, ROOMS_ERROR_IN_USE);
  ck_assert_ptr_nonnull (strstr (e2->message, "02201"));
  ck_assert_ptr_nonnull (strstr (e2->message, "\"Họp giao ban\""));
  ck_assert_ptr_nonnull (rooms_store_get_unit (s, "02201"));
  /* once the meeting is over, the same import goes through */
  rooms_store_set_now (s, 9000);
  ck_assert (rooms_store_import_csv (s, RT_SMALL_CSV, strlen (RT_SMALL_CSV), NULL, NULL));
  ck_assert_ptr_null (rooms_store_get_unit (s, "02201"));
  ck_assert_ptr_nonnull (rooms_store_get_unit (s, "02200"));
}
END_TEST

START_TEST (test_search_national)
{
  LT_REQUIRE_SHARED_FILE (csv, "vn-units-2024.csv");
  g_autoptr (RoomsStore) s = rt_open_shared (":memory:", "vn-units-2024.csv", NULL);
  g_autoptr (GPtrArray) r1 = rooms_store_search_units (s, "son duong", 10);
  ck_assert_uint_ge (r1->len, 1);
  ck_assert_str_eq (rooms_unit_get_name (r1->pdata[0]), "Huyện Sơn Dương");
  g_autoptr (GPtrArray) r2 = rooms_store_search_units (s, "tuyen quang", 10);
  ck_assert_str_eq (rooms_unit_get_name (r2->pdata[0]), "Tỉnh Tuyên Quang");
  ck_assert_str_eq (rooms_unit_get_code (r2->pdata[1]), "070");
  g_autoptr (GPtrArray) r3 = rooms_store_search_units (s, "SƠN DƯƠNG", 10);
  ck_assert_ptr_eq (r3->pdata[0], r1->pdata[0]);
  g_autoptr (GPtrArray) r4 = rooms_store_search_units (s, "zzzz", 10);
  ck_assert_uint_eq (r4->len, 0);
  g_autoptr (GPtrArray) r5 = rooms_store_search_units (s, "xa", 5);
  ck_assert_uint_eq (r5->len, 5);
  g_autoptr (GPtrArray) r6 = rooms_store_search_units (s, "08", 5);
  ck_assert_str_eq (rooms_unit_get_name (r6->pdata[0]), "Tỉnh Tuyên Quang");
}
END_TEST

START_TEST (test_sites_and_tokens)
{
  g_autoptr (RoomsStore) s = rt_open_small (":memory:");
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsSite) hall = rooms_store_add_site (s, "076", "Hội trường 2", &error);
  ck_assert_ptr_nonnull (hall);
  ck_assert (rooms_store_rename_site (s, rooms_site_get_id (hall), "Phòng họp B", NULL));
  ck_assert (rooms_store_set_site_enabled (s, rooms_site_get_id (hall), FALSE, NULL));
  g_autoptr (GPtrArray) sites = rooms_store_list_sites (s, "076", NULL);
  ck_assert_uint_eq (sites->len, 2);
  ck_assert_str_eq (rooms_site_get_name (sites->pdata[1]), "Phòng họp B");
  ck_assert (!rooms_site_get_enabled (sites->pdata[1]));
  ck_assert_ptr_null (rooms_store_add_site (s, "9999", "x", NULL));

  const char *h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  ck_assert (rooms_store_add_token (s, "t1", h, "secretary", "08", NULL, 99, NULL));
  ck_assert (!rooms_store_add_token (s, "t2", h, "admin", NULL, NULL, -1, NULL));
  ck_assert (!rooms_store_add_token (s, "t3", "ABC", "admin", NULL, NULL, -1, NULL));
  g_autoptr (RoomsToken) tok = rooms_store_find_token_by_hash (s, h, NULL);
  ck_assert_str_eq (rooms_token_get_role (tok), "secretary");
  ck_assert_str_eq (rooms_token_get_scope (tok), "08");
  ck_assert (rooms_store_delete_token (s, "t1", NULL));
  ck_assert_ptr_null (rooms_store_find_token_by_hash (s, h, NULL));

  /* a node token keeps the unit its node serves; retiring the node deletes all its
   * tokens and no other */
  const char *h2 = "a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5";
  const char *h3 = "b3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5";
  const char *h4 = "c3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5";
  ck_assert (rooms_store_add_token (s, "n1", h2, "node", "node-08", "08", -1, NULL));
  ck_assert (rooms_store_add_token (s, "n2", h3, "node", "node-08", "08", -1, NULL));
  ck_assert (rooms_store_add_token (s, "n3", h4, "node", "node-10", "10", -1, NULL));
  g_autoptr (RoomsToken) n1 = rooms_store_find_token_by_hash (s, h2, NULL);
  ck_assert_str_eq (rooms_token_get_unit (n1), "08");
  ck_assert_int_eq (rooms_store_delete_tokens_of (s, "node", "node-08", NULL), 2);
  ck_assert_ptr_null (rooms_store_find_token_by_hash (s, h3, NULL));
  g_autoptr (RoomsToken) n3 = rooms_store_find_token_by_hash (s, h4, NULL);
  ck_assert_str_eq (rooms_token_get_unit (n3), "10");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-units");
  TCase *tc = tcase_create ("units");
  tcase_add_test (tc, test_import_2024);
  tcase_add_test (tc, test_import_2025_three_tiers);
  tcase_add_test (tc, test_import_tuyen_quang_subsets);
  tcase_add_loop_test (tc, test_import_rejects_malformed, 0, G_N_ELEMENTS (bad_cases));
  tcase_add_test (tc, test_reimport_difference_and_refusal);
  tcase_add_test (tc, test_search_national);
  tcase_add_test (tc, test_sites_and_tokens);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
