/* lt-webrtc-client: a test site built on GStreamer's webrtcbin, an implementation of
 * WebRTC independent of ours. It sends a test pattern and a sine tone, receives what
 * the node sends back, and prints one JSON line of what it saw: ICE and DTLS states,
 * decoded video frames, decoded audio, and the power of chosen tone frequencies in the
 * audio it heard (so a test can tell whose voice reached it).
 *
 * Signaling is WHIP-style: the offer (after ICE gathering, no trickle) is POSTed as
 * application/sdp to --whip URL and the body of the answer is the SDP answer.
 *
 * Content (a presenter's screen, a second video m-line): --content adds a
 * receive-only video transceiver after the program's and reports what is decoded
 * on it apart from the program; --present PATTERN sends a 1280x720 test pattern at
 * 5 fps on that second m-line and, joined through signald, asks to present
 * (content.start).
 *
 * Exit status: 0 when every --expect-* condition held before --timeout, 1 otherwise,
 * 2 on usage or set-up errors.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TONE_MAX 16

typedef struct
{
  GMainLoop *loop;
  GstElement *pipe, *webrtc;
  char *whip_url, *token;
  int timeout_s, hold_s;
  gboolean expect_video, expect_audio;
  double tone_hz[TONE_MAX];
  guint n_tones;
  gint64 t_start, t_first_media;    /* t_first_media under lock */
  gint video_frames, audio_buffers; /* atomics: counted on streaming threads */
  GMutex lock;                      /* guards the Goertzel sums and t_first_media */
  double tone_power[TONE_MAX], total_power;   /* the whole run */
  double itone_power[TONE_MAX], itotal_power; /* since the last interim report */
  guint64 audio_samples;
  char *error;
  gboolean done;
  /* signald mode: join an occurrence (or echo) over the site WebSocket */
  char *signald_url;
  gint64 occurrence;
  gboolean echo;
  SoupSession *ws_session;
  SoupWebsocketConnection *ws;
  char *pending_offer; /* made before the socket opened */
  guint rejoins, join_retries;
  /* how to rebuild the pipeline after a re-home */
  char *pipeline_desc;
  char *turn_url;      /* --turn: turn://user:pass@host:port */
  gboolean relay_only; /* --relay-only: ICE transport policy "relay" */
  int report_ms;
  gint64 last_report;
  char level[8]; /* the last level signald told us ("full", "low", "audio") */
  guint levels;  /* how many level messages came */
  char told[64]; /* every level told, in order ("low,audio,low,full"); '+' when full */
  gint video_width, video_height; /* atomics: the size of the last decoded frame */
  gboolean nack;                  /* --nack: ask for lost packets, as browsers do */
  gboolean nack_audio; /* --nack-audio: for lost audio too (an endpoint, not Chrome) */
  /* playout, under lock: decoded frames' spacing, and each jitter buffer's */
  gint64 last_frame_us, max_frame_gap_us;
  guint freezes;    /* gaps of more than 500 ms between decoded frames */
  GPtrArray *jbufs; /* JitterTap, one per received stream */
  /* content: --content, --present; the transceiver it comes on; what was decoded */
  gboolean content;
  int present; /* the pattern presented + 1, 0 = none */
  GstWebRTCRTPTransceiver *content_trans;
  gint content_frames, content_width, content_height; /* atomics */
  gint64 t_first_content;                             /* under lock */
  gboolean expect_content;
  char content_told[64]; /* the content events signald sent: site ids or "none" */
} Client;

/* What one received stream's jitter buffer took in: sequence gaps seen on arrival
 * (packets lost on the way, before any retransmission) and late fills (a missing
 * number that arrived afterwards: a retransmission, or reordering). */
typedef struct
{
  GstElement *jb;
  gboolean have_seq;
  guint16 highest;
  guint8 pt; /* of its last packet */
  guint64 gaps, fills, packets;
} JitterTap;

static Client client;

static void
tap_packet (JitterTap *t, GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return;
  guint16 seq = gst_rtp_buffer_get_seq (&rtp);
  guint8 pt = gst_rtp_buffer_get_payload_type (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  g_mutex_lock (&client.lock);
  t->packets++;
  t->pt = pt;
  gint16 d = (gint16)(guint16)(seq - t->highest);
  if (!t->have_seq)
    t->have_seq = TRUE, t->highest = seq;
  else if (d > 0)
    t->gaps += (guint64)(d - 1), t->highest = seq;
  else if (d < 0)
    t->fills++;
  g_mutex_unlock (&client.lock);
}

static gboolean
tap_list_item (GstBuffer **buf, guint idx, gpointer data)
{
  tap_packet (data, *buf);
  return TRUE;
}

static GstPadProbeReturn
on_jb_input (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    tap_packet (data, GST_PAD_PROBE_INFO_BUFFER (info));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info), tap_list_item, data);
  return GST_PAD_PROBE_OK;
}

/* Every jitter buffer webrtcbin makes (one per received SSRC) is tapped on its input. */
static void
on_deep_element_added (GstBin *bin, GstBin *sub, GstElement *e, gpointer data)
{
  GstElementFactory *f = gst_element_get_factory (e);
  if (f == NULL || !g_str_equal (GST_OBJECT_NAME (f), "rtpjitterbuffer"))
    return;
  JitterTap *t = g_new0 (JitterTap, 1);
  t->jb = gst_object_ref (e);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (e, "sink");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     on_jb_input, t, NULL);
  g_mutex_lock (&client.lock);
  g_ptr_array_add (client.jbufs, t);
  g_mutex_unlock (&client.lock);
}

static void
jitter_tap_free (gpointer p)
{
  JitterTap *t = p;
  gst_object_unref (t->jb);
  g_free (t);
}

/* The kind ("audio", "video") of the stream a jitter buffer receives, or NULL
 * before its first packet. Its caps do not say (only the SSRC); the payload type
 * does: the node answers with ours, Opus 111 and VP8 96 (build_pipeline's). */
static const char *
tap_kind (JitterTap *t)
{
  return t->pt == 111 ? "audio" : t->pt == 96 ? "video" : NULL;
}

/* Appends ,"KIND_jb":{...}: what the jitter buffers of that kind received and
 * played, summed. "gaps" were missing on arrival, "fills" came later, "lost" were
 * given up (played as concealment or skipped), "pushed" were played out. */
static void
append_jitter_stats (GString *out, const char *kind)
{
  guint64 gaps = 0, fills = 0, packets = 0, pushed = 0, lost = 0, late = 0, rtx_req = 0,
          rtx_ok = 0;
  g_mutex_lock (&client.lock);
  /* the taps live as long as the client; their elements are referenced here to be
   * asked for their stats without the lock */
  g_autoptr (GPtrArray) taps = g_ptr_array_sized_new (client.jbufs->len);
  for (guint i = 0; i < client.jbufs->len; i++)
    {
      JitterTap *t = client.jbufs->pdata[i];
      gst_object_ref (t->jb);
      g_ptr_array_add (taps, t);
    }
  g_mutex_unlock (&client.lock);
  for (guint i = 0; i < taps->len; i++)
    {
      JitterTap *t = taps->pdata[i];
      g_mutex_lock (&client.lock);
      const char *k = tap_kind (t);
      gboolean mine = k && g_str_equal (k, kind);
      if (mine)
        gaps += t->gaps, fills += t->fills, packets += t->packets;
      g_mutex_unlock (&client.lock);
      GstStructure *st = NULL;
      if (mine)
        g_object_get (t->jb, "stats", &st, NULL);
      guint64 v;
      if (st && gst_structure_get_uint64 (st, "num-pushed", &v))
        pushed += v;
      if (st && gst_structure_get_uint64 (st, "num-lost", &v))
        lost += v;
      if (st && gst_structure_get_uint64 (st, "num-late", &v))
        late += v;
      if (st && gst_structure_get_uint64 (st, "rtx-count", &v))
        rtx_req += v;
      if (st && gst_structure_get_uint64 (st, "rtx-success-count", &v))
        rtx_ok += v;
      if (st)
        gst_structure_free (st);
      gst_object_unref (t->jb);
    }
  g_string_append_printf (
      out,
      ",\"%s_jb\":{\"packets\":%" G_GUINT64_FORMAT ",\"gaps\":%" G_GUINT64_FORMAT
      ",\"fills\":%" G_GUINT64_FORMAT ",\"pushed\":%" G_GUINT64_FORMAT
      ",\"lost\":%" G_GUINT64_FORMAT ",\"late\":%" G_GUINT64_FORMAT
      ",\"rtx_req\":%" G_GUINT64_FORMAT ",\"rtx_ok\":%" G_GUINT64_FORMAT "}",
      kind, packets, gaps, fills, pushed, lost, late, rtx_req, rtx_ok);
}

static void
client_fail (const char *msg)
{
  if (client.error == NULL)
    client.error = g_strdup (msg);
  g_main_loop_quit (client.loop);
}

/* Goertzel power of each wanted frequency over one buffer of mono F32 at 48 kHz.
 * A bank of Goertzel filters costs O(n * tones) and needs no FFT library. */
static void
analyse_audio (const float *s, gsize n)
{
  double p[TONE_MAX] = { 0 }, total = 0;

  for (guint t = 0; t < client.n_tones; t++)
    {
      double w = 2.0 * G_PI * client.tone_hz[t] / 48000.0, c = 2.0 * cos (w);
      double s1 = 0, s2 = 0;
      for (gsize i = 0; i < n; i++)
        {
          double s0 = s[i] + c * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
      /* normalised so a full-scale sine of that frequency gives about n/4 * n */
      p[t] = (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * (double)n / 4.0);
    }
  for (gsize i = 0; i < n; i++)
    total += (double)s[i] * s[i];
  g_mutex_lock (&client.lock);
  for (guint t = 0; t < client.n_tones; t++)
    {
      client.tone_power[t] += p[t] * (double)n;
      client.itone_power[t] += p[t] * (double)n;
    }
  client.total_power += total;
  client.itotal_power += total;
  client.audio_samples += n;
  g_mutex_unlock (&client.lock);
}

static void
note_first_media (void)
{
  g_mutex_lock (&client.lock);
  if (client.t_first_media == 0)
    client.t_first_media = g_get_monotonic_time ();
  g_mutex_unlock (&client.lock);
}

static GstFlowReturn
on_audio_sample (GstAppSink *sink, gpointer data)
{
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (buf == NULL || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  note_first_media ();
  g_atomic_int_inc (&client.audio_buffers);
  analyse_audio ((const float *)map.data, map.size / sizeof (float));
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

/* A decoded frame of the content: counted apart from the program. */
static GstPadProbeReturn
on_content_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (g_atomic_int_add (&client.content_frames, 1) == 0)
    {
      g_mutex_lock (&client.lock);
      client.t_first_content = g_get_monotonic_time ();
      g_mutex_unlock (&client.lock);
    }
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  int width = 0, height = 0;
  if (caps && gst_caps_get_size (caps) > 0
      && gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &width)
      && gst_structure_get_int (gst_caps_get_structure (caps, 0), "height", &height))
    {
      g_atomic_int_set (&client.content_width, width);
      g_atomic_int_set (&client.content_height, height);
    }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_video_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  note_first_media ();
  g_atomic_int_inc (&client.video_frames);
  /* a freeze: more than 500 ms without a new frame (WebRTC's freeze is relative to
   * the frame rate; at our 15 fps 500 ms is several frames' worth) */
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&client.lock);
  if (client.last_frame_us)
    {
      gint64 gap = now - client.last_frame_us;
      client.max_frame_gap_us = MAX (client.max_frame_gap_us, gap);
      if (gap > 500000)
        client.freezes++;
    }
  client.last_frame_us = now;
  g_mutex_unlock (&client.lock);
  /* the size tells the full program from the low-resolution one */
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  int width = 0, height = 0;
  if (caps && gst_caps_get_size (caps) > 0
      && gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &width)
      && gst_structure_get_int (gst_caps_get_structure (caps, 0), "height", &height))
    {
      g_atomic_int_set (&client.video_width, width);
      g_atomic_int_set (&client.video_height, height);
    }
  return GST_PAD_PROBE_OK;
}

static void
link_chain (GstPad *src, const char *desc)
{
  g_autoptr (GError) error = NULL;
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, &error);
  if (bin == NULL)
    {
      client_fail (error->message);
      return;
    }
  gst_bin_add (GST_BIN (client.pipe), bin);
  gst_element_sync_state_with_parent (bin);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (bin, "sink");
  if (gst_pad_link (src, sink) != GST_PAD_LINK_OK)
    client_fail ("could not link a decoded stream");
}

static void
on_decoded_pad (GstElement *decodebin, GstPad *pad, gpointer data)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_has_prefix (name, "video/"))
    {
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
                         data ? on_content_frame : on_video_frame, NULL, NULL);
      link_chain (pad, "queue ! fakesink sync=false async=false");
    }
  else if (g_str_has_prefix (name, "audio/"))
    {
      link_chain (pad, "queue ! audioconvert ! audioresample ! "
                       "audio/x-raw,format=F32LE,channels=1,rate=48000 ! "
                       "appsink name=asink emit-signals=true sync=false async=false");
      g_autoptr (GstElement) asink = gst_bin_get_by_name (GST_BIN (client.pipe), "asink");
      if (asink)
        {
          g_object_set (asink, "name", NULL, NULL); /* room for a second audio stream */
          g_signal_connect (asink, "new-sample", G_CALLBACK (on_audio_sample), NULL);
        }
    }
}

static void
on_incoming_stream (GstElement *webrtc, GstPad *pad, gpointer data)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstWebRTCRTPTransceiver *t = NULL;
  g_object_get (pad, "transceiver", &t, NULL);
  gboolean content = t != NULL && t == client.content_trans;
  g_clear_object (&t);
  GstElement *decodebin = gst_element_factory_make ("decodebin", NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_decoded_pad),
                    GINT_TO_POINTER (content));
  gst_bin_add (GST_BIN (client.pipe), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink);
}

/* Keeps only loopback candidates: tests never send to any other address, even
 * where a test runs outside its own network namespace. */
static char *
loopback_only (const char *sdp)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  GString *out = g_string_new (NULL);
  for (guint i = 0; lines[i] && *lines[i]; i++)
    {
      if (g_str_has_prefix (lines[i], "a=candidate:") && !strstr (lines[i], " 127.0.0.1 ")
          && !strstr (lines[i], " ::1 "))
        continue;
      g_string_append_printf (out, "%s\r\n", lines[i]);
    }
  return g_string_free (out, FALSE);
}

static void
apply_answer (const char *answer)
{
  GstSDPMessage *sdp = NULL;
  if (g_getenv ("LT_WEBRTC_DEBUG"))
    g_printerr ("--- answer\n%s", answer);
  if (gst_sdp_message_new_from_text (answer, &sdp) != GST_SDP_OK)
    {
      client_fail ("answer is not SDP");
      return;
    }
  GstWebRTCSessionDescription *desc
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (client.webrtc, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
}

/* WHIP-style: POST the offer, the body of the reply is the answer. */
static void
whip_exchange (const char *offer)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", client.whip_url);
  if (msg == NULL)
    {
      client_fail ("bad --whip URL");
      return;
    }
  g_autoptr (GBytes) body = g_bytes_new (offer, strlen (offer));
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  if (client.token)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", client.token);
      soup_message_headers_replace (soup_message_get_request_headers (msg),
                                    "Authorization", auth);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read (session, msg, NULL, &error);
  guint status = soup_message_get_status (msg);
  if (reply == NULL || status < 200 || status > 299)
    {
      g_autofree char *m = g_strdup_printf ("offer refused: HTTP %u %s", status,
                                            error ? error->message : "");
      client_fail (m);
      return;
    }
  gsize len = 0;
  const char *answer = g_bytes_get_data (reply, &len);
  g_autofree char *answer0 = g_strndup (answer, len);
  apply_answer (answer0);
}

static void build_pipeline (void);
static void print_report (gboolean interim);

static void
ws_send (const char *type, const char *sdp)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (!client.echo && g_str_equal (type, "join"))
    {
      json_builder_set_member_name (b, "occurrence_id");
      json_builder_add_int_value (b, client.occurrence);
    }
  if (sdp)
    {
      json_builder_set_member_name (b, "sdp");
      json_builder_add_string_value (b, sdp);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (client.ws, text);
}

static void
signald_send_offer (const char *offer)
{
  g_free (client.pending_offer);
  client.pending_offer = g_strdup (offer);
  if (client.ws
      && soup_websocket_connection_get_state (client.ws) == SOUP_WEBSOCKET_STATE_OPEN)
    ws_send (client.echo ? "echo" : "join", offer);
}

/* A new peer connection from scratch: after a re-home the old node is gone. */
static gboolean
rejoin (gpointer data)
{
  if (client.pipe)
    {
      gst_element_set_state (client.pipe, GST_STATE_NULL);
      g_clear_object (&client.webrtc);
      g_clear_object (&client.pipe);
    }
  g_clear_pointer (&client.pending_offer, g_free);
  client.rejoins++;
  build_pipeline ();
  return G_SOURCE_REMOVE;
}

static gboolean
retry_join (gpointer data)
{
  if (client.pending_offer)
    ws_send (client.echo ? "echo" : "join", client.pending_offer);
  return G_SOURCE_REMOVE;
}

static void
on_ws_message (SoupWebsocketConnection *ws, int kind, GBytes *message, gpointer data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  if (!json_parser_load_from_data (parser, text, (gssize)len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *type = json_object_get_string_member_with_default (o, "type", "");
  if (g_str_equal (type, "answer"))
    apply_answer (json_object_get_string_member_with_default (o, "sdp", ""));
  else if (g_str_equal (type, "joined") && client.present)
    ws_send ("content.start", NULL); /* the node drops it until signald says so */
  else if (g_str_equal (type, "content"))
    {
      /* who presents, as signald tells it: "12,none,14" */
      JsonNode *site = json_object_get_member (o, "site_id");
      g_autofree char *who
          = site && JSON_NODE_HOLDS_VALUE (site)
                ? g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (site))
                : g_strdup ("none");
      gsize used = strlen (client.content_told);
      if (used + strlen (who) + 2 < sizeof client.content_told)
        g_snprintf (client.content_told + used, sizeof client.content_told - used, "%s%s",
                    used ? "," : "", who);
    }
  else if (g_str_equal (type, "ice"))
    {
      const char *cand = json_object_get_string_member_with_default (o, "candidate", "");
      if (*cand && (strstr (cand, " 127.0.0.1 ") || strstr (cand, " ::1 ")))
        g_signal_emit_by_name (client.webrtc, "add-ice-candidate", 0,
                               g_str_has_prefix (cand, "a=") ? cand + 2 : cand);
    }
  else if (g_str_equal (type, "level"))
    {
      const char *lv = json_object_get_string_member_with_default (o, "level", "");
      g_strlcpy (client.level, strlen (lv) < sizeof client.level ? lv : "?",
                 sizeof client.level);
      client.levels++;
      gsize used = strlen (client.told);
      if (used + 1 + strlen (client.level) < sizeof client.told - 1)
        g_snprintf (client.told + used, sizeof client.told - used, "%s%s",
                    used ? "," : "", client.level);
      else if (used > 0 && client.told[used - 1] != '+')
        client.told[used] = '+'; /* no more room: said once */
      g_printerr ("lt-webrtc-client: signald says our level is %s\n", client.level);
    }
  else if (g_str_equal (type, "rehome"))
    {
      g_printerr ("lt-webrtc-client: re-homed, joining again\n");
      g_idle_add (rejoin, NULL);
    }
  else if (g_str_equal (type, "error"))
    {
      const char *m = json_object_get_string_member_with_default (o, "message", "?");
      g_printerr ("lt-webrtc-client: signald: %s\n", m);
      /* no node up yet (a node registering, or re-homing): ask again shortly */
      if (client.pending_offer && client.join_retries++ < 50)
        g_timeout_add (200, retry_join, NULL);
    }
}

static void
on_ws_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GError) error = NULL;
  client.ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &error);
  if (client.ws == NULL)
    {
      g_autofree char *m = g_strdup_printf ("cannot reach signald: %s", error->message);
      client_fail (m);
      return;
    }
  g_signal_connect (client.ws, "message", G_CALLBACK (on_ws_message), NULL);
  if (client.pending_offer)
    ws_send (client.echo ? "echo" : "join", client.pending_offer);
}

static void
signald_connect (void)
{
  g_autofree char *url = g_strdup_printf ("%s/api/v1/ws", client.signald_url);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  if (msg == NULL)
    {
      client_fail ("bad --signald URL");
      return;
    }
  g_autofree char *auth = g_strdup_printf ("Bearer %s", client.token ? client.token : "");
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                auth);
  client.ws_session = soup_session_new ();
  soup_session_websocket_connect_async (client.ws_session, msg, NULL, NULL,
                                        G_PRIORITY_DEFAULT, NULL, on_ws_connected, NULL);
}

static gboolean
post_offer (gpointer data)
{
  GstWebRTCSessionDescription *local = NULL;
  g_object_get (client.webrtc, "local-description", &local, NULL);
  if (local == NULL)
    {
      client_fail ("no local description");
      return G_SOURCE_REMOVE;
    }
  g_autofree char *text = gst_sdp_message_as_text (local->sdp);
  gst_webrtc_session_description_free (local);
  g_autofree char *offer = loopback_only (text);
  if (g_getenv ("LT_WEBRTC_DEBUG"))
    g_printerr ("--- offer\n%s", offer);
  if (client.whip_url)
    whip_exchange (offer);
  else
    signald_send_offer (offer);
  return G_SOURCE_REMOVE;
}

static void
on_gathering_state (GObject *webrtc, GParamSpec *pspec, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    g_main_context_invoke (NULL, post_offer, NULL);
}

static void
on_offer_created (GstPromise *promise, gpointer data)
{
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (offer == NULL)
    {
      client_fail ("webrtcbin made no offer");
      return;
    }
  g_signal_emit_by_name (client.webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
}

static void
on_negotiation_needed (GstElement *webrtc, gpointer data)
{
  GstPromise *p = gst_promise_new_with_change_func (on_offer_created, NULL, NULL);
  g_signal_emit_by_name (webrtc, "create-offer", NULL, p);
}

static const char *
enum_nick (GType type, int value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);
  const char *nick = v ? v->value_nick : "unknown";
  g_type_class_unref (klass);
  return nick;
}

static void
transport_states (const char **ice, const char **dtls)
{
  GArray *trans = NULL;
  *ice = *dtls = "none";
  g_signal_emit_by_name (client.webrtc, "get-transceivers", &trans);
  if (trans == NULL || trans->len == 0)
    goto out;
  GstWebRTCRTPTransceiver *t = g_array_index (trans, GstWebRTCRTPTransceiver *, 0);
  GstWebRTCRTPSender *sender = NULL;
  g_object_get (t, "sender", &sender, NULL);
  if (sender)
    {
      GstWebRTCDTLSTransport *dt = NULL;
      g_object_get (sender, "transport", &dt, NULL);
      if (dt)
        {
          GstWebRTCDTLSTransportState ds;
          GstWebRTCICETransport *it = NULL;
          g_object_get (dt, "state", &ds, "transport", &it, NULL);
          *dtls = enum_nick (GST_TYPE_WEBRTC_DTLS_TRANSPORT_STATE, ds);
          if (it)
            {
              GstWebRTCICEConnectionState is;
              g_object_get (it, "state", &is, NULL);
              *ice = enum_nick (GST_TYPE_WEBRTC_ICE_CONNECTION_STATE, is);
              gst_object_unref (it);
            }
          gst_object_unref (dt);
        }
      gst_object_unref (sender);
    }
out:
  if (trans)
    g_array_unref (trans);
}

static gboolean
expectations_met (void)
{
  return (!client.expect_video || g_atomic_int_get (&client.video_frames) > 0)
         && (!client.expect_audio || g_atomic_int_get (&client.audio_buffers) > 0)
         && (!client.expect_content || g_atomic_int_get (&client.content_frames) > 0);
}

static gboolean
on_tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  if (client.report_ms > 0 && now - client.last_report >= (gint64)client.report_ms * 1000)
    {
      client.last_report = now;
      print_report (TRUE);
    }
  g_mutex_lock (&client.lock);
  gint64 first = client.t_first_media;
  g_mutex_unlock (&client.lock);
  if (first && expectations_met ()
      && now - first >= (gint64)client.hold_s * G_USEC_PER_SEC)
    {
      client.done = TRUE;
      g_main_loop_quit (client.loop);
      return G_SOURCE_REMOVE;
    }
  if (now - client.t_start >= (gint64)client.timeout_s * G_USEC_PER_SEC)
    {
      g_main_loop_quit (client.loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      g_autoptr (GError) err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      client_fail (err->message);
    }
  return G_SOURCE_CONTINUE;
}

/* One JSON line of what the site saw. An interim report (--report-ms) gives the tone
 * shares since the previous one, so a test can follow who is heard over time; the
 * final one covers the whole run. */
static void
print_report (gboolean interim)
{
  const char *ice, *dtls;
  transport_states (&ice, &dtls);
  g_autoptr (GString) tones = g_string_new ("{");
  g_mutex_lock (&client.lock);
  double *power = interim ? client.itone_power : client.tone_power;
  double total = interim ? client.itotal_power : client.total_power;
  for (guint t = 0; t < client.n_tones; t++)
    {
      /* the share of the heard power at this frequency, 0..1 */
      double share = total > 0 ? power[t] / total / 2 : 0;
      g_string_append_printf (tones, "%s\"%.0f\":%.4f", t ? "," : "", client.tone_hz[t],
                              share);
    }
  double rms = client.audio_samples
                   ? sqrt (client.total_power / (double)client.audio_samples)
                   : 0;
  if (interim)
    {
      memset (client.itone_power, 0, sizeof client.itone_power);
      client.itotal_power = 0;
    }
  g_mutex_unlock (&client.lock);
  g_string_append_c (tones, '}');
  double first_ms = client.t_first_media
                        ? (double)(client.t_first_media - client.t_start) / 1000.0
                        : -1;
  g_autoptr (GString) playout = g_string_new (NULL);
  g_mutex_lock (&client.lock);
  gint64 since_frame
      = client.last_frame_us ? g_get_monotonic_time () - client.last_frame_us : -1;
  g_string_append_printf (playout,
                          ",\"freezes\":%u,\"max_frame_gap_ms\":%.0f,"
                          "\"since_frame_ms\":%.0f",
                          client.freezes, client.max_frame_gap_us / 1000.0,
                          since_frame < 0 ? -1.0 : since_frame / 1000.0);
  g_string_append_printf (
      playout,
      ",\"content_frames\":%d,\"content_size\":\"%dx%d\",\"first_content_ms\":%.1f,"
      "\"content_told\":\"%s\"",
      g_atomic_int_get (&client.content_frames), g_atomic_int_get (&client.content_width),
      g_atomic_int_get (&client.content_height),
      client.t_first_content ? (client.t_first_content - client.t_start) / 1000.0 : -1.0,
      client.content_told);
  g_mutex_unlock (&client.lock);
  if (client.webrtc)
    {
      append_jitter_stats (playout, "audio");
      append_jitter_stats (playout, "video");
    }
  g_print (
      "{\"%s\":%s,\"ice\":\"%s\",\"dtls\":\"%s\",\"video_frames\":%d,"
      "\"audio_buffers\":%d,\"audio_rms\":%.4f,\"tones\":%s,"
      "\"first_media_ms\":%.1f,\"rejoins\":%u,\"level\":\"%s\",\"levels\":%u,"
      "\"told\":\"%s\",\"video_size\":\"%dx%d\"%s,\"error\":\"%s\"}\n",
      interim ? "interim" : "ok",
      interim || (client.done && !client.error) ? "true" : "false", ice, dtls,
      g_atomic_int_get (&client.video_frames), g_atomic_int_get (&client.audio_buffers),
      rms, tones->str, first_ms, client.rejoins, client.level, client.levels, client.told,
      g_atomic_int_get (&client.video_width), g_atomic_int_get (&client.video_height),
      playout->str, client.error ? client.error : "");
}

static gboolean
parse_tones (const char *list)
{
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);
  for (guint i = 0; parts[i]; i++)
    {
      if (client.n_tones == TONE_MAX)
        return FALSE;
      char *end = NULL;
      double f = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end || f <= 0 || f >= 24000)
        return FALSE;
      client.tone_hz[client.n_tones++] = f;
    }
  return TRUE;
}

static gboolean on_bus (GstBus *bus, GstMessage *msg, gpointer data);

/* Asks for lost packets on the transceiver of a sink pad fed video (and audio with
 * --nack-audio). The transceivers' kind is not known yet when the pipeline is
 * parsed; what feeds the pad says it. With do-nack webrtcbin offers rtx and
 * rtcp-fb nack for the transceiver's codec and sets its jitter buffer to ask for
 * what is missing; the jitter buffer's default latency (200 ms) leaves a 60 ms
 * round trip time for two or three tries before a packet is played as lost. */
static gboolean
nack_if_wanted (GstElement *webrtc, GstPad *pad, gpointer data)
{
  g_autoptr (GstCaps) caps = gst_pad_peer_query_caps (pad, NULL);
  const char *media
      = caps && gst_caps_get_size (caps) > 0
            ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "media")
            : NULL;
  GstWebRTCRTPTransceiver *t = NULL;
  g_object_get (pad, "transceiver", &t, NULL);
  if (t
      && ((client.nack && g_strcmp0 (media, "video") == 0)
          || (client.nack_audio && g_strcmp0 (media, "audio") == 0)))
    g_object_set (t, "do-nack", TRUE, NULL);
  g_clear_object (&t);
  return TRUE;
}

/* Builds and starts the site's pipeline: a test pattern and a tone into webrtcbin,
 * gathering on loopback. Called again from scratch after a re-home. */
static void
build_pipeline (void)
{
  g_autoptr (GError) error = NULL;
  client.pipe = gst_parse_launch (client.pipeline_desc, &error);
  if (client.pipe == NULL)
    {
      client_fail (error->message);
      return;
    }
  client.webrtc = gst_bin_get_by_name (GST_BIN (client.pipe), "w");
  g_signal_connect (client.pipe, "deep-element-added", G_CALLBACK (on_deep_element_added),
                    NULL);
  if (client.nack || client.nack_audio)
    {
      /* browsers NACK lost video by default (not audio); webrtcbin only when told */
      gst_element_foreach_sink_pad (client.webrtc, nack_if_wanted, NULL);
    }
  /* libnice skips loopback unless told: the tests' only network is loopback */
  GstWebRTCICE *ice = NULL;
  gboolean added = FALSE;
  g_object_get (client.webrtc, "ice-agent", &ice, NULL);
  if (ice)
    {
      g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &added);
      gst_object_unref (ice);
    }
  if (!added)
    g_printerr ("lt-webrtc-client: could not add 127.0.0.1 to the ICE agent\n");
  /* a site whose network lets it reach nothing but a TURN server */
  if (client.turn_url)
    g_object_set (client.webrtc, "turn-server", client.turn_url, NULL);
  if (client.relay_only)
    gst_util_set_object_arg (G_OBJECT (client.webrtc), "ice-transport-policy", "relay");
  g_clear_object (&client.content_trans);
  if (client.present)
    {
      /* the second video sink pad (after audio and the program) is the content */
      g_autoptr (GstPad) sink = gst_element_get_static_pad (client.webrtc, "sink_2");
      if (sink)
        g_object_get (sink, "transceiver", &client.content_trans, NULL);
      if (client.content_trans == NULL)
        client_fail ("no transceiver for the content");
    }
  else if (client.content)
    {
      g_autoptr (GstCaps) caps = gst_caps_from_string (
          "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
      g_signal_emit_by_name (client.webrtc, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                             &client.content_trans);
      if (client.nack && client.content_trans)
        g_object_set (client.content_trans, "do-nack", TRUE, NULL);
    }
  g_signal_connect (client.webrtc, "on-negotiation-needed",
                    G_CALLBACK (on_negotiation_needed), NULL);
  g_signal_connect (client.webrtc, "notify::ice-gathering-state",
                    G_CALLBACK (on_gathering_state), NULL);
  g_signal_connect (client.webrtc, "pad-added", G_CALLBACK (on_incoming_stream), NULL);
  g_autoptr (GstBus) bus = gst_element_get_bus (client.pipe);
  gst_bus_add_watch (bus, on_bus, NULL);
  gst_element_set_state (client.pipe, GST_STATE_PLAYING);
}

static gboolean
on_sigterm (gpointer data)
{
  /* a test that started us for a while ends us: judge what we saw so far */
  client.done = expectations_met ();
  g_main_loop_quit (client.loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int pattern = 0, tone = 440, present = -1;
  g_autofree char *listen = NULL;
  gboolean no_video = FALSE;
  GOptionEntry entries[] = {
    { "whip", 'w', 0, G_OPTION_ARG_STRING, &client.whip_url, "POST the offer here",
      "URL" },
    { "signald", 0, 0, G_OPTION_ARG_STRING, &client.signald_url,
      "Join through this signald's site WebSocket", "URL" },
    { "join", 0, 0, G_OPTION_ARG_INT64, &client.occurrence,
      "With --signald: the occurrence to join", "ID" },
    { "echo", 0, 0, G_OPTION_ARG_NONE, &client.echo,
      "With --signald: test my line (echo) instead of joining", NULL },
    { "token", 0, 0, G_OPTION_ARG_STRING, &client.token, "Bearer token", "TOKEN" },
    { "pattern", 'p', 0, G_OPTION_ARG_INT, &pattern, "videotestsrc pattern number", "N" },
    { "tone", 'f', 0, G_OPTION_ARG_INT, &tone, "frequency of the sent sine (Hz)", "HZ" },
    { "listen-tones", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "frequencies whose received power to report", "HZ,HZ" },
    { "no-video", 0, 0, G_OPTION_ARG_NONE, &no_video, "send audio only", NULL },
    { "expect-video", 0, 0, G_OPTION_ARG_NONE, &client.expect_video,
      "succeed only if video frames were decoded", NULL },
    { "expect-audio", 0, 0, G_OPTION_ARG_NONE, &client.expect_audio,
      "succeed only if audio was decoded", NULL },
    { "hold", 0, 0, G_OPTION_ARG_INT, &client.hold_s,
      "after the expectations hold, keep receiving this long (s)", "S" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &client.timeout_s, "give up after (s)", "S" },
    { "report-ms", 0, 0, G_OPTION_ARG_INT, &client.report_ms,
      "print an interim JSON line this often", "MS" },
    { "turn", 0, 0, G_OPTION_ARG_STRING, &client.turn_url, "TURN server",
      "turn://USER:PASS@HOST:PORT" },
    { "relay-only", 0, 0, G_OPTION_ARG_NONE, &client.relay_only,
      "ICE policy relay: use only TURN-relayed candidates", NULL },
    { "nack", 0, 0, G_OPTION_ARG_NONE, &client.nack,
      "ask for lost packets again (NACK), as browsers do", NULL },
    { "nack-audio", 0, 0, G_OPTION_ARG_NONE, &client.nack_audio,
      "ask for lost audio packets again too (NACK with RFC 4588 rtx)", NULL },
    { "content", 0, 0, G_OPTION_ARG_NONE, &client.content,
      "receive the content (a second video m-line) and report it", NULL },
    { "present", 0, 0, G_OPTION_ARG_INT, &present,
      "send this test pattern as the content (and ask signald to present)", "N" },
    { "expect-content", 0, 0, G_OPTION_ARG_NONE, &client.expect_content,
      "succeed only if content frames were decoded", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("- WebRTC test site (webrtcbin)");
  g_autoptr (GError) error = NULL;

  client.timeout_s = 15;
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)
      || (client.whip_url == NULL) == (client.signald_url == NULL)
      || (client.signald_url && !client.echo && client.occurrence <= 0)
      || (listen && !parse_tones (listen)) || (present >= 0 && no_video))
    {
      g_printerr ("lt-webrtc-client: %s\n",
                  error ? error->message
                        : "need --whip URL, or --signald URL with --join ID or --echo; "
                          "valid --listen-tones; and video to --present");
      return 2;
    }
  g_mutex_init (&client.lock);
  client.jbufs = g_ptr_array_new_with_free_func (jitter_tap_free);
  client.loop = g_main_loop_new (NULL, FALSE);

  g_autofree char *video
      = no_video ? g_strdup ("")
                 : g_strdup_printf (
                     "videotestsrc is-live=true pattern=%d ! "
                     "video/x-raw,width=320,height=240,framerate=15/1 ! "
                     "videoconvert ! vp8enc deadline=1 keyframe-max-dist=30 ! "
                     "rtpvp8pay pt=96 ! "
                     "application/x-rtp,media=video,encoding-name=VP8,payload=96 "
                     "! w.",
                     pattern);
  /* slides: detail over motion, as a browser's contentHint "detail" asks */
  client.present = present >= 0 ? present + 1 : 0;
  g_autofree char *slides
      = client.present ? g_strdup_printf (
            "videotestsrc is-live=true pattern=%d ! "
            "video/x-raw,width=1280,height=720,framerate=5/1 ! videoconvert ! "
            "vp8enc deadline=1 keyframe-max-dist=50 ! rtpvp8pay pt=96 ! "
            "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w.sink_2",
            present)
                       : g_strdup ("");
  client.pipeline_desc = g_strdup_printf (
      "webrtcbin name=w bundle-policy=max-bundle "
      "audiotestsrc is-live=true wave=sine freq=%d volume=0.3 ! audioconvert ! "
      "audioresample ! opusenc ! rtpopuspay pt=111 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w. %s %s",
      tone, video, slides);
  client.t_start = client.last_report = g_get_monotonic_time ();
  build_pipeline ();
  if (client.signald_url)
    signald_connect ();
  g_timeout_add (50, on_tick, NULL);
  g_unix_signal_add (SIGTERM, on_sigterm, NULL);
  g_main_loop_run (client.loop);

  print_report (FALSE);
  if (client.pipe)
    {
      gst_element_set_state (client.pipe, GST_STATE_NULL);
      g_autoptr (GstBus) bus = gst_element_get_bus (client.pipe);
      gst_bus_remove_watch (bus);
      g_clear_object (&client.webrtc);
      g_clear_object (&client.pipe);
    }
  g_clear_object (&client.content_trans);
  if (client.ws)
    {
      soup_websocket_connection_close (client.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&client.ws);
    }
  g_clear_object (&client.ws_session);
  g_ptr_array_unref (client.jbufs);
  g_main_loop_unref (client.loop);
  int rc = client.done && !client.error ? 0 : 1;
  g_free (client.whip_url);
  g_free (client.signald_url);
  g_free (client.token);
  g_free (client.error);
  g_free (client.pending_offer);
  g_free (client.pipeline_desc);
  g_free (client.turn_url);
  return rc;
}
