/* node-control.c: the node's end of signald's control protocol
 * (signaling/PROTOCOL.md, /api/v1/nodes/ws). One WebSocket, redialled with backoff
 * when it drops; legs keep running meanwhile (a lower tier meets locally). Messages
 * are validated against what each type needs before anything is acted on. */
#include "node-private.h"
#include "echo.h"
#include "leg.h"
#include "mcu-error.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_BACKOFF_S 30

struct _McuNodeControl
{
  McuNode *node;
  char *url, *token;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GCancellable *cancel;
  guint heartbeat_s, heartbeat_id, redial_id, backoff_s;
  guint64 heartbeat_seq;
  gboolean registered;
};

static void control_dial (McuNodeControl *c);

static void
control_send (McuNodeControl *c, JsonBuilder *b)
{
  if (c->ws == NULL
      || soup_websocket_connection_get_state (c->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (c->ws, text);
}

/* Starts {"v":1,"type":TYPE, ...}; the caller adds members and ends the object. */
static JsonBuilder *
message_begin (const char *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

static void
add_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
send_error (McuNodeControl *c, gint64 occurrence, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) b = message_begin ("error");
  add_int (b, "occurrence_id", occurrence);
  add_str (b, "code", code);
  add_str (b, "message", message);
  json_builder_end_object (b);
  control_send (c, b);
}

/* --- replies that arrive later ---------------------------------------------------- */

typedef struct
{
  McuNodeControl *c;
  char *type; /* reply type: site.answer, link.offer, link.answer */
  gint64 occurrence, site;
  char *peer;
} Reply;

static Reply *
reply_new (McuNodeControl *c, const char *type, gint64 occurrence, gint64 site,
           const char *peer)
{
  Reply *r = g_new0 (Reply, 1);
  r->c = c;
  r->type = g_strdup (type);
  r->occurrence = occurrence;
  r->site = site;
  r->peer = g_strdup (peer);
  return r;
}

static void
on_reply_sdp (const char *sdp, const GError *error, gpointer data)
{
  Reply *r = data;
  if (sdp == NULL)
    send_error (r->c, r->occurrence,
                error && error->domain == MCU_ERROR
                        && error->code == MCU_ERROR_UNSUPPORTED
                    ? "unsupported"
                    : "invalid",
                error ? error->message : "no answer");
  else
    {
      g_autoptr (JsonBuilder) b = message_begin (r->type);
      add_int (b, "occurrence_id", r->occurrence);
      if (r->peer)
        add_str (b, "peer_node_id", r->peer);
      else
        add_int (b, "site_id", r->site);
      add_str (b, "sdp", sdp);
      json_builder_end_object (b);
      control_send (r->c, b);
    }
  g_free (r->type);
  g_free (r->peer);
  g_free (r);
}

/* --- leg callbacks -------------------------------------------------------------- */

typedef struct
{
  McuNodeControl *c;
  gint64 occurrence;
  gint64 recording, part; /* what the leg records, 0 = nothing */
} LegContext;

static void
on_endpoint_state (const char *endpoint, McuEndpointState state, gpointer data)
{
  LegContext *lc = data;
  if (state == MCU_ENDPOINT_STATE_NEW)
    return;
  g_autoptr (JsonBuilder) b = message_begin ("endpoint.state");
  add_int (b, "occurrence_id", lc->occurrence);
  add_str (b, "endpoint", endpoint);
  add_str (b, "state", mcu_endpoint_state_name (state));
  json_builder_end_object (b);
  control_send (lc->c, b);
}

static void
on_speaker (const char *endpoint, gpointer data)
{
  LegContext *lc = data;
  if (endpoint == NULL || !g_str_has_prefix (endpoint, "site:"))
    return;
  g_autoptr (JsonBuilder) b = message_begin ("speaker");
  add_int (b, "occurrence_id", lc->occurrence);
  add_int (b, "site_id", g_ascii_strtoll (endpoint + 5, NULL, 10));
  json_builder_end_object (b);
  control_send (lc->c, b);
}

static void
on_stats (const char *json, gpointer data)
{
  LegContext *lc = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, -1, NULL))
    return;
  g_autoptr (JsonBuilder) b = message_begin ("stats");
  add_int (b, "occurrence_id", lc->occurrence);
  json_builder_set_member_name (b, "t");
  json_builder_add_double_value (b, (double)g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "endpoints");
  json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  json_builder_end_object (b);
  control_send (lc->c, b);
}

static McuLeg *
find_leg (McuNodeControl *c, gint64 occurrence)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, occurrence);
  return g_hash_table_lookup (c->node->legs, key);
}

static LegContext *
find_leg_context (McuNodeControl *c, gint64 occurrence)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, occurrence);
  return g_object_get_data (G_OBJECT (c->session), key);
}

/* --- recording (issue 17) -------------------------------------------------------- */

static JsonBuilder *
record_message (const char *type, LegContext *lc, gint64 recording, gint64 part)
{
  JsonBuilder *b = message_begin (type);
  add_int (b, "occurrence_id", lc->occurrence);
  add_int (b, "recording_id", recording);
  add_int (b, "part", part);
  return b;
}

/* record.stopped: @reason is "stopped", "closed", "disk" or "error" (with
 * @message). */
static void
send_record_stopped (LegContext *lc, gint64 recording, gint64 part, const char *reason,
                     const char *message)
{
  g_autoptr (JsonBuilder) b = record_message ("record.stopped", lc, recording, part);
  add_str (b, "reason", reason);
  if (message)
    add_str (b, "message", message);
  json_builder_end_object (b);
  control_send (lc->c, b);
}

/* A segment finished and hashed: signald keeps the list an archivist checks. */
static void
on_rec_segment (const char *file, guint64 bytes, const char *sha256, gpointer data)
{
  LegContext *lc = data;
  g_autoptr (JsonBuilder) b
      = record_message ("record.segment", lc, lc->recording, lc->part);
  add_str (b, "file", file);
  add_int (b, "bytes", (gint64)bytes);
  add_str (b, "sha256", sha256);
  json_builder_end_object (b);
  control_send (lc->c, b);
}

/* The recording stopped by itself: a full disk is told apart from other failures,
 * since the remedy differs (room, not a restart). */
static void
on_rec_stopped (const GError *error, gpointer data)
{
  LegContext *lc = data;
  gboolean disk = error && g_error_matches (error, MCU_ERROR, MCU_ERROR_NO_SPACE);
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "MESSAGE",
                    "occurrence %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
                    " stopped: %s",
                    lc->occurrence, lc->recording, error ? error->message : "?");
  gint64 recording = lc->recording, part = lc->part;
  lc->recording = lc->part = 0;
  send_record_stopped (lc, recording, part, disk ? "disk" : "error",
                       error ? error->message : "the recording stopped");
}

/* Ends what @leg records (its last segments are reported first) and says so. */
static void
record_end (McuLeg *leg, LegContext *lc, const char *reason)
{
  if (lc == NULL || lc->recording == 0)
    return;
  mcu_leg_stop_recording (leg);
  gint64 recording = lc->recording, part = lc->part;
  lc->recording = lc->part = 0;
  send_record_stopped (lc, recording, part, reason, NULL);
}

static void
leg_context_free (gpointer data)
{
  g_free (data);
}

/* --- handlers, one per message type --------------------------------------------- */

typedef gboolean (*Handler) (McuNodeControl *c, JsonObject *o, GError **error);

static const char *
need_str (JsonObject *o, const char *name, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "%s: a string is required", name);
      return NULL;
    }
  return json_node_get_string (n);
}

static gboolean
need_int (JsonObject *o, const char *name, gint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "%s: an integer is required",
                   name);
      return FALSE;
    }
  *out = json_node_get_int (n);
  return TRUE;
}

static const char *
opt_str (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

static McuLeg *
need_leg (McuNodeControl *c, JsonObject *o, gint64 *occ, GError **error)
{
  if (!need_int (o, "occurrence_id", occ, error))
    return NULL;
  McuLeg *leg = find_leg (c, *occ);
  if (leg == NULL)
    g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                 "no leg is open for occurrence %" G_GINT64_FORMAT, *occ);
  return leg;
}

static void
on_echo_answer (const char *answer, const GError *error, gpointer data)
{
  on_reply_sdp (answer, error, data);
}

static gboolean
h_site_offer (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, site = 0;
  const char *sdp = need_str (o, "sdp", error);
  if (sdp == NULL || !need_int (o, "site_id", &site, error))
    return FALSE;
  JsonNode *echo = json_object_get_member (o, "echo");
  g_autofree char *endpoint = g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  if (echo && JSON_NODE_HOLDS_VALUE (echo) && json_node_get_boolean (echo))
    {
      JsonNode *on = json_object_get_member (o, "occurrence_id");
      occ = on && JSON_NODE_HOLDS_VALUE (on) ? json_node_get_int (on) : 0;
      mcu_node_echo_async (c->node, endpoint, sdp, on_echo_answer,
                           reply_new (c, "site.answer", occ, site, NULL));
      return TRUE;
    }
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL)
    return FALSE;
  McuMediaLevel level = MCU_LEVEL_FULL;
  const char *lv = opt_str (o, "level");
  if (lv && !mcu_media_level_from_name (lv, &level))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "level: unknown %s", lv);
      return FALSE;
    }
  mcu_leg_add_site_async (leg, endpoint, sdp, level, on_reply_sdp,
                          reply_new (c, "site.answer", occ, site, NULL));
  return TRUE;
}

static gboolean
h_site_ice (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, site = 0;
  if (!need_int (o, "site_id", &site, error))
    return FALSE;
  const char *cand = opt_str (o, "candidate");
  g_autofree char *endpoint = g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  McuEcho *echo = g_hash_table_lookup (c->node->echoes, endpoint);
  if (echo)
    return cand == NULL || *cand == '\0'
           || mcu_endpoint_add_remote_candidate (
               mcu_echo_get_endpoint (echo),
               g_str_has_prefix (cand, "a=") ? cand + 2 : cand, error);
  McuLeg *leg = need_leg (c, o, &occ, error);
  return leg && mcu_leg_add_candidate (leg, endpoint, cand, error);
}

static gboolean
h_site_leave (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, site = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_int (o, "site_id", &site, error))
    return FALSE;
  g_autofree char *endpoint = g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  mcu_leg_remove (leg, endpoint);
  return TRUE;
}

static gboolean
h_leg_open (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  if (!need_int (o, "occurrence_id", &occ, error))
    return FALSE;
  if (find_leg (c, occ) == NULL)
    {
      LegContext *lc = g_new0 (LegContext, 1);
      lc->c = c;
      lc->occurrence = occ;
      McuLegCallbacks cb = { on_endpoint_state, on_speaker, on_stats };
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, occ);
      McuLeg *leg = mcu_leg_new (c->node->context, c->node->cert, id, &c->node->ep_config,
                                 &c->node->audio_config, &cb, lc, error);
      if (leg == NULL)
        {
          g_free (lc);
          return FALSE;
        }
      mcu_leg_set_retransmission (leg, !c->node->no_retransmission);
      /* the leg context lives as long as the leg: freed with it by the table */
      g_object_set_data_full (G_OBJECT (c->session), id, lc, leg_context_free);
      g_hash_table_insert (c->node->legs, g_strdup (id), leg);
    }
  g_autoptr (JsonBuilder) b = message_begin ("leg.opened");
  add_int (b, "occurrence_id", occ);
  json_builder_end_object (b);
  control_send (c, b);
  return TRUE;
}

static gboolean
h_leg_close (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  if (!need_int (o, "occurrence_id", &occ, error))
    return FALSE;
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, occ);
  McuLeg *leg = g_hash_table_lookup (c->node->legs, id);
  if (leg)
    record_end (leg, find_leg_context (c, occ), "closed");
  g_hash_table_remove (c->node->legs, id);
  g_object_set_data (G_OBJECT (c->session), id, NULL);
  g_autoptr (JsonBuilder) b = message_begin ("leg.closed");
  add_int (b, "occurrence_id", occ);
  json_builder_end_object (b);
  control_send (c, b);
  return TRUE;
}

static gboolean
h_link_open (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  const char *peer = leg ? need_str (o, "peer_node_id", error) : NULL;
  const char *fp = peer ? need_str (o, "peer_fingerprint", error) : NULL;
  if (fp == NULL)
    return FALSE;
  g_autofree char *endpoint = g_strdup_printf ("node:%s", peer);
  mcu_leg_open_uplink_async (leg, endpoint, fp, on_reply_sdp,
                             reply_new (c, "link.offer", occ, 0, peer));
  return TRUE;
}

static gboolean
h_link_offer (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  const char *peer = leg ? need_str (o, "peer_node_id", error) : NULL;
  const char *fp = peer ? need_str (o, "peer_fingerprint", error) : NULL;
  const char *sdp = fp ? need_str (o, "sdp", error) : NULL;
  if (sdp == NULL)
    return FALSE;
  g_autofree char *endpoint = g_strdup_printf ("node:%s", peer);
  mcu_leg_accept_link_async (leg, endpoint, sdp, fp, on_reply_sdp,
                             reply_new (c, "link.answer", occ, 0, peer));
  return TRUE;
}

static gboolean
h_link_answer (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  const char *peer = leg ? need_str (o, "peer_node_id", error) : NULL;
  const char *sdp = peer ? need_str (o, "sdp", error) : NULL;
  if (sdp == NULL)
    return FALSE;
  g_autofree char *endpoint = g_strdup_printf ("node:%s", peer);
  return mcu_leg_set_uplink_answer (leg, endpoint, sdp, error);
}

static gboolean
h_link_ice (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  const char *peer = leg ? need_str (o, "peer_node_id", error) : NULL;
  if (peer == NULL)
    return FALSE;
  g_autofree char *endpoint = g_strdup_printf ("node:%s", peer);
  return mcu_leg_add_candidate (leg, endpoint, opt_str (o, "candidate"), error);
}

/* The "via" of a floor or content command: where that stream enters this node. */
static gboolean
need_via (JsonObject *o, const char **via, GError **error)
{
  *via = opt_str (o, "via");
  if (*via && !g_str_has_prefix (*via, "site:") && !g_str_has_prefix (*via, "node:"))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "via: want site:<id> or node:<id>");
      return FALSE;
    }
  return TRUE;
}

static gboolean
h_floor (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  const char *via = NULL;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_via (o, &via, error))
    return FALSE;
  mcu_leg_set_floor (leg, via);
  return TRUE;
}

static gboolean
h_content (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0;
  const char *via = NULL;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_via (o, &via, error))
    return FALSE;
  mcu_leg_set_content (leg, via);
  return TRUE;
}

static gboolean
h_mute (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, site = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_int (o, "site_id", &site, error))
    return FALSE;
  JsonNode *m = json_object_get_member (o, "muted");
  if (m == NULL || !JSON_NODE_HOLDS_VALUE (m)
      || json_node_get_value_type (m) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "muted: a boolean is required");
      return FALSE;
    }
  g_autofree char *endpoint = g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  mcu_leg_set_muted (leg, endpoint, json_node_get_boolean (m));
  return TRUE;
}

static gboolean
h_level (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, site = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  const char *name = leg && need_int (o, "site_id", &site, error)
                         ? need_str (o, "level", error)
                         : NULL;
  McuMediaLevel level;
  if (name == NULL)
    return FALSE;
  if (!mcu_media_level_from_name (name, &level))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "level: unknown %s", name);
      return FALSE;
    }
  g_autofree char *endpoint = g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  mcu_leg_set_level (leg, endpoint, level);
  return TRUE;
}

/* An integer member in [@min, @max]. */
static gboolean
need_int_in (JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *out,
             GError **error)
{
  if (!need_int (o, name, out, error))
    return FALSE;
  if (*out < min || *out > max)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "%s: want %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, name, min, max);
      return FALSE;
    }
  return TRUE;
}

/* The leg and the recording a pause or stop names: the one it records now. */
static McuLeg *
need_recording (McuNodeControl *c, JsonObject *o, LegContext **lc, GError **error)
{
  gint64 occ = 0, recording = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_int_in (o, "recording_id", 1, G_MAXINT64, &recording, error))
    return NULL;
  *lc = find_leg_context (c, occ);
  if (*lc == NULL || (*lc)->recording != recording || !mcu_leg_is_recording (leg))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "occurrence %" G_GINT64_FORMAT
                   " records no recording %" G_GINT64_FORMAT,
                   occ, recording);
      return NULL;
    }
  return leg;
}

/* record.start: every field is checked before anything changes; a folder that
 * cannot be made or written, or a disk too full, is answered with record.stopped
 * (the command was valid, the recording could not run). */
static gboolean
h_record_start (McuNodeControl *c, JsonObject *o, GError **error)
{
  gint64 occ = 0, recording = 0, part = 0, segment_s = 0;
  McuLeg *leg = need_leg (c, o, &occ, error);
  if (leg == NULL || !need_int_in (o, "recording_id", 1, G_MAXINT64, &recording, error)
      || !need_int_in (o, "part", 1, G_MAXINT32, &part, error)
      || !need_int_in (o, "segment_s", 2, 3600, &segment_s, error))
    return FALSE;
  if (c->node->recordings_dir == NULL)
    {
      g_set_error_literal (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                           "this node does not record: it was started without "
                           "--recordings-dir");
      return FALSE;
    }
  LegContext *lc = find_leg_context (c, occ);
  if (lc->recording != recording || lc->part != part || !mcu_leg_is_recording (leg))
    {
      record_end (leg, lc, "stopped"); /* one recording per leg */
      g_autofree char *rid = g_strdup_printf ("%" G_GINT64_FORMAT, recording);
      g_autofree char *dir = g_build_filename (c->node->recordings_dir, rid, NULL);
      g_autofree char *name = g_strdup_printf ("p%" G_GINT64_FORMAT, part);
      McuRecorderConfig rc = { .dir = dir, .name = name, .segment_s = (guint)segment_s };
      McuLegRecordingCallbacks cb = { on_rec_segment, on_rec_stopped };
      g_autoptr (GError) local = NULL;
      if (g_mkdir_with_parents (dir, 0750) != 0)
        local = g_error_new (MCU_ERROR, MCU_ERROR_INVALID, "cannot create %s: %s", dir,
                             g_strerror (errno));
      else
        mcu_leg_start_recording (leg, &rc, &cb, lc, &local);
      if (local)
        {
          g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "MESSAGE",
                            "occurrence %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT
                            " not started: %s",
                            occ, recording, local->message);
          send_record_stopped (lc, recording, part, "error", local->message);
          return TRUE;
        }
      lc->recording = recording;
      lc->part = part;
    }
  g_autoptr (JsonBuilder) b = record_message ("record.started", lc, recording, part);
  json_builder_end_object (b);
  control_send (c, b);
  return TRUE;
}

static gboolean
h_record_pause (McuNodeControl *c, JsonObject *o, GError **error)
{
  LegContext *lc = NULL;
  McuLeg *leg = need_recording (c, o, &lc, error);
  if (leg == NULL)
    return FALSE;
  JsonNode *p = json_object_get_member (o, "paused");
  if (p == NULL || !JSON_NODE_HOLDS_VALUE (p)
      || json_node_get_value_type (p) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "paused: a boolean is required");
      return FALSE;
    }
  mcu_leg_pause_recording (leg, json_node_get_boolean (p));
  return TRUE;
}

static gboolean
h_record_stop (McuNodeControl *c, JsonObject *o, GError **error)
{
  LegContext *lc = NULL;
  McuLeg *leg = need_recording (c, o, &lc, error);
  if (leg == NULL)
    return FALSE;
  record_end (leg, lc, "stopped");
  return TRUE;
}

static gboolean on_heartbeat (gpointer data);

static gboolean
h_registered (McuNodeControl *c, JsonObject *o, GError **error)
{
  const char *hb = opt_str (o, "heartbeat_interval");
  guint s = hb ? (guint)g_ascii_strtoull (hb, NULL, 10) : 5;
  c->heartbeat_s = CLAMP (s, 1, 60);
  /* the timer started at connect time runs at the default interval: signald counts
   * misses against its own, so a shorter one must take effect now, or signald
   * declares this node down (and re-homes its sites) between two heartbeats */
  g_clear_handle_id (&c->heartbeat_id, g_source_remove);
  c->heartbeat_id = g_timeout_add_seconds (c->heartbeat_s, on_heartbeat, c);
  c->registered = TRUE;
  c->backoff_s = 0;
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_MESSAGE, "MESSAGE",
                    "registered with signald as %s (heartbeat every %u s)",
                    c->node->node_id, c->heartbeat_s);
  return TRUE;
}

static gboolean
h_ignore (McuNodeControl *c, JsonObject *o, GError **error)
{
  return TRUE;
}

static const struct
{
  const char *type;
  Handler handler;
} handlers[] = {
  { "registered", h_registered },
  { "site.offer", h_site_offer },
  { "site.ice", h_site_ice },
  { "site.leave", h_site_leave },
  { "leg.open", h_leg_open },
  { "leg.close", h_leg_close },
  { "link.open", h_link_open },
  { "link.offer", h_link_offer },
  { "link.answer", h_link_answer },
  { "link.ice", h_link_ice },
  { "floor", h_floor },
  { "content", h_content },
  { "mute", h_mute },
  { "level", h_level },
  { "record.start", h_record_start },
  { "record.pause", h_record_pause },
  { "record.stop", h_record_stop },
  { "hello", h_ignore },
  { "pong", h_ignore },
  { "error", h_ignore },
};

static void
on_message (SoupWebsocketConnection *ws, int kind, GBytes *message, gpointer data)
{
  McuNodeControl *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  if (kind != SOUP_WEBSOCKET_DATA_TEXT
      || !json_parser_load_from_data (parser, text, (gssize)len, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      send_error (c, 0, "invalid", error ? error->message : "want one JSON object");
      return;
    }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *type = opt_str (o, "type");
  for (gsize i = 0; type && i < G_N_ELEMENTS (handlers); i++)
    if (g_str_equal (type, handlers[i].type))
      {
        if (!handlers[i].handler (c, o, &error))
          {
            JsonNode *on = json_object_get_member (o, "occurrence_id");
            gint64 occ = on && JSON_NODE_HOLDS_VALUE (on) ? json_node_get_int (on) : 0;
            g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "MESSAGE",
                              "signald %s refused: %s", type, error->message);
            send_error (c, occ,
                        g_error_matches (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED)
                            ? "unsupported"
                            : "invalid",
                        error->message);
          }
        return;
      }
  g_autofree char *m
      = g_strdup_printf ("unknown message type %s", type ? type : "(none)");
  send_error (c, 0, "invalid", m);
}

/* --- connection ------------------------------------------------------------------ */

static gboolean
on_heartbeat (gpointer data)
{
  McuNodeControl *c = data;
  g_autoptr (JsonBuilder) b = message_begin ("heartbeat");
  add_int (b, "seq", (gint64)++c->heartbeat_seq);
  add_int (b, "legs", g_hash_table_size (c->node->legs));
  json_builder_end_object (b);
  control_send (c, b);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_redial (gpointer data)
{
  McuNodeControl *c = data;
  c->redial_id = 0;
  control_dial (c);
  return G_SOURCE_REMOVE;
}

static void
schedule_redial (McuNodeControl *c)
{
  c->registered = FALSE;
  g_clear_handle_id (&c->heartbeat_id, g_source_remove);
  c->backoff_s = c->backoff_s ? MIN (c->backoff_s * 2, MAX_BACKOFF_S) : 1;
  if (c->redial_id == 0)
    c->redial_id = g_timeout_add_seconds (c->backoff_s, on_redial, c);
}

static void
on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  McuNodeControl *c = data;
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "MESSAGE",
                    "signald closed the control channel (%u); legs keep running, "
                    "redialling",
                    soup_websocket_connection_get_close_code (ws));
  g_signal_handlers_disconnect_by_data (ws, c);
  g_clear_object (&c->ws);
  schedule_redial (c);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  McuNodeControl *c = data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws
      = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &error);
  if (ws == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "MESSAGE",
                        "cannot reach signald at %s: %s", c->url, error->message);
      schedule_redial (c);
      return;
    }
  c->ws = ws;
  soup_websocket_connection_set_max_incoming_payload_size (ws, 64 * 1024);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), c);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), c);
  g_autoptr (JsonBuilder) b = message_begin ("register");
  add_str (b, "node_id", c->node->node_id);
  add_str (b, "unit", c->node->unit);
  add_int (b, "capacity", c->node->capacity);
  add_str (b, "fingerprint", mcu_cert_get_fingerprint (c->node->cert));
  json_builder_end_object (b);
  control_send (c, b);
  c->heartbeat_s = 5;
  c->heartbeat_id = g_timeout_add_seconds (c->heartbeat_s, on_heartbeat, c);
}

static void
control_dial (McuNodeControl *c)
{
  g_autofree char *ws_url = g_strdup_printf ("%s/api/v1/nodes/ws", c->url);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", ws_url);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", c->token);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                auth);
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        c->cancel, on_connected, c);
}

gboolean
mcu_node_connect_signald (McuNode *node, const char *url, const char *token,
                          GError **error)
{
  g_return_val_if_fail (node != NULL && url != NULL && token != NULL, FALSE);
  if (node->unit == NULL)
    {
      g_set_error_literal (error, MCU_ERROR, MCU_ERROR_INVALID,
                           "a node that registers with signald needs its unit (--unit)");
      return FALSE;
    }
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    return FALSE;
  if (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
      && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "signald URL %s: want http:// or https://", url);
      return FALSE;
    }
  McuNodeControl *c = g_new0 (McuNodeControl, 1);
  c->node = node;
  c->url = g_strdup (url);
  g_strchomp (c->url);
  if (g_str_has_suffix (c->url, "/"))
    c->url[strlen (c->url) - 1] = '\0';
  c->token = g_strstrip (g_strdup (token));
  c->session = soup_session_new ();
  c->cancel = g_cancellable_new ();
  node->control = c;
  control_dial (c);
  return TRUE;
}

gboolean
mcu_node_is_registered (McuNode *node)
{
  return node->control && node->control->registered;
}

void
mcu_node_control_free (McuNodeControl *c)
{
  if (c == NULL)
    return;
  /* the legs outlive the channel (node.c frees them next), but their recordings'
   * callbacks use the leg contexts freed with it: end those recordings now */
  GHashTableIter it;
  gpointer key, leg;
  g_hash_table_iter_init (&it, c->node->legs);
  while (g_hash_table_iter_next (&it, &key, &leg))
    record_end (leg, g_object_get_data (G_OBJECT (c->session), key), "closed");
  g_cancellable_cancel (c->cancel);
  g_clear_handle_id (&c->heartbeat_id, g_source_remove);
  g_clear_handle_id (&c->redial_id, g_source_remove);
  if (c->ws)
    {
      g_signal_handlers_disconnect_by_data (c->ws, c);
      if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&c->ws);
    }
  g_clear_object (&c->cancel);
  g_clear_object (&c->session);
  g_free (c->url);
  g_free (c->token);
  g_free (c);
}
