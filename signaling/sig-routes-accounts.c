/* sig-routes-accounts.c: people's accounts and sessions: sign in and out, one's own
 * password, and the admin's routes over accounts (issue 15). */
#include "sig-server-private.h"

#include "sig-password.h"
#include "sig-ws.h"

#include <string.h>

const SigParam sig_params_session[] = {
  /* both, or neither when the trusted proxy's header vouches (single sign-on) */
  { "user", SIG_PARAM_STRING, FALSE, 1, ROOMS_ACCOUNT_NAME_MAX, FALSE, NULL },
  { "password", SIG_PARAM_STRING, FALSE, 1, SIG_PASSWORD_MAX_BYTES, FALSE, NULL },
  { NULL },
};

const SigParam sig_params_password[] = {
  { "old_password", SIG_PARAM_STRING, TRUE, 1, SIG_PASSWORD_MAX_BYTES, FALSE, NULL },
  { "new_password", SIG_PARAM_STRING, TRUE, 1, SIG_PASSWORD_MAX_BYTES, FALSE, NULL },
  { NULL },
};

const SigParam sig_params_user[] = {
  { "user", SIG_PARAM_STRING, TRUE, 1, ROOMS_ACCOUNT_NAME_MAX, FALSE, NULL },
  { "full_name", SIG_PARAM_STRING, TRUE, 1, 200, FALSE, NULL },
  { "role", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { "scope", SIG_PARAM_STRING, FALSE, 1, 64, TRUE, NULL },
  { "password", SIG_PARAM_STRING, TRUE, 1, SIG_PASSWORD_MAX_BYTES, FALSE, NULL },
  { NULL },
};

const SigParam sig_params_reset[] = {
  { "password", SIG_PARAM_STRING, TRUE, 1, SIG_PASSWORD_MAX_BYTES, FALSE, NULL },
  { NULL },
};

/* The one answer to a failed sign-in, whatever failed: a wrong password, an unknown
 * user name and a disabled account must not be told apart. */
#define WRONG_SIGN_IN "user name or password is wrong"

static const char *
landing_page (SigRole role)
{
  switch (role)
    {
    case SIG_ROLE_SECRETARY:
      return "/secretary";
    case SIG_ROLE_ADMIN:
      return "/admin"; /* accounts and the audit log */
    default:
      return "/it";
    }
}

static void
add_account_members (JsonBuilder *b, RoomsAccount *a)
{
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, rooms_account_get_name (a));
  json_builder_set_member_name (b, "full_name");
  json_builder_add_string_value (b, rooms_account_get_full_name (a));
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, rooms_account_get_role (a));
  json_builder_set_member_name (b, "scope");
  if (rooms_account_get_scope (a))
    json_builder_add_string_value (b, rooms_account_get_scope (a));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "disabled");
  json_builder_add_boolean_value (b, rooms_account_get_disabled (a));
  json_builder_set_member_name (b, "must_change");
  json_builder_add_boolean_value (b, rooms_account_get_must_change (a));
}

static JsonNode *
account_json (RoomsAccount *a)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_account_members (b, a);
  g_autofree char *c = sig_format_time (rooms_account_get_created_at (a));
  g_autofree char *u = sig_format_time (rooms_account_get_updated_at (a));
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, c);
  json_builder_set_member_name (b, "updated_at");
  json_builder_add_string_value (b, u);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Closes the sockets of sessions that just ended (as for a revoked token). */
static void
close_sessions (SigServer *srv, GPtrArray *ended)
{
  for (guint i = 0; ended && i < ended->len; i++)
    sig_ws_revoke_token (srv->ws, ended->pdata[i]);
}

/* Why the CSRF token is derived from the session secret: the page that signed in
 * keeps it, and a page reloaded later gets it again from GET /api/v1/session (a read
 * that only this origin can make with the cookie), while the store keeps neither. */
static char *
csrf_token_of (const char *secret)
{
  g_autofree char *in = g_strconcat ("lienthong csrf\n", secret, NULL);
  return sig_token_hash (in);
}

static gboolean
via_tls (SigServer *srv, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *proto = soup_message_headers_get_one (h, "X-Forwarded-Proto");
  return proto != NULL && g_ascii_strcasecmp (proto, "https") == 0
         && sig_server_from_trusted_proxy (srv, msg);
}

static void
set_cookie (SigServer *srv, SoupServerMessage *msg, const char *secret, gint64 max_age)
{
  g_autofree char *c = g_strdup_printf (
      SIG_SESSION_COOKIE
      "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%" G_GINT64_FORMAT "%s",
      secret, max_age, via_tls (srv, msg) ? "; Secure" : "");
  soup_message_headers_append (soup_server_message_get_response_headers (msg),
                               "Set-Cookie", c);
}

static JsonNode *
session_json (SigServer *srv, RoomsAccount *a, const char *csrf, gint64 expires_at)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_account_members (b, a);
  json_builder_set_member_name (b, "csrf_token");
  json_builder_add_string_value (b, csrf);
  g_autofree char *t = sig_format_time (expires_at);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_string_value (b, t);
  json_builder_set_member_name (b, "page");
  json_builder_add_string_value (
      b, landing_page (sig_role_from_string (rooms_account_get_role (a))));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Refuses a sign-in while its client address or its user name waits after wrong
 * ones (429, with Retry-After: the longer of the two waits). Why a 429 and not the
 * generic 401: the wait is counted for unknown names too, so it tells nothing about
 * which names exist, and a person who types the right password during a wait must
 * not be told it is wrong (and go and have it reset). */
static gboolean
sign_in_waits (SigServer *srv, SigRequest *req, const char *addr, const char *key,
               GError **error)
{
  gint64 now = sig_server_clock (srv);
  gint64 wait = MAX (sig_backoff_wait (srv->client_backoff, addr, now),
                     sig_backoff_wait (srv->account_backoff, key, now));
  if (wait <= 0)
    return FALSE;
  g_autofree char *retry = g_strdup_printf ("%" G_GINT64_FORMAT, wait);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Retry-After", retry);
  g_set_error (error, SIG_ERROR, SIG_ERROR_TOO_MANY,
               "too many failed sign-ins; try again in %" G_GINT64_FORMAT " s", wait);
  return TRUE;
}

/* Opens a session for @a and answers it (201, the cookie, the CSRF token). A
 * session opened by single sign-on has an id starting "sso_": its account's
 * must-change flag does not hold it, since its password is not what signed it in. */
static gboolean
open_session (SigServer *srv, SigRequest *req, RoomsAccount *a, const char *addr,
              gboolean sso, GError **error)
{
  g_autofree char *tid = NULL;
  g_autofree char *secret = sig_token_generate (&tid);
  g_autofree char *id
      = g_strconcat (sso ? SIG_SSO_SESSION_PREFIX : "ses_", tid + strlen ("tok_"), NULL);
  g_autofree char *hash = sig_token_hash (secret);
  g_autofree char *csrf = csrf_token_of (secret);
  g_autofree char *csrf_hash = sig_token_hash (csrf);
  if (!rooms_store_add_session (srv->store, id, hash, rooms_account_get_name (a),
                                csrf_hash, error))
    return FALSE;
  req->audit_label = g_strdup (rooms_account_get_full_name (a));
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT",
                    rooms_account_get_name (a), "LT_CLIENT", addr, "MESSAGE",
                    "%s signed in from %s%s (session %s)", rooms_account_get_name (a),
                    addr, sso ? " by single sign-on" : "", id);
  set_cookie (srv, req->msg, secret, srv->config->session_lifetime);
  g_autoptr (JsonNode) body
      = session_json (srv, a, csrf, sig_server_now (srv) + srv->config->session_lifetime);
  if (sso)
    json_object_set_boolean_member (json_node_get_object (body), "must_change", FALSE);
  sig_reply_json (req, 201, g_steal_pointer (&body));
  return TRUE;
}

/* Single sign-on: the proxy in front (oauth2-proxy and the like) has authenticated
 * the person and names them in [auth] trusted-header; the page then asks for a
 * session with no password. Why a cookie session rather than trusting the header on
 * every request: the browser's writes keep the one CSRF defence all sessions have
 * (Origin and X-CSRF-Token), a session can be ended and audited like any other, and
 * the header is read at one route only. An unknown or disabled account gets the
 * generic 401 and a failed sign-in in the audit log. The back-off does not count
 * these: no password was guessed, the proxy vouched. */
static gboolean
single_sign_on (SigServer *srv, SigRequest *req, const char *vouched, const char *addr,
                GError **error)
{
  g_autofree char *folded = rooms_account_fold_name (vouched);
  req->audit_actor = g_strdup (folded ? folded : "(not a user name)");
  g_autoptr (RoomsAccount) a
      = folded ? rooms_store_get_account (srv->store, folded, NULL) : NULL;
  if (a == NULL || rooms_account_get_disabled (a))
    {
      req->audit_detail = g_strdup_printf ("single sign-on (%s) of an unknown or "
                                           "disabled account",
                                           srv->config->trusted_header);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_CLIENT", addr, "MESSAGE",
                        "failed single sign-on from %s", addr);
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED, WRONG_SIGN_IN);
      return FALSE;
    }
  req->audit_detail
      = g_strdup_printf ("single sign-on (%s)", srv->config->trusted_header);
  return open_session (srv, req, a, addr, TRUE, error);
}

/* Why the KDF runs for unknown and disabled users too: the answer's status, body and
 * cost must be the same whatever failed, or they would tell which names exist. A
 * failure counts against the client's address and against the user name (known or
 * not), and either makes further attempts wait (429), the right password included:
 * a guesser cannot tell a hit during a wait. A success forgets the user name's
 * failures, not the address's: one's own account must not reset a guesser's count
 * across other names. With no user and no password, the trusted proxy's header
 * (single sign-on) may vouch instead. */
gboolean
sig_route_session_create (SigServer *srv, SigRequest *req, GError **error)
{
  const char *user = sig_json_string (req->body, "user");
  const char *password = sig_json_string (req->body, "password");
  if (!sig_server_origin_allowed (srv, req->msg, FALSE))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "origin not allowed");
      return FALSE;
    }
  g_autofree char *addr = sig_server_client_address (srv, req->msg);
  const char *vouched = sig_server_vouched_user (srv, req->msg);
  if (user == NULL && password == NULL && vouched != NULL)
    return single_sign_on (srv, req, vouched, addr, error);
  if (user == NULL || password == NULL)
    {
      req->error_field = g_strdup (user == NULL ? "user" : "password");
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "missing required field %s",
                   req->error_field);
      return FALSE;
    }
  g_autofree char *folded = rooms_account_fold_name (user);
  req->audit_actor = g_strdup (folded ? folded : "(not a user name)");
  g_autofree char *key = g_strconcat ("user:", folded ? folded : user, NULL);
  if (sign_in_waits (srv, req, addr, key, error))
    return FALSE;
  g_autoptr (RoomsAccount) a
      = folded ? rooms_store_get_account (srv->store, folded, NULL) : NULL;
  gboolean ok
      = sig_password_verify (password, a ? rooms_account_get_password_hash (a) : NULL);
  if (!ok || a == NULL || rooms_account_get_disabled (a))
    {
      gint64 now = sig_server_clock (srv);
      sig_backoff_fail (srv->client_backoff, addr, now);
      sig_backoff_fail (srv->account_backoff, key, now);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_CLIENT", addr, "MESSAGE",
                        "failed sign-in from %s", addr);
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED, WRONG_SIGN_IN);
      return FALSE;
    }
  sig_backoff_reset (srv->account_backoff, key);
  return open_session (srv, req, a, addr, FALSE, error);
}

gboolean
sig_route_session_get (SigServer *srv, SigRequest *req, GError **error)
{
  SigPrincipal *p = req->principal;
  if (p->account == NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "token");
      json_builder_add_string_value (b, p->token_id);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, sig_role_to_string (p->role));
      json_builder_end_object (b);
      sig_reply_json (req, 200, json_builder_get_root (b));
      return TRUE;
    }
  g_autoptr (RoomsAccount) a = rooms_store_get_account (srv->store, p->account, error);
  if (a == NULL)
    return FALSE;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);
  g_autofree char *secret
      = sig_session_from_cookie (soup_message_headers_get_one (h, "Cookie"));
  g_autofree char *csrf = csrf_token_of (secret);
  g_autoptr (JsonNode) body = session_json (srv, a, csrf, p->expires_at);
  /* what holds this session: a single sign-on's is not held by the account's flag */
  json_object_set_boolean_member (json_node_get_object (body), "must_change",
                                  p->must_change);
  sig_reply_json (req, 200, g_steal_pointer (&body));
  return TRUE;
}

/* Public, and always 200 (a page that asks logs no error): what the sign-in page
 * needs before it shows a form. Whether this browser holds a valid session (its
 * cookie is HttpOnly, so no page can look; a tab opened afresh then asks
 * GET /api/v1/session for its CSRF token), and whether a trusted proxy names a
 * person now (single sign-on: POST /api/v1/session with {} opens their session).
 * Nothing is counted as a failed authentication: no credential is asked for, and a
 * session id cannot be guessed (256 bits). */
gboolean
sig_route_session_options (SigServer *srv, SigRequest *req, GError **error)
{
  gboolean presented = FALSE;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);
  g_autofree char *secret
      = sig_session_from_cookie (soup_message_headers_get_one (h, "Cookie"));
  g_autoptr (SigPrincipal) p
      = secret ? sig_server_authenticate (srv, req->msg, NULL, &presented, NULL) : NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "signed_in");
  json_builder_add_boolean_value (b, p != NULL && p->account != NULL);
  json_builder_set_member_name (b, "single_sign_on");
  json_builder_add_boolean_value (b, sig_server_vouched_user (srv, req->msg) != NULL);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

/* Public: signing out needs no valid session (an expired one signs out too); the
 * cookie is cleared either way. */
gboolean
sig_route_session_delete (SigServer *srv, SigRequest *req, GError **error)
{
  if (!sig_server_origin_allowed (srv, req->msg, FALSE))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "origin not allowed");
      return FALSE;
    }
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);
  g_autofree char *secret
      = sig_session_from_cookie (soup_message_headers_get_one (h, "Cookie"));
  if (secret != NULL)
    {
      g_autofree char *hash = sig_token_hash (secret);
      g_autoptr (RoomsSession) s
          = rooms_store_find_session_by_hash (srv->store, hash, NULL);
      if (s != NULL
          && rooms_store_delete_session (srv->store, rooms_session_get_id (s), NULL))
        {
          sig_ws_revoke_token (srv->ws, rooms_session_get_id (s));
          req->audit_actor = g_strdup (rooms_session_get_account (s));
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT",
                            rooms_session_get_account (s), "MESSAGE", "%s signed out",
                            rooms_session_get_account (s));
        }
    }
  soup_message_headers_append (soup_server_message_get_response_headers (req->msg),
                               "Set-Cookie",
                               SIG_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
                                                  "Max-Age=0");
  soup_server_message_set_status (req->msg, 204, NULL);
  return TRUE;
}

/* A person changes their own password: the current one proves it is them (a wrong
 * one counts like a failed sign-in), and every other session of theirs ends, with
 * its sockets: whoever else held one is out. */
gboolean
sig_route_session_password (SigServer *srv, SigRequest *req, GError **error)
{
  SigPrincipal *p = req->principal;
  if (p->account == NULL)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "only a signed-in person has a password; tokens have none");
      return FALSE;
    }
  const char *old_pw = sig_json_string (req->body, "old_password");
  const char *new_pw = sig_json_string (req->body, "new_password");
  g_autoptr (RoomsAccount) a = rooms_store_get_account (srv->store, p->account, error);
  if (a == NULL)
    return FALSE;
  if (!sig_password_verify (old_pw, rooms_account_get_password_hash (a)))
    {
      g_autofree char *addr = sig_server_client_address (srv, req->msg);
      g_autofree char *key = g_strconcat ("user:", p->account, NULL);
      gint64 now = sig_server_clock (srv);
      sig_backoff_fail (srv->client_backoff, addr, now);
      sig_backoff_fail (srv->account_backoff, key, now);
      req->error_field = g_strdup ("old_password");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                           "the current password is wrong");
      return FALSE;
    }
  if (!sig_password_check_new (new_pw, p->account, error))
    {
      req->error_field = g_strdup ("new_password");
      return FALSE;
    }
  if (strcmp (old_pw, new_pw) == 0)
    {
      req->error_field = g_strdup ("new_password");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the new password is the current one");
      return FALSE;
    }
  g_autofree char *hash = sig_password_hash (new_pw, error);
  g_autoptr (GPtrArray) ended = NULL;
  if (hash == NULL
      || !rooms_store_set_account_password (srv->store, p->account, hash, FALSE,
                                            p->token_id, &ended, error))
    return FALSE;
  close_sessions (srv, ended);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT", p->account,
                    "MESSAGE", "%s changed their password (%u other sessions ended)",
                    p->account, ended ? ended->len : 0);
  soup_server_message_set_status (req->msg, 204, NULL);
  return TRUE;
}

gboolean
sig_route_users_list (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (GPtrArray) all = rooms_store_list_accounts (srv->store);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "users");
  json_builder_begin_array (b);
  for (guint i = 0; i < all->len; i++)
    json_builder_add_value (b, account_json (all->pdata[i]));
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

static gboolean
has_control (const char *text)
{
  for (const char *c = text; *c; c = g_utf8_next_char (c))
    if (g_unichar_iscntrl (g_utf8_get_char (c)))
      return TRUE;
  return FALSE;
}

static gboolean
is_blank (const char *text)
{
  for (const char *c = text; *c; c = g_utf8_next_char (c))
    if (!g_unichar_isspace (g_utf8_get_char (c)))
      return FALSE;
  return TRUE;
}

/* An account takes the roles people have (admin, secretary, it) and the scope rule
 * of tokens; the admin's password is a first one: its owner must change it. */
gboolean
sig_route_users_create (SigServer *srv, SigRequest *req, GError **error)
{
  const char *user = sig_json_string (req->body, "user");
  const char *full_name = sig_json_string (req->body, "full_name");
  const char *role_name = sig_json_string (req->body, "role");
  const char *scope = sig_json_string (req->body, "scope");
  const char *password = sig_json_string (req->body, "password");
  g_autofree char *folded = rooms_account_fold_name (user);
  SigRole role = sig_role_from_string (role_name);
  const char *field = NULL;
  if (folded == NULL)
    {
      field = "user";
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "a user name is 1 to 64 ASCII letters, digits, '.', '_' or "
                           "'-'");
    }
  else if (has_control (full_name) || is_blank (full_name))
    {
      field = "full_name";
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "a full name is printable text, not blank");
    }
  else if (role != SIG_ROLE_ADMIN && role != SIG_ROLE_SECRETARY && role != SIG_ROLE_IT)
    {
      field = "role";
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "an account's role is admin, secretary or it");
    }
  else if (!sig_check_scope (srv, role, scope, NULL, error))
    field = "scope";
  else if (!sig_password_check_new (password, folded, error))
    field = "password";
  if (field != NULL)
    {
      req->error_field = g_strdup (field);
      return FALSE;
    }
  g_autofree char *hash = sig_password_hash (password, error);
  if (hash == NULL
      || !rooms_store_add_account (srv->store, folded, full_name, role_name, scope, hash,
                                   TRUE, error))
    return FALSE;
  g_autoptr (RoomsAccount) a = rooms_store_get_account (srv->store, folded, error);
  if (a == NULL)
    return FALSE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT", folded, "MESSAGE",
                    "account %s created with role %s", folded, role_name);
  sig_reply_json (req, 201, account_json (a));
  return TRUE;
}

static gboolean
reply_account (SigServer *srv, SigRequest *req, const char *name, GError **error)
{
  g_autoptr (RoomsAccount) a = rooms_store_get_account (srv->store, name, error);
  if (a == NULL)
    return FALSE;
  sig_reply_json (req, 200, account_json (a));
  return TRUE;
}

static gboolean
set_disabled (SigServer *srv, SigRequest *req, gboolean disabled, GError **error)
{
  const char *name = sig_request_param (req, "name");
  if (disabled && g_strcmp0 (req->principal->account, name) == 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "an admin does not disable their own account");
      return FALSE;
    }
  g_autoptr (GPtrArray) ended = NULL;
  if (!rooms_store_set_account_disabled (srv->store, name, disabled, &ended, error))
    return FALSE;
  close_sessions (srv, ended);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT", name, "MESSAGE",
                    "account %s %s (%u sessions ended)", name,
                    disabled ? "disabled" : "enabled", ended ? ended->len : 0);
  return reply_account (srv, req, name, error);
}

/* Disabling ends the account's sessions and closes their sockets at once. */
gboolean
sig_route_users_disable (SigServer *srv, SigRequest *req, GError **error)
{
  return set_disabled (srv, req, TRUE, error);
}

gboolean
sig_route_users_enable (SigServer *srv, SigRequest *req, GError **error)
{
  return set_disabled (srv, req, FALSE, error);
}

/* An admin sets a new first password: the user must change it at the next sign-in,
 * and every session of theirs ends now. */
gboolean
sig_route_users_reset (SigServer *srv, SigRequest *req, GError **error)
{
  const char *name = sig_request_param (req, "name");
  const char *password = sig_json_string (req->body, "password");
  g_autoptr (RoomsAccount) a = rooms_store_get_account (srv->store, name, error);
  if (a == NULL)
    return FALSE;
  if (!sig_password_check_new (password, rooms_account_get_name (a), error))
    {
      req->error_field = g_strdup ("password");
      return FALSE;
    }
  g_autofree char *hash = sig_password_hash (password, error);
  g_autoptr (GPtrArray) ended = NULL;
  if (hash == NULL
      || !rooms_store_set_account_password (srv->store, name, hash, TRUE, NULL, &ended,
                                            error))
    return FALSE;
  close_sessions (srv, ended);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ACCOUNT", name, "MESSAGE",
                    "password of %s reset (%u sessions ended)", name,
                    ended ? ended->len : 0);
  return reply_account (srv, req, name, error);
}
