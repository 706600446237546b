/* Suite mcu-endpoint-webrtcbin: proves that McuEndpoint interoperates with an
 * independent WebRTC implementation, GStreamer's webrtcbin (its own ICE use,
 * DTLS elements and srtpenc): webrtcbin offers VP8 video and Opus audio with
 * trickled loopback candidates, McuEndpoint answers through sdp.h as the
 * controlled ICE agent and DTLS client, and the SRTP and SRTCP webrtcbin sends are
 * decrypted by us, with the payload types and SSRCs the SDP negotiated, and
 * nothing refused; echoed back under our SSRCs, our SRTP is decrypted and
 * counted by webrtcbin (its inbound-rtp statistics). Loopback only: webrtcbin is told to gather on 127.0.0.1. */
#define GST_USE_UNSTABLE_API
#include "mcu.h"
#include "lt-test.h"
#include "mcutx-util.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

static GMainContext *ctx;
static GstElement *pipe;
static GstElement *webrtc;
static GAsyncQueue *from_webrtc; /* char*: "offer:<sdp>" or "cand:<line>" */
static McuCert *cert;
static McuEndpoint *ep;
static guint video_pt, audio_pt, video_packets, audio_packets, rtcp_packets;
static guint32 video_ssrc_seen;
static guint echoed;

static void
post (char *msg)
{
  g_async_queue_push (from_webrtc, msg);
  g_main_context_wakeup (ctx);
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
      post (g_strdup ("error:no offer"));
      return;
    }
  g_signal_emit_by_name (webrtc, "set-local-description", offer, NULL);
  char *text = gst_sdp_message_as_text (offer->sdp);
  post (g_strconcat ("offer:", text, NULL));
  g_free (text);
  gst_webrtc_session_description_free (offer);
}

static void
on_negotiation_needed (GstElement *w, gpointer data)
{
  GstPromise *p = gst_promise_new_with_change_func (on_offer_created, NULL, NULL);
  g_signal_emit_by_name (w, "create-offer", NULL, p);
}

static void
on_ice_candidate (GstElement *w, guint mline, const char *cand, gpointer data)
{
  post (g_strconcat ("cand:", cand, NULL));
}

static void
on_packet (McuEndpoint *e, gboolean is_rtcp, guint8 *buf, gsize len, gpointer data)
{
  if (is_rtcp)
    {
      rtcp_packets++;
      return;
    }
  guint pt = buf[1] & 0x7f;
  guint32 ours = 0;
  if (pt == video_pt)
    {
      video_packets++;
      video_ssrc_seen = (guint32)buf[8] << 24 | buf[9] << 16 | buf[10] << 8 | buf[11];
      ours = 0x5678;
    }
  else if (pt == audio_pt)
    {
      audio_packets++;
      ours = 0x1234;
    }
  /* Echo mode: the media goes back under the SSRC our answer announced, so
   * webrtcbin must decrypt our SRTP to count it. */
  if (ours != 0 && len >= 12)
    {
      buf[8] = ours >> 24;
      buf[9] = ours >> 16 & 0xff;
      buf[10] = ours >> 8 & 0xff;
      buf[11] = ours & 0xff;
      if (mcu_endpoint_send_rtp (e, buf, len) == MCU_SRTP_OK)
        echoed++;
    }
}

static void
on_pad_added (GstElement *w, GstPad *pad, gpointer data)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (pipe), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

/* Sums packets-received over webrtcbin's inbound-rtp stats (its view of what we
 * sent). Runs on webrtcbin's thread; the result is posted like the rest. */
static gboolean
sum_inbound (GQuark field, const GValue *value, gpointer data)
{
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *st = gst_value_get_structure (value);
  GstWebRTCStatsType type;
  guint64 packets = 0;
  if (gst_structure_get (st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL)
      && type == GST_WEBRTC_STATS_INBOUND_RTP
      && gst_structure_get_uint64 (st, "packets-received", &packets))
    *(guint64 *)data += packets;
  return TRUE;
}

static void
on_stats (GstPromise *promise, gpointer data)
{
  const GstStructure *reply = gst_promise_get_reply (promise);
  guint64 total = 0;
  if (reply)
    gst_structure_foreach (reply, sum_inbound, &total);
  gst_promise_unref (promise);
  post (g_strdup_printf ("stats:%" G_GUINT64_FORMAT, total));
}

static void
setup (void)
{
  gst_init (NULL, NULL);
  ctx = g_main_context_new ();
  from_webrtc = g_async_queue_new_full (g_free);
  cert = mcu_cert_generate (NULL, NULL);
  /* Initialise libsrtp through McuSrtp before GStreamer's srtp plugin does: a
   * second srtp_init() in one process re-runs libsrtp's self-tests and, with
   * webrtcbin's srtpenc already running, reports failure (2) to whoever comes
   * last. The node itself loads no srtp plugin; see the report on issue 5. */
  guint8 zero[30] = { 0 };
  mcu_srtp_free (mcu_srtp_new (MCU_SRTP_PROFILE_AES128_CM_SHA1_80, zero, zero, NULL));
  video_pt = audio_pt = video_packets = audio_packets = rtcp_packets = echoed = 0;
}

static void
teardown (void)
{
  if (pipe)
    {
      gst_element_set_state (pipe, GST_STATE_NULL);
      g_clear_object (&webrtc);
      g_clear_object (&pipe);
    }
  g_clear_object (&ep);
  g_clear_pointer (&cert, mcu_cert_unref);
  g_async_queue_unref (from_webrtc);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_main_context_unref (ctx);
}

static char *offer_text;
static guint64 webrtc_inbound;
static gboolean stats_pending;

/* Applies what webrtcbin's threads posted: the offer is kept, candidates go to
 * the endpoint once it has the remote parameters (before that they wait). */
static GPtrArray *early_cands;

static gboolean
drain (gpointer data)
{
  char *msg;
  while ((msg = g_async_queue_try_pop (from_webrtc)) != NULL)
    {
      if (g_str_has_prefix (msg, "offer:"))
        offer_text = g_strdup (msg + 6);
      else if (g_str_has_prefix (msg, "stats:"))
        {
          webrtc_inbound = g_ascii_strtoull (msg + 6, NULL, 10);
          stats_pending = FALSE;
        }
      else if (g_str_has_prefix (msg, "cand:"))
        {
          const char *c = msg + 5;
          if (early_cands == NULL)
            mcu_endpoint_add_remote_candidate (ep, c, NULL);
          else
            g_ptr_array_add (early_cands, g_strdup (c));
        }
      else
        ck_abort_msg ("%s", msg);
      g_free (msg);
    }
  gboolean (**cond) (void) = data;
  return (*cond) ();
}

static gboolean
have_offer (void)
{
  return offer_text != NULL;
}

static gboolean gathered_flag;

static gboolean
gathered (void)
{
  return gathered_flag;
}

static void
on_gathered (McuEndpoint *e, gpointer data)
{
  gathered_flag = TRUE;
}

/* Asks webrtcbin for stats whenever the last answer is in, until it has counted
 * at least ten of the packets we echoed. */
static gboolean
webrtc_counted (void)
{
  if (webrtc_inbound >= 10)
    return TRUE;
  if (!stats_pending)
    {
      stats_pending = TRUE;
      GstPromise *p = gst_promise_new_with_change_func (on_stats, NULL, NULL);
      g_signal_emit_by_name (webrtc, "get-stats", NULL, p);
    }
  return FALSE;
}

static gboolean
media_flows (void)
{
  return mcu_endpoint_get_state (ep) == MCU_ENDPOINT_STATE_FAILED
         || (video_packets >= 10 && audio_packets >= 10 && rtcp_packets >= 1);
}

START_TEST (test_webrtcbin_offer)
{
  GError *perr = NULL;
  pipe = gst_parse_launch (
      "webrtcbin name=w bundle-policy=max-bundle "
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,"
      "framerate=15/1 ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! "
      "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! w. "
      "audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=1 ! opusenc "
      "! "
      "rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
      "clock-rate=48000 ! w.",
      &perr);
  ck_assert_msg (pipe != NULL, "%s", perr ? perr->message : "");
  webrtc = gst_bin_get_by_name (GST_BIN (pipe), "w");
  GObject *ice = NULL;
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  ck_assert_ptr_nonnull (ice);
  gboolean added = FALSE;
  g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &added);
  ck_assert (added);
  g_object_unref (ice);
  g_signal_connect (webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed),
                    NULL);
  g_signal_connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), NULL);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), NULL);
  webrtc_inbound = 0;
  early_cands = g_ptr_array_new_with_free_func (g_free);
  ck_assert_int_ne (gst_element_set_state (pipe, GST_STATE_PLAYING),
                    GST_STATE_CHANGE_FAILURE);

  gboolean (*cond) (void) = have_offer;
  ck_assert_msg (mcutx_wait (ctx, drain, &cond, 20000), "webrtcbin made no offer");

  static const char *const lo[] = { "127.0.0.1", NULL };
  McuEndpointConfig cfg = { 0 };
  cfg.ice.controlling = FALSE; /* the offerer controls, as a browser does */
  cfg.ice.local_addresses = lo;
  cfg.name = "webrtcbin-peer";
  ep = mcu_endpoint_new (ctx, cert, &cfg, NULL);
  ck_assert_ptr_nonnull (ep);
  g_signal_connect (ep, "gathering-done", G_CALLBACK (on_gathered), NULL);
  mcu_endpoint_set_packet_func (ep, on_packet, NULL, NULL);
  gathered_flag = FALSE;
  ck_assert (mcu_endpoint_start (ep, NULL));
  cond = gathered;
  ck_assert (mcutx_wait (ctx, drain, &cond, 10000));

  McuSdpLocal local = { 0 };
  local.ice_ufrag = mcu_endpoint_get_local_ufrag (ep);
  local.ice_pwd = mcu_endpoint_get_local_pwd (ep);
  local.fingerprint = mcu_endpoint_get_local_fingerprint (ep);
  local.setup = "active";
  local.audio_ssrc = 0x1234;
  local.video_ssrc = 0x5678;
  local.cname = "mcu";
  local.msid_stream = "mcu";
  local.candidates = mcu_endpoint_get_local_candidates (ep);
  g_autofree char *answer = NULL;
  g_autoptr (GError) error = NULL;
  /* webrtcbin (max-bundle) offers the second m-line as "port 0 + a=bundle-only"
   * (RFC 8843 section 7.2.1): sdp.h must take it as bundled, not rejected. */
  g_autoptr (McuSdpSession) sess
      = mcu_sdp_answer_offer (offer_text, strlen (offer_text), &local, &answer, &error);
  ck_assert_msg (sess != NULL, "%s\n%s", error ? error->message : "", offer_text);
  for (guint i = 0; i < mcu_sdp_session_n_media (sess); i++)
    {
      const McuSdpMedia *m = mcu_sdp_session_media (sess, i);
      ck_assert_msg (m->accepted, "m-line %u (%s) rejected\n%s", i, m->kind, offer_text);
      if (g_strcmp0 (m->kind, "video") == 0)
        video_pt = m->pt;
      else if (g_strcmp0 (m->kind, "audio") == 0)
        audio_pt = m->pt;
    }
  ck_assert (video_pt != 0 && audio_pt != 0);
  ck_assert (mcu_endpoint_set_remote_sdp (ep, sess, &error));
  for (guint i = 0; i < early_cands->len; i++)
    mcu_endpoint_add_remote_candidate (ep, g_ptr_array_index (early_cands, i), NULL);
  g_clear_pointer (&early_cands, g_ptr_array_unref);

  GstSDPMessage *sdp = NULL;
  ck_assert_int_eq (gst_sdp_message_new_from_text (answer, &sdp), GST_SDP_OK);
  GstWebRTCSessionDescription *desc
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);

  cond = media_flows;
  gboolean ok = mcutx_wait (ctx, drain, &cond, 20000);
  const GError *e = mcu_endpoint_get_error (ep);
  ck_assert_msg (ok && mcu_endpoint_get_state (ep) == MCU_ENDPOINT_STATE_CONNECTED,
                 "state %s (%s), video %u audio %u rtcp %u",
                 mcu_endpoint_state_name (mcu_endpoint_get_state (ep)),
                 e ? e->message : "no error", video_packets, audio_packets, rtcp_packets);
  McuSrtpProfile prof = mcu_endpoint_get_srtp_profile (ep);
  ck_assert (prof == MCU_SRTP_PROFILE_AEAD_AES_128_GCM
             || prof == MCU_SRTP_PROFILE_AES128_CM_SHA1_80);
  g_print ("webrtcbin interop: %s, video %u, audio %u, rtcp %u packets\n",
           mcu_srtp_profile_name (prof), video_packets, audio_packets, rtcp_packets);
  /* the SSRC is the one webrtcbin announced for video */
  const McuSdpMedia *vm = NULL;
  for (guint i = 0; i < mcu_sdp_session_n_media (sess); i++)
    if (mcu_sdp_session_media (sess, i)->pt == video_pt
        && g_strcmp0 (mcu_sdp_session_media (sess, i)->kind, "video") == 0)
      vm = mcu_sdp_session_media (sess, i);
  if (vm && vm->n_remote_ssrcs > 0)
    {
      gboolean known = FALSE;
      for (guint i = 0; i < vm->n_remote_ssrcs; i++)
        known |= vm->remote_ssrcs[i] == video_ssrc_seen;
      ck_assert_msg (known, "video SSRC %08x not announced", video_ssrc_seen);
    }
  McuEndpointCounters c;
  mcu_endpoint_get_counters (ep, &c);
  ck_assert_uint_eq (c.dropped_auth + c.dropped_replay + c.dropped_unknown
                         + c.dropped_plain + c.dropped_oversize,
                     0);
  /* The other way: webrtcbin decrypts what we echo (its inbound-rtp counts it). */
  ck_assert_uint_gt (echoed, 0);
  cond = webrtc_counted;
  ck_assert_msg (mcutx_wait (ctx, drain, &cond, 20000),
                 "webrtcbin counted %" G_GUINT64_FORMAT " of our %u packets",
                 webrtc_inbound, echoed);
  g_print ("webrtcbin decrypted %" G_GUINT64_FORMAT " of %u echoed packets\n",
           webrtc_inbound, echoed);
  /* and our SRTCP is accepted the other way: sending does not fail */
  guint8 rr[8];
  ck_assert_int_eq (mcu_endpoint_send_rtcp (ep, rr, mcutx_rtcp_rr (rr, 0x5678)),
                    MCU_SRTP_OK);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-endpoint-webrtcbin");
  TCase *tc = tcase_create ("interop");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_webrtcbin_offer);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
