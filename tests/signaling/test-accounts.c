/* Suite signaling-accounts: black-box tests of people's accounts and sessions against
 * the real lienthong-signald (argv[1]; ltctl is argv[2]) on a frozen clock. They
 * prove:
 * - `--create-admin` makes the first admin from a password on stdin, who signs in and
 *   gets an HttpOnly, SameSite=Strict cookie (Secure only through the trusted TLS
 *   proxy) and is then signed out by DELETE /api/v1/session;
 * - a wrong password, an unknown user and a disabled account get the same status and
 *   body, and an unknown user costs the KDF too;
 * - wrong passwords make a user name wait (the right password included: 429 with
 *   Retry-After), 5 s after the lockout-failures-th and doubling to the cap, on the
 *   daemon's pinned clock; a success forgets them; one client address waits too,
 *   after ten across user names, and a success does not reset it;
 * - ltctl login keeps the session in a 0600 file in a 0700 folder, later commands
 *   read and write with it (Origin and CSRF token), a first password is to be changed
 *   with ltctl password, and ltctl logout ends it on the server;
 * - single sign-on: the trusted proxy's X-Forwarded-User opens a session without a
 *   password (writes still need Origin and the CSRF token), unknown and disabled
 *   accounts get the generic 401 and an audit entry, and from any other address, or
 *   with trusted-header unset, the header means nothing;
 * - the test daemon's cheap scrypt (N=2^10) leaves production's (N=2^15) to any
 *   configuration without [testing], and verifies hashes of either cost;
 * - changing one's password ends one's other sessions and closes their WebSockets;
 *   disabling an account and resetting its password end its sessions, and a reset
 *   password must be changed before anything else;
 * - bad input (over-long names and passwords, control characters, NUL, a user name
 *   with a space, a weak password) gets 400 and changes nothing in the store;
 * - ltctl users add, list, disable, enable and reset work against the daemon;
 * - the audit log holds a secretary's booking (who, what, meeting, address), a failed
 *   sign-in, and nothing of a refused booking; it filters by meeting, actor and time,
 *   pages without overlap, exports CSV, and drops entries past [audit] retention-days
 *   with an entry saying so. */
#include "lt-test.h"
#include "sig-test-accounts.h"
#include "sig-validate.h"

#include <glib/gstdio.h>

static char *ltctl_path;

static const char *const proxy_conf = "trusted-proxies=127.0.0.1\n";

START_TEST (test_create_admin_sign_in_out)
{
  SdDaemon *d = sd_start (proxy_conf);
  /* the first admin, from the command line, beside the running daemon */
  g_autofree char *cmd = g_strdup_printf (
      "echo 'một mật khẩu rất dài' | '%s' --config '%s' --state-dir '%s' "
      "--create-admin Chu.Tich >/dev/null",
      d->binary, d->conf_path, d->state_dir);
  ck_assert_int_eq (system (cmd), 0);
  /* a weak one is refused, and a taken name */
  g_autofree char *weak = g_strdup_printf (
      "echo 'ngắn' | '%s' --config '%s' --state-dir '%s' --create-admin khac "
      "2>/dev/null",
      d->binary, d->conf_path, d->state_dir);
  ck_assert_int_ne (system (weak), 0);
  ck_assert_int_ne (system (cmd), 0);

  guint st;
  SoupMessageHeaders *rh = NULL;
  const char *body = "{\"user\":\"CHU.TICH\",\"password\":\"một mật khẩu rất dài\"}";
  g_autofree char *r
      = sd_http_full (d, "POST", "/api/v1/session", NULL, NULL, body, -1, NULL, &st, &rh);
  ck_assert_msg (st == 201, "%u %s", st, r);
  const char *sc = soup_message_headers_get_one (rh, "Set-Cookie");
  ck_assert (g_str_has_prefix (sc, "lt_session="));
  ck_assert (strstr (sc, "; HttpOnly") && strstr (sc, "; SameSite=Strict")
             && strstr (sc, "; Path=/"));
  ck_assert (strstr (sc, "Secure") == NULL);
  g_autoptr (JsonNode) n = sd_json (r);
  ck_assert_str_eq (jstr (n, "user"), "chu.tich");
  ck_assert_str_eq (jstr (n, "role"), "admin");
  ck_assert_str_eq (jstr (n, "page"), "/admin"); /* the page of accounts and audit */
  ck_assert_uint_eq (strlen (jstr (n, "csrf_token")), 64);
  ck_assert (strstr (r, "một mật khẩu") == NULL);
  soup_message_headers_unref (rh);

  /* through the TLS proxy the cookie is Secure */
  const char *via[] = { "X-Forwarded-Proto: https", NULL };
  g_autofree char *r2
      = sd_http_full (d, "POST", "/api/v1/session", NULL, NULL, body, -1, via, &st, &rh);
  ck_assert_uint_eq (st, 201);
  ck_assert (strstr (soup_message_headers_get_one (rh, "Set-Cookie"), "; Secure"));
  soup_message_headers_unref (rh);

  AccSession s = { 0 };
  g_free (acc_sign_in (d, "chu.tich", "một mật khẩu rất dài", NULL, &s, &st));
  ck_assert_uint_eq (st, 201);
  g_autofree char *me = acc_http (d, &s, "GET", "/api/v1/session", NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) mn = sd_json (me);
  ck_assert_str_eq (jstr (mn, "csrf_token"), s.csrf);
  /* the session acts as an admin: it lists accounts and makes a token */
  g_autofree char *users = acc_http (d, &s, "GET", "/api/v1/users", NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert (strstr (users, "\"chu.tich\"") && strstr (users, "$scrypt") == NULL);
  g_autofree char *tok
      = acc_http (d, &s, "POST", "/api/v1/tokens", "{\"role\":\"it\"}", &st);
  ck_assert_uint_eq (st, 201);
  g_autofree char *out = acc_http (d, &s, "DELETE", "/api/v1/session", NULL, &st);
  ck_assert_uint_eq (st, 204);
  g_autofree char *after = acc_http (d, &s, "GET", "/api/v1/users", NULL, &st);
  ck_assert_uint_eq (st, 401);
  acc_session_clear (&s);
  sd_free (d);
}
END_TEST

static gint64
timed_sign_in (SdDaemon *d, const char *user, const char *pw, const char *xff, guint *st,
               char **body)
{
  gint64 t0 = g_get_monotonic_time ();
  *body = acc_sign_in (d, user, pw, xff, NULL, st);
  return g_get_monotonic_time () - t0;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

START_TEST (test_equal_answers)
{
  /* at N=2^13 (8 MiB): at the test daemon's 2^10 the KDF would be lost in the HTTP
   * exchange and the timing check below could not fail; at 2^13 it is still several
   * times an exchange, at a quarter of the production cost's 17 s for this test */
  SdDaemon *d = sd_start ("trusted-proxies=127.0.0.1\n[auth]\nlockout-failures=100\n"
                          "[testing]\nnow=" SD_FROZEN_NOW "\nscrypt-log-n=13\n");
  import_tiny (d);
  AccSession s = { 0 };
  acc_ready (d, "lan", "secretary", "076", &s);
  acc_ready (d, "hoa", "secretary", "076", &s);
  guint st;
  g_autofree char *dis
      = sd_http (d, "POST", "/api/v1/users/hoa/disable", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  /* wrong password, unknown user, disabled user with the right password */
  const char *cases[][2] = { { "lan", "không phải mật khẩu" },
                             { "khong.co.ai", ACC_PW },
                             { "hoa", ACC_PW } };
  g_autofree char *first = NULL;
  gint64 times[3][3];
  for (int round = 0; round < 3; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *xff = g_strdup_printf ("203.0.113.%d", 1 + round * 3 + (int)i);
        g_autofree char *body = NULL;
        times[i][round] = timed_sign_in (d, cases[i][0], cases[i][1], xff, &st, &body);
        ck_assert_msg (st == 401, "%s: %u %s", cases[i][0], st, body);
        if (first == NULL)
          first = g_strdup (body);
        ck_assert_str_eq (body, first);
      }
  ck_assert (strstr (first, "user name or password is wrong"));
  /* the same timing class: an unknown or disabled user runs the KDF like a known one
   * (medians of three; a lookup alone would be a hundred times faster) */
  for (gsize i = 0; i < 3; i++)
    qsort (times[i], 3, sizeof (gint64), cmp_i64);
  ck_assert_msg (times[1][1] * 3 > times[0][1] && times[2][1] * 3 > times[0][1],
                 "medians %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT
                 " us",
                 times[0][1], times[1][1], times[2][1]);
  /* the right password of an enabled account still works */
  g_free (acc_sign_in (d, "LAN", ACC_PW, "203.0.113.99", &s, &st));
  ck_assert_uint_eq (st, 201);
  acc_session_clear (&s);
  sd_free (d);
}
END_TEST

/* Signs in with @pw from @xff; returns the status, and Retry-After in @retry (-1:
 * none). */
static guint
sign_in_retry (SdDaemon *d, const char *user, const char *pw, const char *xff,
               gint64 *retry)
{
  g_autofree char *body
      = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
  g_autofree char *xh = g_strconcat ("X-Forwarded-For: ", xff, NULL);
  const char *headers[] = { xh, NULL };
  SoupMessageHeaders *rh = NULL;
  guint st;
  g_autofree char *r = sd_http_full (d, "POST", "/api/v1/session", NULL, NULL, body, -1,
                                     headers, &st, &rh);
  const char *ra = soup_message_headers_get_one (rh, "Retry-After");
  *retry = ra ? g_ascii_strtoll (ra, NULL, 10) : -1;
  if (st == 401)
    ck_assert (strstr (r, "user name or password is wrong"));
  soup_message_headers_unref (rh);
  return st;
}

START_TEST (test_backoff)
{
  /* the waits run on the daemon's pinned clock, moved forward by the test */
  SdDaemon *d = sd_start ("trusted-proxies=127.0.0.1\n[auth]\nlockout-failures=3\n"
                          "backoff-first=5\nbackoff-max=60\n");
  gint64 now = g_ascii_strtoll (SD_FROZEN_NOW, NULL, 10);
  sd_set_now (d, now);
  AccSession s = { 0 };
  acc_ready (d, "lan", "it", NULL, &s);
  gint64 retry;
  /* two wrong passwords cost nothing; the third makes the user name wait 5 s, from
   * any address, the right password included (a guesser cannot tell a hit) */
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *xff = g_strdup_printf ("198.51.100.%d", i + 1);
      ck_assert_uint_eq (sign_in_retry (d, "lan", "sai mật khẩu rồi", xff, &retry), 401);
      ck_assert_int_eq (retry, -1);
    }
  ck_assert_uint_eq (sign_in_retry (d, "LAN", ACC_PW, "198.51.100.50", &retry), 429);
  ck_assert_int_eq (retry, 5);
  sd_set_now (d, now += 4);
  ck_assert_uint_eq (sign_in_retry (d, "lan", ACC_PW, "198.51.100.50", &retry), 429);
  ck_assert_int_eq (retry, 1);
  /* each further failure doubles the wait: 10, 20, 40, then the cap (60) */
  const gint64 waits[] = { 10, 20, 40, 60, 60 };
  for (gsize i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      sd_set_now (d, now += retry);
      ck_assert_uint_eq (sign_in_retry (d, "lan", "sai nữa rồi", "198.51.100.4", &retry),
                         401);
      ck_assert_uint_eq (sign_in_retry (d, "lan", ACC_PW, "198.51.100.5", &retry), 429);
      ck_assert_msg (retry == waits[i], "wait %zu: %" G_GINT64_FORMAT, i, retry);
    }
  /* another user name does not wait */
  AccSession o = { 0 };
  acc_ready (d, "hoa", "it", NULL, &o);
  /* once the wait is over the right password signs in, and forgets the failures:
   * two wrong ones cost nothing again */
  sd_set_now (d, now += retry);
  ck_assert_uint_eq (sign_in_retry (d, "lan", ACC_PW, "198.51.100.52", &retry), 201);
  for (int i = 0; i < 2; i++)
    ck_assert_uint_eq (
        sign_in_retry (d, "lan", "sai mật khẩu rồi", "198.51.100.53", &retry), 401);
  ck_assert_uint_eq (sign_in_retry (d, "lan", ACC_PW, "198.51.100.54", &retry), 201);

  /* one client address: ten failures across user names, then it waits (429 with
   * Retry-After) for every name; another address does not */
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *user = g_strdup_printf ("ai.do.%d", i);
      ck_assert_uint_eq (sign_in_retry (d, user, "sai mật khẩu rồi", "192.0.2.7", &retry),
                         401);
    }
  ck_assert_uint_eq (sign_in_retry (d, "hoa", ACC_PW, "192.0.2.7", &retry), 429);
  ck_assert_int_eq (retry, 5);
  ck_assert_uint_eq (sign_in_retry (d, "hoa", ACC_PW, "192.0.2.8", &retry), 201);
  /* a success does not reset the address: its next failure waits twice as long */
  sd_set_now (d, now += 5);
  ck_assert_uint_eq (sign_in_retry (d, "hoa", ACC_PW, "192.0.2.7", &retry), 201);
  ck_assert_uint_eq (
      sign_in_retry (d, "ai.do.x", "sai mật khẩu rồi", "192.0.2.7", &retry), 401);
  ck_assert_uint_eq (sign_in_retry (d, "hoa", ACC_PW, "192.0.2.7", &retry), 429);
  ck_assert_int_eq (retry, 10);
  /* a quiet address is forgotten (its wait, then the cap, passed) */
  sd_set_now (d, now += 10 + 60);
  for (int i = 0; i < 9; i++)
    {
      g_autofree char *user = g_strdup_printf ("ai.nua.%d", i);
      ck_assert_uint_eq (sign_in_retry (d, user, "sai mật khẩu rồi", "192.0.2.7", &retry),
                         401);
    }
  ck_assert_uint_eq (sign_in_retry (d, "hoa", ACC_PW, "192.0.2.7", &retry), 201);
  acc_session_clear (&s);
  acc_session_clear (&o);
  sd_free (d);
}
END_TEST

START_TEST (test_password_change_ends_other_sessions)
{
  SdDaemon *d = sd_start (proxy_conf);
  import_tiny (d);
  AccSession a = { 0 }, b = { 0 };
  acc_ready (d, "lan", "secretary", "08", &a);
  guint st;
  g_free (acc_sign_in (d, "lan", ACC_PW, NULL, &b, &st));
  ck_assert_uint_eq (st, 201);
  /* b's page keeps a WebSocket open with its cookie */
  g_autoptr (SoupSession) ss = soup_session_new ();
  WsPeer ws;
  ck_assert (acc_ws_open (&ws, ss, d, "/api/v1/ws", b.cookie));
  ck_assert (!ws.closed);
  g_autofree char *c = acc_http (
      d, &a, "POST", "/api/v1/session/password",
      "{\"old_password\":\"" ACC_PW "\",\"new_password\":\"mật khẩu thứ ba đây\"}", &st);
  ck_assert_msg (st == 204, "%u %s", st, c);
  /* b is out, its socket closed; a goes on */
  g_autofree char *rb = acc_http (d, &b, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 401);
  ck_assert_ptr_null (ws_wait (&ws, "never"));
  ck_assert (ws.closed);
  g_autofree char *ra = acc_http (d, &a, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 200);
  /* the old password no longer signs in, the new one does */
  g_free (acc_sign_in (d, "lan", ACC_PW, NULL, NULL, &st));
  ck_assert_uint_eq (st, 401);
  g_free (acc_sign_in (d, "lan", "mật khẩu thứ ba đây", NULL, NULL, &st));
  ck_assert_uint_eq (st, 201);
  /* a wrong current password is refused and changes nothing */
  g_autofree char *w = acc_http (
      d, &a, "POST", "/api/v1/session/password",
      "{\"old_password\":\"không đúng đâu\",\"new_password\":\"mật khẩu thứ tư\"}", &st);
  ck_assert_uint_eq (st, 403);
  ws_close (&ws);
  acc_session_clear (&a);
  acc_session_clear (&b);
  sd_free (d);
}
END_TEST

START_TEST (test_disable_and_reset_end_sessions)
{
  SdDaemon *d = sd_start (proxy_conf);
  import_tiny (d);
  AccSession a = { 0 };
  acc_ready (d, "lan", "secretary", "08", &a);
  g_autoptr (SoupSession) ss = soup_session_new ();
  WsPeer ws;
  ck_assert (acc_ws_open (&ws, ss, d, "/api/v1/ws", a.cookie));
  guint st;
  g_autofree char *r
      = sd_http (d, "POST", "/api/v1/users/LAN/disable", d->admin, NULL, &st);
  ck_assert_msg (st == 200, "%u %s", st, r);
  ck_assert_ptr_null (ws_wait (&ws, "never"));
  ck_assert (ws.closed);
  ws_close (&ws);
  g_autofree char *r1 = acc_http (d, &a, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 401);
  g_free (acc_sign_in (d, "lan", ACC_PW, NULL, NULL, &st));
  ck_assert_uint_eq (st, 401);
  g_autofree char *r2
      = sd_http (d, "POST", "/api/v1/users/lan/enable", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_free (acc_sign_in (d, "lan", ACC_PW, NULL, &a, &st));
  ck_assert_uint_eq (st, 201);

  /* a reset ends the session; the new password must be changed before anything */
  g_autofree char *r3 = sd_http (d, "POST", "/api/v1/users/lan/password", d->admin,
                                 "{\"password\":\"" ACC_FIRST_PW "\"}", &st);
  ck_assert_msg (st == 200, "%u %s", st, r3);
  g_autofree char *r4 = acc_http (d, &a, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 401);
  g_autofree char *si = acc_sign_in (d, "lan", ACC_FIRST_PW, NULL, &a, &st);
  ck_assert_uint_eq (st, 201);
  ck_assert (strstr (si, "\"must_change\":true"));
  g_autofree char *r5 = acc_http (d, &a, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 403);
  g_autofree char *r6 = acc_http (
      d, &a, "POST", "/api/v1/session/password",
      "{\"old_password\":\"" ACC_FIRST_PW "\",\"new_password\":\"" ACC_PW "\"}", &st);
  ck_assert_uint_eq (st, 204);
  g_autofree char *r7 = acc_http (d, &a, "GET", "/api/v1/meetings", NULL, &st);
  ck_assert_uint_eq (st, 200);
  /* the secretary of 08 books inside 08 only, as a token of that scope does */
  g_autofree char *b1 = acc_http (
      d, &a, "POST", "/api/v1/meetings",
      "{\"title\":\"Giao ban\",\"chair\":\"10\",\"starts_at\":\"" DAY1 "08:00:00" TZ
      "\",\"ends_at\":\"" DAY1 "09:00:00" TZ "\",\"participants\":[{\"unit\":\"10\"}]}",
      &st);
  ck_assert_msg (st == 403, "%u %s", st, b1);
  g_autofree char *b2 = acc_http (
      d, &a, "POST", "/api/v1/meetings",
      "{\"title\":\"Giao ban\",\"chair\":\"08\",\"starts_at\":\"" DAY1 "08:00:00" TZ
      "\",\"ends_at\":\"" DAY1 "09:00:00" TZ "\",\"participants\":[{\"unit\":\"076\"}]}",
      &st);
  ck_assert_msg (st == 201, "%u %s", st, b2);
  acc_session_clear (&a);
  sd_free (d);
}
END_TEST

START_TEST (test_bad_input)
{
  SdDaemon *d = sd_start (proxy_conf);
  import_tiny (d);
  guint st;
  ck_assert_uint_eq (acc_create (d, "lan", "it", NULL, ACC_FIRST_PW), 201);
  g_autofree char *before = sd_dump_db (d);
  g_autofree char *long_name = g_strnfill (65, 'a');
  g_autofree char *long_pw = g_strnfill (257, 'x');
  g_autofree char *long_full = g_strnfill (201, 'x');
  struct
  {
    const char *user, *full, *role, *scope, *pw;
  } bad[] = {
    { long_name, "Tên", "it", NULL, ACC_FIRST_PW },
    { "co cach", "Tên", "it", NULL, ACC_FIRST_PW },
    { "tên", "Tên", "it", NULL, ACC_FIRST_PW },
    { "", "Tên", "it", NULL, ACC_FIRST_PW },
    { "moi", long_full, "it", NULL, ACC_FIRST_PW },
    { "moi", "Tên\\u0007", "it", NULL, ACC_FIRST_PW },
    { "moi", "Tên\\u0000", "it", NULL, ACC_FIRST_PW },
    { "moi", "   ", "it", NULL, ACC_FIRST_PW },
    { "moi", "Tên", "site", NULL, ACC_FIRST_PW },
    { "moi", "Tên", "node", NULL, ACC_FIRST_PW },
    { "moi", "Tên", "secretary", NULL, ACC_FIRST_PW },
    { "moi", "Tên", "secretary", "99", ACC_FIRST_PW },
    { "moi", "Tên", "it", "08", ACC_FIRST_PW },
    { "moi", "Tên", "it", NULL, long_pw },
    { "moi", "Tên", "it", NULL, "ngắn quá" },
    { "moi", "Tên", "it", NULL, "MOI-rat-dai-mat-khau" },
    { "moi", "Tên", "it", NULL, "mật khẩu\\u0001dài" },
    { "moi", "Tên", "it", NULL, "mật khẩu\\u0000dài" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *sc = bad[i].scope
                                ? g_strdup_printf ("\"scope\":\"%s\",", bad[i].scope)
                                : g_strdup ("");
      g_autofree char *body = g_strdup_printf (
          "{\"user\":\"%s\",\"full_name\":\"%s\",\"role\":\"%s\",%s\"password\":\"%s\"}",
          bad[i].user, bad[i].full, bad[i].role, sc, bad[i].pw);
      g_autofree char *r = sd_http (d, "POST", "/api/v1/users", d->admin, body, &st);
      ck_assert_msg (st == 400, "case %zu: %u %s", i, st, r);
      g_autoptr (JsonNode) n = sd_json (r);
      ck_assert_ptr_nonnull (
          json_object_get_object_member (json_node_get_object (n), "error"));
      ck_assert_msg (strstr (r, bad[i].pw) == NULL, "case %zu echoes the password", i);
    }
  /* the name is taken whatever its case */
  ck_assert_uint_eq (acc_create (d, "LAN", "it", NULL, ACC_FIRST_PW), 409);
  /* sign-in bodies: over-long, NUL, wrong types */
  const char *sign[] = {
    "{\"user\":\"lan\",\"password\":\"\\u0000\"}",
    "{\"user\":\"lan\\u0000\",\"password\":\"x\"}",
    "{\"user\":\"lan\",\"password\":1}",
    "{\"user\":\"lan\"}",
    "{\"user\":\"lan\",\"password\":\"x\",\"admin\":true}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (sign); i++)
    {
      g_autofree char *r = sd_http (d, "POST", "/api/v1/session", NULL, sign[i], &st);
      ck_assert_msg (st == 400, "sign-in case %zu: %u %s", i, st, r);
    }
  g_autofree char *b1
      = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"x\"}", long_name);
  g_autofree char *r1 = sd_http (d, "POST", "/api/v1/session", NULL, b1, &st);
  ck_assert_uint_eq (st, 400);
  g_autofree char *b2
      = g_strdup_printf ("{\"user\":\"lan\",\"password\":\"%s\"}", long_pw);
  g_autofree char *r2 = sd_http (d, "POST", "/api/v1/session", NULL, b2, &st);
  ck_assert_uint_eq (st, 400);
  /* resets with a weak password, of an unknown account */
  g_autofree char *r3 = sd_http (d, "POST", "/api/v1/users/lan/password", d->admin,
                                 "{\"password\":\"lan-lan-lan-lan\"}", &st);
  ck_assert_uint_eq (st, 400);
  g_autofree char *r4
      = sd_http (d, "POST", "/api/v1/users/khong.co/disable", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 404);
  g_autofree char *after = sd_dump_db (d);
  ck_assert_str_eq (before, after);
  sd_free (d);
}
END_TEST

/* Runs ltctl with @input on stdin; returns its exit status, its stdout in @out. */
static int
run_ltctl (SdDaemon *d, const char *input, char **out, const char *args)
{
  g_autofree char *cmd = g_strdup_printf ("printf '%%s\\n' '%s' | '%s' --server '%s' "
                                          "--token '%s' %s",
                                          input, ltctl_path, d->base, d->admin, args);
  g_autofree char *err = NULL;
  int status;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
  ck_assert (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                           &err, &status, &error));
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

START_TEST (test_ltctl_users)
{
  SdDaemon *d = sd_start (proxy_conf);
  import_tiny (d);
  g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *o5 = NULL;
  ck_assert_int_eq (run_ltctl (d, ACC_FIRST_PW, &o1,
                               "users add Lan --full-name 'Nguyễn Thị Lan' --role "
                               "secretary --scope 076"),
                    0);
  ck_assert_int_eq (run_ltctl (d, "", &o2, "users list"), 0);
  ck_assert_msg (strstr (o2, "lan") && strstr (o2, "Nguyễn Thị Lan") && strstr (o2, "076")
                     && strstr (o2, "must change password"),
                 "%s", o2);
  ck_assert_int_eq (run_ltctl (d, "", &o3, "users disable lan"), 0);
  guint st;
  g_free (acc_sign_in (d, "lan", ACC_FIRST_PW, NULL, NULL, &st));
  ck_assert_uint_eq (st, 401);
  ck_assert_int_eq (run_ltctl (d, "", &o4, "users enable lan"), 0);
  ck_assert_int_eq (run_ltctl (d, "mật khẩu mới tinh", &o5, "users reset lan"), 0);
  g_free (acc_sign_in (d, "lan", "mật khẩu mới tinh", NULL, NULL, &st));
  ck_assert_uint_eq (st, 201);
  g_autofree char *o6 = NULL, *o7 = NULL;
  ck_assert_int_eq (run_ltctl (d, "ngắn", &o6, "users reset lan"), 1);
  ck_assert_int_eq (run_ltctl (d, "", &o7, "users disable khong.co"), 5);
  sd_free (d);
}
END_TEST

/* Runs ltctl (no --token) with HOME and XDG_CONFIG_HOME in @home, @input lines on
 * standard input (a pipe: not a terminal); returns its exit status. */
static int
run_ltctl_home (const char *home, const char *input, char **out, char **err,
                const char *args)
{
  g_autofree char *cfg = g_build_filename (home, "config", NULL);
  g_auto (GStrv) env = g_get_environ ();
  env = g_environ_setenv (env, "HOME", home, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", cfg, TRUE);
  env = g_environ_unsetenv (env, "LTCTL_TOKEN");
  env = g_environ_unsetenv (env, "LTCTL_SERVER");
  g_autofree char *cmd
      = g_strdup_printf ("printf '%s' | '%s' %s", input, ltctl_path, args);
  int status;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
  ck_assert (g_spawn_sync (NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, out,
                           err, &status, &error));
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static guint
file_mode (const char *path)
{
  GStatBuf st;
  ck_assert_msg (g_stat (path, &st) == 0, "%s missing", path);
  return st.st_mode & 0777;
}

START_TEST (test_ltctl_login)
{
  SdDaemon *d = sd_start (proxy_conf);
  ck_assert_uint_eq (acc_create (d, "lan", "admin", NULL, ACC_FIRST_PW), 201);
  g_autofree char *home = g_build_filename (d->dir, "home", NULL);
  ck_assert (g_mkdir (home, 0755) == 0);
  g_autofree char *dir = g_build_filename (home, "config", "lienthong", NULL);
  g_autofree char *file = g_build_filename (dir, "session", NULL);
  g_autofree char *args = g_strdup_printf ("--server %s login LAN", d->base);

  /* a wrong password: refused, nothing kept */
  g_autofree char *o0 = NULL, *e0 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, "sai mật khẩu rồi\\n", &o0, &e0, args), 4);
  ck_assert (!g_file_test (file, G_FILE_TEST_EXISTS));

  /* a first password signs in, and says how to change it */
  g_autofree char *o1 = NULL, *e1 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, ACC_FIRST_PW "\\n", &o1, &e1, args), 0);
  ck_assert_msg (strstr (o1, "signed in") && strstr (o1, "lan"), "%s", o1);
  ck_assert_msg (strstr (e1, "ltctl password"), "%s", e1);
  ck_assert_uint_eq (file_mode (dir), 0700);
  ck_assert_uint_eq (file_mode (file), 0600);
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (file, &text, NULL, NULL));
  ck_assert (strstr (text, d->base) && strstr (text, "lt_session="));
  ck_assert (strstr (text, "mật khẩu") == NULL);
  /* nothing but the password change until it is changed: ltctl says how */
  g_autofree char *o2 = NULL, *e2 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, "", &o2, &e2, "users list"), 4);
  ck_assert_msg (strstr (e2, "ltctl password"), "%s", e2);
  g_autofree char *o3 = NULL, *e3 = NULL;
  ck_assert_int_eq (
      run_ltctl_home (home, ACC_FIRST_PW "\\n" ACC_PW "\\n", &o3, &e3, "password"), 0);
  /* reads and writes (the write carries the Origin and the CSRF token) */
  g_autofree char *o4 = NULL, *e4 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, "", &o4, &e4, "users list"), 0);
  ck_assert_msg (strstr (o4, "lan") && strstr (o4, "active"), "%s %s", o4, e4);
  g_autofree char *o5 = NULL, *e5 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, ACC_FIRST_PW "\\n", &o5, &e5,
                                    "users add hoa --full-name 'Trần Hoa' --role it"),
                    0);
  g_autofree char *o6 = NULL, *e6 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, "", &o6, &e6, "users list"), 0);
  ck_assert_msg (strstr (o6, "Trần Hoa"), "%s", o6);

  /* the same file, another server: the cookie is not sent there */
  g_autofree char *o7 = NULL, *e7 = NULL;
  ck_assert_int_eq (
      run_ltctl_home (home, "", &o7, &e7, "--server http://127.0.0.1:9 users list"), 3);

  /* logout ends the session on the server: the old cookie is useless */
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  ck_assert (g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, NULL));
  g_autofree char *cookie = g_key_file_get_string (kf, "session", "cookie", NULL);
  ck_assert_ptr_nonnull (cookie);
  guint st;
  g_autofree char *r0 = acc_http_raw (d, "GET", "/api/v1/users", cookie, NULL, NULL, NULL,
                                      NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *o8 = NULL, *e8 = NULL;
  ck_assert_int_eq (run_ltctl_home (home, "", &o8, &e8, "logout"), 0);
  ck_assert (!g_file_test (file, G_FILE_TEST_EXISTS));
  g_autofree char *r1 = acc_http_raw (d, "GET", "/api/v1/users", cookie, NULL, NULL, NULL,
                                      NULL, NULL, &st);
  ck_assert_uint_eq (st, 401);
  g_autofree char *o9 = NULL, *e9 = NULL;
  g_autofree char *list = g_strdup_printf ("--server %s users list", d->base);
  ck_assert_int_eq (run_ltctl_home (home, "", &o9, &e9, list), 4);
  sd_free (d);
}
END_TEST

/* A SoupSession whose connections come from @local (a second loopback address). */
static SoupSession *
session_from (const char *local)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (local);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (a, 0);
  return soup_session_new_with_options ("timeout", 30, "local-address", sa, NULL);
}

/* POST /api/v1/session with @body and "X-Forwarded-User: @vouched" (nullable),
 * through @via (NULL: the daemon's own session, from 127.0.0.1). */
static char *
sso_sign_in (SdDaemon *d, SoupSession *via, const char *vouched, const char *body,
             AccSession *s, guint *st)
{
  g_autofree char *vh
      = vouched ? g_strconcat ("X-Forwarded-User: ", vouched, NULL) : NULL;
  const char *headers[] = { vh, NULL };
  SoupSession *keep = d->session;
  if (via != NULL)
    d->session = via;
  SoupMessageHeaders *rh = NULL;
  char *r = sd_http_full (d, "POST", "/api/v1/session", NULL, NULL, body, -1,
                          vh ? headers : NULL, st, &rh);
  d->session = keep;
  if (*st == 201 && s != NULL)
    {
      const char *sc = soup_message_headers_get_one (rh, "Set-Cookie");
      acc_session_clear (s);
      s->cookie = g_strndup (sc, strcspn (sc, ";"));
      g_autoptr (JsonNode) n = sd_json (r);
      s->csrf = g_strdup (jstr (n, "csrf_token"));
    }
  soup_message_headers_unref (rh);
  return r;
}

/* GET /api/v1/session/options via @via (NULL: the daemon's session, from 127.0.0.1)
 * with @cookie and the proxy's header naming @vouched (each nullable); asserts 200. */
static void
options (SdDaemon *d, SoupSession *via, const char *cookie, const char *vouched,
         gboolean *signed_in, gboolean *sso)
{
  g_autofree char *vh
      = vouched ? g_strconcat ("X-Forwarded-User: ", vouched, NULL) : NULL;
  g_autofree char *ch = cookie ? g_strconcat ("Cookie: ", cookie, NULL) : NULL;
  const char *headers[3] = { NULL, NULL, NULL };
  int n = 0;
  if (vh)
    headers[n++] = vh;
  if (ch)
    headers[n++] = ch;
  SoupSession *keep = d->session;
  if (via != NULL)
    d->session = via;
  guint st;
  g_autofree char *r = sd_http_full (d, "GET", "/api/v1/session/options", NULL, NULL,
                                     NULL, -1, n ? headers : NULL, &st, NULL);
  d->session = keep;
  ck_assert_msg (st == 200, "options: %u %s", st, r);
  g_autoptr (JsonNode) o = sd_json (r);
  *signed_in = json_object_get_boolean_member (json_node_get_object (o), "signed_in");
  *sso = json_object_get_boolean_member (json_node_get_object (o), "single_sign_on");
}

START_TEST (test_single_sign_on)
{
  SdDaemon *d
      = sd_start ("trusted-proxies=127.0.0.1\n[auth]\ntrusted-header=X-Forwarded-User\n");
  /* accounts made by an admin: first passwords, which a password sign-in must change */
  ck_assert_uint_eq (acc_create (d, "lan", "admin", NULL, ACC_FIRST_PW), 201);
  ck_assert_uint_eq (acc_create (d, "hoa", "it", NULL, ACC_FIRST_PW), 201);
  guint st;
  g_autofree char *dis
      = sd_http (d, "POST", "/api/v1/users/hoa/disable", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *wrong = acc_sign_in (d, "lan", "sai mật khẩu rồi", NULL, NULL, &st);
  ck_assert_uint_eq (st, 401);

  /* the sign-in page asks first: nobody signed in on this browser, and the proxy
   * names a person, so it may open their session without a form */
  gboolean in, sso;
  options (d, NULL, NULL, "Lan", &in, &sso);
  ck_assert (!in && sso);
  options (d, NULL, NULL, NULL, &in, &sso);
  ck_assert (!in && !sso);

  /* the proxy vouches for lan: a session without a password, not held by the first
   * password (the proxy, not that password, signed lan in) */
  AccSession s = { 0 };
  g_autofree char *r1 = sso_sign_in (d, NULL, "Lan", "{}", &s, &st);
  ck_assert_msg (st == 201, "%u %s", st, r1);
  options (d, NULL, s.cookie, "Lan", &in, &sso);
  ck_assert (in && sso);
  options (d, NULL, "lt_session=0123456789abcdef", NULL, &in, &sso);
  ck_assert (!in); /* a cookie that is no session */
  g_autoptr (JsonNode) n1 = sd_json (r1);
  ck_assert_str_eq (jstr (n1, "user"), "lan");
  ck_assert (!json_object_get_boolean_member (json_node_get_object (n1), "must_change"));
  g_autofree char *me = acc_http (d, &s, "GET", "/api/v1/users", NULL, &st);
  ck_assert_msg (st == 200, "%u %s", st, me);
  /* its writes still need this site's Origin and the session's CSRF token */
  g_autofree char *w0 = acc_http_raw (d, "POST", "/api/v1/tokens", s.cookie, NULL,
                                      d->base, NULL, NULL, "{\"role\":\"it\"}", &st);
  ck_assert_uint_eq (st, 403);
  g_autofree char *w1
      = acc_http_raw (d, "POST", "/api/v1/tokens", s.cookie, s.csrf,
                      "http://evil.example", NULL, NULL, "{\"role\":\"it\"}", &st);
  ck_assert_uint_eq (st, 403);
  g_autofree char *w2
      = acc_http (d, &s, "POST", "/api/v1/tokens", "{\"role\":\"it\"}", &st);
  ck_assert_msg (st == 201, "%u %s", st, w2);
  /* while the proxy names someone else, lan's session is not theirs */
  g_autofree char *x = acc_http_raw (d, "GET", "/api/v1/users", s.cookie, NULL, NULL,
                                     "X-Forwarded-User: hoa", NULL, NULL, &st);
  ck_assert_uint_eq (st, 401);

  /* unknown and disabled accounts: the generic 401, audited as failed sign-ins */
  g_autofree char *r2 = sso_sign_in (d, NULL, "khong.co.ai", "{}", NULL, &st);
  ck_assert_uint_eq (st, 401);
  ck_assert_str_eq (r2, wrong);
  g_autofree char *r3 = sso_sign_in (d, NULL, "hoa", "{}", NULL, &st);
  ck_assert_uint_eq (st, 401);
  ck_assert_str_eq (r3, wrong);
  g_autofree char *audit
      = sd_http (d, "GET", "/api/v1/audit?actor=khong.co.ai", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_msg (strstr (audit, "session.sign-in-failed")
                     && strstr (audit, "single sign-on"),
                 "%s", audit);
  g_autofree char *audit2
      = sd_http (d, "GET", "/api/v1/audit?actor=lan", d->admin, NULL, &st);
  ck_assert_msg (strstr (audit2, "\"session.sign-in\"")
                     && strstr (audit2, "single sign-on"),
                 "%s", audit2);

  /* from an address that is not a trusted proxy the header means nothing: no
   * session without a password, and a session stays its own person's */
  g_autoptr (SoupSession) other = session_from ("127.0.0.2");
  options (d, other, NULL, "lan", &in, &sso);
  ck_assert (!sso);
  g_autofree char *r4 = sso_sign_in (d, other, "lan", "{}", NULL, &st);
  ck_assert_msg (st == 400, "%u %s", st, r4);
  AccSession h = { 0 };
  g_autofree char *r5 = sso_sign_in (
      d, other, "lan", "{\"user\":\"lan\",\"password\":\"" ACC_FIRST_PW "\"}", &h, &st);
  ck_assert_uint_eq (st, 201);
  g_autoptr (JsonNode) n5 = sd_json (r5);
  ck_assert (json_object_get_boolean_member (json_node_get_object (n5), "must_change"));
  SoupSession *keep = d->session;
  d->session = other;
  g_autofree char *r6 = acc_http_raw (d, "GET", "/api/v1/users", h.cookie, NULL, NULL,
                                      "X-Forwarded-User: hoa", NULL, NULL, &st);
  d->session = keep;
  ck_assert_uint_eq (st, 403); /* lan's first password must be changed: not hoa's 401 */
  acc_session_clear (&s);
  acc_session_clear (&h);

  /* with trusted-header unset, the proxy's header means nothing either */
  sd_restart (d, "trusted-proxies=127.0.0.1\n");
  g_autofree char *r7 = sso_sign_in (d, NULL, "lan", "{}", NULL, &st);
  ck_assert_msg (st == 400, "%u %s", st, r7);
  options (d, NULL, NULL, "lan", &in, &sso);
  ck_assert (!sso);
  sd_free (d);
}
END_TEST

/* Reads the stored hash of @user. */
static char *
stored_hash (SdDaemon *d, const char *user)
{
  g_autofree char *path = g_build_filename (d->state_dir, "lienthong.db", NULL);
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *q = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (
                        db, "SELECT password FROM accounts WHERE name = ?", -1, &q, NULL),
                    SQLITE_OK);
  sqlite3_bind_text (q, 1, user, -1, SQLITE_STATIC);
  ck_assert_int_eq (sqlite3_step (q), SQLITE_ROW);
  char *h = g_strdup ((const char *)sqlite3_column_text (q, 0));
  sqlite3_finalize (q);
  sqlite3_close (db);
  return h;
}

START_TEST (test_scrypt_cost)
{
  SdDaemon *d = sd_start (proxy_conf);
  /* without [testing] (the configuration of a production daemon) the admin made
   * from the command line gets the production parameters */
  g_autofree char *plain = g_build_filename (d->dir, "plain.conf", NULL);
  ck_assert (g_file_set_contents (plain, "[server]\ndrain-grace=1\n", -1, NULL));
  g_autofree char *cmd = g_strdup_printf (
      "echo 'một mật khẩu rất dài' | '%s' --config '%s' --state-dir '%s' "
      "--create-admin chu.tich >/dev/null",
      d->binary, plain, d->state_dir);
  ck_assert_int_eq (system (cmd), 0);
  g_autofree char *prod = stored_hash (d, "chu.tich");
  ck_assert_msg (g_str_has_prefix (prod, "$scrypt$ln=15,r=8,p=1$"), "%s", prod);
  /* the test daemon hashes cheaper ([testing] scrypt-log-n=10) ... */
  ck_assert_uint_eq (acc_create (d, "lan", "it", NULL, ACC_FIRST_PW), 201);
  g_autofree char *cheap = stored_hash (d, "lan");
  ck_assert_msg (g_str_has_prefix (cheap, "$scrypt$ln=10,r=8,p=1$"), "%s", cheap);
  /* ... and still verifies the production hash by the parameters stored with it */
  guint st;
  g_free (acc_sign_in (d, "chu.tich", "một mật khẩu rất dài", NULL, NULL, &st));
  ck_assert_uint_eq (st, 201);
  g_free (acc_sign_in (d, "chu.tich", "một mật khẩu rất dàii", NULL, NULL, &st));
  ck_assert_uint_eq (st, 401);
  sd_free (d);
}
END_TEST

static JsonArray *
audit_entries (SdDaemon *d, const char *query, JsonNode **keep)
{
  guint st;
  g_autofree char *path = g_strconcat ("/api/v1/audit", query, NULL);
  g_autofree char *r = sd_http (d, "GET", path, d->admin, NULL, &st);
  ck_assert_msg (st == 200, "%s: %u %s", path, st, r);
  *keep = sd_json (r);
  return json_object_get_array_member (json_node_get_object (*keep), "entries");
}

static const char *
entry_str (JsonArray *a, guint i, const char *name)
{
  return json_object_get_string_member_with_default (json_array_get_object_element (a, i),
                                                     name, "");
}

START_TEST (test_audit_log)
{
  SdDaemon *d = sd_start (proxy_conf);
  import_tiny (d);
  AccSession a = { 0 };
  acc_ready (d, "lan", "secretary", "08", &a);
  guint st;
  /* refused (outside 08): no entry; accepted: one */
  g_autofree char *no = acc_http (
      d, &a, "POST", "/api/v1/meetings",
      "{\"title\":\"Giao ban\",\"chair\":\"10\",\"starts_at\":\"" DAY1 "08:00:00" TZ
      "\",\"ends_at\":\"" DAY1 "09:00:00" TZ "\",\"participants\":[{\"unit\":\"10\"}]}",
      &st);
  ck_assert_uint_eq (st, 403);
  const char *xff[] = { "X-Forwarded-For: 203.0.113.8", NULL };
  g_autofree char *ch = g_strconcat ("Cookie: ", a.cookie, NULL);
  g_autofree char *th = g_strconcat ("X-CSRF-Token: ", a.csrf, NULL);
  g_autofree char *oh = g_strconcat ("Origin: ", d->base, NULL);
  const char *hdrs[] = { ch, th, oh, xff[0], NULL };
  g_autofree char *yes = sd_http_full (
      d, "POST", "/api/v1/meetings", NULL, NULL,
      "{\"title\":\"Giao ban\",\"chair\":\"08\",\"starts_at\":\"" DAY1 "08:00:00" TZ
      "\",\"ends_at\":\"" DAY1 "09:00:00" TZ "\",\"participants\":[{\"unit\":\"076\"}]}",
      -1, hdrs, &st, NULL);
  ck_assert_msg (st == 201, "%u %s", st, yes);
  g_autoptr (JsonNode) m = sd_json (yes);
  gint64 mid = jint (m, "id");
  g_free (acc_sign_in (d, "lan", "không phải mật khẩu", "198.51.100.9", NULL, &st));
  ck_assert_uint_eq (st, 401);

  g_autofree char *q = g_strdup_printf ("?meeting=%" G_GINT64_FORMAT, mid);
  g_autoptr (JsonNode) k1 = NULL;
  JsonArray *e1 = audit_entries (d, q, &k1);
  ck_assert_uint_eq (json_array_get_length (e1), 1);
  JsonObject *o = json_array_get_object_element (e1, 0);
  ck_assert_str_eq (json_object_get_string_member (o, "action"), "meeting.book");
  JsonObject *who = json_object_get_object_member (o, "actor");
  ck_assert_str_eq (json_object_get_string_member (who, "kind"), "account");
  ck_assert_str_eq (json_object_get_string_member (who, "id"), "lan");
  ck_assert_str_eq (json_object_get_string_member (who, "label"), "Người dùng lan");
  ck_assert_str_eq (json_object_get_string_member (o, "address"), "203.0.113.8");
  ck_assert_int_eq (json_object_get_int_member (o, "meeting_id"), mid);

  /* the refused booking wrote nothing; the failed sign-in did */
  g_autoptr (JsonNode) k2 = NULL;
  JsonArray *e2 = audit_entries (d, "?actor=lan", &k2);
  guint books = 0, failed = 0;
  for (guint i = 0; i < json_array_get_length (e2); i++)
    {
      books += g_str_equal (entry_str (e2, i, "action"), "meeting.book");
      failed += g_str_equal (entry_str (e2, i, "action"), "session.sign-in-failed");
    }
  ck_assert_uint_eq (books, 1);
  ck_assert_uint_eq (failed, 1);

  /* time filters on the frozen clock: all entries are at "now" */
  g_autoptr (JsonNode) k3 = NULL, k4 = NULL;
  g_autofree char *past
      = sig_format_time (g_ascii_strtoll (SD_FROZEN_NOW, NULL, 10) - 60);
  guint all = json_array_get_length (audit_entries (d, "", &k3));
  ck_assert_uint_ge (all, 5);
  g_autoptr (JsonNode) k5 = NULL;
  g_autofree char *q3u = g_uri_escape_string (past, NULL, FALSE);
  g_autofree char *q4u = g_strdup_printf ("?until=%s", q3u);
  g_autofree char *q5u = g_strdup_printf ("?since=%s", q3u);
  ck_assert_uint_eq (json_array_get_length (audit_entries (d, q4u, &k4)), 0);
  ck_assert_uint_eq (json_array_get_length (audit_entries (d, q5u, &k5)), all);

  /* pages: two at a time, newest first, no entry twice, none left out */
  GHashTable *seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree gint64 *ids = g_new0 (gint64, all + 1);
  guint n = 0;
  gint64 before = -1;
  do
    {
      g_autofree char *pq
          = before > 0 ? g_strdup_printf ("?limit=2&before=%" G_GINT64_FORMAT, before)
                       : g_strdup ("?limit=2");
      g_autoptr (JsonNode) kp = NULL;
      JsonArray *pa = audit_entries (d, pq, &kp);
      ck_assert_uint_le (json_array_get_length (pa), 2);
      for (guint i = 0; i < json_array_get_length (pa); i++)
        {
          ids[n]
              = json_object_get_int_member (json_array_get_object_element (pa, i), "id");
          ck_assert (!g_hash_table_contains (seen, &ids[n]));
          g_hash_table_add (seen, &ids[n]);
          n++;
        }
      JsonObject *po = json_node_get_object (kp);
      before = json_object_get_null_member (po, "next")
                   ? -1
                   : json_object_get_int_member (po, "next");
    }
  while (before > 0);
  ck_assert_uint_eq (n, all);
  g_hash_table_unref (seen);

  /* CSV */
  g_autofree char *csv
      = sd_http (d, "GET", "/api/v1/audit?format=csv", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert (g_str_has_prefix (csv, "id,at,actor_kind,actor_id"));
  ck_assert (strstr (csv, "\"meeting.book\"") && strstr (csv, "\"Người dùng lan\""));
  /* bad filters: 400; others than admin: 403 */
  g_autofree char *b1
      = sd_http (d, "GET", "/api/v1/audit?since=hôm-qua", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 400);
  g_autofree char *b2
      = sd_http (d, "GET", "/api/v1/audit?limit=5000", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 400);
  g_autofree char *b3 = acc_http (d, &a, "GET", "/api/v1/audit", NULL, &st);
  ck_assert_uint_eq (st, 403);
  acc_session_clear (&a);
  sd_free (d);
}
END_TEST

START_TEST (test_audit_retention)
{
  gint64 t0 = g_ascii_strtoll (SD_FROZEN_NOW, NULL, 10);
  g_autofree char *c0 = g_strdup_printf ("[testing]\nnow=%" G_GINT64_FORMAT "\n", t0);
  SdDaemon *d = sd_start (c0);
  import_tiny (d);
  AccSession a = { 0 };
  acc_ready (d, "lan", "it", NULL, &a);
  g_autoptr (JsonNode) k0 = NULL;
  guint before = json_array_get_length (audit_entries (d, "", &k0));
  ck_assert_uint_ge (before, 3);
  /* 100 days on, with a 30-day retention: the old entries go, an entry says so */
  g_autofree char *c1 = g_strdup_printf (
      "[audit]\nretention-days=30\n[testing]\nnow=%" G_GINT64_FORMAT "\n",
      t0 + 100 * 86400);
  sd_restart (d, c1);
  g_autoptr (JsonNode) k1 = NULL;
  JsonArray *e1 = audit_entries (d, "", &k1);
  ck_assert_uint_eq (json_array_get_length (e1), 1);
  ck_assert_str_eq (entry_str (e1, 0, "action"), "audit.prune");
  g_autofree char *want = g_strdup_printf ("%u entries older than 30 days", before);
  ck_assert_msg (strstr (entry_str (e1, 0, "detail"), want), "%s",
                 entry_str (e1, 0, "detail"));
  acc_session_clear (&a);
  sd_free (d);
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      g_printerr ("usage: %s PATH-TO-lienthong-signald-test PATH-TO-ltctl\n", argv[0]);
      return 2;
    }
  sd_binary_path = argv[1];
  ltctl_path = argv[2];
  Suite *s = suite_create ("signaling-accounts");
  TCase *tc = tcase_create ("accounts");
  tcase_set_timeout (tc, 150);
  tcase_add_test (tc, test_create_admin_sign_in_out);
  tcase_add_test (tc, test_equal_answers);
  tcase_add_test (tc, test_backoff);
  tcase_add_test (tc, test_password_change_ends_other_sessions);
  tcase_add_test (tc, test_disable_and_reset_end_sessions);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_ltctl_users);
  tcase_add_test (tc, test_ltctl_login);
  tcase_add_test (tc, test_single_sign_on);
  tcase_add_test (tc, test_scrypt_cost);
  tcase_add_test (tc, test_audit_log);
  tcase_add_test (tc, test_audit_retention);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
