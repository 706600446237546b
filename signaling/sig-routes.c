/* sig-routes.c: the route table of the API, and its small routes: tokens, nodes,
 * health, metrics, the OpenAPI document. */
#include "sig-server-private.h"

#include "sig-ws.h"
#include "sig-alarms.h"
#include "lt-config.h"

#include <string.h>

const SigParam sig_params_token[] = {
  { "role", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { "scope", SIG_PARAM_STRING, FALSE, 1, 64, TRUE, NULL },
  { "expires_at", SIG_PARAM_TIME, FALSE, 0, 0, TRUE, NULL },
  { "label", SIG_PARAM_STRING, FALSE, 0, 200, TRUE, NULL },
  { "unit", SIG_PARAM_STRING, FALSE, 1, 32, TRUE, NULL },
  { NULL },
};

#define R_ALL_PEOPLE (SIG_ROLES_PEOPLE)
#define R_READERS (SIG_ROLE_ADMIN | SIG_ROLE_SECRETARY | SIG_ROLE_IT)
#define R_BOOKERS (SIG_ROLE_ADMIN | SIG_ROLE_SECRETARY)
#define R_STAFF (SIG_ROLE_ADMIN | SIG_ROLE_IT)

/* The API, one row per route; the first row that matches method and path wins, so
 * fixed paths come before the parameterised ones that would also match them. Each row
 * says which roles may call it and what they may reach through it (SigAccess). The
 * OpenAPI document (signaling/openapi.json) lists the same routes and roles; tests
 * hold the two together, and suite signaling-abuse tries every row with every role. */
static const SigRoute routes[] = {
  { "GET", "/healthz", SIG_ROLE_PUBLIC, SIG_ACCESS_ROLE, 0, NULL, sig_route_healthz,
    NULL },
  /* per-province loss and MOS are not for the public: the scraper holds an it token */
  { "GET", "/metrics", R_STAFF, SIG_ACCESS_ROLE, 0, NULL, sig_route_metrics, NULL },
  { "GET", "/api/v1/openapi.json", SIG_ROLE_PUBLIC, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_openapi, NULL },
  /* the unit tree itself is no secret to anyone signed in */
  { "GET", "/api/v1/units", R_ALL_PEOPLE, SIG_ACCESS_ROLE, 0, NULL, sig_route_units_list,
    NULL },
  { "GET", "/api/v1/units/search", R_ALL_PEOPLE, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_units_search, NULL },
  { "POST", "/api/v1/units/import", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, SIG_ROUTE_CSV_BODY,
    NULL, sig_route_units_import, "units.import" },
  { "GET", "/api/v1/units/{code}/calendar.ics", R_ALL_PEOPLE, SIG_ACCESS_UNIT_CALENDAR, 0,
    NULL, sig_route_units_calendar, NULL },
  { "GET", "/api/v1/units/{code}", R_ALL_PEOPLE, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_units_get, NULL },
  { "GET", "/api/v1/meetings", R_ALL_PEOPLE, SIG_ACCESS_FILTERED, 0, NULL,
    sig_route_meetings_list, NULL },
  { "POST", "/api/v1/meetings", R_BOOKERS, SIG_ACCESS_BOOKING,
    SIG_ROUTE_JSON_BODY | SIG_ROUTE_REFUSE_DRAINING, sig_params_book,
    sig_route_meetings_book, "meeting.book" },
  /* a POST that changes nothing: it only answers whether a booking would fit */
  { "POST", "/api/v1/meetings/check", R_BOOKERS, SIG_ACCESS_BOOKING,
    SIG_ROUTE_JSON_BODY | SIG_ROUTE_NO_CHANGE, sig_params_book, sig_route_meetings_check,
    NULL },
  { "GET", "/api/v1/meetings/{id}.ics", R_ALL_PEOPLE, SIG_ACCESS_MEETING_READ, 0, NULL,
    sig_route_meetings_ics, NULL },
  { "GET", "/api/v1/meetings/{id}/attendance", R_READERS, SIG_ACCESS_MEETING_READ, 0,
    NULL, sig_route_meetings_attendance, NULL },
  { "GET", "/api/v1/meetings/{id}", R_ALL_PEOPLE, SIG_ACCESS_MEETING_READ, 0, NULL,
    sig_route_meetings_get, NULL },
  { "PATCH", "/api/v1/meetings/{id}", R_BOOKERS, SIG_ACCESS_MEETING_EDIT,
    SIG_ROUTE_JSON_BODY | SIG_ROUTE_REFUSE_DRAINING, sig_params_patch,
    sig_route_meetings_patch, "meeting.change" },
  { "DELETE", "/api/v1/meetings/{id}", R_BOOKERS, SIG_ACCESS_MEETING_EDIT, 0, NULL,
    sig_route_meetings_delete, "meeting.cancel" },
  { "GET", "/api/v1/tokens", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_tokens_list, NULL },
  { "POST", "/api/v1/tokens", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, SIG_ROUTE_JSON_BODY,
    sig_params_token, sig_route_tokens_create, "token.create" },
  { "DELETE", "/api/v1/tokens/{id}", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_tokens_delete, "token.revoke" },
  { "GET", "/api/v1/nodes", R_STAFF, SIG_ACCESS_ROLE, 0, NULL, sig_route_nodes_list,
    NULL },
  { "DELETE", "/api/v1/nodes/{id}", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_nodes_retire, "node.retire" },
  { "POST", "/api/v1/occurrences/{id}/floor", R_BOOKERS, SIG_ACCESS_OCCURRENCE_CONTROL,
    SIG_ROUTE_JSON_BODY, sig_params_floor, sig_route_occurrence_floor,
    "occurrence.floor" },
  /* the presenter right: control, like the floor (issue 16) */
  { "POST", "/api/v1/occurrences/{id}/content", R_BOOKERS, SIG_ACCESS_OCCURRENCE_CONTROL,
    SIG_ROUTE_JSON_BODY, sig_params_content, sig_route_occurrence_content_give,
    "occurrence.presenter" },
  { "DELETE", "/api/v1/occurrences/{id}/content", R_BOOKERS,
    SIG_ACCESS_OCCURRENCE_CONTROL, 0, NULL, sig_route_occurrence_content_take,
    "occurrence.presenter-back" },
  { "POST", "/api/v1/occurrences/{id}/mute", R_BOOKERS, SIG_ACCESS_OCCURRENCE_CONTROL,
    SIG_ROUTE_JSON_BODY, sig_params_mute, sig_route_occurrence_mute, "occurrence.mute" },
  { "POST", "/api/v1/occurrences/{id}/level", R_BOOKERS, SIG_ACCESS_OCCURRENCE_CONTROL,
    SIG_ROUTE_JSON_BODY, sig_params_level, sig_route_occurrence_level,
    "occurrence.level" },
  { "GET", "/api/v1/occurrences/{id}/media", R_READERS, SIG_ACCESS_OCCURRENCE_READ, 0,
    NULL, sig_route_occurrence_media, NULL },
  /* recordings (sig-routes-recordings.c, issue 17): control is the chair's, like the
   * floor; the files are for those who book and may read the meeting */
  { "GET", "/api/v1/occurrences/{id}/recording", R_READERS, SIG_ACCESS_OCCURRENCE_READ, 0,
    NULL, sig_route_occurrence_recording_get, NULL },
  { "POST", "/api/v1/occurrences/{id}/recording", R_BOOKERS,
    SIG_ACCESS_OCCURRENCE_CONTROL, SIG_ROUTE_JSON_BODY, sig_params_recording,
    sig_route_occurrence_recording_control, "occurrence.recording" },
  { "GET", "/api/v1/recordings", R_BOOKERS, SIG_ACCESS_FILTERED, 0, NULL,
    sig_route_recordings_list, NULL },
  { "GET", "/api/v1/recordings/{id}/files/{name}", R_BOOKERS, SIG_ACCESS_RECORDING_READ,
    0, NULL, sig_route_recordings_file, NULL },
  { "GET", "/api/v1/recordings/{id}", R_BOOKERS, SIG_ACCESS_RECORDING_READ, 0, NULL,
    sig_route_recordings_get, NULL },
  /* link quality (sig-links.c, sig-alarms.c) */
  { "GET", "/api/v1/meetings/{id}/links", R_READERS, SIG_ACCESS_MEETING_READ, 0, NULL,
    sig_route_meeting_links, NULL },
  { "GET", "/api/v1/links/{leg}/history", R_READERS, SIG_ACCESS_LEG_READ, 0, NULL,
    sig_route_link_history, NULL },
  { "GET", "/api/v1/alarms", R_READERS, SIG_ACCESS_FILTERED, 0, NULL, sig_route_alarms,
    NULL },
  /* people's accounts and sessions (sig-routes-accounts.c, issue 15) */
  { "POST", "/api/v1/session", SIG_ROLE_PUBLIC, SIG_ACCESS_ROLE, SIG_ROUTE_JSON_BODY,
    sig_params_session, sig_route_session_create, "session.sign-in" },
  { "GET", "/api/v1/session", R_ALL_PEOPLE, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_session_get, NULL },
  { "GET", "/api/v1/session/options", SIG_ROLE_PUBLIC, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_session_options, NULL },
  { "DELETE", "/api/v1/session", SIG_ROLE_PUBLIC, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_session_delete, "session.sign-out" },
  { "POST", "/api/v1/session/password", R_READERS, SIG_ACCESS_ROLE, SIG_ROUTE_JSON_BODY,
    sig_params_password, sig_route_session_password, "account.password" },
  { "GET", "/api/v1/users", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_users_list, NULL },
  { "POST", "/api/v1/users", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, SIG_ROUTE_JSON_BODY,
    sig_params_user, sig_route_users_create, "account.create" },
  { "POST", "/api/v1/users/{name}/disable", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_users_disable, "account.disable" },
  { "POST", "/api/v1/users/{name}/enable", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL,
    sig_route_users_enable, "account.enable" },
  { "POST", "/api/v1/users/{name}/password", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE,
    SIG_ROUTE_JSON_BODY, sig_params_reset, sig_route_users_reset, "account.reset" },
  { "GET", "/api/v1/audit", SIG_ROLE_ADMIN, SIG_ACCESS_ROLE, 0, NULL, sig_route_audit,
    NULL },
  /* pinning a hall's level is control, like floor and mute (issue 13) */
  { "POST", "/api/v1/occurrences/{id}/sites/{site}/level", R_BOOKERS,
    SIG_ACCESS_OCCURRENCE_CONTROL, SIG_ROUTE_JSON_BODY, sig_params_site_level,
    sig_route_occurrence_site_level, "occurrence.site-level" },
};

const SigRoute *
sig_routes_get (guint *n)
{
  *n = G_N_ELEMENTS (routes);
  return routes;
}

/* ---- tokens ---- */

/* Why the scope is checked here and not in librooms: its meaning depends on the role
 * (a unit code for a secretary, a site id for a site, a node id for a node), which is
 * signaling's vocabulary; librooms stores it as an opaque string. */
/* Why the unit is fixed here: a node registers for the unit its token names and for
 * no other, so a stolen or misconfigured node token cannot take over the sites of a
 * unit it was never meant to serve. Every token of one node names the same unit;
 * moving a node to another unit means retiring it first (DELETE /api/v1/nodes/{id}). */
static gboolean
check_node_token (SigServer *srv, const char *scope, const char *unit, GError **error)
{
  if (scope == NULL || !sig_node_id_valid (scope))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "a node's scope must be its node id (letters, digits, '-', '_', "
                   "'.', at most 64)");
      return FALSE;
    }
  if (unit == NULL || rooms_store_get_unit (srv->store, unit) == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "a node token needs the existing unit its node serves");
      return FALSE;
    }
  g_autoptr (GPtrArray) tokens = rooms_store_list_tokens (srv->store);
  for (guint i = 0; tokens && i < tokens->len; i++)
    {
      RoomsToken *t = tokens->pdata[i];
      if (g_strcmp0 (rooms_token_get_role (t), "node") == 0
          && g_strcmp0 (rooms_token_get_scope (t), scope) == 0
          && g_strcmp0 (rooms_token_get_unit (t), unit) != 0)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT,
                       "node %s serves unit %s; retire it before giving it another",
                       scope,
                       rooms_token_get_unit (t) ? rooms_token_get_unit (t) : "(none)");
          return FALSE;
        }
    }
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (srv->store);
  for (guint i = 0; nodes && i < nodes->len; i++)
    {
      RoomsNode *n = nodes->pdata[i];
      gboolean same_id = g_strcmp0 (rooms_node_get_id (n), scope) == 0;
      gboolean same_unit = g_strcmp0 (rooms_node_get_unit_code (n), unit) == 0;
      if (same_id != same_unit)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT,
                       "node %s is registered for unit %s; retire it first",
                       rooms_node_get_id (n), rooms_node_get_unit_code (n));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
sig_check_scope (SigServer *srv, SigRole role, const char *scope, const char *unit,
                 GError **error)
{
  if (unit != NULL && role != SIG_ROLE_NODE)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "role %s takes no unit",
                   sig_role_to_string (role));
      return FALSE;
    }
  switch (role)
    {
    case SIG_ROLE_ADMIN:
    case SIG_ROLE_IT:
      if (scope != NULL)
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "role %s takes no scope",
                       sig_role_to_string (role));
          return FALSE;
        }
      return TRUE;
    case SIG_ROLE_SECRETARY:
      if (scope == NULL || rooms_store_get_unit (srv->store, scope) == NULL)
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                       "a secretary's scope must be an existing unit code");
          return FALSE;
        }
      return TRUE;
    case SIG_ROLE_SITE:
      {
        guint64 id;
        g_autoptr (RoomsSite) site = NULL;
        if (scope != NULL
            && g_ascii_string_to_unsigned (scope, 10, 1, G_MAXINT64, &id, NULL))
          site = rooms_store_get_site (srv->store, (gint64)id, NULL);
        if (site == NULL)
          {
            g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                         "a site's scope must be an existing site id");
            return FALSE;
          }
        return TRUE;
      }
    case SIG_ROLE_NODE:
      return check_node_token (srv, scope, unit, error);
    default:
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "role must be admin, secretary, site, it or node");
      return FALSE;
    }
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  return json_node_get_string (n);
}

gboolean
sig_route_tokens_create (SigServer *srv, SigRequest *req, GError **error)
{
  const char *role_name = member_string (req->body, "role");
  const char *scope = member_string (req->body, "scope");
  const char *expires = member_string (req->body, "expires_at");
  const char *unit = member_string (req->body, "unit");
  SigRole role = sig_role_from_string (role_name);
  gint64 expires_at = -1;

  if (role == SIG_ROLE_NONE || !sig_check_scope (srv, role, scope, unit, error))
    {
      if (role == SIG_ROLE_NONE)
        g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                     "role must be admin, secretary, site, it or node");
      req->error_field = g_strdup (role == SIG_ROLE_NONE ? "role"
                                   : role == SIG_ROLE_NODE && scope != NULL
                                           && sig_node_id_valid (scope)
                                       ? "unit"
                                       : "scope");
      return FALSE;
    }
  if (expires != NULL)
    {
      sig_parse_time (expires, &expires_at);
      if (expires_at <= sig_server_now (srv))
        {
          req->error_field = g_strdup ("expires_at");
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "expires_at must be in the future");
          return FALSE;
        }
    }
  g_autofree char *id = NULL;
  g_autofree char *secret = sig_token_generate (&id);
  g_autofree char *hash = sig_token_hash (secret);
  if (!rooms_store_add_token (srv->store, id, hash, role_name, scope, unit, expires_at,
                              error))
    return FALSE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "LT_TOKEN", id, "MESSAGE",
                    "token %s created with role %s", id, role_name);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, secret);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role_name);
  json_builder_set_member_name (b, "scope");
  if (scope)
    json_builder_add_string_value (b, scope);
  else
    json_builder_add_null_value (b);
  if (unit)
    {
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, unit);
    }
  json_builder_set_member_name (b, "expires_at");
  if (expires_at >= 0)
    {
      g_autofree char *t = sig_format_time (expires_at);
      json_builder_add_string_value (b, t);
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  sig_reply_json (req, 201, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_tokens_list (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (GPtrArray) tokens = rooms_store_list_tokens (srv->store);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (guint i = 0; tokens && i < tokens->len; i++)
    {
      RoomsToken *t = tokens->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rooms_token_get_id (t));
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, rooms_token_get_role (t));
      json_builder_set_member_name (b, "scope");
      if (rooms_token_get_scope (t))
        json_builder_add_string_value (b, rooms_token_get_scope (t));
      else
        json_builder_add_null_value (b);
      if (rooms_token_get_unit (t))
        {
          json_builder_set_member_name (b, "unit");
          json_builder_add_string_value (b, rooms_token_get_unit (t));
        }
      json_builder_set_member_name (b, "expires_at");
      if (rooms_token_get_expires_at (t) >= 0)
        {
          g_autofree char *s = sig_format_time (rooms_token_get_expires_at (t));
          json_builder_add_string_value (b, s);
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_tokens_delete (SigServer *srv, SigRequest *req, GError **error)
{
  const char *id = sig_request_param (req, "id");
  if (!rooms_store_delete_token (srv->store, id, error))
    return FALSE;
  /* a revoked token speaks no more: its open sockets close now */
  guint closed = sig_ws_revoke_token (srv->ws, id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_TOKEN", id, "MESSAGE",
                    "token %s revoked (%u open sockets closed)", id, closed);
  soup_server_message_set_status (req->msg, 204, NULL);
  return TRUE;
}

/* Retires a node: its tokens are deleted, its socket closed, its registration (and so
 * its unit) freed. Legs that planned it re-home its sites to the nearest node above
 * it, as when a node dies; the next occurrence is planned without it. */
gboolean
sig_route_nodes_retire (SigServer *srv, SigRequest *req, GError **error)
{
  const char *id = sig_request_param (req, "id");
  guint tokens = 0;
  if (!rooms_store_retire_node (srv->store, id, &tokens, error))
    return FALSE;
  sig_ws_retire_node (srv->ws, id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_NODE_ID", id, "MESSAGE",
                    "node %s retired (%u tokens deleted)", id, tokens);
  soup_server_message_set_status (req->msg, 204, NULL);
  return TRUE;
}

/* ---- nodes, health ---- */

gboolean
sig_route_nodes_list (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (srv->store);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint i = 0; nodes && i < nodes->len; i++)
    {
      RoomsNode *n = nodes->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rooms_node_get_id (n));
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, rooms_node_get_unit_code (n));
      json_builder_set_member_name (b, "capacity");
      json_builder_add_int_value (b, rooms_node_get_capacity (n));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (
          b, sig_runtime_node_is_up (srv->rt, rooms_node_get_id (n)) ? "up" : "down");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_healthz (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, srv->draining ? "draining" : "ok");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, LT_VERSION);
  json_builder_set_member_name (b, "units");
  json_builder_add_int_value (b, rooms_store_count_units (srv->store));
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

/* ---- metrics ---- */

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

gboolean
sig_route_metrics (SigServer *srv, SigRequest *req, GError **error)
{
  GString *s = g_string_new (NULL);

  g_string_append (s, "# HELP lienthong_build_info Build of this signald.\n"
                      "# TYPE lienthong_build_info gauge\n");
  g_string_append_printf (s, "lienthong_build_info{version=\"%s\"} 1\n", LT_VERSION);

  g_string_append (s, "# HELP lienthong_http_requests_total HTTP requests answered, by "
                      "route, method and status.\n"
                      "# TYPE lienthong_http_requests_total counter\n");
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (srv->requests, NULL);
  guint nk = g_hash_table_size (srv->requests);
  qsort (keys, nk, sizeof (gpointer), (int (*) (const void *, const void *))cmp_str);
  for (guint i = 0; i < nk; i++)
    {
      g_auto (GStrv) parts = g_strsplit (keys[i], "\t", 3);
      guint64 *n = g_hash_table_lookup (srv->requests, keys[i]);
      g_string_append_printf (
          s,
          "lienthong_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} "
          "%" G_GUINT64_FORMAT "\n",
          parts[0], parts[1], parts[2], *n);
    }

  g_string_append (s, "# HELP lienthong_meeting_occurrences Occurrences in the store "
                      "around now (past day to next 90 days), by state.\n"
                      "# TYPE lienthong_meeting_occurrences gauge\n");
  guint counts[5] = { 0 };
  gint64 now = sig_server_now (srv);
  g_autoptr (GPtrArray) meetings
      = rooms_store_list_meetings (srv->store, now - 86400, now + 90 * 86400, NULL, NULL);
  for (guint i = 0; meetings && i < meetings->len; i++)
    {
      g_autoptr (GPtrArray) occs = rooms_store_list_occurrences (
          srv->store, rooms_meeting_get_id (meetings->pdata[i]), NULL);
      for (guint j = 0; occs && j < occs->len; j++)
        {
          RoomsOccurrenceState st = rooms_occurrence_get_state (occs->pdata[j]);
          if ((guint)st < G_N_ELEMENTS (counts))
            counts[st]++;
        }
    }
  for (guint st = 0; st < G_N_ELEMENTS (counts); st++)
    g_string_append_printf (s, "lienthong_meeting_occurrences{state=\"%s\"} %u\n",
                            rooms_occurrence_state_to_string (st), counts[st]);

  g_string_append (s, "# HELP lienthong_lifecycle_transitions_total Occurrence "
                      "transitions applied by the timers since start.\n"
                      "# TYPE lienthong_lifecycle_transitions_total counter\n");
  static const char *const tos[] = { "open", "live", "ended" };
  for (gsize i = 0; i < G_N_ELEMENTS (tos); i++)
    {
      guint64 *n = g_hash_table_lookup (srv->transitions, tos[i]);
      g_string_append_printf (s,
                              "lienthong_lifecycle_transitions_total{to=\"%s\"} "
                              "%" G_GUINT64_FORMAT "\n",
                              tos[i], n ? *n : 0);
    }

  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (srv->store);
  g_string_append_printf (
      s,
      "# HELP lienthong_nodes_registered Media nodes in the registry.\n"
      "# TYPE lienthong_nodes_registered gauge\n"
      "lienthong_nodes_registered %u\n"
      "# HELP lienthong_nodes_up Media nodes connected with fresh heartbeats.\n"
      "# TYPE lienthong_nodes_up gauge\n"
      "lienthong_nodes_up %u\n"
      "# HELP lienthong_sites_connected Sites joined over /api/v1/ws.\n"
      "# TYPE lienthong_sites_connected gauge\n"
      "lienthong_sites_connected %u\n"
      "# HELP lienthong_units Units in the tree.\n"
      "# TYPE lienthong_units gauge\n"
      "lienthong_units %u\n"
      "# HELP lienthong_uptime_seconds Seconds since start.\n"
      "# TYPE lienthong_uptime_seconds gauge\n"
      "lienthong_uptime_seconds %.3f\n",
      nodes ? nodes->len : 0, sig_runtime_count_nodes_up (srv->rt),
      sig_ws_count_sites_connected (srv->ws), rooms_store_count_units (srv->store),
      (g_get_monotonic_time () - srv->started_us) / 1e6);
  sig_links_metrics (sig_runtime_get_links (srv->rt), s);

  sig_reply_text (req, 200, "text/plain; version=0.0.4; charset=utf-8",
                  g_string_free (s, FALSE));
  return TRUE;
}

gboolean
sig_route_openapi (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (GBytes) doc = g_resources_lookup_data ("/org/lienthong/signald/openapi.json",
                                                    G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (doc == NULL)
    return FALSE;
  gsize len;
  const char *data = g_bytes_get_data (doc, &len);
  soup_server_message_set_status (req->msg, 200, NULL);
  soup_server_message_set_response (req->msg, "application/json", SOUP_MEMORY_COPY, data,
                                    len);
  return TRUE;
}
