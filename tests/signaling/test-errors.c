/* Suite signaling-errors: proves that every error code of every module maps to the
 * HTTP status and JSON code the API documents, and that unknown errors are 500s,
 * never a success. */
#include "sig-error.h"
#include "rooms.h"
#include "lt-test.h"

START_TEST (test_error_statuses)
{
  static const struct
  {
    GQuark (*domain) (void);
    int code;
    guint status;
    const char *name;
  } cases[] = {
    { sig_error_quark, SIG_ERROR_BAD_REQUEST, 400, "bad_request" },
    { sig_error_quark, SIG_ERROR_UNAUTHORIZED, 401, "unauthorized" },
    { sig_error_quark, SIG_ERROR_FORBIDDEN, 403, "forbidden" },
    { sig_error_quark, SIG_ERROR_TOO_LARGE, 413, "too_large" },
    { sig_error_quark, SIG_ERROR_TOO_MANY, 429, "too_many_requests" },
    { sig_error_quark, SIG_ERROR_UNAVAILABLE, 503, "unavailable" },
    { sig_error_quark, SIG_ERROR_LENGTH_REQUIRED, 411, "length_required" },
    { rooms_error_quark, ROOMS_ERROR_INVALID, 400, "invalid" },
    { rooms_error_quark, ROOMS_ERROR_NOT_FOUND, 404, "not_found" },
    { rooms_error_quark, ROOMS_ERROR_CONFLICT, 409, "conflict" },
    { rooms_error_quark, ROOMS_ERROR_PERMISSION, 403, "forbidden" },
    { rooms_error_quark, ROOMS_ERROR_STORE, 500, "store" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) e = g_error_new_literal (cases[i].domain (), cases[i].code, "x");
      ck_assert_uint_eq (sig_error_http_status (e), cases[i].status);
      ck_assert_str_eq (sig_error_code_name (e), cases[i].name);
    }
}
END_TEST

START_TEST (test_error_unknown_is_500)
{
  g_autoptr (GError) e = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_FAILED, "x");
  ck_assert_uint_eq (sig_error_http_status (e), 500);
  ck_assert_str_eq (sig_error_code_name (e), "internal");
  g_autoptr (GError) f = g_error_new_literal (ROOMS_ERROR, 9999, "x");
  ck_assert_uint_eq (sig_error_http_status (f), 500);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("signaling-errors");
  TCase *tc = tcase_create ("map");
  tcase_add_test (tc, test_error_statuses);
  tcase_add_test (tc, test_error_unknown_is_500);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
