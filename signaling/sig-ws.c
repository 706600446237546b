/* sig-ws.c: the WebSocket endpoints of signald (protocol in signaling/PROTOCOL.md).
 *
 * /api/v1/ws serves sites and dashboards: subscribe to a meeting's events; a site
 * joins (its SDP offer goes to the node hosting it, the node's answer comes back) and
 * its join and leave are the roll call. /api/v1/nodes/ws is the control channel of
 * media nodes: register, heartbeats, answers and statistics. Authentication and the
 * Origin check happen before the handshake, in the early handler, so a refused client
 * never gets a socket. */
#include "sig-ws-private.h"

#include "sig-server-private.h"

#include <string.h>

#define SIG_WS_MAX_FRAME (64 * 1024)
#define SIG_PROTOCOL_VERSION 1

static void
node_state_free (gpointer data)
{
  NodeState *n = data;
  g_free (n->id);
  g_free (n->fingerprint);
  g_free (n);
}

static void
send_json (WsClient *c, JsonNode *node)
{
  if (soup_websocket_connection_get_state (c->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autofree char *text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (c->conn, text);
}

void
sig_ws_send_json (WsClient *c, JsonNode *node)
{
  send_json (c, node);
}

static void
send_simple (WsClient *c, const char *type, const char *k1, const char *v1)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (k1 != NULL)
    {
      json_builder_set_member_name (b, k1);
      json_builder_add_string_value (b, v1);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) n = json_builder_get_root (b);
  send_json (c, n);
}

static void
send_error (WsClient *c, const GError *error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, sig_error_code_name (error));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, error->message);
  json_builder_end_object (b);
  g_autoptr (JsonNode) n = json_builder_get_root (b);
  send_json (c, n);
}

/* Why indexes by meeting and by site: a national meeting has thousands of site
 * sockets, and every event, answer and candidate would otherwise scan them all. An
 * index maps a gint64 key to the clients (not owned) filed under it. */
static void
index_add (GHashTable *index, gint64 key, WsClient *c)
{
  GPtrArray *a = g_hash_table_lookup (index, &key);
  if (a == NULL)
    {
      a = g_ptr_array_new ();
      g_hash_table_insert (index, g_memdup2 (&key, sizeof key), a);
    }
  if (!g_ptr_array_find (a, c, NULL))
    g_ptr_array_add (a, c);
}

static void
index_remove (GHashTable *index, gint64 key, WsClient *c)
{
  GPtrArray *a = g_hash_table_lookup (index, &key);
  if (a != NULL && g_ptr_array_remove_fast (a, c) && a->len == 0)
    g_hash_table_remove (index, &key);
}

static GHashTable *
index_new (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                (GDestroyNotify)g_ptr_array_unref);
}

/* Sends @event to every dashboard and site socket (@all), or to the subscribers of
 * @meeting_id. */
static void
broadcast (SigWs *ws, JsonNode *event, gint64 meeting_id, gboolean all)
{
  GPtrArray *to = all ? ws->clients : g_hash_table_lookup (ws->subscribers, &meeting_id);
  for (guint i = 0; to && i < to->len; i++)
    {
      WsClient *c = to->pdata[i];
      if (c->principal->role != SIG_ROLE_NODE)
        send_json (c, event);
    }
}

void
sig_ws_publish (SigWs *ws, gint64 meeting_id, JsonNode *event)
{
  if (ws == NULL)
    return;
  if (JSON_NODE_HOLDS_OBJECT (event))
    json_object_set_int_member (json_node_get_object (event), "v", SIG_PROTOCOL_VERSION);
  broadcast (ws, event, meeting_id, FALSE);
}

void
sig_ws_tell_site (SigWs *ws, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
                  JsonNode *event)
{
  GPtrArray *socks = ws ? g_hash_table_lookup (ws->site_clients, &site_id) : NULL;
  if (JSON_NODE_HOLDS_OBJECT (event))
    json_object_set_int_member (json_node_get_object (event), "v", SIG_PROTOCOL_VERSION);
  for (guint i = 0; socks && i < socks->len; i++)
    {
      WsClient *c = socks->pdata[i];
      if (c->joined_occurrence == occurrence_id
          && !g_hash_table_contains (c->subscriptions, &meeting_id))
        send_json (c, event);
    }
}

static void
publish_node (SigWs *ws, const char *type, const char *node_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, node_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) n = json_builder_get_root (b);
  broadcast (ws, n, 0, TRUE);
  sig_links_node (ws->server->links, node_id, strcmp (type, "node.up") == 0);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_NODE_ID", node_id, "MESSAGE",
                    "node %s is %s", node_id,
                    strcmp (type, "node.up") == 0 ? "up" : "down");
}

/* A node is gone: the sites it hosted in open legs are told to join again; their
 * next join is routed to the nearest node above it that is up
 * (sig_cascade_node_for_site). */
static void
mark_node_down (SigWs *ws, NodeState *n)
{
  if (!n->up)
    return;
  n->up = FALSE;
  publish_node (ws, "node.down", n->id);
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (c->principal->role != SIG_ROLE_SITE || c->joined_occurrence <= 0
          || g_strcmp0 (c->media_node, n->id) != 0)
        continue;
      g_clear_pointer (&c->media_node, g_free);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "v");
      json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "rehome");
      json_builder_set_member_name (b, "occurrence_id");
      json_builder_add_int_value (b, c->joined_occurrence);
      json_builder_end_object (b);
      g_autoptr (JsonNode) ev = json_builder_get_root (b);
      send_json (c, ev);
    }
  sig_cascade_node_down (ws, n->id);
}

/* Why one timer for all nodes: the check is a scan of a few hundred entries at most,
 * and it keeps "down" a function of the configured interval times misses. */
static gboolean
heartbeat_check_cb (gpointer user_data)
{
  SigWs *ws = user_data;
  const SigConfig *cfg = ws->server->config;
  gint64 limit = (gint64)cfg->heartbeat_interval * cfg->heartbeat_misses * G_USEC_PER_SEC;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, ws->nodes);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      NodeState *n = v;
      if (n->up && now - n->last_heartbeat_us > limit)
        mark_node_down (ws, n);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- messages ---- */

static gint64
member_int (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return -1;
  return json_node_get_int (n);
}

static const char *
member_str (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
handle_subscribe (WsClient *c, JsonObject *o, gboolean subscribe, GError **error)
{
  SigServer *srv = c->ws->server;
  gint64 id = member_int (o, "meeting_id");
  g_autoptr (RoomsMeeting) m
      = id > 0 ? rooms_store_get_meeting (srv->store, id, NULL) : NULL;
  if (m == NULL || !sig_meeting_may_read (srv, c->principal, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "no meeting %" G_GINT64_FORMAT, id);
      return FALSE;
    }
  if (subscribe)
    {
      g_hash_table_add (c->subscriptions, g_memdup2 (&id, sizeof id));
      index_add (c->ws->subscribers, id, c);
    }
  else
    {
      g_hash_table_remove (c->subscriptions, &id);
      index_remove (c->ws->subscribers, id, c);
    }
  g_autofree char *ids = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  send_simple (c, subscribe ? "subscribed" : "unsubscribed", "meeting_id", ids);
  return TRUE;
}

/* The node of the site's nearest ancestor-or-self unit that has a registered node
 * that is up: where the site would be hosted with the nodes that are down left out. */
static NodeState *
nearest_up_node (SigWs *ws, gint64 site_id)
{
  RoomsStore *store = ws->server->store;
  g_autoptr (RoomsSite) site = rooms_store_get_site (store, site_id, NULL);
  if (site == NULL)
    return NULL;
  g_autoptr (GHashTable) by_unit = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (store);
  for (guint i = 0; nodes && i < nodes->len; i++)
    g_hash_table_insert (by_unit, (char *)rooms_node_get_unit_code (nodes->pdata[i]),
                         (char *)rooms_node_get_id (nodes->pdata[i]));
  for (RoomsUnit *u = rooms_store_get_unit (store, rooms_site_get_unit_code (site));
       u != NULL; u = rooms_unit_get_parent (u))
    {
      const char *id = g_hash_table_lookup (by_unit, rooms_unit_get_code (u));
      NodeState *n = id ? g_hash_table_lookup (ws->nodes, id) : NULL;
      if (n && n->up && n->client)
        return n;
    }
  return NULL;
}

static NodeState *
node_for_site (SigWs *ws, gint64 occurrence_id, gint64 site_id, GError **error)
{
  SigServer *srv = ws->server;
  /* an open leg knows its plan and re-homes around nodes that are down; only
   * without one is the meeting (all its sites) loaded to plan */
  const char *node_id = sig_cascade_node_for_site (ws, occurrence_id, site_id);
  g_autoptr (RoomsCascadePlan) plan = NULL;
  g_autoptr (RoomsMeeting) m = NULL;
  if (node_id == NULL)
    {
      g_autoptr (RoomsOccurrence) occ
          = rooms_store_get_occurrence (srv->store, occurrence_id, error);
      if (occ == NULL)
        return NULL;
      m = rooms_store_get_meeting (srv->store, rooms_occurrence_get_meeting_id (occ),
                                   error);
      if (m == NULL)
        return NULL;
      GArray *sites = rooms_meeting_get_site_ids (m);
      plan = rooms_store_compute_plan (srv->store, (const gint64 *)sites->data,
                                       sites->len, NULL);
      node_id = plan ? rooms_cascade_plan_node_for_site (plan, site_id) : NULL;
    }
  NodeState *n = node_id ? g_hash_table_lookup (ws->nodes, node_id) : NULL;
  if (n == NULL || !n->up || n->client == NULL)
    n = nearest_up_node (ws, site_id);
  if (n == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                   "no media node is up for site %" G_GINT64_FORMAT, site_id);
      return NULL;
    }
  return n;
}

/* "Test my line": the site's offer goes, marked echo, to the node that would host
 * the site (the node of its nearest ancestor unit with one, up), with no meeting;
 * the answer and candidates come back as for a join. */
static gboolean
handle_echo (WsClient *c, JsonObject *o, GError **error)
{
  const char *sdp = member_str (o, "sdp");
  if (c->principal->role != SIG_ROLE_SITE)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                           "only a site tests its line");
      return FALSE;
    }
  if (sdp == NULL)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "sdp is required");
      return FALSE;
    }
  NodeState *n = nearest_up_node (c->ws, c->site_id);
  if (n == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                   "no media node is up for site %" G_GINT64_FORMAT, c->site_id);
      return FALSE;
    }
  g_free (c->echo_node);
  c->echo_node = g_strdup (n->id);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "site.offer");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, c->site_id);
  json_builder_set_member_name (b, "echo");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  json_builder_end_object (b);
  g_autoptr (JsonNode) fwd = json_builder_get_root (b);
  send_json (n->client, fwd);
  return TRUE;
}

const char *
sig_ws_site_node (SigWs *ws, gint64 occurrence_id, gint64 site_id)
{
  GPtrArray *socks = g_hash_table_lookup (ws->site_clients, &site_id);
  for (guint i = 0; socks && i < socks->len; i++)
    {
      WsClient *c = socks->pdata[i];
      if (c->joined_occurrence == occurrence_id && c->media_node != NULL
          && sig_ws_node_is_up (ws, c->media_node))
        return c->media_node;
    }
  return sig_cascade_node_for_site (ws, occurrence_id, site_id);
}

/* Tells the node that hosts a site's media that it left (or moved elsewhere). */
static void
send_site_leave (WsClient *c)
{
  g_autofree char *node_id = g_steal_pointer (&c->media_node);
  NodeState *n = node_id ? g_hash_table_lookup (c->ws->nodes, node_id) : NULL;
  if (n == NULL || !n->up || n->client == NULL || c->joined_occurrence <= 0)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "site.leave");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, c->joined_occurrence);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, c->site_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) msg = json_builder_get_root (b);
  send_json (n->client, msg);
}

/* A site joins an occurrence: the roll call records it, the event goes to the
 * meeting's subscribers, and the SDP offer (when given) goes to the hosting node,
 * whose answer comes back through handle_node_message(). */
static gboolean
handle_join (WsClient *c, JsonObject *o, gboolean join, GError **error)
{
  SigServer *srv = c->ws->server;
  if (c->principal->role != SIG_ROLE_SITE)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "only a site joins");
      return FALSE;
    }
  if (join && srv->draining)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                           "the server is shutting down; retry on its successor");
      return FALSE;
    }
  gint64 occ = join ? member_int (o, "occurrence_id") : c->joined_occurrence;
  if (occ <= 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "occurrence_id is required");
      return FALSE;
    }
  g_autoptr (RoomsOccurrence) o_occ = rooms_store_get_occurrence (srv->store, occ, error);
  if (o_occ == NULL)
    return FALSE;
  gint64 now = sig_server_now (srv);
  if (join ? !sig_attendance_join (srv->attendance, occ, c->site_id, now, error)
           : !sig_attendance_leave (srv->attendance, occ, c->site_id, now, error))
    return FALSE;
  if (!join || c->joined_occurrence != occ)
    send_site_leave (c);
  c->joined_occurrence = join ? occ : 0;

  gint64 meeting_id = rooms_occurrence_get_meeting_id (o_occ);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, join ? "site.joined" : "site.left");
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, meeting_id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, c->site_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  sig_ws_publish (c->ws, meeting_id, ev);
  send_simple (c, join ? "joined" : "left", NULL, NULL);

  const char *sdp = member_str (o, "sdp");
  if (join && sdp != NULL)
    {
      NodeState *n = node_for_site (c->ws, occ, c->site_id, error);
      if (n == NULL)
        return FALSE;
      if (g_strcmp0 (c->media_node, n->id) != 0)
        send_site_leave (c); /* re-homed, or back home: the old node lets it go */
      const char *level = sig_cascade_site_level (c->ws, occ, c->site_id);
      g_autoptr (JsonBuilder) fb = json_builder_new ();
      json_builder_begin_object (fb);
      json_builder_set_member_name (fb, "v");
      json_builder_add_int_value (fb, SIG_PROTOCOL_VERSION);
      json_builder_set_member_name (fb, "type");
      json_builder_add_string_value (fb, "site.offer");
      json_builder_set_member_name (fb, "occurrence_id");
      json_builder_add_int_value (fb, occ);
      json_builder_set_member_name (fb, "site_id");
      json_builder_add_int_value (fb, c->site_id);
      json_builder_set_member_name (fb, "sdp");
      json_builder_add_string_value (fb, sdp);
      if (level != NULL)
        {
          json_builder_set_member_name (fb, "level");
          json_builder_add_string_value (fb, level);
        }
      json_builder_end_object (fb);
      g_autoptr (JsonNode) fwd = json_builder_get_root (fb);
      send_json (n->client, fwd);
      g_free (c->media_node);
      c->media_node = g_strdup (n->id);
      sig_cascade_site_routed (c->ws, occ, c->site_id);
    }
  return TRUE;
}

/* A site raises or lowers its hand: the meeting's subscribers (the chair's
 * secretary) see a hand event. */
static gboolean
handle_hand (WsClient *c, JsonObject *o, GError **error)
{
  JsonNode *raised = json_object_get_member (o, "raised");
  if (c->principal->role != SIG_ROLE_SITE || c->joined_occurrence <= 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "join first");
      return FALSE;
    }
  if (raised == NULL || !JSON_NODE_HOLDS_VALUE (raised)
      || json_node_get_value_type (raised) != G_TYPE_BOOLEAN)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "raised: a boolean is required");
      return FALSE;
    }
  g_autoptr (RoomsOccurrence) occ
      = rooms_store_get_occurrence (c->ws->server->store, c->joined_occurrence, error);
  if (occ == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "hand");
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, rooms_occurrence_get_meeting_id (occ));
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, c->joined_occurrence);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, c->site_id);
  json_builder_set_member_name (b, "raised");
  json_builder_add_boolean_value (b, json_node_get_boolean (raised));
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  sig_ws_publish (c->ws, rooms_occurrence_get_meeting_id (occ), ev);
  send_simple (c, "hand.ok", NULL, NULL);
  return TRUE;
}

/* Relays a message between a site and its node: "ice" from a site goes to the node
 * hosting its joined occurrence; "site.answer" / "site.ice" from a node go to the
 * sockets of that site. */
static gboolean
relay_to_site (SigWs *ws, JsonObject *o, const char *type, GError **error)
{
  gint64 site = member_int (o, "site_id");
  gboolean sent = FALSE;
  json_object_set_string_member (o, "type", type);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  GPtrArray *socks = g_hash_table_lookup (ws->site_clients, &site);
  for (guint i = 0; socks && i < socks->len; i++)
    send_json (socks->pdata[i], n), sent = TRUE;
  if (!sent)
    g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND,
                 "site %" G_GINT64_FORMAT " is not connected", site);
  return sent;
}

/* A joined site's trickled ICE candidate goes to the node hosting it, as "site.ice"
 * with the site id added (the node relays its own candidates back the same way). */
static gboolean
handle_site_ice (WsClient *c, JsonObject *o, GError **error)
{
  if (c->principal->role != SIG_ROLE_SITE
      || (c->joined_occurrence <= 0 && c->echo_node == NULL))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "join first");
      return FALSE;
    }
  NodeState *n = c->joined_occurrence > 0 && c->media_node != NULL
                     ? g_hash_table_lookup (c->ws->nodes, c->media_node)
                 : c->joined_occurrence > 0
                     ? node_for_site (c->ws, c->joined_occurrence, c->site_id, error)
                     : g_hash_table_lookup (c->ws->nodes, c->echo_node);
  if (n == NULL || n->client == NULL)
    {
      if (error && *error == NULL)
        g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE, "the echo node went away");
      return FALSE;
    }
  json_object_set_string_member (o, "type", "site.ice");
  json_object_set_int_member (o, "v", SIG_PROTOCOL_VERSION);
  json_object_set_int_member (o, "site_id", c->site_id);
  json_object_set_int_member (o, "occurrence_id", c->joined_occurrence);
  g_autoptr (JsonNode) fwd = json_node_init_object (json_node_alloc (), o);
  send_json (n->client, fwd);
  return TRUE;
}

static gboolean
handle_node_message (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  SigWs *ws = c->ws;
  SigServer *srv = ws->server;
  if (strcmp (type, "register") == 0)
    {
      const char *node_id = member_str (o, "node_id");
      const char *unit = member_str (o, "unit");
      gint64 capacity = member_int (o, "capacity");
      if (member_int (o, "v") != SIG_PROTOCOL_VERSION)
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                       "protocol version %d is required", SIG_PROTOCOL_VERSION);
          return FALSE;
        }
      if (node_id == NULL || g_strcmp0 (node_id, c->principal->scope) != 0)
        {
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                               "node_id must be the node of this token");
          return FALSE;
        }
      if (unit == NULL || capacity <= 0 || capacity > G_MAXUINT
          || member_str (o, "fingerprint") == NULL)
        {
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "register needs unit, capacity > 0 and fingerprint");
          return FALSE;
        }
      if (!rooms_store_register_node (srv->store, node_id, unit, (guint)capacity, error))
        return FALSE;
      NodeState *n = g_hash_table_lookup (ws->nodes, node_id);
      if (n == NULL)
        {
          n = g_new0 (NodeState, 1);
          n->id = g_strdup (node_id);
          g_hash_table_insert (ws->nodes, n->id, n);
        }
      if (n->client != NULL && n->client != c)
        g_clear_pointer (&n->client->node_id, g_free); /* the newer socket wins */
      n->client = c;
      n->last_heartbeat_us = g_get_monotonic_time ();
      g_free (c->node_id);
      c->node_id = g_strdup (node_id);
      g_free (n->fingerprint);
      n->fingerprint = g_strdup (member_str (o, "fingerprint"));
      g_autofree char *hb = g_strdup_printf ("%d", srv->config->heartbeat_interval);
      send_simple (c, "registered", "heartbeat_interval", hb);
      if (!n->up)
        {
          n->up = TRUE;
          publish_node (ws, "node.up", node_id);
        }
      /* a node (re)joining gets its part of every leg that should be running */
      sig_cascade_node_up (ws, node_id);
      return TRUE;
    }
  NodeState *n = c->node_id ? g_hash_table_lookup (ws->nodes, c->node_id) : NULL;
  if (n == NULL)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "register first");
      return FALSE;
    }
  if (strcmp (type, "heartbeat") == 0)
    {
      n->last_heartbeat_us = g_get_monotonic_time ();
      if (!n->up)
        {
          n->up = TRUE;
          publish_node (ws, "node.up", n->id);
        }
      return TRUE;
    }
  if (strcmp (type, "site.answer") == 0 || strcmp (type, "site.ice") == 0)
    return relay_to_site (ws, o, strcmp (type, "site.answer") == 0 ? "answer" : "ice",
                          error);
  if (strcmp (type, "link.offer") == 0 || strcmp (type, "link.answer") == 0
      || strcmp (type, "link.ice") == 0)
    return sig_cascade_relay_link (ws, n->id, o, error);
  if (strcmp (type, "endpoint.state") == 0)
    {
      if (!sig_cascade_endpoint_state (ws, n->id, o, error))
        return FALSE;
      sig_links_endpoint_state (srv->links, n->id, o);
      return TRUE;
    }
  if (strcmp (type, "speaker") == 0)
    {
      gint64 site = member_int (o, "site_id");
      if (site > 0)
        sig_cascade_event (ws, member_int (o, "occurrence_id"), "speaker", site, NULL,
                           FALSE);
      return TRUE;
    }
  if (strcmp (type, "leg.opened") == 0 || strcmp (type, "leg.closed") == 0
      || strcmp (type, "error") == 0)
    return TRUE;
  if (strcmp (type, "stats") == 0)
    return sig_links_ingest (srv->links, n->id, o, error);
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "unknown message type %s", type);
  return FALSE;
}

static void
message_cb (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user_data)
{
  WsClient *c = user_data;
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  if (len > SIG_WS_MAX_FRAME)
    {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG,
                                       "message over 64 KiB");
      return;
    }
  g_autoptr (JsonNode) root = NULL;
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "text frames only");
  else
    root = sig_json_parse_object (data, len, &error);
  if (root == NULL)
    {
      send_error (c, error);
      return;
    }
  JsonObject *o = json_node_get_object (root);
  const char *t = member_str (o, "type");
  gboolean ok;
  if (t == NULL)
    {
      g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "type is required");
      ok = FALSE;
    }
  else if (c->principal->role == SIG_ROLE_NODE)
    ok = handle_node_message (c, o, t, &error);
  else if (strcmp (t, "subscribe") == 0 || strcmp (t, "unsubscribe") == 0)
    ok = handle_subscribe (c, o, strcmp (t, "subscribe") == 0, &error);
  else if (strcmp (t, "join") == 0 || strcmp (t, "leave") == 0)
    ok = handle_join (c, o, strcmp (t, "join") == 0, &error);
  else if (strcmp (t, "ice") == 0)
    ok = handle_site_ice (c, o, &error);
  else if (strcmp (t, "echo") == 0)
    ok = handle_echo (c, o, &error);
  else if (strcmp (t, "hand") == 0)
    ok = handle_hand (c, o, &error);
  else if (strcmp (t, "ping") == 0)
    {
      send_simple (c, "pong", NULL, NULL);
      ok = TRUE;
    }
  else
    {
      g_set_error (&error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "unknown message type %s",
                   t);
      ok = FALSE;
    }
  if (!ok)
    send_error (c, error);
}

static void
client_free (WsClient *c)
{
  g_clear_pointer (&c->principal, sig_principal_free);
  g_clear_pointer (&c->subscriptions, g_hash_table_unref);
  g_free (c->node_id);
  g_free (c->echo_node);
  g_free (c->media_node);
  g_clear_object (&c->conn);
  g_free (c);
}

/* A hall's page opened or closed (its first socket, or its last): the people's
 * dashboards are told (`site.presence`), never the other sites, so the roll call
 * shows who is ready before the meeting starts. */
static void
publish_presence (SigWs *ws, gint64 site_id, gboolean online)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "site.presence");
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  json_builder_set_member_name (b, "online");
  json_builder_add_boolean_value (b, online);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (c->principal->role & (SIG_ROLE_ADMIN | SIG_ROLE_IT | SIG_ROLE_SECRETARY))
        send_json (c, ev);
    }
}

static void
closed_cb (SoupWebsocketConnection *conn, gpointer user_data)
{
  WsClient *c = user_data;
  SigWs *ws = c->ws;
  if (c->node_id != NULL)
    {
      NodeState *n = g_hash_table_lookup (ws->nodes, c->node_id);
      if (n != NULL && n->client == c)
        {
          n->client = NULL;
          mark_node_down (ws, n);
        }
    }
  if (c->joined_occurrence > 0)
    {
      sig_attendance_leave (ws->server->attendance, c->joined_occurrence, c->site_id,
                            sig_server_now (ws->server), NULL);
      send_site_leave (c);
    }
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, c->subscriptions);
  while (g_hash_table_iter_next (&it, &key, NULL))
    index_remove (ws->subscribers, *(gint64 *)key, c);
  if (c->principal->role == SIG_ROLE_SITE)
    {
      index_remove (ws->site_clients, c->site_id, c);
      if (!sig_ws_site_online (ws, c->site_id))
        publish_presence (ws, c->site_id, FALSE);
    }
  g_signal_handlers_disconnect_by_data (conn, c);
  g_ptr_array_remove (ws->clients, c); /* frees c */
}

static void
ws_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
       SoupWebsocketConnection *conn, gpointer user_data)
{
  SigWs *ws = user_data;
  SigPrincipal *p = g_object_steal_data (G_OBJECT (msg), "sig-principal");
  if (p == NULL)
    {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
      return;
    }
  WsClient *c = g_new0 (WsClient, 1);
  c->ws = ws;
  c->conn = g_object_ref (conn);
  c->principal = p;
  c->subscriptions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  if (p->role == SIG_ROLE_SITE)
    c->site_id = g_ascii_strtoll (p->scope ? p->scope : "0", NULL, 10);
  /* libsoup drops an over-limit frame without a close frame; its hard cap stays as a
   * memory bound, and message_cb closes properly with 1009 above SIG_WS_MAX_FRAME */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 1024 * 1024);
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), c);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), c);
  g_ptr_array_add (ws->clients, c);
  if (p->role == SIG_ROLE_SITE)
    {
      gboolean first = !sig_ws_site_online (ws, c->site_id);
      index_add (ws->site_clients, c->site_id, c);
      if (first)
        publish_presence (ws, c->site_id, TRUE);
    }
  send_simple (c, "hello", "role", sig_role_to_string (p->role));
}

/* Why the Origin rule: browsers send Origin on every WebSocket handshake and any page
 * could open one to a loopback daemon; only the daemon's own origin (Host) and the
 * configured allowed-origins may. Programs send no Origin and are judged by token. */
static gboolean
origin_allowed (SigWs *ws, SoupMessageHeaders *h)
{
  const char *origin = soup_message_headers_get_one (h, "Origin");
  if (origin == NULL)
    return TRUE;
  const char *host = soup_message_headers_get_one (h, "Host");
  if (host != NULL)
    {
      g_autofree char *same_http = g_strconcat ("http://", host, NULL);
      g_autofree char *same_https = g_strconcat ("https://", host, NULL);
      if (g_ascii_strcasecmp (origin, same_http) == 0
          || g_ascii_strcasecmp (origin, same_https) == 0)
        return TRUE;
    }
  for (char **o = ws->server->config->allowed_origins; o && *o; o++)
    if (g_ascii_strcasecmp (origin, *o) == 0)
      return TRUE;
  return FALSE;
}

gboolean
sig_ws_early (SigWs *ws, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  SigServer *srv = ws->server;
  gboolean node_path = strcmp (path, "/api/v1/nodes/ws") == 0;
  if (!node_path && strcmp (path, "/api/v1/ws") != 0)
    return FALSE;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  g_autoptr (GError) error = NULL;
  g_autofree char *addr = sig_server_client_address (srv, msg);
  gint64 mono = g_get_monotonic_time ();

  if (!origin_allowed (ws, h))
    g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "origin not allowed");
  else if (sig_auth_limiter_blocked (srv->limiter, addr, mono))
    g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_TOO_MANY,
                         "too many failed authentications; try again later");
  else
    {
      const char *auth = soup_message_headers_get_one (h, "Authorization");
      g_autofree char *from_query = NULL;
      if (auth == NULL && query != NULL && g_hash_table_lookup (query, "access_token"))
        auth = from_query = g_strconcat (
            "Bearer ", (char *)g_hash_table_lookup (query, "access_token"), NULL);
      SigPrincipal *p = sig_authenticate (srv->store, auth, sig_server_now (srv), &error);
      if (p == NULL && auth != NULL)
        sig_auth_limiter_fail (srv->limiter, addr, mono);
      if (p != NULL && node_path != (p->role == SIG_ROLE_NODE))
        {
          g_set_error (&error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "role %s may not open %s",
                       sig_role_to_string (p->role), path);
          g_clear_pointer (&p, sig_principal_free);
        }
      if (p != NULL)
        g_object_set_data_full (G_OBJECT (msg), "sig-principal", p,
                                (GDestroyNotify)sig_principal_free);
    }
  if (error != NULL)
    sig_reply_error (msg, error, NULL, NULL);
  return TRUE;
}

/* libsoup keeps one handler entry per path and calls only the most specific one, so
 * the WebSocket paths need their early check registered on themselves. */
static void
early_ws_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
             GHashTable *query, gpointer user_data)
{
  sig_ws_early (user_data, msg, path, query);
}

SigWs *
sig_ws_new (SigServer *server)
{
  SigWs *ws = g_new0 (SigWs, 1);
  ws->server = server;
  ws->clients = g_ptr_array_new_with_free_func ((GDestroyNotify)client_free);
  ws->subscribers = index_new ();
  ws->site_clients = index_new ();
  ws->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, node_state_free);
  sig_cascade_init (ws);
  soup_server_add_early_handler (server->soup, "/api/v1/ws", early_ws_cb, ws, NULL);
  soup_server_add_early_handler (server->soup, "/api/v1/nodes/ws", early_ws_cb, ws, NULL);
  soup_server_add_websocket_handler (server->soup, "/api/v1/ws", NULL, NULL, ws_cb, ws,
                                     NULL);
  soup_server_add_websocket_handler (server->soup, "/api/v1/nodes/ws", NULL, NULL, ws_cb,
                                     ws, NULL);
  ws->heartbeat_source = g_timeout_add_seconds (
      (guint)MAX (server->config->heartbeat_interval, 1), heartbeat_check_cb, ws);
  return ws;
}

void
sig_ws_free (SigWs *ws)
{
  if (ws == NULL)
    return;
  g_clear_handle_id (&ws->heartbeat_source, g_source_remove);
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      g_signal_handlers_disconnect_by_data (c->conn, c);
      if (soup_websocket_connection_get_state (c->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  g_ptr_array_unref (ws->clients);
  g_hash_table_unref (ws->subscribers);
  g_hash_table_unref (ws->site_clients);
  sig_cascade_clear (ws);
  g_hash_table_unref (ws->nodes);
  g_free (ws);
}

guint
sig_ws_count_nodes_up (SigWs *ws)
{
  guint n = 0;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, ws->nodes);
  while (g_hash_table_iter_next (&it, NULL, &v))
    n += ((NodeState *)v)->up;
  return n;
}

guint
sig_ws_count_sites_connected (SigWs *ws)
{
  guint n = 0;
  for (guint i = 0; i < ws->clients->len; i++)
    n += ((WsClient *)ws->clients->pdata[i])->joined_occurrence > 0;
  return n;
}

gboolean
sig_ws_site_online (SigWs *ws, gint64 site_id)
{
  GPtrArray *socks = ws ? g_hash_table_lookup (ws->site_clients, &site_id) : NULL;
  return socks != NULL && socks->len > 0;
}

gboolean
sig_ws_node_is_up (SigWs *ws, const char *node_id)
{
  NodeState *n = g_hash_table_lookup (ws->nodes, node_id);
  return n != NULL && n->up;
}
