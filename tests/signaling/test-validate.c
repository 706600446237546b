/* Suite signaling-validate: proves the pieces under the HTTP layer on their own: the
 * strict JSON scanner (RFC 8259 only, nesting bounded, whatever json-glib accepts
 * beyond the RFC refused), the
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

/* The strict scanner takes exactly RFC 8259 JSON and nothing json-glib would also
 * take: each "refused" case below is something json-glib parses (comments, single
 * quotes, bare words) or something that hides nesting or bad bytes from a naive
 * depth count. Fails if any of them got through, or a valid text were refused. */
START_TEST (test_json_check)
{
  static const char *const accepted[] = {
    "{}",
    " {\"a\" : [1, -0.5e+3, true, false, null, \"x\"]}\r\n",
    "{\"a\":\"[[[[[[\"}",
    "{\"a\":\"\\\"[[[\\\\\"}",
    "{\"s\":\"Sơn Dương \\u00e9 \\ud83d\\ude00 \\/\\b\\f\\n\\r\\t\"}",
    "[[]]",
    "1",
    "\"x\"",
    "{\"a\":{\"b\":{}},\"c\":[{}]}",
  };
  static const char *const refused[] = {
    "",
    "   ",
    "{",
    "{\"a\":1,}",
    "[1,]",
    "{\"a\" 1}",
    "{a:1}",             /* bare member name */
    "{'a':1}",           /* single quotes */
    "{\"a\":'x'}",       /* single-quoted value */
    "{\"a\":1} /* c */", /* comment after */
    "/* c */ {\"a\":1}", /* comment before */
    "{\"a\":1 // c\n}",  /* line comment */
    "{\"a\":1}x",        /* trailing garbage */
    "{\"a\":1}{}",       /* two texts */
    "{\"a\":tru}",       /* bare word */
    "{\"a\":undefined}",
    "{\"a\":NaN}",
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":+1}",
    "{\"a\":1e}",
    "{\"a\":\"x\ty\"}",             /* raw control character */
    "{\"a\":\"\\x41\"}",            /* bad escape */
    "{\"a\":\"\\u12\"}",            /* short \u */
    "{\"a\":\"\\u0000\"}",          /* NUL */
    "{\"a\":\"\\ud800\"}",          /* lone high surrogate */
    "{\"a\":\"\\udc00\"}",          /* lone low surrogate */
    "{\"a\":\"\\ud800\\u0041\"}",   /* high surrogate, then not a low one */
    "{\"a\":\"\xc3\x28\"}",         /* bad continuation byte */
    "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
    "{\"a\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
    "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
    "{\"a\":\"\xe2\x82\"}",         /* truncated sequence */
    "\xef\xbb\xbf{}",               /* byte order mark */
    "{\"a\":\"unterminated}",
    "{\"a\":\"x\\", /* escape at the very end */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert_msg (
          sig_json_check ((const guint8 *)accepted[i], strlen (accepted[i]), NULL, &e),
          "refused %s: %s", accepted[i], e ? e->message : "");
    }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) e = NULL;
      gsize off = G_MAXSIZE;
      /* an exact-size heap copy, so ASan sees any read past the end */
      gsize n = strlen (refused[i]);
      g_autofree guint8 *copy = g_memdup2 (refused[i], n);
      ck_assert_msg (!sig_json_check (copy, n, &off, &e), "accepted case %zu: %s", i,
                     refused[i]);
      ck_assert (g_error_matches (e, SIG_ERROR, SIG_ERROR_BAD_REQUEST));
      ck_assert_uint_le (off, n);
    }
  /* an embedded NUL byte is refused too (strlen would stop before it) */
  ck_assert (!sig_json_check ((const guint8 *)"{\"a\":\"\0\"}", 9, NULL, NULL));
  ck_assert (!sig_json_check ((const guint8 *)"{}\0", 3, NULL, NULL));
}
END_TEST

/* The depth bound is exactly SIG_JSON_MAX_DEPTH, counted the same for arrays and
 * objects, and nesting behind a comment or a single-quoted string (what json-glib
 * would skip or take as a string, and a naive count would miss) is refused before
 * json-glib sees it. Fails if 32 levels were refused, 33 accepted, or any 200 KB
 * variant reached the parser (its recursion would overflow the stack). */
START_TEST (test_json_depth)
{
  GString *ok = g_string_new (NULL);
  for (int i = 0; i < SIG_JSON_MAX_DEPTH - 1; i++)
    g_string_append (ok, i % 2 ? "[" : "{\"a\":");
  g_string_append (ok, "1");
  for (int i = SIG_JSON_MAX_DEPTH - 2; i >= 0; i--)
    g_string_append (ok, i % 2 ? "]" : "}");
  g_autofree char *ok32 = g_strconcat ("[", ok->str, "]", NULL);
  g_autofree char *bad33 = g_strconcat ("[[", ok->str, "]]", NULL);
  g_string_free (ok, TRUE);
  g_autoptr (GError) e = NULL;
  ck_assert_msg (sig_json_check ((const guint8 *)ok32, strlen (ok32), NULL, &e), "%s",
                 e ? e->message : "");
  ck_assert (!sig_json_check ((const guint8 *)bad33, strlen (bad33), NULL, &e));
  ck_assert_ptr_nonnull (strstr (e->message, "deeper"));
  g_clear_error (&e);

  gsize n = 200 * 1024;
  g_autofree char *brackets = g_strnfill (n, '[');
  g_autofree char *objects = g_strnfill (n, '{');
  const char *variants[] = {
    g_strdup (brackets),
    g_strdup (objects),
    g_strconcat ("{\"a\":'", brackets, "'}", NULL),
    g_strconcat ("{\"a\":1/*", brackets, "*/}", NULL),
    g_strconcat ("{\"a\":1//", brackets, "\n}", NULL),
    g_strconcat ("{\"a\":'x'", brackets, NULL),
  };
  for (gsize i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      ck_assert_ptr_null (
          sig_json_parse_object ((const guint8 *)variants[i], strlen (variants[i]), &e));
      ck_assert (g_error_matches (e, SIG_ERROR, SIG_ERROR_BAD_REQUEST));
      g_clear_error (&e);
      g_free ((char *)variants[i]);
    }
  ck_assert_ptr_null (sig_json_parse_object ((const guint8 *)"[1]", 3, &e));
  ck_assert_ptr_nonnull (strstr (e->message, "object"));
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
  tcase_add_test (tc, test_json_check);
  tcase_add_test (tc, test_json_depth);
  tcase_add_test (tc, test_validate);
  tcase_add_test (tc, test_time);
  tcase_add_test (tc, test_auth_pieces);
  tcase_add_test (tc, test_config_dropins);
  tcase_add_test (tc, test_notify);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
