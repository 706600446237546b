/* sig-server.c: SigServer: startup, the request dispatcher, replies, draining. */
#include "sig-server-private.h"

#include "sig-ws.h"
#include "sig-web.h"
#include "sig-password.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

gint64
sig_server_now (SigServer *srv)
{
  return sig_config_now (srv->config);
}

/* Why monotonic in production: a wait counted on the wall clock would stretch or
 * vanish when NTP steps the clock. The test daemon's pinned clock ([testing] now)
 * stands in for it, so the suites move time forward instead of sleeping. */
gint64
sig_server_clock (SigServer *srv)
{
  if (srv->config->fake_now >= 0 || srv->config->now_file != NULL)
    return sig_config_now (srv->config);
  return g_get_monotonic_time () / G_USEC_PER_SEC;
}

void
sig_reply_error (SoupServerMessage *msg, const GError *error, const char *field,
                 JsonNode *extra)
{
  char *body = sig_error_to_json (error, field, extra);
  soup_server_message_set_status (msg, sig_error_http_status (error), NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body,
                                    strlen (body));
}

void
sig_reply_json (SigRequest *req, guint status, JsonNode *node)
{
  g_autoptr (JsonNode) owned = node;
  char *body = json_to_string (owned, FALSE);
  soup_server_message_set_status (req->msg, status, NULL);
  soup_server_message_set_response (req->msg, "application/json", SOUP_MEMORY_TAKE, body,
                                    strlen (body));
}

void
sig_reply_text (SigRequest *req, guint status, const char *content_type, char *text)
{
  soup_server_message_set_status (req->msg, status, NULL);
  soup_server_message_set_response (req->msg, content_type, SOUP_MEMORY_TAKE, text,
                                    strlen (text));
}

const char *
sig_request_param (SigRequest *req, const char *name)
{
  return g_hash_table_lookup (req->path_params, name);
}

const char *
sig_request_query (SigRequest *req, const char *name)
{
  return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

gboolean
sig_request_id (SigRequest *req, const char *name, gint64 *out, GError **error)
{
  const char *s = sig_request_param (req, name);
  guint64 v = 0;
  if (s == NULL || !g_ascii_string_to_unsigned (s, 10, 1, G_MAXINT64, &v, NULL))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND, "no such %s '%s'", name,
                   s ? s : "");
      return FALSE;
    }
  *out = (gint64)v;
  return TRUE;
}

static const char *
segment_end (const char *s)
{
  const char *e = strchr (s, '/');
  return e ? e : s + strlen (s);
}

/* Why by hand: libsoup routes by path prefix only; the API has parameters in the middle
 * of paths and suffixes after them ("{id}.ics"). Matching walks both strings segment by
 * segment and fills @params; a "{name}SUFFIX" segment needs a non-empty value. */
static gboolean
route_match (const char *pattern, const char *path, GHashTable *params)
{
  const char *p = pattern, *s = path;
  while (*p && *s)
    {
      if (*p != '/' || *s != '/')
        return FALSE;
      p++, s++;
      const char *pe = segment_end (p);
      const char *se = segment_end (s);
      if (*p == '{')
        {
          const char *close = memchr (p, '}', (gsize)(pe - p));
          if (close == NULL)
            return FALSE;
          gsize suffix_len = (gsize)(pe - close - 1);
          gsize seg_len = (gsize)(se - s);
          if (seg_len <= suffix_len
              || memcmp (se - suffix_len, close + 1, suffix_len) != 0)
            return FALSE;
          if (params != NULL)
            g_hash_table_insert (params, g_strndup (p + 1, (gsize)(close - p - 1)),
                                 g_uri_unescape_segment (s, se - suffix_len, NULL));
        }
      else if (pe - p != se - s || memcmp (p, s, (gsize)(pe - p)) != 0)
        return FALSE;
      p = pe, s = se;
    }
  return *p == '\0' && *s == '\0';
}

static void
count_request (SigServer *srv, const char *route, const char *method, guint status)
{
  char *key = g_strdup_printf ("%s\t%s\t%u", route, method, status);
  guint64 *n = g_hash_table_lookup (srv->requests, key);
  if (n == NULL)
    {
      n = g_new0 (guint64, 1);
      g_hash_table_insert (srv->requests, key, n);
    }
  else
    g_free (key);
  (*n)++;
}

static const SigRoute *
find_route (const char *method, const char *path, GHashTable *params,
            gboolean *path_known)
{
  guint n;
  const SigRoute *routes = sig_routes_get (&n);
  *path_known = FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (!route_match (routes[i].pattern, path, NULL))
        continue;
      *path_known = TRUE;
      if (strcmp (routes[i].method, method) == 0
          || (strcmp (method, "HEAD") == 0 && strcmp (routes[i].method, "GET") == 0))
        {
          route_match (routes[i].pattern, path, params);
          return &routes[i];
        }
    }
  return NULL;
}

static gboolean
is_trusted_proxy (SigServer *srv, GInetAddress *addr)
{
  for (char **p = srv->config->trusted_proxies; addr && p && *p; p++)
    {
      g_autoptr (GInetAddress) t = g_inet_address_new_from_string (*p);
      if (t && g_inet_address_equal (t, addr))
        return TRUE;
    }
  return FALSE;
}

gboolean
sig_server_from_trusted_proxy (SigServer *srv, SoupServerMessage *msg)
{
  GSocketAddress *peer = soup_server_message_get_remote_address (msg);
  return G_IS_INET_SOCKET_ADDRESS (peer)
         && is_trusted_proxy (
             srv, g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer)));
}

const char *
sig_server_vouched_user (SigServer *srv, SoupServerMessage *msg)
{
  if (srv->config->trusted_header == NULL || !sig_server_from_trusted_proxy (srv, msg))
    return NULL;
  const char *v = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), srv->config->trusted_header);
  return v != NULL && *v != '\0' ? v : NULL;
}

/* Behind the TLS proxy every request comes from the proxy's address, so the limit on
 * failed authentications would count every hall together and one guesser would lock
 * out a province. The proxy appends the address it saw to X-Forwarded-For; entries
 * further left were written by the client and prove nothing, so the list is read from
 * the right, past proxies we trust, and stops at the first address we do not. */
char *
sig_server_client_address (SigServer *srv, SoupServerMessage *msg)
{
  GSocketAddress *peer = soup_server_message_get_remote_address (msg);
  GInetAddress *pa
      = G_IS_INET_SOCKET_ADDRESS (peer)
            ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer))
            : NULL;
  if (pa == NULL)
    return g_strdup (soup_server_message_get_remote_host (msg));
  if (!is_trusted_proxy (srv, pa))
    return g_inet_address_to_string (pa);
  const char *xff = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "X-Forwarded-For");
  g_auto (GStrv) hops = xff ? g_strsplit (xff, ",", 32) : NULL;
  g_autoptr (GInetAddress) client = g_object_ref (pa);
  for (gint i = hops ? (gint)g_strv_length (hops) - 1 : -1; i >= 0; i--)
    {
      GInetAddress *hop = g_inet_address_new_from_string (g_strstrip (hops[i]));
      if (hop == NULL)
        break; /* not an address: keep the last one we could vouch for */
      g_set_object (&client, hop);
      g_object_unref (hop);
      if (!is_trusted_proxy (srv, client))
        break;
    }
  return g_inet_address_to_string (client);
}

/* Why a valid credential always passes, even from a blocked address: without
 * trusted-proxies every hall behind the TLS proxy shares the proxy's address, and ten
 * bad tokens from anyone would lock every user out. Tokens are 256-bit random, so the
 * limit is not what stops guessing; it cuts the cost of floods of bad ones, which
 * still get 429 once their address is blocked. */
gboolean
sig_auth_limit_failure (SigServer *srv, SoupServerMessage *msg, gboolean presented,
                        GError **error)
{
  g_autofree char *addr = sig_server_client_address (srv, msg);
  gint64 mono = g_get_monotonic_time ();
  if (sig_auth_limiter_blocked (srv->limiter, addr, mono))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_TOO_MANY,
                           "too many failed authentications; try again later");
      return TRUE;
    }
  /* a request without credentials is not an attempt at guessing them */
  if (presented)
    sig_auth_limiter_fail (srv->limiter, addr, mono);
  return FALSE;
}

/* Loads the meeting a route's {id} names (a meeting, or an occurrence's meeting) and
 * applies the route's access rule to it: 404 when the caller may not read it (so ids
 * outside the scope do not leak), 403 when it may read but not edit or control it. */
static gboolean
check_meeting_access (SigServer *srv, SigRequest *req, GError **error)
{
  SigAccess a = req->route->access;
  gboolean occurrence
      = a == SIG_ACCESS_OCCURRENCE_READ || a == SIG_ACCESS_OCCURRENCE_CONTROL;
  gint64 id, meeting_id;
  if (!sig_request_id (req, "id", &id, error))
    return FALSE;
  meeting_id = id;
  if (a == SIG_ACCESS_RECORDING_READ)
    {
      g_autoptr (RoomsRecording) rec = rooms_store_get_recording (srv->store, id, NULL);
      g_autoptr (RoomsMeeting) m
          = rec ? rooms_store_get_meeting (srv->store, rec->meeting_id, NULL) : NULL;
      if (m == NULL || !sig_policy_may_read_meeting (srv->store, req->principal, m))
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                       "no recording %" G_GINT64_FORMAT, id);
          return FALSE;
        }
      return TRUE;
    }
  if (occurrence)
    {
      g_autoptr (RoomsOccurrence) occ = rooms_store_get_occurrence (srv->store, id, NULL);
      if (occ == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                       "no occurrence %" G_GINT64_FORMAT, id);
          return FALSE;
        }
      meeting_id = rooms_occurrence_get_meeting_id (occ);
    }
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, meeting_id, NULL);
  if (m == NULL || !sig_policy_may_read_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no %s %" G_GINT64_FORMAT,
                   occurrence ? "occurrence" : "meeting", id);
      return FALSE;
    }
  if (a == SIG_ACCESS_MEETING_EDIT
      && !sig_policy_may_edit_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "meeting %" G_GINT64_FORMAT " is outside this token's scope", id);
      return FALSE;
    }
  if (a == SIG_ACCESS_OCCURRENCE_CONTROL
      && !sig_policy_may_control_meeting (srv->store, req->principal, m))
    {
      g_set_error (
          error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
          "only an admin or the chair's secretary controls meeting %" G_GINT64_FORMAT,
          meeting_id);
      return FALSE;
    }
  return TRUE;
}

/* The route's access rule, for the kinds the dispatcher decides (sig-server-private.h);
 * the others are the handler's. */
static gboolean
check_access (SigServer *srv, SigRequest *req, GError **error)
{
  const SigRoute *r = req->route;
  switch (r->access)
    {
    case SIG_ACCESS_ROLE:
    case SIG_ACCESS_FILTERED:
    case SIG_ACCESS_BOOKING:
    case SIG_ACCESS_LEG_READ:
      return TRUE;
    case SIG_ACCESS_UNIT_CALENDAR:
      {
        const char *code = sig_request_param (req, "code");
        if (rooms_store_get_unit (srv->store, code) == NULL)
          {
            g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no unit '%s'", code);
            return FALSE;
          }
        if (!sig_policy_may_read_unit_calendar (srv->store, req->principal, code))
          {
            g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                         "unit %s is outside this token's scope", code);
            return FALSE;
          }
        return TRUE;
      }
    case SIG_ACCESS_MEETING_READ:
    case SIG_ACCESS_MEETING_EDIT:
    case SIG_ACCESS_OCCURRENCE_READ:
    case SIG_ACCESS_OCCURRENCE_CONTROL:
    case SIG_ACCESS_RECORDING_READ:
      return check_meeting_access (srv, req, error);
    case SIG_ACCESS_UNSET:
    default:
      break;
    }
  /* fail closed: a route nobody decided the access of serves no one */
  g_set_error (error, SIG_ERROR, SIG_ERROR_INTERNAL, "%s %s has no access rule",
               r->method, r->pattern);
  return FALSE;
}

gboolean
sig_server_origin_allowed (SigServer *srv, SoupServerMessage *msg, gboolean require)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (h, "Origin");
  if (origin == NULL)
    return !require;
  const char *host = soup_message_headers_get_one (h, "Host");
  if (host != NULL)
    {
      g_autofree char *same_http = g_strconcat ("http://", host, NULL);
      g_autofree char *same_https = g_strconcat ("https://", host, NULL);
      if (g_ascii_strcasecmp (origin, same_http) == 0
          || g_ascii_strcasecmp (origin, same_https) == 0)
        return TRUE;
    }
  for (char **o = srv->config->allowed_origins; o && *o; o++)
    if (g_ascii_strcasecmp (origin, *o) == 0)
      return TRUE;
  return FALSE;
}

SigPrincipal *
sig_server_authenticate (SigServer *srv, SoupServerMessage *msg,
                         const char *authorization, gboolean *presented, GError **error)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  g_autofree char *secret = NULL;
  if (authorization == NULL)
    secret = sig_session_from_cookie (soup_message_headers_get_one (h, "Cookie"));
  *presented = authorization != NULL || secret != NULL;
  if (secret != NULL)
    {
      SigPrincipal *p = sig_authenticate_session (
          srv->store, secret, sig_server_now (srv), srv->config->session_idle,
          srv->config->session_lifetime, error);
      /* behind single sign-on the proxy names who is at the browser now: a session
       * of someone else (another person signed in at the proxy since) is not theirs */
      const char *vouched = sig_server_vouched_user (srv, msg);
      g_autofree char *folded = vouched ? rooms_account_fold_name (vouched) : NULL;
      if (p != NULL && vouched != NULL && g_strcmp0 (folded, p->account) != 0)
        {
          g_clear_pointer (&p, sig_principal_free);
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                               "this session belongs to another person than the one "
                               "the single sign-on names; sign in again");
        }
      return p;
    }
  return sig_authenticate (srv->store, authorization, sig_server_now (srv), error);
}

/* Why both an Origin check and a token: a browser attaches the session cookie to any
 * request to this host, whichever page sends it. SameSite=Strict already keeps other
 * sites' requests cookie-less in current browsers; the Origin check refuses the rest
 * from browsers that send Origin, and the CSRF token (given at sign-in, kept by the
 * page, sent back in X-CSRF-Token) is what no other page can know. Reads change
 * nothing and need neither. A session whose password must be changed may only do
 * that (and sign out). */
static gboolean
check_session_request (SigServer *srv, SigRequest *req, GError **error)
{
  const char *method = req->route->method;
  if (strcmp (method, "GET") != 0)
    {
      SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);
      const char *token = soup_message_headers_get_one (h, "X-CSRF-Token");
      g_autofree char *hash
          = token && strlen (token) <= 128 ? sig_token_hash (token) : NULL;
      if (!sig_server_origin_allowed (srv, req->msg, TRUE) || hash == NULL
          || !sig_hash_equal (hash, req->principal->csrf_hash))
        {
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                               "a signed-in write needs this site's Origin and the "
                               "session's X-CSRF-Token");
          return FALSE;
        }
    }
  if (req->principal->must_change && req->route->handler != sig_route_session_password
      && req->route->handler != sig_route_session_delete
      && req->route->handler != sig_route_session_get)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                           "change your password first (POST /api/v1/session/password)");
      return FALSE;
    }
  return TRUE;
}

/* Everything a route needs before its handler runs: authentication and its rate
 * limit, the role check, draining, the body checks. Returns %FALSE with @error (and
 * maybe @field) when the request is refused. */
static gboolean
prepare_request (SigServer *srv, SigRequest *req, char **field, GError **error)
{
  const SigRoute *r = req->route;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);

  if (!(r->roles & SIG_ROLE_PUBLIC))
    {
      const char *auth = soup_message_headers_get_one (h, "Authorization");
      g_autoptr (GError) auth_error = NULL;
      gboolean presented;
      req->principal
          = sig_server_authenticate (srv, req->msg, auth, &presented, &auth_error);
      if (req->principal == NULL
          && !sig_auth_limit_failure (srv, req->msg, presented, error))
        g_propagate_error (error, g_steal_pointer (&auth_error));
      if (req->principal == NULL)
        return FALSE;
      if (req->principal->account != NULL && !check_session_request (srv, req, error))
        return FALSE;
      if (!(r->roles & req->principal->role))
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "role %s may not %s %s",
                       sig_role_to_string (req->principal->role), r->method, r->pattern);
          return FALSE;
        }
      if (!check_access (srv, req, error))
        return FALSE;
    }
  else if (r->access != SIG_ACCESS_ROLE)
    {
      /* a public route has nobody to check an object rule against */
      g_set_error (error, SIG_ERROR, SIG_ERROR_INTERNAL, "%s %s has no access rule",
                   r->method, r->pattern);
      return FALSE;
    }

  if ((r->flags & SIG_ROUTE_REFUSE_DRAINING) && srv->draining)
    {
      g_autofree char *retry = g_strdup_printf ("%d", srv->config->retry_after);
      soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                    "Retry-After", retry);
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                           "the server is shutting down; retry on its successor");
      return FALSE;
    }

  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  req->raw = (const guint8 *)body->data;
  req->raw_len = body->data ? (gsize)body->length : 0;
  if (req->raw_len > SIG_MAX_BODY)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_TOO_LARGE, "the body is over %d bytes",
                   SIG_MAX_BODY);
      return FALSE;
    }
  if (r->flags & SIG_ROUTE_JSON_BODY)
    {
      const char *ct = soup_message_headers_get_content_type (h, NULL);
      if (ct != NULL && g_ascii_strcasecmp (ct, "application/json") != 0)
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_UNSUPPORTED,
                       "this route takes application/json, not %s", ct);
          return FALSE;
        }
      g_autoptr (JsonNode) root = sig_json_parse_object (req->raw, req->raw_len, error);
      if (root == NULL)
        return FALSE;
      if (!sig_validate_object (json_node_get_object (root), r->params, field, error))
        return FALSE;
      req->body = json_object_ref (json_node_get_object (root));
    }
  return TRUE;
}

static void
log_request (SigServer *srv, SoupServerMessage *msg, const char *route, guint status)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "LT_ROUTE", route, "MESSAGE",
                    "%s %s -> %u", soup_server_message_get_method (msg),
                    g_uri_get_path (soup_server_message_get_uri (msg)), status);
}

/* Commits an accepted change with its audit entry, or rolls a refused one back. If
 * the entry cannot be written the change is undone too and the client told (500):
 * the store never holds a change nobody is accountable for. What the handler did
 * outside the store (a message to a node) cannot be taken back; the log says so. */
static void
finish_audit (SigServer *srv, SigRequest *req)
{
  guint status = soup_server_message_get_status (req->msg);
  g_autoptr (GError) error = NULL;
  if (status >= 200 && status < 300)
    {
      if (sig_audit_request (srv, req, &error)
          && rooms_store_audit_commit (srv->store, &error))
        return;
      rooms_store_audit_rollback (srv->store);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "LT_ROUTE",
                        req->route->pattern, "MESSAGE",
                        "%s %s undone: its audit entry failed: %s", req->route->method,
                        req->route->pattern, error->message);
      sig_reply_error (req->msg, error, NULL, NULL);
      return;
    }
  rooms_store_audit_rollback (srv->store);
  if (req->route->handler == sig_route_session_create && (status == 401 || status == 429))
    sig_audit_failed_sign_in (srv, req);
}

static void
server_cb (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  SigServer *srv = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GHashTable) params
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  gboolean known;

  const SigRoute *route = find_route (method, path, params, &known);
  /* ui: what no API route matches may be one of the web pages (sig-web.c) */
  if (route == NULL && !known && sig_web_serve (msg, method, path))
    return;
  if (route == NULL)
    {
      g_set_error (&error, SIG_ERROR, known ? SIG_ERROR_METHOD : SIG_ERROR_NOT_FOUND,
                   known ? "%s is not served on %s" : "no route for %s %s", method, path);
      sig_reply_error (msg, error, NULL, NULL);
      count_request (srv, "unmatched", method, soup_server_message_get_status (msg));
      return;
    }

  SigRequest req = { .msg = msg, .route = route, .path_params = params, .query = query };
  /* an audited change and its entry share one transaction: both or neither */
  gboolean audited = route->audit != NULL && rooms_store_audit_begin (srv->store, &error);
  if (route->audit != NULL && !audited)
    sig_reply_error (msg, error, NULL, NULL);
  else if (!prepare_request (srv, &req, &field, &error)
           || !route->handler (srv, &req, &error))
    {
      if (error == NULL)
        g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_INTERNAL, "handler failed");
      sig_reply_error (msg, error, field ? field : req.error_field,
                       g_steal_pointer (&req.error_extra));
    }
  if (audited)
    finish_audit (srv, &req);
  guint status = soup_server_message_get_status (msg);
  count_request (srv, route->pattern, route->method, status);
  log_request (srv, msg, route->pattern, status);

  g_clear_pointer (&req.principal, sig_principal_free);
  g_clear_pointer (&req.body, json_object_unref);
  g_clear_pointer (&req.error_field, g_free);
  g_clear_pointer (&req.error_extra, json_node_unref);
  g_clear_pointer (&req.audit_actor, g_free);
  g_clear_pointer (&req.audit_label, g_free);
  g_clear_pointer (&req.audit_detail, g_free);
}

/* Refuses an oversized body from its Content-Length, before libsoup reads it. A
 * chunked body is refused too (411): libsoup would buffer all of it before the size
 * could be checked, and every client of this API knows its body's length. */
static void
early_cb (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  SigServer *srv = user_data;
  if (sig_ws_early (srv->ws, msg, path, query))
    return;
  /* Why no keep-alive: libsoup 3.2 (Debian 12) never closes an idle keep-alive
   * connection that the client closed (fixed upstream in 3.3.0); each one stays in
   * CLOSE-WAIT holding a descriptor, so any client could exhaust signald's
   * descriptors by opening and dropping connections. One request per connection
   * costs a handshake on loopback (the proxy in front keeps its own clients'
   * connections alive). */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Connection", "close");
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (h);
  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH
      && len > SIG_MAX_BODY)
    {
      g_autoptr (GError) e = g_error_new (SIG_ERROR, SIG_ERROR_TOO_LARGE,
                                          "the body is over %d bytes", SIG_MAX_BODY);
      sig_reply_error (msg, e, NULL, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
  else if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CHUNKED)
    {
      g_autoptr (GError) e = g_error_new_literal (SIG_ERROR, SIG_ERROR_LENGTH_REQUIRED,
                                                  "send the body with a Content-Length");
      sig_reply_error (msg, e, NULL, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
}

/* Why at startup: a fresh install has no way to create the first token over the API
 * (tokens are made by admins), so the daemon mints one admin token, once, and leaves
 * it where only root (or the service user) can read it. */
static gboolean
bootstrap_admin_token (SigServer *srv, GError **error)
{
  g_autoptr (GPtrArray) tokens = rooms_store_list_tokens (srv->store);
  if (tokens != NULL && tokens->len > 0)
    return TRUE;
  g_autofree char *id = NULL;
  g_autofree char *secret = sig_token_generate (&id);
  g_autofree char *hash = sig_token_hash (secret);
  if (!rooms_store_add_token (srv->store, id, hash, "admin", NULL, NULL, -1, error))
    return FALSE;
  g_autofree char *path = g_build_filename (srv->state_dir, "admin.token", NULL);
  g_autofree char *text = g_strconcat (secret, "\n", NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 error))
    return FALSE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                    "created the first admin token %s; its secret is in %s", id, path);
  return TRUE;
}

/* Why once and then gone: signald used to keep each meeting's iCalendar SEQUENCE in
 * STATE/ics-sequence.ini, outside the store's transactions (a crash between the two
 * writes could lose a bump). The store keeps it now (schema 3); a file left by an
 * older signald is read into it, never lowering a value, and then removed. Reading it
 * twice after a crash is harmless for the same reason. */
static gboolean
import_legacy_sequences (SigServer *srv, GError **error)
{
  g_autofree char *path = g_build_filename (srv->state_dir, "ics-sequence.ini", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s", path,
                   local->message);
      return FALSE;
    }
  g_auto (GStrv) ids = g_key_file_get_keys (kf, "sequence", NULL, NULL);
  guint n = 0;
  for (char **id = ids; id && *id; id++)
    {
      guint64 mid;
      gint64 seq = g_key_file_get_int64 (kf, "sequence", *id, NULL);
      if (!g_ascii_string_to_unsigned (*id, 10, 1, G_MAXINT64, &mid, NULL) || seq <= 0)
        continue;
      g_autoptr (GError) e = NULL;
      if (rooms_store_raise_meeting_sequence (srv->store, (gint64)mid, seq, &e))
        n++;
      else if (!g_error_matches (e, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&e));
          return FALSE;
        }
    }
  if (g_unlink (path) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", path,
                   g_strerror (errsv));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                    "moved the iCalendar sequences of %u meetings from %s into the store",
                    n, path);
  return TRUE;
}

#define SIG_LISTEN_BACKLOG 4096

static gboolean
listen_on (SigServer *srv, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  if (!sig_config_parse_listen (srv->config->listen, &host, &port))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad listen address '%s'", srv->config->listen);
      return FALSE;
    }
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new_from_string (host, port);
  if (sa == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad listen address '%s'", srv->config->listen);
      return FALSE;
    }
  /* Why a socket of our own: soup_server_listen() keeps GSocket's backlog of 10
   * connections. When a national meeting opens, or signald restarts in one, thousands
   * of halls connect within a second; past the backlog their SYNs are dropped and
   * each waits out TCP's 1, 3, 7 s retransmits. The kernel caps the backlog at
   * net.core.somaxconn. */
  g_autoptr (GSocket) sock
      = g_socket_new (g_socket_address_get_family (sa), G_SOCKET_TYPE_STREAM,
                      G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, SIG_LISTEN_BACKLOG);
  if (!g_socket_bind (sock, sa, TRUE, error) || !g_socket_listen (sock, error)
      || !soup_server_listen_socket (srv->soup, sock, 0, error))
    return FALSE;

  GSList *listeners = soup_server_get_listeners (srv->soup);
  g_return_val_if_fail (listeners != NULL, FALSE);
  g_autoptr (GSocketAddress) bound
      = g_socket_get_local_address (G_SOCKET (listeners->data), error);
  g_slist_free (listeners);
  if (bound == NULL)
    return FALSE;
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (bound);
  g_autofree char *ip
      = g_inet_address_to_string (g_inet_socket_address_get_address (isa));
  guint bport = g_inet_socket_address_get_port (isa);
  srv->address = strchr (ip, ':') ? g_strdup_printf ("[%s]:%u", ip, bport)
                                  : g_strdup_printf ("%s:%u", ip, bport);

  g_autofree char *addr_path = g_build_filename (srv->state_dir, "signald.addr", NULL);
  g_autofree char *line = g_strconcat (srv->address, "\n", NULL);
  if (!g_file_set_contents (addr_path, line, -1, error))
    return FALSE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ADDRESS", srv->address,
                    "MESSAGE", "listening on http://%s/ (address written to %s)",
                    srv->address, addr_path);
  return TRUE;
}

static gboolean
audit_prune_cb (gpointer user_data)
{
  sig_audit_prune (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
recordings_expire_cb (gpointer user_data)
{
  sig_recordings_expire (user_data);
  return G_SOURCE_CONTINUE;
}

SigServer *
sig_server_new (const SigConfig *config, GError **error)
{
  g_autoptr (SigServer) srv = g_new0 (SigServer, 1);
  srv->config = g_new0 (SigConfig, 1);
  *srv->config = *config;
  srv->config->listen = g_strdup (config->listen);
  srv->config->state_dir = g_strdup (config->state_dir);
  srv->config->recordings_dir
      = config->recordings_dir ? g_strdup (config->recordings_dir)
                               : g_build_filename (config->state_dir, "recordings", NULL);
  srv->config->allowed_origins = g_strdupv (config->allowed_origins);
  srv->config->trusted_proxies = g_strdupv (config->trusted_proxies);
  srv->config->tiers = g_strdupv (config->tiers);
  srv->config->trusted_header = g_strdup (config->trusted_header);
  srv->config->now_file = g_strdup (config->now_file);
  /* sig_config_free() drops a reference: this copy holds its own */
  if (config->keyfile != NULL)
    srv->config->keyfile = g_key_file_ref (config->keyfile);
  srv->state_dir = g_strdup (config->state_dir);
  srv->started_us = g_get_monotonic_time ();
  srv->limiter = sig_auth_limiter_new (10, 60 * G_USEC_PER_SEC);
  srv->account_backoff = sig_backoff_new ((guint)config->lockout_failures,
                                          config->backoff_first, config->backoff_max);
  /* an office behind one NAT address shares it: more failures before the waits */
  srv->client_backoff = sig_backoff_new (SIG_CLIENT_FREE_FAILURES, config->backoff_first,
                                         config->backoff_max);
  srv->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  srv->transitions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (g_mkdir_with_parents (srv->state_dir, 0750) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s",
                   srv->state_dir, g_strerror (e));
      return NULL;
    }
  g_autofree char *db = g_build_filename (srv->state_dir, "lienthong.db", NULL);
  srv->store = rooms_store_open (db, (const char *const *)srv->config->tiers, error);
  if (srv->store == NULL)
    return NULL;
  rooms_store_set_lobby_window (srv->store, srv->config->lobby_window);
  if (srv->config->fake_now >= 0)
    rooms_store_set_now (srv->store, srv->config->fake_now);
  srv->attendance = sig_attendance_new (srv->store, srv->config->keyfile, error);
  if (srv->attendance == NULL)
    return NULL;

  if (!import_legacy_sequences (srv, error))
    return NULL;

  if (!bootstrap_admin_token (srv, error))
    return NULL;
  sig_password_prepare ();

  srv->soup = soup_server_new ("server-header", "lienthong-signald", NULL);
  soup_server_add_early_handler (srv->soup, NULL, early_cb, srv, NULL);
  soup_server_add_handler (srv->soup, NULL, server_cb, srv, NULL);
  srv->rt = sig_runtime_new (srv->store, srv->config, error);
  if (srv->rt == NULL)
    return NULL;
  srv->ws = sig_ws_new (srv);
  if (!listen_on (srv, error))
    return NULL;
  sig_lifecycle_run (srv);
  sig_audit_prune (srv);
  srv->audit_prune_source = g_timeout_add_seconds (3600, audit_prune_cb, srv);
  /* every minute: a cheap query, and a deployment's clock (or a test's) may jump */
  sig_recordings_expire (srv);
  srv->recordings_source = g_timeout_add_seconds (60, recordings_expire_cb, srv);
  return g_steal_pointer (&srv);
}

const char *
sig_server_get_address (SigServer *server)
{
  return server->address;
}

static gboolean
drain_done_cb (gpointer user_data)
{
  SigServer *srv = user_data;
  srv->drain_source = 0;
  if (srv->drain_done != NULL)
    ((void (*) (gpointer))srv->drain_done) (srv->drain_data);
  return G_SOURCE_REMOVE;
}

void
sig_server_drain (SigServer *server, GCallback done, gpointer user_data)
{
  if (server->draining)
    return;
  server->draining = TRUE;
  server->drain_done = done;
  server->drain_data = user_data;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                    "draining: refusing new bookings and joins, exiting in %d s",
                    server->config->drain_grace);
  server->drain_source = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT,
                                                     (guint)server->config->drain_grace,
                                                     drain_done_cb, server, NULL);
}

gboolean
sig_server_is_draining (SigServer *server)
{
  return server->draining;
}

void
sig_server_free (SigServer *server)
{
  if (server == NULL)
    return;
  g_clear_handle_id (&server->drain_source, g_source_remove);
  g_clear_handle_id (&server->lifecycle_source, g_source_remove);
  g_clear_handle_id (&server->audit_prune_source, g_source_remove);
  g_clear_handle_id (&server->recordings_source, g_source_remove);
  g_clear_pointer (&server->ws, sig_ws_free);
  g_clear_pointer (&server->rt, sig_runtime_free);
  if (server->soup != NULL)
    soup_server_disconnect (server->soup);
  g_clear_object (&server->soup);
  g_clear_pointer (&server->attendance, sig_attendance_free); /* writes its queue */
  g_clear_pointer (&server->store, rooms_store_free);
  g_clear_pointer (&server->limiter, sig_auth_limiter_free);
  g_clear_pointer (&server->account_backoff, sig_backoff_free);
  g_clear_pointer (&server->client_backoff, sig_backoff_free);
  g_clear_pointer (&server->requests, g_hash_table_unref);
  g_clear_pointer (&server->transitions, g_hash_table_unref);
  g_free (server->address);
  g_free (server->state_dir);
  sig_config_free (server->config);
  g_free (server);
}
