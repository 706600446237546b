/* sig-ws.c: the WebSocket endpoints of signald (protocol in signaling/PROTOCOL.md).
 *
 * /api/v1/ws serves sites and dashboards: subscribe to a meeting's events; a site
 * joins (its SDP offer goes to the node hosting it, the node's answer comes back) and
 * its join and leave are the roll call. /api/v1/nodes/ws is the control channel of
 * media nodes: register, heartbeats, answers and statistics. Authentication and the
 * Origin check happen before the handshake, in the early handler, so a refused client
 * never gets a socket. */
#include "sig-recording.h"
#include "sig-ws-private.h"

#include "sig-server-private.h"

#include <string.h>

#define SIG_WS_MAX_FRAME (64 * 1024)
/* The most bytes read from a socket between two complete messages: a 64 KiB message
 * with its framing and one read of the next fit well within it. */
#define SIG_WS_BUDGET (256 * 1024)
#define SIG_PROTOCOL_VERSION 1
#define SIG_WS_SUBPROTOCOL "lienthong.v1"
#define SIG_WS_BEARER_PREFIX "lienthong.bearer."

static void
send_json (WsClient *c, JsonNode *node)
{
  if (soup_websocket_connection_get_state (c->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autofree char *text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (c->conn, text);
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

/* Sends {type, occurrence_id, site_id, presenter_site_id, content_site_id} to a
 * site's socket about the occurrence it joined: its own site, who may present and who
 * presents (null when no leg runs, or nobody presents), so a hall that (re)joins knows
 * without following the meeting. */
static void
send_presenting (WsClient *c, const char *type)
{
  gint64 occ = c->joined_occurrence;
  gboolean open = occ > 0 && sig_cascade_is_open (c->ws->rt, occ);
  gint64 sites[2] = { open ? sig_cascade_presenter_site (c->ws->rt, occ) : 0,
                      open ? sig_cascade_content_site (c->ws->rt, occ) : 0 };
  const char *names[2] = { "presenter_site_id", "content_site_id" };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, SIG_PROTOCOL_VERSION);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, c->site_id);
  for (int i = 0; i < 2; i++)
    {
      json_builder_set_member_name (b, names[i]);
      if (sites[i] > 0)
        json_builder_add_int_value (b, sites[i]);
      else
        json_builder_add_null_value (b);
    }
  /* and whether it is recorded: a hall must see that it is (issue 17) */
  gboolean paused = FALSE;
  gint64 rec = open ? sig_recording_current (c->ws->rt, occ, &paused) : 0;
  json_builder_set_member_name (b, "recording");
  if (rec > 0)
    json_builder_add_string_value (b, paused ? "paused" : "recording");
  else
    json_builder_add_null_value (b);
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

/* ---- the runtime's sink ---- */

/* Sends @msg to the channel of node @node_id. Returns: FALSE when it has none. */
static gboolean
sink_to_node (gpointer sink, const char *node_id, JsonNode *msg)
{
  SigWs *ws = sink;
  WsClient *c = node_id ? g_hash_table_lookup (ws->node_clients, node_id) : NULL;
  if (c == NULL || c->revoked)
    return FALSE;
  send_json (c, msg);
  return TRUE;
}

static void
sink_publish (gpointer sink, gint64 meeting_id, JsonNode *event)
{
  sig_ws_publish (sink, meeting_id, event);
}

/* Why staff only: link statistics and alarms name every site's quality and are for
 * the people who run the meeting, not for the halls. */
static void
sink_publish_staff (gpointer sink, gint64 meeting_id, JsonNode *event)
{
  SigWs *ws = sink;
  GPtrArray *to
      = meeting_id > 0 ? g_hash_table_lookup (ws->subscribers, &meeting_id) : ws->clients;
  for (guint i = 0; to && i < to->len; i++)
    {
      WsClient *c = to->pdata[i];
      if (c->principal->role & (SIG_ROLE_ADMIN | SIG_ROLE_IT | SIG_ROLE_SECRETARY))
        send_json (c, event);
    }
}

static void
sink_broadcast (gpointer sink, JsonNode *event)
{
  broadcast (sink, event, 0, TRUE);
}

static void
sink_to_site (gpointer sink, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
              JsonNode *event)
{
  sig_ws_tell_site (sink, meeting_id, occurrence_id, site_id, event);
}

/* A node is gone: the sites whose offer went to it are told to join again; their
 * next join is routed to the nearest node above it that is up. */
static void
sink_node_down (gpointer sink, const char *node_id)
{
  SigWs *ws = sink;
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (c->principal->role != SIG_ROLE_SITE || c->joined_occurrence <= 0
          || g_strcmp0 (c->media_node, node_id) != 0)
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
}

static const SigSinkFuncs ws_sink = {
  sink_to_node,   sink_publish, sink_publish_staff,
  sink_broadcast, sink_to_site, sink_node_down,
};

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
  if (m == NULL || !sig_policy_may_read_meeting (srv->store, c->principal, m))
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
  const char *node = sig_runtime_echo_node (c->ws->rt, c->site_id, error);
  if (node == NULL)
    return FALSE;
  g_free (c->echo_node);
  c->echo_node = g_strdup (node);
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
  sink_to_node (c->ws, node, fwd);
  return TRUE;
}

/* Tells the node that hosts a site's media that it left (or moved elsewhere). */
static void
send_site_leave (WsClient *c)
{
  g_autofree char *node_id = g_steal_pointer (&c->media_node);
  if (node_id == NULL || !sig_runtime_node_is_up (c->ws->rt, node_id)
      || c->joined_occurrence <= 0)
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
  sink_to_node (c->ws, node_id, msg);
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
    {
      /* leaving its occurrence ends what the site was showing there */
      if (c->joined_occurrence > 0)
        sig_cascade_stop_content (c->ws->rt, c->joined_occurrence, c->site_id);
      send_site_leave (c);
    }
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
  if (join)
    send_presenting (c, "joined");
  else
    send_simple (c, "left", NULL, NULL);

  const char *sdp = member_str (o, "sdp");
  if (join && sdp != NULL)
    {
      SigRuntime *rt = c->ws->rt;
      g_autofree char *node
          = g_strdup (sig_runtime_route_site (rt, occ, c->site_id, error));
      if (node == NULL)
        return FALSE;
      if (g_strcmp0 (c->media_node, node) != 0)
        send_site_leave (c); /* re-homed, or back home: the old node lets it go */
      const char *level = sig_cascade_site_level (rt, occ, c->site_id, NULL);
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
      sink_to_node (c->ws, node, fwd);
      g_free (c->media_node);
      c->media_node = g_strdup (node);
      sig_cascade_site_routed (rt, occ, c->site_id, node);
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

/* Relays a node's "site.answer" / "site.ice" to the site it names, as "answer" /
 * "ice": only to that site's sockets whose offer went to this very node (their join,
 * or their line test), so no node can answer, and so take over, a hall it does not
 * host. */
static gboolean
relay_to_site (SigWs *ws, const char *node_id, JsonObject *o, const char *type,
               GError **error)
{
  gint64 site = member_int (o, "site_id");
  gint64 occ = member_int (o, "occurrence_id");
  gboolean sent = FALSE;
  json_object_set_string_member (o, "type", type);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  GPtrArray *socks = site > 0 ? g_hash_table_lookup (ws->site_clients, &site) : NULL;
  for (guint i = 0; socks && i < socks->len; i++)
    {
      WsClient *c = socks->pdata[i];
      gboolean joined = occ > 0 && c->joined_occurrence == occ
                        && g_strcmp0 (c->media_node, node_id) == 0;
      gboolean echo = occ == 0 && g_strcmp0 (c->echo_node, node_id) == 0;
      if (!c->revoked && (joined || echo))
        send_json (c, n), sent = TRUE;
    }
  if (!sent)
    g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                 "site %" G_GINT64_FORMAT " has no offer out to node %s in occurrence "
                 "%" G_GINT64_FORMAT,
                 site, node_id, occ);
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
  const char *node
      = c->joined_occurrence > 0 && c->media_node != NULL ? c->media_node
        : c->joined_occurrence > 0
            ? sig_runtime_route_site (c->ws->rt, c->joined_occurrence, c->site_id, error)
            : c->echo_node;
  if (node == NULL || !g_hash_table_contains (c->ws->node_clients, node))
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
  sink_to_node (c->ws, node, fwd);
  return TRUE;
}

/* ---- the node control channel: every message checked against what the node hosts */

static gboolean
node_register (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  SigWs *ws = c->ws;
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
  const char *fp = member_str (o, "fingerprint");
  if (unit == NULL || capacity <= 0 || capacity > 100000 || fp == NULL
      || strlen (fp) > 200)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "register needs unit, capacity 1..100000 and fingerprint");
      return FALSE;
    }
  /* the unit is the admin's choice, made with the token, never the node's */
  if (c->principal->unit == NULL || g_strcmp0 (unit, c->principal->unit) != 0)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   c->principal->unit ? "this node's token is for unit %s"
                                      : "this node token names no unit%s: an admin "
                                        "makes a new one with its unit",
                   c->principal->unit ? c->principal->unit : "");
      return FALSE;
    }
  if (!sig_runtime_node_register (ws->rt, node_id, unit, (guint)capacity, fp, error))
    return FALSE;
  WsClient *old = g_hash_table_lookup (ws->node_clients, node_id);
  if (old != NULL && old != c)
    g_clear_pointer (&old->node_id, g_free); /* the newer socket wins */
  g_hash_table_replace (ws->node_clients, g_strdup (node_id), c);
  g_free (c->node_id);
  c->node_id = g_strdup (node_id);
  g_autofree char *hb = g_strdup_printf ("%d", ws->server->config->heartbeat_interval);
  send_simple (c, "registered", "heartbeat_interval", hb);
  /* now that this socket is its channel: up, and its part of every running leg */
  sig_runtime_node_ready (ws->rt, node_id);
  return TRUE;
}

/* Returns: (nullable): the registered node this socket speaks for. */
static const char *
registered_node (WsClient *c, GError **error)
{
  if (c->node_id == NULL || !sig_runtime_node_known (c->ws->rt, c->node_id))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "register first");
      return NULL;
    }
  return c->node_id;
}

static gboolean
node_heartbeat (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  if (n == NULL)
    return FALSE;
  sig_runtime_node_heartbeat (c->ws->rt, n);
  return TRUE;
}

static gboolean
node_site_relay (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  return n != NULL
         && relay_to_site (c->ws, n, o,
                           strcmp (type, "site.answer") == 0 ? "answer" : "ice", error);
}

static gboolean
node_link_relay (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  return n != NULL && sig_cascade_relay_link (c->ws->rt, n, o, error);
}

static gboolean
node_endpoint_state (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  if (n == NULL || !sig_cascade_endpoint_state (c->ws->rt, n, o, error))
    return FALSE;
  /* alarms only for a running leg, where the state was checked to be this node's */
  if (sig_cascade_is_open (c->ws->rt, member_int (o, "occurrence_id")))
    sig_links_endpoint_state (sig_runtime_get_links (c->ws->rt), n, o);
  return TRUE;
}

static gboolean
node_speaker (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  if (n == NULL)
    return FALSE;
  /* the loudest of the node's own sites: a node names no other node's site */
  gint64 site = member_int (o, "site_id");
  gint64 occ = member_int (o, "occurrence_id");
  if (site <= 0 || !sig_cascade_node_hosts_site (c->ws->rt, occ, n, site))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "%s does not host site %" G_GINT64_FORMAT
                   " in occurrence %" G_GINT64_FORMAT,
                   n, site, occ);
      return FALSE;
    }
  sig_cascade_event (c->ws->rt, occ, "speaker", site, NULL, FALSE);
  return TRUE;
}

static gboolean
node_stats (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  return n != NULL && sig_links_ingest (sig_runtime_get_links (c->ws->rt), n, o, error);
}

/* What a node says of the recording it writes (sig-recording.c checks it is its). */
static gboolean
node_record (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  const char *n = registered_node (c, error);
  return n != NULL && sig_recording_node_message (c->ws->rt, n, type, o, error);
}

/* Acknowledgements a node sends (leg.opened, leg.closed, error): nothing to do. */
static gboolean
node_ack (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return registered_node (c, error) != NULL;
}

/* ---- sites and dashboards ---- */

static gboolean
people_subscribe (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return handle_subscribe (c, o, strcmp (type, "subscribe") == 0, error);
}

static gboolean
site_join (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return handle_join (c, o, strcmp (type, "join") == 0, error);
}

static gboolean
site_ice (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return handle_site_ice (c, o, error);
}

static gboolean
site_echo (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return handle_echo (c, o, error);
}

static gboolean
site_hand (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  return handle_hand (c, o, error);
}

/* A joined hall starts or stops showing its screen (issue 16): only the site holding
 * the presenter right starts (again is no error); a stop ends only the sender's own
 * content. Both answer content.ok with who may present and who presents. */
static gboolean
site_content (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  if (c->principal->role != SIG_ROLE_SITE || c->joined_occurrence <= 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                           "join first: only a site in the meeting presents");
      return FALSE;
    }
  if (strcmp (type, "content.start") == 0)
    {
      if (!sig_cascade_start_content (c->ws->rt, c->joined_occurrence, c->site_id, error))
        return FALSE;
    }
  else
    sig_cascade_stop_content (c->ws->rt, c->joined_occurrence, c->site_id);
  send_presenting (c, "content.ok");
  return TRUE;
}

static gboolean
people_ping (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  send_simple (c, "pong", NULL, NULL);
  return TRUE;
}

/* Every message type signald takes, who may send it, and its handler: one table, so
 * a type nobody decided the senders of cannot exist, and the abuse suite walks it. */
static const SigWsMessage ws_messages[] = {
  { "subscribe", SIG_ROLES_PEOPLE, people_subscribe },
  { "unsubscribe", SIG_ROLES_PEOPLE, people_subscribe },
  { "ping", SIG_ROLES_PEOPLE, people_ping },
  { "join", SIG_ROLE_SITE, site_join },
  { "leave", SIG_ROLE_SITE, site_join },
  { "ice", SIG_ROLE_SITE, site_ice },
  { "echo", SIG_ROLE_SITE, site_echo },
  { "hand", SIG_ROLE_SITE, site_hand },
  { "content.start", SIG_ROLE_SITE, site_content },
  { "content.stop", SIG_ROLE_SITE, site_content },
  { "register", SIG_ROLE_NODE, node_register },
  { "heartbeat", SIG_ROLE_NODE, node_heartbeat },
  { "site.answer", SIG_ROLE_NODE, node_site_relay },
  { "site.ice", SIG_ROLE_NODE, node_site_relay },
  { "link.offer", SIG_ROLE_NODE, node_link_relay },
  { "link.answer", SIG_ROLE_NODE, node_link_relay },
  { "link.ice", SIG_ROLE_NODE, node_link_relay },
  { "endpoint.state", SIG_ROLE_NODE, node_endpoint_state },
  { "speaker", SIG_ROLE_NODE, node_speaker },
  { "stats", SIG_ROLE_NODE, node_stats },
  { "record.started", SIG_ROLE_NODE, node_record },
  { "record.segment", SIG_ROLE_NODE, node_record },
  { "record.stopped", SIG_ROLE_NODE, node_record },
  { "leg.opened", SIG_ROLE_NODE, node_ack },
  { "leg.closed", SIG_ROLE_NODE, node_ack },
  { "error", SIG_ROLE_NODE, node_ack },
};

const SigWsMessage *
sig_ws_messages_get (guint *n)
{
  *n = G_N_ELEMENTS (ws_messages);
  return ws_messages;
}

static gboolean
dispatch (WsClient *c, JsonObject *o, const char *type, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (ws_messages); i++)
    {
      const SigWsMessage *m = &ws_messages[i];
      if (strcmp (m->type, type) != 0)
        continue;
      if (!(m->roles & c->principal->role))
        {
          g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "a %s may not send %s",
                       sig_role_to_string (c->principal->role), m->type);
          return FALSE;
        }
      return ((SigWsHandler)m->handler) (c, o, type, error);
    }
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "unknown message type %.64s",
               type);
  return FALSE;
}

/* Why a token bucket per socket: one hall, dashboard or node must not be able to keep
 * signald's only thread busy. A site or dashboard sends a few messages a second at
 * most (join, candidates, hand); a node sends candidates for all its sites at once
 * when a meeting opens and stats every 2 s per leg, so it gets a deeper bucket. What
 * goes over is dropped and answered, at most once a second, with `too_many_requests`. */
#define SIG_WS_RATE_PEOPLE 20.0 /* messages per second, refilled continuously */
#define SIG_WS_BURST_PEOPLE 60.0
#define SIG_WS_RATE_NODE 500.0
#define SIG_WS_BURST_NODE 5000.0

static gboolean
rate_allows (WsClient *c)
{
  gboolean node = c->principal->role == SIG_ROLE_NODE;
  double rate = node ? SIG_WS_RATE_NODE : SIG_WS_RATE_PEOPLE;
  double burst = node ? SIG_WS_BURST_NODE : SIG_WS_BURST_PEOPLE;
  gint64 now = g_get_monotonic_time ();
  c->bucket
      = MIN (burst, c->bucket + (double)(now - c->bucket_us) * rate / G_USEC_PER_SEC);
  c->bucket_us = now;
  if (c->bucket >= 1.0)
    {
      c->bucket -= 1.0;
      return TRUE;
    }
  if (now - c->limited_us >= G_USEC_PER_SEC)
    {
      c->limited_us = now;
      g_autoptr (GError) e
          = g_error_new_literal (SIG_ERROR, SIG_ERROR_TOO_MANY,
                                 "too many messages: slow down; this one was dropped");
      send_error (c, e);
    }
  return FALSE;
}

/* One whole message from @c's socket: bounded, rate-limited (unless @unlimited),
 * parsed strictly and dispatched; what fails is answered with an error. */
static void
receive (WsClient *c, gint type, const guint8 *data, gsize len, gboolean unlimited)
{
  g_autoptr (GError) error = NULL;

  sig_ws_stream_message (c->stream); /* a whole message arrived: the budget restarts */
  if (c->revoked)
    return; /* closing: its credential is gone, nothing it says counts */
  if (len > SIG_WS_MAX_FRAME)
    {
      soup_websocket_connection_close (c->conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG,
                                       "message over 64 KiB");
      return;
    }
  if (!unlimited && !rate_allows (c))
    return;
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
  else
    ok = dispatch (c, o, t, &error);
  if (!ok)
    send_error (c, error);
}

static void
message_cb (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user_data)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  receive (user_data, type, data, len, FALSE);
}

void
sig_ws_receive_for_testing (WsClient *c, const guint8 *data, gsize len)
{
  receive (c, SOUP_WEBSOCKET_DATA_TEXT, data, len, TRUE);
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
  g_clear_object (&c->stream);
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

/* A node's channel is gone (closed, or its credential revoked): when it was the
 * node's current one, the runtime marks the node down. */
static void
channel_closed (SigWs *ws, WsClient *c)
{
  if (c->node_id == NULL || g_hash_table_lookup (ws->node_clients, c->node_id) != c)
    return;
  g_hash_table_remove (ws->node_clients, c->node_id);
  sig_runtime_node_lost (ws->rt, c->node_id);
}

static void
closed_cb (SoupWebsocketConnection *conn, gpointer user_data)
{
  WsClient *c = user_data;
  SigWs *ws = c->ws;
  channel_closed (ws, c);
  if (c->joined_occurrence > 0)
    {
      sig_attendance_leave (ws->server->attendance, c->joined_occurrence, c->site_id,
                            sig_server_now (ws->server), NULL);
      sig_cascade_stop_content (ws->rt, c->joined_occurrence, c->site_id);
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

/* A socket of @p (taken) is open over @conn, which reads through @stream. */
static WsClient *
client_add (SigWs *ws, SigPrincipal *p, SoupWebsocketConnection *conn,
            SigWsStream *stream)
{
  WsClient *c = g_new0 (WsClient, 1);
  c->ws = ws;
  c->conn = g_object_ref (conn);
  c->stream = g_object_ref (stream);
  c->principal = p;
  c->subscriptions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  c->bucket = p->role == SIG_ROLE_NODE ? SIG_WS_BURST_NODE : SIG_WS_BURST_PEOPLE;
  c->bucket_us = g_get_monotonic_time ();
  if (p->role == SIG_ROLE_SITE)
    c->site_id = g_ascii_strtoll (p->scope ? p->scope : "0", NULL, 10);
  /* libsoup drops an over-limit frame without a close frame; its cap (and the stream's
   * budget, which also covers continuation frames) stays as a memory bound, and
   * receive() closes properly with 1009 above SIG_WS_MAX_FRAME */
  soup_websocket_connection_set_max_incoming_payload_size (conn, SIG_WS_BUDGET);
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
  return c;
}

static void
client_open (SigWs *ws, SoupServerMessage *msg, SoupWebsocketConnection *conn,
             SigWsStream *stream)
{
  SigPrincipal *p = g_object_steal_data (G_OBJECT (msg), "sig-principal");
  if (p == NULL)
    {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
      return;
    }
  client_add (ws, p, conn, stream);
}

WsClient *
sig_ws_open_for_testing (SigWs *ws, SigPrincipal *principal, GIOStream *stream)
{
  g_autoptr (SigWsStream) limited = sig_ws_stream_new (stream, SIG_WS_BUDGET);
  g_autoptr (GUri) uri = g_uri_parse ("ws://127.0.0.1/api/v1/ws", G_URI_FLAGS_NONE, NULL);
  g_autoptr (SoupWebsocketConnection) conn = soup_websocket_connection_new (
      G_IO_STREAM (limited), uri, SOUP_WEBSOCKET_CONNECTION_SERVER, NULL,
      SIG_WS_SUBPROTOCOL, NULL);
  return client_add (ws, principal, conn, limited);
}

/* Why signald completes the WebSocket upgrade itself instead of
 * soup_server_add_websocket_handler(): the connection must read through a
 * SigWsStream, which bounds a message across continuation frames (libsoup bounds
 * single frames only). The steps are libsoup's own: check the handshake and answer
 * 101, then, once that is written, take the connection over. */
static void
upgraded_cb (SoupServerMessage *msg, gpointer user_data)
{
  SigWs *ws = user_data;
  g_signal_handlers_disconnect_by_func (msg, upgraded_cb, user_data);
  g_autoptr (GIOStream) raw = soup_server_message_steal_connection (msg);
  if (raw == NULL)
    return;
  g_autoptr (SigWsStream) limited = sig_ws_stream_new (raw, SIG_WS_BUDGET);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  g_autoptr (SoupWebsocketConnection) conn = soup_websocket_connection_new (
      G_IO_STREAM (limited), soup_server_message_get_uri (msg),
      SOUP_WEBSOCKET_CONNECTION_SERVER, soup_message_headers_get_one (req, "Origin"),
      soup_message_headers_get_one (resp, "Sec-WebSocket-Protocol"), NULL);
  client_open (ws, msg, conn, limited);
}

static void
upgrade_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  /* a client that offers subprotocols gets lienthong.v1, or is refused */
  char *protocols[] = { (char *)SIG_WS_SUBPROTOCOL, NULL };
  if (!soup_websocket_server_process_handshake (msg, NULL, protocols, NULL, NULL))
    return; /* libsoup answered with the error */
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (upgraded_cb), user_data);
}

/* Why the Origin rule: browsers send Origin on every WebSocket handshake and any page
 * could open one to a loopback daemon; only the daemon's own origin (Host) and the
 * configured allowed-origins may. Programs send no Origin and are judged by token. */
static gboolean
origin_allowed (SigWs *ws, SoupServerMessage *msg)
{
  return sig_server_origin_allowed (ws->server, msg, FALSE);
}

/* Why tokens ride in Sec-WebSocket-Protocol: a browser cannot set Authorization on a
 * WebSocket, and a token in the URL ends up in proxy and server logs. A browser opens
 * `new WebSocket(url, ["lienthong.v1", "lienthong.bearer." + token])`; signald answers
 * with "lienthong.v1" only, so the token is never echoed. Programs may still send
 * Authorization. Returns: (transfer full) (nullable): "Bearer TOKEN" */
static char *
bearer_from_protocols (SoupMessageHeaders *h)
{
  const char *list = soup_message_headers_get_list (h, "Sec-WebSocket-Protocol");
  if (list == NULL || strlen (list) > 1024)
    return NULL;
  g_auto (GStrv) items = g_strsplit (list, ",", 8);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      if (g_str_has_prefix (item, SIG_WS_BEARER_PREFIX))
        return g_strconcat ("Bearer ", item + strlen (SIG_WS_BEARER_PREFIX), NULL);
    }
  return NULL;
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

  if (!origin_allowed (ws, msg))
    g_set_error_literal (&error, SIG_ERROR, SIG_ERROR_FORBIDDEN, "origin not allowed");
  else
    {
      const char *auth = soup_message_headers_get_one (h, "Authorization");
      g_autofree char *from_protocol = NULL;
      if (auth == NULL)
        auth = from_protocol = bearer_from_protocols (h);
      gboolean presented;
      SigPrincipal *p = sig_server_authenticate (srv, msg, auth, &presented, &error);
      /* a valid token passes even from a blocked address (sig_auth_limit_failure) */
      GError *limited = NULL;
      if (p == NULL && sig_auth_limit_failure (srv, msg, presented, &limited))
        {
          g_clear_error (&error);
          error = limited;
        }
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
    {
      sig_reply_error (msg, error, NULL, NULL);
      /* a refused handshake ends its connection (see early_cb in sig-server.c) */
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
  return TRUE;
}

/* Ends a socket whose credential is gone: nothing it sends counts any more, a node's
 * sites are re-homed at once (as when it dies), and the socket is closed with 1008. */
static void
client_revoke (WsClient *c, const char *why)
{
  if (c->revoked)
    return;
  c->revoked = TRUE;
  SigWs *ws = c->ws;
  channel_closed (ws, c);
  if (soup_websocket_connection_get_state (c->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (c->conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, why);
}

guint
sig_ws_revoke_token (SigWs *ws, const char *token_id)
{
  guint n = 0;
  for (guint i = 0; ws && token_id && i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (!c->revoked && g_strcmp0 (c->principal->token_id, token_id) == 0)
        {
          client_revoke (c, "token revoked");
          n++;
        }
    }
  return n;
}

void
sig_ws_retire_node (SigWs *ws, const char *node_id)
{
  for (guint i = 0; ws && i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (c->principal->role == SIG_ROLE_NODE
          && g_strcmp0 (c->principal->scope, node_id) == 0)
        client_revoke (c, "node retired");
    }
  sig_runtime_node_forget (ws->rt, node_id);
}

/* Why a check every second rather than at each message: a socket that only listens
 * (a dashboard, a hall waiting for the chair) sends nothing, and must still lose its
 * feed when its token expires or is deleted behind signald's back. */
static gboolean
credential_check_cb (gpointer user_data)
{
  SigWs *ws = user_data;
  gint64 now = sig_server_now (ws->server);
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *c = ws->clients->pdata[i];
      if (!c->revoked && c->principal->expires_at >= 0 && c->principal->expires_at <= now)
        client_revoke (c, "token expired");
    }
  return G_SOURCE_CONTINUE;
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
  ws->node_clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ws->rt = server->rt;
  sig_runtime_set_sink (ws->rt, &ws_sink, ws);
  soup_server_add_early_handler (server->soup, "/api/v1/ws", early_ws_cb, ws, NULL);
  soup_server_add_early_handler (server->soup, "/api/v1/nodes/ws", early_ws_cb, ws, NULL);
  soup_server_add_handler (server->soup, "/api/v1/ws", upgrade_cb, ws, NULL);
  soup_server_add_handler (server->soup, "/api/v1/nodes/ws", upgrade_cb, ws, NULL);
  ws->credential_source = g_timeout_add_seconds (1, credential_check_cb, ws);
  return ws;
}

void
sig_ws_free (SigWs *ws)
{
  if (ws == NULL)
    return;
  g_clear_handle_id (&ws->credential_source, g_source_remove);
  sig_runtime_set_sink (ws->rt, NULL, NULL);
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
  g_hash_table_unref (ws->node_clients);
  g_free (ws);
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
