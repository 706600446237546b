/* Suite mcu-sdp: proves that a typical Chromium 120 offer (extmaps, rtx, red,
 * ulpfec, several H.264 profiles, VP9, AV1, a data channel) and a Firefox offer get
 * an answer that takes Opus and VP8 (with rtx and nack/pli/fir), rejects everything
 * else with port 0 while keeping the m-line count, BUNDLEs the accepted mids,
 * carries rtcp-mux, our ICE/DTLS parameters and SSRCs, and answers actpass with
 * active; that H.264 packetization-mode=1 is chosen when VP8 is absent; that offers
 * without rtcp-mux or without credentials, and garbage, fail with a clear GError;
 * that transport-cc (with its extension) and goog-remb are answered as offered,
 * and the audio level extension on audio;
 * and that our own offer round-trips through answer and accept. Retransmission:
 * our RTX SSRC is announced with a=ssrc-group:FID next to the video SSRC, in
 * answers to browsers and in node offers and answers, and with retransmission off
 * neither rtx nor generic NACK is offered or accepted (PLI and FIR still are).
 * Content: a browser's second video m-line (Chromium writes no a=content) and a
 * node's m-line marked a=content:slides are the content, answered with our content
 * SSRC and its rtx in a FID group and marked a=content:slides; without a content
 * SSRC we only receive there. */
#include "mcu.h"
#include "lt-test.h"
#include "lt-config.h"

#include <gst/sdp/sdp.h>
#include <string.h>

static const McuSdpLocal local = {
  .ice_ufrag = "LtUf",
  .ice_pwd = "lienthongpassword000000",
  .fingerprint = "sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
                 "FF:00:11:22:33:44:55:66:77:88:99",
  .setup = "actpass",
  .audio_ssrc = 1111,
  .video_ssrc = 2222,
  .cname = "node-08",
  .msid_stream = "lt",
};

static char *
load_offer (const char *name)
{
  const char *root = g_getenv ("LT_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root ? root : LT_SOURCE_ROOT, "tests", "fuzz",
                                            "corpus", "sdp", name, NULL);
  char *text = NULL;
  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  return text;
}

static char *
replace_all (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);
  return g_strjoinv (to, parts);
}

static guint
count_lines (const char *text, const char *prefix)
{
  guint n = 0;
  g_auto (GStrv) lines = g_strsplit (text, "\r\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;
  return n;
}

static McuSdpSession *
answer (const char *offer, char **ans)
{
  g_autoptr (GError) error = NULL;
  McuSdpSession *s = mcu_sdp_answer_offer (offer, strlen (offer), &local, ans, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_ptr_nonnull (*ans);
  return s;
}

START_TEST (test_sdp_chromium)
{
  g_autofree char *offer = load_offer ("chromium-120-offer.sdp");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (offer, &ans);

  ck_assert_str_eq (mcu_sdp_session_remote_ufrag (s), "Xk3p");
  ck_assert_str_eq (mcu_sdp_session_remote_pwd (s), "Rz8n5bq2VtY7wLmQe4sHcJ1d");
  ck_assert_str_eq (mcu_sdp_session_remote_fingerprint (s),
                    "sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:"
                    "1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08");
  ck_assert_str_eq (mcu_sdp_session_remote_setup (s), "actpass");
  ck_assert_str_eq (mcu_sdp_session_local_setup (s), "active");
  ck_assert_ptr_null (mcu_sdp_session_remote_candidates (s)[0]);

  ck_assert_uint_eq (mcu_sdp_session_n_media (s), 3);
  const McuSdpMedia *a = mcu_sdp_session_media (s, 0);
  ck_assert (a->accepted);
  ck_assert_str_eq (a->mid, "0");
  ck_assert_str_eq (a->kind, "audio");
  ck_assert_str_eq (a->codec, "opus");
  ck_assert_uint_eq (a->pt, 111);
  ck_assert_uint_eq (a->clock_rate, 48000);
  ck_assert_uint_eq (a->channels, 2);
  ck_assert_str_eq (a->fmtp, "minptime=10;useinbandfec=1");
  ck_assert_uint_eq (a->n_remote_ssrcs, 1);
  ck_assert_uint_eq (a->remote_ssrcs[0], 1398329186u);
  ck_assert (!a->nack && !a->pli && !a->fir);
  ck_assert (a->remote_sends && a->remote_receives);

  const McuSdpMedia *v = mcu_sdp_session_media (s, 1);
  ck_assert (v->accepted);
  ck_assert_str_eq (v->codec, "VP8");
  ck_assert_uint_eq (v->pt, 96);
  ck_assert_uint_eq (v->clock_rate, 90000);
  ck_assert_uint_eq (v->rtx_pt, 97);
  ck_assert (v->nack && v->pli && v->fir);
  ck_assert_uint_eq (v->n_remote_ssrcs, 2);
  ck_assert_uint_eq (v->remote_ssrcs[0], 2231627014u);
  ck_assert_uint_eq (v->remote_ssrcs[1], 632943048u);

  const McuSdpMedia *d = mcu_sdp_session_media (s, 2);
  ck_assert (!d->accepted);
  ck_assert_str_eq (d->kind, "application");
  ck_assert_str_eq (d->mid, "2");
  ck_assert_ptr_null (mcu_sdp_session_media (s, 3));

  /* The answer text, line by line. */
  ck_assert_uint_eq (count_lines (ans, "m="), 3);
  ck_assert_uint_eq (count_lines (ans, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), 1);
  ck_assert_uint_eq (count_lines (ans, "m=video 9 UDP/TLS/RTP/SAVPF 96 97"), 1);
  ck_assert_uint_eq (
      count_lines (ans, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=group:BUNDLE 0 1"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=group:BUNDLE 0 1 2"), 0);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-mux"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=setup:active"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=ice-ufrag:LtUf"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=fingerprint:sha-256 AA:BB"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=rtpmap:111 opus/48000/2"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtpmap:97 rtx/90000"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=fmtp:97 apt=96"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 nack"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 nack pli"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 ccm fir"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=sendrecv"), 2);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:1111 cname:node-08"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:2222 cname:node-08"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:2222 msid:lt lt-video"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=mid:2"), 1);
  ck_assert (strstr (ans, "H264") == NULL && strstr (ans, "VP9") == NULL);
  /* congestion control: transport-cc with its extension on both, goog-remb for
   * video too (the node's tree capacity); the audio level on audio (see
   * test_sdp_audio_level); no other extension */
  ck_assert_uint_eq (a->twcc_ext_id, 3);
  ck_assert (a->transport_cc && !a->remb);
  ck_assert_uint_eq (v->twcc_ext_id, 3);
  ck_assert (v->transport_cc && v->remb);
  ck_assert_uint_eq (count_lines (ans, "a=extmap:"), 3);
  ck_assert_uint_eq (count_lines (ans, "a=extmap:3 " MCU_TWCC_EXT_URI), 2);
  ck_assert_uint_eq (count_lines (ans, "a=extmap:1 " MCU_AUDIO_LEVEL_EXT_URI), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:111 transport-cc"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 transport-cc"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 goog-remb"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:111 goog-remb"), 0);

  /* Our answer is itself an answer we accept (as a peer node would). */
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) back = mcu_sdp_accept_answer (ans, strlen (ans), &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (mcu_sdp_session_remote_setup (back), "active");
  ck_assert_str_eq (mcu_sdp_session_local_setup (back), "passive");
  ck_assert_str_eq (mcu_sdp_session_remote_ufrag (back), "LtUf");
  ck_assert_uint_eq (mcu_sdp_session_n_media (back), 3);
  ck_assert_str_eq (mcu_sdp_session_media (back, 1)->codec, "VP8");
  ck_assert_uint_eq (mcu_sdp_session_media (back, 1)->remote_ssrcs[0], 2222);
  ck_assert (!mcu_sdp_session_media (back, 2)->accepted);
  ck_assert (mcu_sdp_session_media (back, 1)->transport_cc);
  ck_assert_uint_eq (mcu_sdp_session_media (back, 1)->twcc_ext_id, 3);
}
END_TEST

/* A peer that offers goog-remb only gets goog-remb only; one that offers the
 * feedback without the extension gets neither (nothing to number packets with). */
START_TEST (test_sdp_congestion_offers)
{
  g_autofree char *chromium = load_offer ("chromium-120-offer.sdp");
  g_autofree char *remb_only = replace_all (chromium, " transport-cc", " nack");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (remb_only, &ans);
  const McuSdpMedia *v = mcu_sdp_session_media (s, 1);
  ck_assert (v->remb && !v->transport_cc);
  ck_assert_uint_eq (v->twcc_ext_id, 0);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 goog-remb"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:96 transport-cc"), 0);
  ck_assert_uint_eq (count_lines (ans, "a=extmap:3 "), 0); /* only the audio level */

  g_autofree char *no_ext
      = replace_all (chromium, "draft-holmer-rmcat-transport-wide-cc-extensions-01",
                     "unknown-extension");
  g_autofree char *ans2 = NULL;
  g_autoptr (McuSdpSession) s2 = answer (no_ext, &ans2);
  v = mcu_sdp_session_media (s2, 1);
  ck_assert (!v->transport_cc && v->remb);
  ck_assert_uint_eq (count_lines (ans2, "a=rtcp-fb:96 transport-cc"), 0);
  ck_assert_uint_eq (count_lines (ans2, "a=extmap:3 "), 0);

  /* a two-byte ID is not taken */
  g_autofree char *high = replace_all (chromium, "a=extmap:3 http", "a=extmap:40 http");
  g_autofree char *ans3 = NULL;
  g_autoptr (McuSdpSession) s3 = answer (high, &ans3);
  ck_assert (!mcu_sdp_session_media (s3, 1)->transport_cc);
}
END_TEST

/* The RFC 6464 audio level a browser offers on audio is answered under its ID and
 * handed to the mixer (audio_level_ext_id), with or without "vad=on"; a URI that
 * only begins like it, or one offered on video, is not; our own offer carries it on
 * audio and a node answering it takes it. */
START_TEST (test_sdp_audio_level)
{
  g_autofree char *chromium = load_offer ("chromium-120-offer.sdp");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (chromium, &ans);
  ck_assert_uint_eq (mcu_sdp_session_media (s, 0)->audio_level_ext_id, 1);
  ck_assert_uint_eq (mcu_sdp_session_media (s, 1)->audio_level_ext_id, 0);
  ck_assert_uint_eq (count_lines (ans, "a=extmap:1 " MCU_AUDIO_LEVEL_EXT_URI), 1);

  g_autofree char *vad
      = replace_all (chromium, "ssrc-audio-level\r\n", "ssrc-audio-level vad=on\r\n");
  g_autofree char *a2 = NULL;
  g_autoptr (McuSdpSession) s2 = answer (vad, &a2);
  ck_assert_uint_eq (mcu_sdp_session_media (s2, 0)->audio_level_ext_id, 1);

  g_autofree char *lookalike
      = replace_all (chromium, "ssrc-audio-level\r\n", "ssrc-audio-levels\r\n");
  g_autofree char *a3 = NULL;
  g_autoptr (McuSdpSession) s3 = answer (lookalike, &a3);
  ck_assert_uint_eq (mcu_sdp_session_media (s3, 0)->audio_level_ext_id, 0);
  ck_assert_uint_eq (count_lines (a3, "a=extmap:1 "), 0);

  McuSdpLocal me = local;
  g_autofree char *offer = mcu_sdp_create_offer (&me);
  ck_assert_uint_eq (count_lines (offer, "a=extmap:1 " MCU_AUDIO_LEVEL_EXT_URI), 1);
  g_autofree char *a4 = NULL;
  g_autoptr (McuSdpSession) s4 = answer (offer, &a4);
  ck_assert_uint_eq (mcu_sdp_session_media (s4, 0)->audio_level_ext_id, 1);
  ck_assert_uint_eq (mcu_sdp_session_media (s4, 1)->audio_level_ext_id, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) back = mcu_sdp_accept_answer (a4, strlen (a4), &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (mcu_sdp_session_media (back, 0)->audio_level_ext_id, 1);
}
END_TEST

/* Without VP8, H.264 packetization-mode=1 is taken, constrained baseline first. */
START_TEST (test_sdp_h264_fallback)
{
  g_autofree char *orig = load_offer ("chromium-120-offer.sdp");
  g_autofree char *offer = replace_all (orig, "VP8/90000", "VP7/90000");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (offer, &ans);
  const McuSdpMedia *v = mcu_sdp_session_media (s, 1);
  ck_assert (v->accepted);
  ck_assert_str_eq (v->codec, "H264");
  ck_assert_uint_eq (v->pt, 106);
  ck_assert_uint_eq (v->rtx_pt, 107);
  ck_assert_str_eq (
      v->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  ck_assert_uint_eq (count_lines (ans, "m=video 9 UDP/TLS/RTP/SAVPF 106 107"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=fmtp:106 level-asymmetry-allowed=1;"
                                       "packetization-mode=1;profile-level-id=42e01f"),
                     1);

  /* Only VP9 and AV1 left: the video m-line is rejected, audio still accepted. */
  g_autofree char *o2 = replace_all (offer, "H264/90000", "H265/90000");
  g_autofree char *a2 = NULL;
  g_autoptr (McuSdpSession) s2 = answer (o2, &a2);
  ck_assert (mcu_sdp_session_media (s2, 0)->accepted);
  ck_assert (!mcu_sdp_session_media (s2, 1)->accepted);
  ck_assert_uint_eq (count_lines (a2, "m=video 0 "), 1);
  ck_assert_uint_eq (count_lines (a2, "a=group:BUNDLE 0"), 1);
  ck_assert_uint_eq (count_lines (a2, "a=group:BUNDLE 0 1"), 0);
}
END_TEST

/* A max-bundle offer: the video m-line has port 0 and a=bundle-only (RFC 8843
 * 6.3.1) and no transport attributes; it is still accepted on the shared transport. */
START_TEST (test_sdp_bundle_only)
{
  g_autofree char *orig = load_offer ("chromium-120-offer.sdp");
  g_autofree char *o1 = replace_all (orig, "m=video 9 ", "m=video 0 ");
  g_autofree char *offer
      = replace_all (o1, "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (offer, &ans);
  ck_assert (mcu_sdp_session_media (s, 1)->accepted);
  ck_assert_str_eq (mcu_sdp_session_media (s, 1)->codec, "VP8");
  ck_assert_uint_eq (count_lines (ans, "a=group:BUNDLE 0 1"), 1);

  /* Port 0 without bundle-only is a rejection and stays one. */
  g_autofree char *a2 = NULL;
  g_autoptr (McuSdpSession) s2 = answer (o1, &a2);
  ck_assert (!mcu_sdp_session_media (s2, 1)->accepted);
  ck_assert_uint_eq (count_lines (a2, "m=video 0 "), 1);
}
END_TEST

START_TEST (test_sdp_firefox)
{
  g_autofree char *offer = load_offer ("firefox-offer.sdp");
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (offer, &ans);
  ck_assert_str_eq (mcu_sdp_session_remote_ufrag (s), "e1c4a7f2");
  ck_assert (g_str_has_prefix (mcu_sdp_session_remote_fingerprint (s), "sha-256 1F:0E"));
  const McuSdpMedia *a = mcu_sdp_session_media (s, 0);
  ck_assert_str_eq (a->codec, "opus");
  ck_assert_uint_eq (a->pt, 109);
  const McuSdpMedia *v = mcu_sdp_session_media (s, 1);
  ck_assert_str_eq (v->codec, "VP8");
  ck_assert_uint_eq (v->pt, 120);
  ck_assert_uint_eq (v->rtx_pt, 124);
  ck_assert (v->nack && v->pli && v->fir);
  ck_assert_uint_eq (v->n_remote_ssrcs, 2);
  ck_assert_uint_eq (count_lines (ans, "a=group:BUNDLE 0 1"), 1);
  ck_assert_uint_eq (count_lines (ans, "m=audio 9 UDP/TLS/RTP/SAVPF 109"), 1);
}
END_TEST

/* Directions: what the peer only sends we only receive, and the reverse. */
START_TEST (test_sdp_directions)
{
  g_autofree char *orig = load_offer ("firefox-offer.sdp");
  g_autofree char *o1 = g_strdup (orig);
  /* audio recvonly, video sendonly */
  char *p = strstr (o1, "a=sendrecv");
  ck_assert_ptr_nonnull (p);
  memcpy (p, "a=recvonly", 10);
  p = strstr (p + 10, "a=sendrecv");
  ck_assert_ptr_nonnull (p);
  memcpy (p, "a=sendonly", 10);
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (o1, &ans);
  ck_assert (!mcu_sdp_session_media (s, 0)->remote_sends);
  ck_assert (mcu_sdp_session_media (s, 0)->remote_receives);
  ck_assert (mcu_sdp_session_media (s, 1)->remote_sends);
  ck_assert (!mcu_sdp_session_media (s, 1)->remote_receives);
  ck_assert_uint_eq (count_lines (ans, "a=sendonly"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=recvonly"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:1111 "), 2); /* we send audio */
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:2222 "), 0); /* no video to send */

  /* Our side with no SSRCs only receives. */
  McuSdpLocal quiet = local;
  quiet.audio_ssrc = quiet.video_ssrc = 0;
  g_autofree char *a2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) s2
      = mcu_sdp_answer_offer (orig, strlen (orig), &quiet, &a2, &error);
  ck_assert_ptr_nonnull (s2);
  ck_assert_uint_eq (count_lines (a2, "a=recvonly"), 2);
  ck_assert_uint_eq (count_lines (a2, "a=ssrc:"), 0);
}
END_TEST

START_TEST (test_sdp_refusals)
{
  g_autofree char *orig = load_offer ("chromium-120-offer.sdp");
  g_autoptr (GError) error = NULL;
  g_autofree char *ans = NULL;

  g_autofree char *nomux = replace_all (orig, "a=rtcp-mux\r\n", "");
  ck_assert_ptr_null (mcu_sdp_answer_offer (nomux, strlen (nomux), &local, &ans, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED));
  ck_assert (strstr (error->message, "rtcp-mux") != NULL);
  ck_assert_ptr_null (ans);
  g_clear_error (&error);

  g_autofree char *nofp = replace_all (orig, "a=fingerprint:", "a=x-fingerprint:");
  ck_assert_ptr_null (mcu_sdp_answer_offer (nofp, strlen (nofp), &local, &ans, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  ck_assert (strstr (error->message, "fingerprint") != NULL);
  g_clear_error (&error);

  g_autofree char *noice = replace_all (orig, "a=ice-pwd:", "a=x-ice-pwd:");
  ck_assert_ptr_null (mcu_sdp_answer_offer (noice, strlen (noice), &local, &ans, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  const char *garbage[]
      = { "hello", "v=0\r\n", "m=\r\n", "\x01\x02\xff\xfe", "a=b\nm=x" };
  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      ck_assert_ptr_null (
          mcu_sdp_answer_offer (garbage[i], strlen (garbage[i]), &local, &ans, &error));
      ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
      g_clear_error (&error);
    }
  ck_assert_ptr_null (mcu_sdp_answer_offer (orig, 0, &local, &ans, &error));
  g_clear_error (&error);
  /* Every prefix of the offer ends in an answer or an error, nothing else. */
  for (gsize n = 1; n < strlen (orig); n += 37)
    {
      char *copy = g_memdup2 (orig, n); /* not NUL-terminated */
      McuSdpSession *s = mcu_sdp_answer_offer (copy, n, &local, &ans, &error);
      ck_assert ((s != NULL) == (error == NULL));
      ck_assert ((s != NULL) == (ans != NULL));
      mcu_sdp_session_free (s);
      g_clear_pointer (&ans, g_free);
      g_clear_error (&error);
      g_free (copy);
    }
}
END_TEST

/* Plain RTP/AVP and unsupported-only m-lines are answered with port 0, keeping the
 * m-line count, instead of failing or hanging. */
START_TEST (test_sdp_unsupported_lines)
{
  const char *offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE a b\r\n"
                      "a=fingerprint:sha-256 0a:0b\r\n"
                      "m=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n"
                      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                      "a=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 98\r\nc=IN IP4 0.0.0.0\r\na=mid:b\r\n"
                      "a=rtcp-mux\r\na=rtpmap:98 VP9/90000\r\n"
                      "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";
  g_autofree char *ans = NULL;
  g_autoptr (McuSdpSession) s = answer (offer, &ans);
  ck_assert_uint_eq (mcu_sdp_session_n_media (s), 2);
  ck_assert (!mcu_sdp_session_media (s, 0)->accepted);
  ck_assert (!mcu_sdp_session_media (s, 1)->accepted);
  ck_assert_str_eq (mcu_sdp_session_remote_fingerprint (s), "sha-256 0A:0B");
  ck_assert_uint_eq (count_lines (ans, "m=audio 0 RTP/AVP 0"), 1);
  ck_assert_uint_eq (count_lines (ans, "m=video 0 UDP/TLS/RTP/SAVPF 98"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=group:"), 0);
}
END_TEST

/* Node-to-node: our offer is answered by another node and the answer accepted. */
START_TEST (test_sdp_offer_round_trip)
{
  McuSdpLocal peer = local;
  peer.ice_ufrag = "PeEr";
  peer.audio_ssrc = 3333;
  peer.video_ssrc = 4444;
  const char *cands[] = { "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host", NULL };
  McuSdpLocal me = local;
  me.candidates = cands;

  g_autofree char *offer = mcu_sdp_create_offer (&me);
  ck_assert_uint_eq (count_lines (offer, "a=setup:actpass"), 2);
  ck_assert_uint_eq (count_lines (offer, "a=candidate:1 1 udp"), 1);
  ck_assert_uint_eq (count_lines (offer, "a=group:BUNDLE 0 1"), 1);

  g_autofree char *ans = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) at_peer
      = mcu_sdp_answer_offer (offer, strlen (offer), &peer, &ans, &error);
  ck_assert_msg (at_peer != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (mcu_sdp_session_remote_candidates (at_peer)[0], cands[0]);
  ck_assert_ptr_null (mcu_sdp_session_remote_candidates (at_peer)[1]);
  ck_assert_str_eq (mcu_sdp_session_media (at_peer, 1)->codec, "VP8");
  ck_assert_uint_eq (mcu_sdp_session_media (at_peer, 1)->remote_ssrcs[0], 2222);

  g_autoptr (McuSdpSession) at_me = mcu_sdp_accept_answer (ans, strlen (ans), &error);
  ck_assert_msg (at_me != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (mcu_sdp_session_remote_ufrag (at_me), "PeEr");
  ck_assert_str_eq (mcu_sdp_session_local_setup (at_me), "passive");
  ck_assert_uint_eq (mcu_sdp_session_n_media (at_me), 2);
  const McuSdpMedia *a = mcu_sdp_session_media (at_me, 0);
  ck_assert (a->accepted);
  ck_assert_str_eq (a->codec, "opus");
  ck_assert_uint_eq (a->remote_ssrcs[0], 3333);
  const McuSdpMedia *v = mcu_sdp_session_media (at_me, 1);
  ck_assert_str_eq (v->codec, "VP8");
  ck_assert_uint_eq (v->rtx_pt, 97);
  ck_assert (v->nack && v->pli && v->fir);
  /* node links number their packets and feed back: transport-cc both ways */
  ck_assert (a->transport_cc && v->transport_cc && v->remb);
  ck_assert_uint_eq (v->twcc_ext_id, 3);
  ck_assert (mcu_sdp_session_media (at_peer, 1)->transport_cc);

  /* An answer that keeps actpass is not an answer. */
  g_autofree char *bad = replace_all (ans, "a=setup:active", "a=setup:actpass");
  ck_assert_ptr_null (mcu_sdp_accept_answer (bad, strlen (bad), &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
}
END_TEST

/* The lines of m-line @mid in @sdp that start with @prefix. */
static guint
count_in_mline (const char *sdp, const char *mid, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  g_autofree char *want = g_strdup_printf ("a=mid:%s", mid);
  gboolean in = FALSE;
  guint n = 0;
  for (guint i = 0; lines[i]; i++)
    {
      if (g_str_has_prefix (lines[i], "m="))
        in = FALSE;
      if (strcmp (lines[i], want) == 0)
        in = TRUE;
      n += in && g_str_has_prefix (lines[i], prefix);
    }
  return n;
}

START_TEST (test_sdp_content)
{
  /* Chromium's offer with a second video transceiver that has no track yet: it
   * announces SSRCs (and an rtx FID group) for it all the same */
  g_autofree char *offer = load_offer ("chromium-content-offer.sdp");
  McuSdpLocal me = local;
  me.video_rtx_ssrc = 2223;
  me.content_ssrc = 5555;
  me.content_rtx_ssrc = 5556;
  g_autofree char *ans = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) s
      = mcu_sdp_answer_offer (offer, strlen (offer), &me, &ans, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  const McuSdpMedia *v = mcu_sdp_session_media (s, 1), *c = mcu_sdp_session_media (s, 2);
  ck_assert (v->accepted && !v->content);
  ck_assert (c->accepted && c->content);
  ck_assert_str_eq (c->codec, "VP8");
  ck_assert_uint_eq (c->n_remote_ssrcs, 2);
  ck_assert_uint_eq (c->remote_ssrcs[0], 2731211297u);
  ck_assert_uint_eq (c->remote_ssrcs[1], 3179837470u);
  ck_assert (c->remote_sends && c->remote_receives);
  ck_assert_uint_eq (count_lines (ans, "a=content:slides"), 1);
  ck_assert_uint_eq (count_in_mline (ans, "2", "a=content:slides"), 1);
  ck_assert_uint_eq (count_in_mline (ans, "2", "a=ssrc-group:FID 5555 5556"), 1);
  ck_assert_uint_eq (count_in_mline (ans, "2", "a=sendrecv"), 1);
  ck_assert_uint_eq (count_in_mline (ans, "1", "a=ssrc-group:FID 2222 2223"), 1);
  ck_assert_uint_eq (count_in_mline (ans, "1", "a=ssrc:5555"), 0);

  /* no content SSRC: we take the presenter's stream there but send nothing */
  g_autofree char *ans2 = NULL;
  g_autoptr (McuSdpSession) s2 = answer (offer, &ans2);
  ck_assert (mcu_sdp_session_media (s2, 2)->content);
  ck_assert_uint_eq (count_in_mline (ans2, "2", "a=recvonly"), 1);
  ck_assert_uint_eq (count_in_mline (ans2, "2", "a=ssrc:"), 0);

  /* node links: the offer's third m-line is the content, marked, both ways */
  McuSdpLocal peer = me;
  peer.ice_ufrag = "PeEr";
  peer.content_ssrc = 7777;
  peer.content_rtx_ssrc = 7778;
  g_autofree char *link_offer = mcu_sdp_create_offer (&me);
  ck_assert_uint_eq (count_lines (link_offer, "a=group:BUNDLE 0 1 2"), 1);
  ck_assert_uint_eq (count_in_mline (link_offer, "2", "a=content:slides"), 1);
  ck_assert_uint_eq (count_in_mline (link_offer, "2", "a=ssrc-group:FID 5555 5556"), 1);
  g_autofree char *link_ans = NULL;
  g_autoptr (McuSdpSession) at_peer
      = mcu_sdp_answer_offer (link_offer, strlen (link_offer), &peer, &link_ans, &error);
  ck_assert_msg (at_peer != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_sdp_session_media (at_peer, 2)->content);
  ck_assert (!mcu_sdp_session_media (at_peer, 1)->content);
  ck_assert_uint_eq (mcu_sdp_session_media (at_peer, 2)->remote_ssrcs[0], 5555);
  g_autoptr (McuSdpSession) at_me
      = mcu_sdp_accept_answer (link_ans, strlen (link_ans), &error);
  ck_assert_msg (at_me != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_sdp_session_media (at_me, 2)->content);
  ck_assert_uint_eq (mcu_sdp_session_media (at_me, 2)->remote_ssrcs[0], 7777);
  ck_assert_uint_eq (mcu_sdp_session_media (at_me, 2)->rtx_pt, 97);

  /* a mark on the first video m-line makes that one the content and the second
   * the program */
  g_autofree char *marked
      = replace_all (offer, "a=mid:1\r\n", "a=mid:1\r\na=content:slides\r\n");
  g_autofree char *ans3 = NULL;
  g_autoptr (McuSdpSession) s3 = answer (marked, &ans3);
  ck_assert (mcu_sdp_session_media (s3, 1)->content);
  ck_assert (!mcu_sdp_session_media (s3, 2)->content);
}
END_TEST

START_TEST (test_sdp_retransmission)
{
  g_autofree char *offer = load_offer ("chromium-120-offer.sdp");
  McuSdpLocal me = local;
  me.video_rtx_ssrc = 2223;
  g_autofree char *ans = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) s
      = mcu_sdp_answer_offer (offer, strlen (offer), &me, &ans, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (count_lines (ans, "a=rtpmap:97 rtx/90000"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=fmtp:97 apt=96"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc-group:FID 2222 2223"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:2223 cname:node-08"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:2223 msid:lt lt-video"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc-group"), 1); /* not on audio */
  ck_assert_uint_eq (mcu_sdp_session_media (s, 1)->rtx_pt, 97);

  /* off: no rtx and no generic NACK, in the answer and in the session */
  me.no_retransmission = TRUE;
  g_autofree char *off = NULL;
  g_autoptr (McuSdpSession) s_off
      = mcu_sdp_answer_offer (offer, strlen (offer), &me, &off, &error);
  ck_assert_msg (s_off != NULL, "%s", error ? error->message : "");
  ck_assert (strstr (off, "rtx") == NULL && strstr (off, "apt=") == NULL);
  ck_assert (strstr (off, "ssrc-group") == NULL);
  ck_assert_uint_eq (count_lines (off, "a=rtcp-fb:96 nack"), 1); /* "nack pli" */
  ck_assert_uint_eq (count_lines (off, "a=rtcp-fb:96 nack pli"), 1);
  ck_assert_uint_eq (count_lines (off, "m=video 9 UDP/TLS/RTP/SAVPF 96\r"), 0);
  const McuSdpMedia *v = mcu_sdp_session_media (s_off, 1);
  ck_assert_uint_eq (v->rtx_pt, 0);
  ck_assert (!v->nack && v->pli && v->fir);

  /* node to node: the offer announces rtx for both codecs and our RTX SSRC; the
   * answering node announces its own; both sides see rtx negotiated */
  me.no_retransmission = FALSE;
  McuSdpLocal peer = local;
  peer.ice_ufrag = "PeEr";
  peer.video_ssrc = 4444;
  peer.video_rtx_ssrc = 4445;
  g_autofree char *node_offer = mcu_sdp_create_offer (&me);
  ck_assert_uint_eq (count_lines (node_offer, "a=fmtp:97 apt=96"), 1);
  ck_assert_uint_eq (count_lines (node_offer, "a=fmtp:103 apt=102"), 1);
  ck_assert_uint_eq (count_lines (node_offer, "a=ssrc-group:FID 2222 2223"), 1);
  g_autofree char *node_ans = NULL;
  g_autoptr (McuSdpSession) at_peer
      = mcu_sdp_answer_offer (node_offer, strlen (node_offer), &peer, &node_ans, &error);
  ck_assert_msg (at_peer != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (mcu_sdp_session_media (at_peer, 1)->rtx_pt, 97);
  ck_assert_uint_eq (count_lines (node_ans, "a=ssrc-group:FID 4444 4445"), 1);
  g_autoptr (McuSdpSession) at_me
      = mcu_sdp_accept_answer (node_ans, strlen (node_ans), &error);
  ck_assert_msg (at_me != NULL, "%s", error ? error->message : "");
  v = mcu_sdp_session_media (at_me, 1);
  ck_assert_uint_eq (v->rtx_pt, 97);
  ck_assert (v->nack);
  ck_assert_uint_eq (v->n_remote_ssrcs, 2);
  ck_assert_uint_eq (v->remote_ssrcs[0], 4444);

  /* an offer made with retransmission off has neither */
  me.no_retransmission = TRUE;
  g_autofree char *plain = mcu_sdp_create_offer (&me);
  ck_assert (strstr (plain, "rtx") == NULL && strstr (plain, "ssrc-group") == NULL);
  ck_assert_uint_eq (count_lines (plain, "a=rtcp-fb:96 nack"), 1);
}
END_TEST

/* Proves audio retransmission's negotiation: an offer of Opus with generic NACK
 * and an rtx type for it (webrtcbin's with do-nack) gets both back, with our
 * audio RTX SSRC in an FID group of its own next to the video's; without our
 * audio RTX SSRC, or with retransmission off, or when the offer has only one of
 * the two, audio gets neither (its NACKs are answered on RTX only). */
START_TEST (test_sdp_audio_retransmission)
{
  g_autofree char *chromium = load_offer ("chromium-120-offer.sdp");
  g_autofree char *with_rtx
      = replace_all (chromium, "a=rtcp-fb:111 transport-cc\r\n",
                     "a=rtcp-fb:111 transport-cc\r\na=rtcp-fb:111 nack\r\n"
                     "a=rtpmap:120 rtx/48000\r\na=fmtp:120 apt=111\r\n");
  g_autofree char *offer = replace_all (with_rtx, "m=audio 9 UDP/TLS/RTP/SAVPF 111 ",
                                        "m=audio 9 UDP/TLS/RTP/SAVPF 111 120 ");
  McuSdpLocal me = local;
  me.video_rtx_ssrc = 2223;
  me.audio_rtx_ssrc = 1112;
  g_autofree char *ans = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) s
      = mcu_sdp_answer_offer (offer, strlen (offer), &me, &ans, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  const McuSdpMedia *a = mcu_sdp_session_media (s, 0);
  ck_assert_str_eq (a->codec, "opus");
  ck_assert_uint_eq (a->rtx_pt, 120);
  ck_assert (a->nack);
  ck_assert_uint_eq (count_lines (ans, "a=rtcp-fb:111 nack"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=rtpmap:120 rtx/48000"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=fmtp:120 apt=111"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc-group:FID 1111 1112"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc-group:FID 2222 2223"), 1);
  ck_assert_uint_eq (count_lines (ans, "a=ssrc:1112 cname:node-08"), 1);

  /* no audio RTX SSRC of ours: neither rtx nor NACK for audio; video keeps both */
  McuSdpLocal no_audio = me;
  no_audio.audio_rtx_ssrc = 0;
  g_autofree char *ans2 = NULL;
  g_autoptr (McuSdpSession) s2
      = mcu_sdp_answer_offer (offer, strlen (offer), &no_audio, &ans2, &error);
  ck_assert_msg (s2 != NULL, "%s", error ? error->message : "");
  a = mcu_sdp_session_media (s2, 0);
  ck_assert (a->rtx_pt == 0 && !a->nack);
  ck_assert_uint_eq (count_lines (ans2, "a=rtcp-fb:111 nack"), 0);
  ck_assert_uint_eq (count_lines (ans2, "a=fmtp:120 apt=111"), 0);
  ck_assert_uint_eq (count_lines (ans2, "a=ssrc-group:FID 2222 2223"), 1);
  ck_assert_uint_eq (count_lines (ans2, "a=ssrc-group"), 1);

  /* NACK offered without rtx for Opus: not taken either */
  g_autofree char *nack_only = replace_all (chromium, "a=rtcp-fb:111 transport-cc\r\n",
                                            "a=rtcp-fb:111 transport-cc\r\n"
                                            "a=rtcp-fb:111 nack\r\n");
  g_autofree char *ans3 = NULL;
  g_autoptr (McuSdpSession) s3
      = mcu_sdp_answer_offer (nack_only, strlen (nack_only), &me, &ans3, &error);
  ck_assert_msg (s3 != NULL, "%s", error ? error->message : "");
  ck_assert (!mcu_sdp_session_media (s3, 0)->nack);
  ck_assert_uint_eq (count_lines (ans3, "a=rtcp-fb:111 nack"), 0);

  /* retransmission off: nothing of it for audio */
  me.no_retransmission = TRUE;
  g_autofree char *ans4 = NULL;
  g_autoptr (McuSdpSession) s4
      = mcu_sdp_answer_offer (offer, strlen (offer), &me, &ans4, &error);
  ck_assert_msg (s4 != NULL, "%s", error ? error->message : "");
  a = mcu_sdp_session_media (s4, 0);
  ck_assert (a->rtx_pt == 0 && !a->nack);
  ck_assert (strstr (ans4, "rtx") == NULL && strstr (ans4, "ssrc-group") == NULL);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-sdp");
  TCase *tc = tcase_create ("sdp");
  tcase_add_test (tc, test_sdp_chromium);
  tcase_add_test (tc, test_sdp_h264_fallback);
  tcase_add_test (tc, test_sdp_firefox);
  tcase_add_test (tc, test_sdp_bundle_only);
  tcase_add_test (tc, test_sdp_directions);
  tcase_add_test (tc, test_sdp_refusals);
  tcase_add_test (tc, test_sdp_unsupported_lines);
  tcase_add_test (tc, test_sdp_offer_round_trip);
  tcase_add_test (tc, test_sdp_retransmission);
  tcase_add_test (tc, test_sdp_audio_retransmission);
  tcase_add_test (tc, test_sdp_congestion_offers);
  tcase_add_test (tc, test_sdp_audio_level);
  tcase_add_test (tc, test_sdp_content);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
