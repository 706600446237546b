/* Suite mcu-retransmission: proves NACK/RTX end to end with real parts. A node's
 * meeting leg (McuLeg: real ICE, DTLS-SRTP, router) serves two sites played by
 * GStreamer's webrtcbin, each with NACK and rtx turned on on its transceiver, as a
 * browser has them: site A sends VP8 and holds the floor (its video is the program),
 * site B only receives the program and the audio mix. Every packet between a site and the node crosses
 * its own tests/tools/lt-impair (the node is given the relay's port as the site's
 * only candidate, the site learns the relay's far side as a peer-reflexive one), and
 * once media flows both relays drop 5% of packets both ways for a measured window.
 *
 * With retransmission on it proves that the node NACKs site A's lost program
 * packets, that A's RFC 4588 retransmissions come back through the relay and fill
 * at least 80% of the numbers the node found missing (the bound for a
 * commune at 5% loss; NACKs and RTX are lost at 5% too and are asked again), and
 * that site B's NACKs are answered with RTX, for the program and for its mix (B
 * NACKs its audio too: webrtcbin offers rtx for Opus with do-nack, and the mix
 * comes back on the audio RTX SSRC the answer announced). It prints the recovered
 * fraction and the counts. With the node's retransmission turned off (the loop's
 * second run, mcu_leg_set_retransmission) no rtx is negotiated, no NACK is sent to A
 * and none is answered: the losses stay losses. Counts are asserted, timing is not; the window
 * carries about a thousand packets (test-pattern snow, which VP8 cannot compress,
 * at 300 kbit/s: more overwhelms a sanitizer build of node and sites in one process). */
#define GST_USE_UNSTABLE_API
#include "leg.h"
#include "lt-impair-harness.h"
#include "mcu.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static const char *const lo[] = { "127.0.0.1", NULL };

typedef struct
{
  const char *name; /* the member's name in the leg */
  GstElement *pipe, *webrtc;
  GAsyncQueue *q; /* char*: "offer:<sdp>", "cand:<line>", "error:..." */
  char *offer, *answer;
  guint16 port; /* webrtcbin's UDP host candidate */
  gboolean answered;
  Impair *imp;
} Site;

static void
site_post (Site *s, char *msg)
{
  g_async_queue_push (s->q, msg);
  g_main_context_wakeup (NULL);
}

static void
on_offer_created (GstPromise *promise, gpointer data)
{
  Site *s = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (offer == NULL)
    {
      site_post (s, g_strdup ("error:no offer"));
      return;
    }
  g_signal_emit_by_name (s->webrtc, "set-local-description", offer, NULL);
  char *text = gst_sdp_message_as_text (offer->sdp);
  site_post (s, g_strconcat ("offer:", text, NULL));
  g_free (text);
  gst_webrtc_session_description_free (offer);
}

static void
on_negotiation_needed (GstElement *w, gpointer data)
{
  GstPromise *p = gst_promise_new_with_change_func (on_offer_created, data, NULL);
  g_signal_emit_by_name (w, "create-offer", NULL, p);
}

static void
on_ice_candidate (GstElement *w, guint mline, const char *cand, gpointer data)
{
  site_post (data, g_strconcat ("cand:", cand, NULL));
}

static void
on_pad_added (GstElement *w, GstPad *pad, gpointer data)
{
  Site *s = data;
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (s->pipe), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

/* NACK and rtx on every transceiver of the site, as a browser has them. */
static void
site_enable_nack (Site *s)
{
  GArray *trans = NULL;
  g_signal_emit_by_name (s->webrtc, "get-transceivers", &trans);
  ck_assert (trans != NULL && trans->len > 0);
  for (guint i = 0; i < trans->len; i++)
    g_object_set (g_array_index (trans, GObject *, i), "do-nack", TRUE, NULL);
  g_array_unref (trans);
}

static void
site_start (Site *s, const char *name, gboolean sender)
{
  memset (s, 0, sizeof *s);
  s->name = name;
  s->q = g_async_queue_new_full (g_free);
  GError *err = NULL;
  if (sender)
    {
      s->pipe = gst_parse_launch (
          "webrtcbin name=w bundle-policy=max-bundle "
          "videotestsrc is-live=true pattern=snow ! "
          "video/x-raw,width=160,height=120,framerate=15/1 ! "
          "vp8enc deadline=1 keyframe-max-dist=3000 target-bitrate=300000 ! "
          "rtpvp8pay pt=96 mtu=600 ! "
          "application/x-rtp,media=video,encoding-name=VP8,payload=96,"
          "clock-rate=90000 ! w.",
          &err);
      ck_assert_msg (s->pipe != NULL, "%s", err ? err->message : "");
      s->webrtc = gst_bin_get_by_name (GST_BIN (s->pipe), "w");
    }
  else
    {
      /* a pipeline even for webrtcbin alone: its jitter buffers' timers need a clock */
      s->pipe = gst_pipeline_new (NULL);
      s->webrtc = gst_element_factory_make ("webrtcbin", "w");
      ck_assert_ptr_nonnull (s->webrtc);
      gst_util_set_object_arg (G_OBJECT (s->webrtc), "bundle-policy", "max-bundle");
      gst_bin_add (GST_BIN (s->pipe), gst_object_ref (s->webrtc));
    }
  GObject *ice = NULL;
  g_object_get (s->webrtc, "ice-agent", &ice, NULL);
  gboolean added = FALSE;
  g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &added);
  ck_assert (added);
  g_object_unref (ice);
  if (!sender)
    {
      GstCaps *caps = gst_caps_from_string (
          "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
      GstWebRTCRTPTransceiver *t = NULL;
      g_signal_emit_by_name (s->webrtc, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      gst_caps_unref (caps);
      ck_assert_ptr_nonnull (t);
      gst_object_unref (t);
      /* after the video, so the answer's first FID group is the program's */
      caps = gst_caps_from_string (
          "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
          "clock-rate=48000,encoding-params=(string)2");
      t = NULL;
      g_signal_emit_by_name (s->webrtc, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      gst_caps_unref (caps);
      ck_assert_ptr_nonnull (t);
      gst_object_unref (t);
    }
  site_enable_nack (s);
  g_signal_connect (s->webrtc, "on-negotiation-needed",
                    G_CALLBACK (on_negotiation_needed), s);
  g_signal_connect (s->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), s);
  g_signal_connect (s->webrtc, "pad-added", G_CALLBACK (on_pad_added), s);
  ck_assert_int_ne (gst_element_set_state (s->pipe, GST_STATE_PLAYING),
                    GST_STATE_CHANGE_FAILURE);
}

/* Takes what the site's threads posted: its offer, and the port of its UDP host
 * candidate (its other candidates are never given to the node: only the relay). */
static void
site_drain (Site *s)
{
  char *msg;
  while ((msg = g_async_queue_try_pop (s->q)) != NULL)
    {
      if (g_str_has_prefix (msg, "offer:"))
        s->offer = g_strdup (msg + 6);
      else if (g_str_has_prefix (msg, "cand:"))
        {
          g_auto (GStrv) w = g_strsplit (msg + 5, " ", -1);
          if (s->port == 0 && g_strv_length (w) >= 8
              && g_ascii_strcasecmp (w[2], "udp") == 0 && strcmp (w[7], "host") == 0)
            s->port = (guint16)g_ascii_strtoull (w[5], NULL, 10);
        }
      else
        ck_abort_msg ("%s: %s", s->name, msg);
      g_free (msg);
    }
}

static void
wait_ms (guint ms, Site *a, Site *b)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      site_drain (a);
      site_drain (b);
      g_usleep (1000);
    }
}

static void
on_answer (const char *sdp, const GError *error, gpointer data)
{
  Site *s = data;
  ck_assert_msg (sdp != NULL, "%s: %s", s->name, error ? error->message : "");
  s->answer = g_strdup (sdp);
  s->answered = TRUE;
}

/* The node's answer without its candidates: the site must reach it through the
 * relay only, which it learns from the node's checks (peer-reflexive). */
static char *
strip_candidates (const char *sdp)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  GString *out = g_string_new ("");
  for (guint i = 0; lines[i]; i++)
    if (*lines[i] && !g_str_has_prefix (lines[i], "a=candidate:")
        && !g_str_has_prefix (lines[i], "a=end-of-candidates"))
      g_string_append_printf (out, "%s\r\n", lines[i]);
  return g_string_free (out, FALSE);
}

/* A browser sends a NACK as soon as it sees a gap; webrtcbin's RTP session holds
 * feedback for its next regular report (5 s apart by default), by which time the
 * request has expired. Reports every 100 ms or so make its NACKs timely, as a
 * browser's are. */
static void
site_fast_rtcp (Site *s)
{
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (s->webrtc), "rtpbin");
  ck_assert_ptr_nonnull (rtpbin);
  GObject *session = NULL;
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
  ck_assert_ptr_nonnull (session);
  g_object_set (session, "rtcp-min-interval", (guint64)100 * GST_MSECOND, NULL);
  g_object_unref (session);
  gst_object_unref (rtpbin);
}

/* Joins a site to the leg through a relay of its own. */
static void
site_join (McuLeg *leg, Site *s, Site *other)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((s->offer == NULL || s->port == 0) && g_get_monotonic_time () < end)
    wait_ms (10, s, other);
  ck_assert_msg (s->offer != NULL && s->port != 0, "%s: no offer or candidate", s->name);
  /* the site offers rtx for its video, as a browser does */
  ck_assert_msg (strstr (s->offer, "rtx/90000") != NULL, "%s offers no rtx:\n%s", s->name,
                 s->offer);
  s->imp = impair_start (s->port, NULL);
  mcu_leg_add_site_async (leg, s->name, s->offer, MCU_LEVEL_FULL, on_answer, s);
  while (!s->answered && g_get_monotonic_time () < end)
    wait_ms (10, s, other);
  ck_assert (s->answered);
  g_autofree char *cand = g_strdup_printf (
      "candidate:1 1 UDP 2015363327 127.0.0.1 %u typ host", s->imp->port);
  g_autoptr (GError) error = NULL;
  ck_assert_msg (mcu_leg_add_candidate (leg, s->name, cand, &error), "%s",
                 error ? error->message : "");
  g_autofree char *answer = strip_candidates (s->answer);
  GstSDPMessage *sdp = NULL;
  ck_assert_int_eq (gst_sdp_message_new_from_text (answer, &sdp), GST_SDP_OK);
  GstWebRTCSessionDescription *desc
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (s->webrtc, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
  site_fast_rtcp (s);
}

static void
site_stop (Site *s)
{
  gst_element_set_state (s->pipe, GST_STATE_NULL);
  g_clear_object (&s->webrtc);
  g_clear_object (&s->pipe);
  if (s->imp)
    impair_stop (s->imp);
  g_async_queue_unref (s->q);
  g_free (s->offer);
  g_free (s->answer);
}

/* What a site saw of one SSRC it receives: packets received (its inbound-rtp),
 * and packets lost on the way (its RTP source's count from sequence gaps, which
 * retransmissions on another SSRC do not fill). */
typedef struct
{
  guint32 ssrc;
  guint64 received;
  gint64 lost;
} Inbound;

static gboolean
find_inbound (GQuark field, const GValue *value, gpointer data)
{
  Inbound *in = data;
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *st = gst_value_get_structure (value);
  GstWebRTCStatsType type;
  guint ssrc = 0;
  if (!gst_structure_get (st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL)
      || type != GST_WEBRTC_STATS_INBOUND_RTP
      || !gst_structure_get_uint (st, "ssrc", &ssrc) || ssrc != in->ssrc)
    return TRUE;
  gst_structure_get_uint64 (st, "packets-received", &in->received);
  const GValue *src = gst_structure_get_value (st, "gst-rtpsource-stats");
  gint lost = 0;
  if (src && GST_VALUE_HOLDS_STRUCTURE (src)
      && gst_structure_get_int (gst_value_get_structure (src), "packets-lost", &lost))
    in->lost = lost;
  return TRUE;
}

static Inbound
site_inbound (Site *s, guint32 ssrc)
{
  Inbound in = { .ssrc = ssrc };
  GstPromise *p = gst_promise_new ();
  g_signal_emit_by_name (s->webrtc, "get-stats", NULL, p);
  ck_assert_int_eq (gst_promise_wait (p), GST_PROMISE_RESULT_REPLIED);
  const GstStructure *reply = gst_promise_get_reply (p);
  if (reply)
    gst_structure_foreach (reply, find_inbound, &in);
  gst_promise_unref (p);
  return in;
}

/* A numeric field of the first statistics entry of @type (for @ssrc, or any when
 * 0) a site reports; -1 when there is none. */
typedef struct
{
  GstWebRTCStatsType type;
  guint32 ssrc;
  const char *field;
  gint64 value;
} StatQuery;

static gboolean
find_stat (GQuark field, const GValue *value, gpointer data)
{
  StatQuery *q = data;
  if (q->value >= 0 || !GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *st = gst_value_get_structure (value);
  GstWebRTCStatsType type;
  guint ssrc = 0;
  if (!gst_structure_get (st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL)
      || type != q->type || !gst_structure_get_uint (st, "ssrc", &ssrc)
      || (q->ssrc && ssrc != q->ssrc))
    return TRUE;
  const GValue *v = gst_structure_get_value (st, q->field);
  if (v && G_VALUE_HOLDS_UINT (v))
    q->value = g_value_get_uint (v);
  else if (v && G_VALUE_HOLDS_UINT64 (v))
    q->value = (gint64)g_value_get_uint64 (v);
  else if (v && G_VALUE_HOLDS_INT (v))
    q->value = g_value_get_int (v);
  else if (v && G_VALUE_HOLDS_INT64 (v))
    q->value = g_value_get_int64 (v);
  else if (v && G_VALUE_HOLDS_DOUBLE (v))
    q->value = (gint64)g_value_get_double (v);
  return TRUE;
}

static gint64
site_stat (Site *s, GstWebRTCStatsType type, guint32 ssrc, const char *field)
{
  StatQuery q = { type, ssrc, field, -1 };
  GstPromise *p = gst_promise_new ();
  g_signal_emit_by_name (s->webrtc, "get-stats", NULL, p);
  ck_assert_int_eq (gst_promise_wait (p), GST_PROMISE_RESULT_REPLIED);
  const GstStructure *reply = gst_promise_get_reply (p);
  if (reply)
    gst_structure_foreach (reply, find_stat, &q);
  gst_promise_unref (p);
  return q.value;
}

static char *leg_stats; /* the leg's last statistics report */

static void
on_leg_stats (const char *json, gpointer data)
{
  g_free (leg_stats);
  leg_stats = g_strdup (json);
}

/* A count of the "retransmission" object of @endpoint in the leg's last report. */
static gint64
leg_retransmission (const char *endpoint, const char *name)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (leg_stats == NULL || !json_parser_load_from_data (p, leg_stats, -1, NULL))
    return -1;
  JsonArray *a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "endpoint"), endpoint) == 0
          && json_object_has_member (o, "retransmission"))
        return json_object_get_int_member (
            json_object_get_object_member (o, "retransmission"), name);
    }
  return -1;
}

/* The program and RTX SSRCs the node's answer announced (a=ssrc-group:FID). */
static gboolean
answer_fid (const char *answer, guint32 *program, guint32 *rtx)
{
  const char *g = strstr (answer, "a=ssrc-group:FID ");
  guint p = 0, r = 0;
  if (g == NULL || sscanf (g, "a=ssrc-group:FID %u %u", &p, &r) != 2)
    return FALSE;
  *program = p, *rtx = r;
  return TRUE;
}

static McuPeerCounters
counters (McuLeg *leg, const char *name)
{
  McuPeerCounters c = { 0 };
  mcu_leg_get_counters (leg, name, &c);
  return c;
}

START_TEST (test_lossy_sites_recover)
{
  gboolean on = _i == 0;
  gst_init (NULL, NULL);
  /* libsrtp through McuSrtp first (see mcu-endpoint-webrtcbin) */
  guint8 zero[30] = { 0 };
  mcu_srtp_free (mcu_srtp_new (MCU_SRTP_PROFILE_AES128_CM_SHA1_80, zero, zero, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate ("node-retx", &error);
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  McuLegCallbacks cb = { .stats = on_leg_stats };
  McuLeg *leg = mcu_leg_new (NULL, cert, "14/retx", &cfg, NULL, &cb, NULL, &error);
  ck_assert_msg (leg != NULL, "%s", error ? error->message : "");
  mcu_leg_set_retransmission (leg, on);

  Site a, b;
  site_start (&a, "site:a", TRUE);
  site_start (&b, "site:b", FALSE);
  site_join (leg, &a, &b);
  site_join (leg, &b, &a);
  gboolean answer_rtx = strstr (a.answer, "apt=") != NULL;
  ck_assert_msg (answer_rtx == on, "rtx %s in the answer:\n%s",
                 answer_rtx ? "negotiated" : "missing", a.answer);
  if (on)
    ck_assert (strstr (a.answer, "a=ssrc-group:FID") != NULL);
  mcu_leg_set_floor (leg, "site:a");

  /* clean line first: the program reaches B */
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (counters (leg, "site:b").video_forwarded < 100 && g_get_monotonic_time () < end)
    wait_ms (20, &a, &b);
  McuPeerCounters a0 = counters (leg, "site:a"), b0 = counters (leg, "site:b");
  ck_assert_msg (b0.video_forwarded >= 100,
                 "program did not flow: A sent %" G_GUINT64_FORMAT
                 " packets, B got %" G_GUINT64_FORMAT,
                 a0.rtp_in, b0.video_forwarded);

  /* 5% loss both ways on both sites for the window, then a second for the last
   * retransmissions to land */
  ck_assert (impair_cmd (a.imp, "both loss 5", NULL, NULL));
  ck_assert (impair_cmd (b.imp, "both loss 5", NULL, NULL));
  wait_ms (15000, &a, &b);
  DirStats a_node = { 0 }, a_site = { 0 }, b_site = { 0 }, b_node = { 0 };
  /* "up" is the node's side to the site (the node spoke first), "down" the site's */
  ck_assert (impair_cmd (a.imp, "both loss 0", NULL, NULL));
  ck_assert (impair_cmd (b.imp, "both loss 0", NULL, NULL));
  wait_ms (1500, &a, &b);
  ck_assert (impair_cmd (a.imp, "stats", &a_node, &a_site));
  ck_assert (impair_cmd (b.imp, "stats", &b_node, &b_site));
  McuPeerCounters a1 = counters (leg, "site:a"), b1 = counters (leg, "site:b");
  guint32 program_ssrc = 0, rtx_ssrc = 0;
  if (!answer_fid (b.answer, &program_ssrc, &rtx_ssrc))
    program_ssrc = 0x4C540B01u, rtx_ssrc = 0x4C540B03u; /* off: announced no RTX */
  Inbound b_program = site_inbound (&b, program_ssrc),
          b_rtx = site_inbound (&b, rtx_ssrc);
  /* the leg's audio SSRCs (mcu/leg.c): the mix, and its RTX stream where the answer
   * announced it next to the mix */
  gboolean audio_fid
      = strstr (b.answer, "a=ssrc-group:FID 1280576001 1280576003") != NULL;
  Inbound b_mix = site_inbound (&b, 0x4C540A01u),
          b_mix_rtx = site_inbound (&b, 0x4C540A03u);

  guint64 missing = a1.loss_missing - a0.loss_missing;
  guint64 recovered = a1.rtx_recovered - a0.rtx_recovered;
  double fraction = missing ? (double)recovered / (double)missing : 0;
  g_print ("retransmission %s: site A -> node: %" G_GUINT64_FORMAT
           " program packets in, %" G_GUINT64_FORMAT
           " found missing (relay dropped %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
           " datagrams from A), NACKs sent %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
           " numbers), RTX in %" G_GUINT64_FORMAT ", recovered %" G_GUINT64_FORMAT
           " = %.1f%%, given up %" G_GUINT64_FORMAT "\n",
           on ? "on" : "off", a1.rtp_in - a0.rtp_in, missing, a_site.loss, a_site.rx,
           a1.nacks_out - a0.nacks_out, a1.nack_seqs_out - a0.nack_seqs_out,
           a1.rtx_in - a0.rtx_in, recovered, 100 * fraction,
           a1.loss_given_up - a0.loss_given_up);
  guint64 b_asked = b1.retransmitted - b0.retransmitted + b1.nack_misses - b0.nack_misses;
  /* an estimate: an RTX answers a number lost between the node and B (numbers lost
   * before the node are misses), but a number asked twice may be answered twice */
  double b_fraction = b_program.lost > 0
                          ? MIN (1.0, (double)b_rtx.received / (double)b_program.lost)
                          : 0;
  g_print ("retransmission %s: node -> site B: relay dropped %" G_GUINT64_FORMAT
           " of %" G_GUINT64_FORMAT " datagrams to B, B asked for %" G_GUINT64_FORMAT
           " numbers, answered with RTX %" G_GUINT64_FORMAT " (misses %" G_GUINT64_FORMAT
           ": numbers A's uplink had lost too); B lost %" G_GINT64_FORMAT
           " program packets and received %" G_GUINT64_FORMAT
           " RTX = about %.1f%% recovered\n",
           on ? "on" : "off", b_node.loss, b_node.rx, b_asked,
           b1.retransmitted - b0.retransmitted, b1.nack_misses - b0.nack_misses,
           b_program.lost, b_rtx.received, 100 * b_fraction);
  g_print ("retransmission %s: the mix to site B: %" G_GUINT64_FORMAT
           " packets received, %" G_GINT64_FORMAT
           " lost; B's NACK entries %" G_GUINT64_FORMAT
           ", answered with audio RTX %" G_GUINT64_FORMAT " (misses %" G_GUINT64_FORMAT
           "), B received %" G_GUINT64_FORMAT " of them\n",
           on ? "on" : "off", b_mix.received, b_mix.lost,
           b1.audio_nacks_in - b0.audio_nacks_in,
           b1.audio_retransmitted - b0.audio_retransmitted,
           b1.audio_nack_misses - b0.audio_nack_misses, b_mix_rtx.received);
  /* not vacuous: the relay did drop program packets of A */
  ck_assert_uint_gt (missing, 10);
  if (on)
    {
      ck_assert_uint_gt (a1.nacks_out - a0.nacks_out, 0);
      ck_assert_msg (fraction >= 0.8, "only %.1f%% of A's lost packets recovered",
                     100 * fraction);
      ck_assert_uint_gt (b1.retransmitted - b0.retransmitted, 0);
      ck_assert_uint_gt (b_rtx.received, 0); /* B took our RTX stream */
      ck_assert_msg (audio_fid, "no audio FID group in the answer:\n%s", b.answer);
      ck_assert_uint_gt (b1.audio_retransmitted - b0.audio_retransmitted, 0);
      ck_assert_uint_gt (b_mix_rtx.received, 0);
    }
  else
    {
      ck_assert_uint_eq (a1.nacks_out, 0);
      ck_assert_uint_eq (a1.rtx_recovered, 0);
      ck_assert_uint_eq (b1.retransmitted, 0);
      ck_assert_uint_eq (b_rtx.received, 0);
      ck_assert (!audio_fid);
      /* webrtcbin NACKs with do-nack whatever the answer said: counted, unanswered */
      ck_assert_uint_eq (b1.audio_retransmitted, 0);
      ck_assert_uint_eq (b_mix_rtx.received, 0);
    }

  /* video reports: B heard the node's sender reports on the program (its
   * remote-outbound-rtp), A the node's report blocks on its video (its
   * remote-inbound-rtp) */
  gint64 sr_packets = site_stat (&b, GST_WEBRTC_STATS_REMOTE_OUTBOUND_RTP, program_ssrc,
                                 "packets-sent");
  gint64 rr_seen = -1;
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC; /* reports are 1 s apart */
  while ((rr_seen = site_stat (&a, GST_WEBRTC_STATS_REMOTE_INBOUND_RTP, 0, "ssrc")) < 0
         && g_get_monotonic_time () < end)
    wait_ms (200, &a, &b);
  g_print ("video reports: B's view of the node's SR on the program: %" G_GINT64_FORMAT
           " packets sent; A has a report block on its video: %s\n",
           sr_packets, rr_seen >= 0 ? "yes" : "no");
  ck_assert_int_gt (sr_packets, 0);
  ck_assert_int_ge (rr_seen, 0);
  /* the counts reach the leg's statistics report, where an IT board reads them */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (leg_retransmission ("site:a", "lost") < (gint64)a1.loss_missing
         && g_get_monotonic_time () < end)
    wait_ms (50, &a, &b);
  ck_assert_int_ge (leg_retransmission ("site:a", "lost"), (gint64)a1.loss_missing);
  ck_assert_int_eq (leg_retransmission ("site:a", "recovered") > 0, on);
  ck_assert_int_eq (leg_retransmission ("site:b", "retransmitted") > 0, on);
  g_clear_pointer (&leg_stats, g_free);

  mcu_leg_free (leg);
  wait_ms (100, &a, &b);
  site_stop (&a);
  site_stop (&b);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-retransmission");
  TCase *tc = tcase_create ("lossy");
  tcase_set_timeout (tc, 90);
  tcase_add_loop_test (tc, test_lossy_sites_recover, 0, 2);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
