/* sig-test-accounts.h: people's accounts and sessions for the black-box suites:
 * creating accounts through the admin API, signing in, and requests that carry the
 * session cookie (with the site's Origin and the session's CSRF token). */
#pragma once

#include "sig-test-daemon.h"
#include "sig-test-util.h"

/* The first password an admin gives, and the one its owner then sets. */
#define ACC_FIRST_PW "mật khẩu đầu tiên"
#define ACC_PW "một mật khẩu khác hẳn"

typedef struct
{
  char *cookie; /* "lt_session=HEX" */
  char *csrf;
} AccSession;

G_GNUC_UNUSED static void
acc_session_clear (AccSession *s)
{
  g_clear_pointer (&s->cookie, g_free);
  g_clear_pointer (&s->csrf, g_free);
}

/* POST /api/v1/users as the admin token; returns the status. */
G_GNUC_UNUSED static guint
acc_create (SdDaemon *d, const char *user, const char *role, const char *scope,
            const char *password)
{
  g_autofree char *body = g_strdup_printf (
      "{\"user\":\"%s\",\"full_name\":\"Người dùng %s\",\"role\":\"%s\",%s%s%s"
      "\"password\":\"%s\"}",
      user, user, role, scope ? "\"scope\":\"" : "", scope ? scope : "",
      scope ? "\"," : "", password);
  guint st;
  g_autofree char *r = sd_http (d, "POST", "/api/v1/users", d->admin, body, &st);
  return st;
}

/* POST /api/v1/session; on 201 fills @s from Set-Cookie and the body. @xff: a client
 * address for X-Forwarded-For (the daemon must trust 127.0.0.1), or NULL. */
G_GNUC_UNUSED static char *
acc_sign_in (SdDaemon *d, const char *user, const char *password, const char *xff,
             AccSession *s, guint *status)
{
  g_autofree char *body
      = g_strdup_printf ("{\"user\":\"%s\",\"password\":\"%s\"}", user, password);
  g_autofree char *xh = xff ? g_strconcat ("X-Forwarded-For: ", xff, NULL) : NULL;
  const char *headers[] = { xh, NULL };
  SoupMessageHeaders *rh = NULL;
  char *r = sd_http_full (d, "POST", "/api/v1/session", NULL, NULL, body, -1,
                          xh ? headers : NULL, status, &rh);
  if (*status == 201 && s != NULL)
    {
      const char *sc = soup_message_headers_get_one (rh, "Set-Cookie");
      ck_assert_msg (sc != NULL, "no Set-Cookie on a sign-in");
      acc_session_clear (s);
      s->cookie = g_strndup (sc, strcspn (sc, ";"));
      g_autoptr (JsonNode) n = sd_json (r);
      s->csrf = g_strdup (jstr (n, "csrf_token"));
    }
  soup_message_headers_unref (rh);
  return r;
}

/* A request with the session's cookie; @csrf, @origin and @extra (one more
 * "Name: value" header line) nullable. */
G_GNUC_UNUSED static char *
acc_http_raw (SdDaemon *d, const char *method, const char *path, const char *cookie,
              const char *csrf, const char *origin, const char *extra, const char *ctype,
              const char *body, guint *status)
{
  g_autofree char *ch = g_strconcat ("Cookie: ", cookie, NULL);
  g_autofree char *th = csrf ? g_strconcat ("X-CSRF-Token: ", csrf, NULL) : NULL;
  g_autofree char *oh = origin ? g_strconcat ("Origin: ", origin, NULL) : NULL;
  const char *headers[5] = { ch, NULL, NULL, NULL, NULL };
  int n = 1;
  if (th)
    headers[n++] = th;
  if (oh)
    headers[n++] = oh;
  if (extra)
    headers[n++] = extra;
  return sd_http_full (d, method, path, NULL, ctype, body, -1, headers, status, NULL);
}

/* A request as a page of the daemon's own origin makes it. */
G_GNUC_UNUSED static char *
acc_http (SdDaemon *d, const AccSession *s, const char *method, const char *path,
          const char *body, guint *status)
{
  return acc_http_raw (d, method, path, s->cookie, s->csrf, d->base, NULL, NULL, body,
                       status);
}

/* Creates @user, signs in and sets ACC_PW (a first password must be changed). */
G_GNUC_UNUSED static void
acc_ready (SdDaemon *d, const char *user, const char *role, const char *scope,
           AccSession *s)
{
  ck_assert_uint_eq (acc_create (d, user, role, scope, ACC_FIRST_PW), 201);
  guint st;
  g_autofree char *r = acc_sign_in (d, user, ACC_FIRST_PW, NULL, s, &st);
  ck_assert_msg (st == 201, "sign in %s: %u %s", user, st, r);
  g_autofree char *c = acc_http (
      d, s, "POST", "/api/v1/session/password",
      "{\"old_password\":\"" ACC_FIRST_PW "\",\"new_password\":\"" ACC_PW "\"}", &st);
  ck_assert_msg (st == 204, "password of %s: %u %s", user, st, c);
}

/* Opens a WebSocket with the session cookie (as a browser page does). */
G_GNUC_UNUSED static gboolean
acc_ws_open (WsPeer *p, SoupSession *session, SdDaemon *d, const char *path,
             const char *cookie)
{
  memset (p, 0, sizeof *p);
  g_queue_init (&p->msgs);
  p->loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *uri = g_strconcat (d->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Cookie", cookie);
  soup_session_websocket_connect_async (session, msg, d->base, NULL, G_PRIORITY_DEFAULT,
                                        NULL, ws_connected_cb, p);
  g_main_loop_run (p->loop);
  if (p->conn == NULL)
    return FALSE;
  g_signal_connect (p->conn, "message", G_CALLBACK (ws_message_cb), p);
  g_signal_connect (p->conn, "closed", G_CALLBACK (ws_closed_cb), p);
  return TRUE;
}
