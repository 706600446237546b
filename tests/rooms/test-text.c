/* Suite rooms-text: proves that name folding matches Vietnamese names typed without
 * diacritics, the rule every unit search relies on. */
#include "rooms.h"
#include "lt-test.h"

START_TEST (test_fold_vietnamese)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "Huyện Sơn Dương", "huyen son duong" },
    { "Tỉnh Tuyên Quang", "tinh tuyen quang" },
    { "Tỉnh Đắk Lắk", "tinh dak lak" },
    { "Thành phố Hồ Chí Minh", "thanh pho ho chi minh" },
    { "  Xã   Ỷ La ", "xa y la" },
    { "Huyện Ia H' Drai", "huyen ia h' drai" },
    { "ĐỨC", "duc" },
    { "", "" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = rooms_text_fold (cases[i].in);
      ck_assert_str_eq (got, cases[i].out);
    }
}
END_TEST

START_TEST (test_fold_composed_and_decomposed_agree)
{
  /* The same name typed in NFC and in NFD (as some keyboards on Windows send it). */
  g_autofree char *nfc = g_utf8_normalize ("Chiêm Hóa", -1, G_NORMALIZE_NFC);
  g_autofree char *nfd = g_utf8_normalize ("Chiêm Hóa", -1, G_NORMALIZE_NFD);
  ck_assert_str_ne (nfc, nfd);
  g_autofree char *a = rooms_text_fold (nfc);
  g_autofree char *b = rooms_text_fold (nfd);
  ck_assert_str_eq (a, "chiem hoa");
  ck_assert_str_eq (a, b);
}
END_TEST

START_TEST (test_fold_rejects_invalid_utf8)
{
  ck_assert_ptr_null (rooms_text_fold ("T\xe1nh"));
  ck_assert_ptr_null (rooms_text_fold ("\xff"));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-text");
  TCase *tc = tcase_create ("fold");
  tcase_add_test (tc, test_fold_vietnamese);
  tcase_add_test (tc, test_fold_composed_and_decomposed_agree);
  tcase_add_test (tc, test_fold_rejects_invalid_utf8);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
