/* Suite signaling-validate: proves the pieces under the HTTP layer on their own: the
 * JSON depth scan (strings and escapes do not count, it stops at the limit), the
 * parameter-table validator (unknown, missing, mistyped and out-of-range members are
 * refused naming the field, nested ones with their path), RFC 3339 parsing that insists
 * on an offset, the constant-time comparison, the failed-authentication limiter's
 * sliding minute, configuration drop-ins merged in name order, and sd_notify datagrams
 * reaching $NOTIFY_SOCKET. */
#include "lt-test.h"
#include "sig-auth.h"
#include "sig-config.h"
#include "sig-error.h"
#include "sig-notify.h"
#include "sig-validate.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

START_TEST (test_depth)
{
  static const struct
  {
    const char *json;
    guint depth;
  } cases[] = {
    { "1", 0 },
    { "{}", 1 },
    { "{\"a\":[1,{\"b\":2}]}", 3 },
    { "{\"a\":\"[[[[[[\"}", 1 },
    { "{\"a\":\"\\\"[[[\"}", 1 },
    { "[[]][[]]", 2 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    ck_assert_uint_eq (
        sig_json_depth ((const guint8 *)cases[i].json, strlen (cases[i].json), 32),
        cases[i].depth);
  g_autofree char *deep = g_strnfill (1000, '[');
  ck_assert_uint_eq (sig_json_depth ((const guint8 *)deep, 1000, 32), 33);
  g_autofree char *brackets = g_strnfill (31, '[');
  g_autofree char *ok = g_strconcat ("{\"a\":", brackets, NULL);
  ck_assert_uint_eq (sig_json_depth ((const guint8 *)ok, strlen (ok), 32), 32);
  g_autoptr (GError) e = NULL;
  g_autofree char *d33 = g_strnfill (33, '{');
  ck_assert_ptr_null (sig_json_parse_object ((const guint8 *)d33, 33, &e));
  ck_assert (g_error_matches (e, SIG_ERROR, SIG_ERROR_BAD_REQUEST));
}
END_TEST

static const SigParam item_params[] = {
  { "unit", SIG_PARAM_STRING, TRUE, 1, 4, FALSE, NULL },
  { NULL },
};
static const SigParam params[] = {
  { "title", SIG_PARAM_STRING, TRUE, 1, 10, FALSE, NULL },
  { "count", SIG_PARAM_INT, FALSE, 1, 5, FALSE, NULL },
  { "when", SIG_PARAM_TIME, FALSE, 0, 0, TRUE, NULL },
  { "items", SIG_PARAM_OBJECTS, FALSE, 1, 2, FALSE, item_params },
  { NULL },
};

START_TEST (test_validate)
{
  static const struct
  {
    const char *json;
    const char *field; /* NULL: valid */
  } cases[] = {
    { "{\"title\":\"x\"}", NULL },
    { "{\"title\":\"x\",\"count\":5,\"when\":null,\"items\":[{\"unit\":\"08\"}]}", NULL },
    { "{}", "title" },
    { "{\"title\":\"x\",\"other\":1}", "other" },
    { "{\"title\":3}", "title" },
    { "{\"title\":\"much too long\"}", "title" },
    { "{\"title\":\"x\",\"count\":6}", "count" },
    { "{\"title\":\"x\",\"count\":1.5}", "count" },
    { "{\"title\":\"x\",\"when\":\"2026-12-01 08:00\"}", "when" },
    { "{\"title\":\"x\",\"when\":\"2026-12-01T08:00:00\"}", "when" },
    { "{\"title\":\"x\",\"items\":[]}", "items" },
    { "{\"title\":\"x\",\"items\":[1]}", "items[0]" },
    { "{\"title\":\"x\",\"items\":[{\"unit\":\"08\"},{\"unit\":\"08\",\"x\":1}]}",
      "items[1].x" },
    { "{\"title\":\"x\",\"items\":[{}]}", "items[0].unit" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) n = sig_json_parse_object ((const guint8 *)cases[i].json,
                                                      strlen (cases[i].json), &e);
      ck_assert_msg (n != NULL, "%s", cases[i].json);
      g_autofree char *field = NULL;
      gboolean ok = sig_validate_object (json_node_get_object (n), params, &field, &e);
      if (cases[i].field == NULL)
        ck_assert_msg (ok, "case %zu: %s", i, e ? e->message : "");
      else
        {
          ck_assert_msg (!ok, "case %zu accepted", i);
          ck_assert_str_eq (field, cases[i].field);
          ck_assert (g_error_matches (e, SIG_ERROR, SIG_ERROR_BAD_REQUEST));
        }
    }
}
END_TEST

START_TEST (test_time)
{
  gint64 t;
  ck_assert (sig_parse_time ("2026-12-01T08:00:00+07:00", &t));
  ck_assert_int_eq (t, 1796086800);
  ck_assert (sig_parse_time ("2026-12-01T01:00:00Z", &t));
  ck_assert_int_eq (t, 1796086800);
  ck_assert (!sig_parse_time ("2026-12-01T08:00:00", &t));
  ck_assert (!sig_parse_time ("2026-W48-2T08:00:00Z", &t));
  ck_assert (!sig_parse_time ("tomorrow", &t));
  g_autofree char *s = sig_format_time (1796086800);
  ck_assert_str_eq (s, "2026-12-01T08:00:00+07:00");
}
END_TEST

START_TEST (test_auth_pieces)
{
  ck_assert (sig_hash_equal ("abc", "abc"));
  ck_assert (!sig_hash_equal ("abc", "abd"));
  ck_assert (!sig_hash_equal ("abc", "abcd"));
  g_autofree char *id = NULL;
  g_autofree char *a = sig_token_generate (&id);
  g_autofree char *b = sig_token_generate (NULL);
  ck_assert_uint_eq (strlen (a), 64);
  ck_assert_str_ne (a, b);
  ck_assert (g_str_has_prefix (id, "tok_"));
  g_autofree char *h = sig_token_hash ("secret");
  ck_assert_str_eq (h,
                    "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");

  g_autoptr (SigAuthLimiter) l = sig_auth_limiter_new (10, 60 * G_USEC_PER_SEC);
  gint64 t = 1000 * G_USEC_PER_SEC;
  for (int i = 0; i < 9; i++)
    sig_auth_limiter_fail (l, "10.0.0.1", t + i);
  ck_assert (!sig_auth_limiter_blocked (l, "10.0.0.1", t + 10));
  sig_auth_limiter_fail (l, "10.0.0.1", t + 10);
  ck_assert (sig_auth_limiter_blocked (l, "10.0.0.1", t + 11));
  ck_assert (!sig_auth_limiter_blocked (l, "10.0.0.2", t + 11));
  /* a minute after the first of the ten, the window has room again */
  ck_assert (!sig_auth_limiter_blocked (l, "10.0.0.1", t + 60 * G_USEC_PER_SEC));
  ck_assert_int_eq (sig_role_from_string ("secretary"), SIG_ROLE_SECRETARY);
  ck_assert_int_eq (sig_role_from_string ("king"), SIG_ROLE_NONE);
}
END_TEST

START_TEST (test_config_dropins)
{
  g_autofree char *dir = g_dir_make_tmp ("lt-sigconf-XXXXXX", NULL);
  g_autofree char *main_path = g_build_filename (dir, "signald.conf", NULL);
  g_autofree char *dd = g_build_filename (dir, "signald.conf.d", NULL);
  g_autofree char *d1 = g_build_filename (dd, "10-a.conf", NULL);
  g_autofree char *d2 = g_build_filename (dd, "20-b.conf", NULL);
  g_autofree char *d3 = g_build_filename (dd, "30-c.disabled", NULL);
  ck_assert_int_eq (g_mkdir (dd, 0700), 0);
  ck_assert (g_file_set_contents (main_path,
                                  "[server]\nlisten=127.0.0.1:9000\ndrain-grace=5\n"
                                  "[nodes]\nheartbeat-interval=7\n",
                                  -1, NULL));
  ck_assert (
      g_file_set_contents (d1, "[server]\ndrain-grace=6\nstate-dir=/tmp/a\n", -1, NULL));
  ck_assert (g_file_set_contents (d2, "[server]\nstate-dir=/tmp/b\n", -1, NULL));
  ck_assert (g_file_set_contents (d3, "[server]\nstate-dir=/tmp/c\n", -1, NULL));
  g_autoptr (GError) e = NULL;
  g_autoptr (SigConfig) c = sig_config_load (main_path, TRUE, &e);
  ck_assert_msg (c != NULL, "%s", e ? e->message : "");
  ck_assert_str_eq (c->listen, "127.0.0.1:9000");
  ck_assert_int_eq (c->drain_grace, 6);
  ck_assert_str_eq (c->state_dir, "/tmp/b");
  ck_assert_int_eq (c->heartbeat_interval, 7);
  ck_assert_int_eq (c->heartbeat_misses, 3);

  ck_assert (g_file_set_contents (d2, "[server]\nlisten=nowhere\n", -1, NULL));
  g_autoptr (SigConfig) bad = sig_config_load (main_path, TRUE, &e);
  ck_assert_ptr_null (bad);
  g_autoptr (SigConfig) none = sig_config_load ("/nonexistent/signald.conf", FALSE, NULL);
  ck_assert_ptr_nonnull (none);
  ck_assert_str_eq (none->listen, "127.0.0.1:8480");
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  ck_assert_int_eq (system (cmd), 0);
}
END_TEST

START_TEST (test_notify)
{
  g_autofree char *dir = g_dir_make_tmp ("lt-signotify-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "notify", NULL);
  g_autoptr (GSocket) sock
      = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  g_autoptr (GSocketAddress) sa = g_unix_socket_address_new (path);
  ck_assert (g_socket_bind (sock, sa, FALSE, NULL));
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  ck_assert (sig_notify ("READY=1"));
  char buf[64] = { 0 };
  gssize n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL);
  ck_assert_int_eq (n, 7);
  ck_assert_str_eq (buf, "READY=1");
  g_unsetenv ("NOTIFY_SOCKET");
  ck_assert (sig_notify ("STOPPING=1")); /* nothing to send to is not a failure */
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("signaling-validate");
  TCase *tc = tcase_create ("validate");
  tcase_add_test (tc, test_depth);
  tcase_add_test (tc, test_validate);
  tcase_add_test (tc, test_time);
  tcase_add_test (tc, test_auth_pieces);
  tcase_add_test (tc, test_config_dropins);
  tcase_add_test (tc, test_notify);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
