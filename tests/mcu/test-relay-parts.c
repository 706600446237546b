/* Suite mcu-relay-parts: proves the pieces the relay's packet path is built of.
 * The rewriter gives receivers one continuous stream across program switches (same
 * SSRC, no sequence jump, timestamps advancing with wall time, across wraparound)
 * and drops what belongs to no program; the retransmission buffer returns exactly
 * the packet asked for and nothing evicted; an RFC 4588 RTX packet is the
 * original's header with the RTX stream's type, number and SSRC, then the OSN, then
 * the original payload and padding, and unwrapping it restores the original byte for
 * byte (malformed ones are refused untouched); the loss tracker asks for each gap at
 * once, again after a round trip, gives up in time, stays bounded and treats an
 * outage as one; keyframe detection agrees with real
 * VP8 from GStreamer's encoder and with hand-built H.264 packetizations. */
#include "keyframe.h"
#include "loss-tracker.h"
#include "rtp-rewriter.h"
#include "rtx-buffer.h"
#include "lt-test.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <string.h>

static void
make_rtp (guint8 pkt[12], guint32 ssrc, guint16 seq, guint32 ts)
{
  memset (pkt, 0, 12);
  pkt[0] = 0x80;
  pkt[1] = 96;
  pkt[2] = (guint8)(seq >> 8);
  pkt[3] = (guint8)seq;
  pkt[4] = (guint8)(ts >> 24);
  pkt[5] = (guint8)(ts >> 16);
  pkt[6] = (guint8)(ts >> 8);
  pkt[7] = (guint8)ts;
  pkt[8] = (guint8)(ssrc >> 24);
  pkt[9] = (guint8)(ssrc >> 16);
  pkt[10] = (guint8)(ssrc >> 8);
  pkt[11] = (guint8)ssrc;
}

static guint16
seq_of (const guint8 *p)
{
  return (guint16)((p[2] << 8) | p[3]);
}

static guint32
u32_at (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

START_TEST (test_rewriter_switch_is_continuous)
{
  McuRtpRewriter rw;
  guint8 p[12];
  gint64 now = 1000000;
  mcu_rtp_rewriter_init (&rw, 0xC0FFEE, 90000);

  /* nothing forwarded before a program source is chosen */
  make_rtp (p, 0xA, 100, 5000);
  ck_assert (!mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));

  mcu_rtp_rewriter_switch (&rw, 0xA);
  guint16 last_seq = 0;
  guint32 last_ts = 0;
  for (guint i = 0; i < 10; i++, now += 33333)
    {
      make_rtp (p, 0xA, (guint16)(65530 + i), 5000 + i * 3000); /* wraps at 65535 */
      ck_assert (mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
      ck_assert_uint_eq (u32_at (p + 8), 0xC0FFEE);
      if (i)
        ck_assert_uint_eq (seq_of (p), (guint16)(last_seq + 1));
      last_seq = seq_of (p);
      last_ts = u32_at (p + 4);
    }
  /* the other site's packets are not the program */
  make_rtp (p, 0xB, 7, 999);
  ck_assert (!mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));

  /* switch to B 100 ms after A's last packet: seq continues, ts advances 9000 */
  mcu_rtp_rewriter_switch (&rw, 0xB);
  now += 100000 - 33333;
  make_rtp (p, 0xB, 40000, 123456789);
  ck_assert (mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  ck_assert_uint_eq (seq_of (p), (guint16)(last_seq + 1));
  ck_assert_uint_eq (u32_at (p + 4), last_ts + 9000);
  ck_assert_uint_eq (u32_at (p + 8), 0xC0FFEE);
  guint16 first_b = seq_of (p);

  /* a late packet of A, and a packet of B older than its first, are dropped */
  make_rtp (p, 0xA, 3, 5000);
  ck_assert (!mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  make_rtp (p, 0xB, 39999, 123456789 - 3000);
  ck_assert (!mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  /* reordering within B keeps B's own spacing */
  make_rtp (p, 0xB, 40002, 123456789 + 6000);
  ck_assert (mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  ck_assert_uint_eq (seq_of (p), (guint16)(first_b + 2));
  make_rtp (p, 0xB, 40001, 123456789 + 3000);
  ck_assert (mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  ck_assert_uint_eq (seq_of (p), (guint16)(first_b + 1));
  ck_assert_uint_eq (rw.dropped, 4);

  /* switching back to A continues after B's highest, not after the reordered one */
  mcu_rtp_rewriter_switch (&rw, 0xA);
  make_rtp (p, 0xA, 20, 99);
  ck_assert (mcu_rtp_rewriter_rewrite (&rw, p, sizeof p, now));
  ck_assert_uint_eq (seq_of (p), (guint16)(first_b + 3));
  /* a truncated packet is refused */
  ck_assert (!mcu_rtp_rewriter_rewrite (&rw, p, 11, now));
}
END_TEST

START_TEST (test_rtx_buffer)
{
  g_autoptr (McuRtxBuffer) buf = mcu_rtx_buffer_new (64);
  guint8 p[200];
  gsize len = 0;

  for (guint i = 0; i < 100; i++)
    {
      memset (p, (int)i, sizeof p);
      make_rtp (p, 1, (guint16)(65500 + i), i);
      mcu_rtx_buffer_store (buf, p, 100 + i);
    }
  /* the last 64 are held with their own length and bytes */
  for (guint i = 36; i < 100; i++)
    {
      const guint8 *got = mcu_rtx_buffer_lookup (buf, (guint16)(65500 + i), &len);
      ck_assert_ptr_nonnull (got);
      ck_assert_uint_eq (len, 100 + i);
      ck_assert_uint_eq (got[50], i);
    }
  /* older ones were evicted, never-sent ones were never there */
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (buf, 65500 + 35, &len));
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (buf, 65500 + 0, &len));
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (buf, 1000, &len));
  /* oversize and runt packets are not kept */
  guint8 big[MCU_RTX_MAX_PACKET + 1] = { 0x80 };
  big[3] = 200;
  mcu_rtx_buffer_store (buf, big, sizeof big);
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (buf, 200, &len));
  mcu_rtx_buffer_store (buf, big, 11);
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (buf, 200, &len));

  /* a buffer of small slots (an audio stream's) keeps what fits, and a packet too
   * large for it leaves nothing behind under its number */
  g_autoptr (McuRtxBuffer) small = mcu_rtx_buffer_new_full (8, 120);
  memset (p, 7, sizeof p);
  make_rtp (p, 1, 300, 0);
  mcu_rtx_buffer_store (small, p, 120);
  ck_assert_ptr_nonnull (mcu_rtx_buffer_lookup (small, 300, &len));
  ck_assert_uint_eq (len, 120);
  make_rtp (p, 1, 308, 0); /* the same slot, one packet too large */
  mcu_rtx_buffer_store (small, p, 121);
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (small, 300, &len));
  ck_assert_ptr_null (mcu_rtx_buffer_lookup (small, 308, &len));
}
END_TEST

/* Encodes a few seconds of test pattern with vp8enc and checks each packet's
 * verdict against the encoder's own delta-unit flag on the frame it came from. */
START_TEST (test_keyframe_vp8_real)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (
      "videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! vp8enc keyframe-max-dist=20 deadline=1 ! rtpvp8pay mtu=400 ! "
      "appsink name=out sync=false",
      &error);
  ck_assert_msg (pipe != NULL, "%s", error ? error->message : "");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  guint keys = 0, packets = 0, frames = 0;
  gboolean frame_start = TRUE;
  for (;;)
    {
      g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (out));
      if (sample == NULL)
        break;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      ck_assert (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
      gboolean key = mcu_payload_is_keyframe (MCU_VIDEO_CODEC_VP8,
                                              gst_rtp_buffer_get_payload (&rtp),
                                              gst_rtp_buffer_get_payload_len (&rtp));
      /* only the first packet of a key frame says so */
      if (key)
        {
          ck_assert_msg (frame_start, "keyframe verdict on a non-first packet");
          keys++;
        }
      packets++;
      frame_start = gst_rtp_buffer_get_marker (&rtp);
      frames += frame_start ? 1 : 0;
      gst_rtp_buffer_unmap (&rtp);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  ck_assert_uint_eq (frames, 60);
  ck_assert_uint_gt (packets, frames); /* several packets per key frame at mtu 400 */
  ck_assert_uint_eq (keys, 3);         /* frames 0, 20, 40 */
}
END_TEST

START_TEST (test_keyframe_h264_and_garbage)
{
  const guint8 idr[] = { 0x65, 0x88, 0x80 };
  const guint8 slice[] = { 0x41, 0x9a, 0x00 };
  const guint8 stap_sps[] = { 0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce };
  const guint8 stap_bad[] = { 0x18, 0x00, 0x09, 0x67, 0x42 }; /* size past the end */
  const guint8 fua_start_idr[] = { 0x7c, 0x85, 0x00 };
  const guint8 fua_middle_idr[] = { 0x7c, 0x05, 0x00 };
  const guint8 fua_start_slice[] = { 0x7c, 0x81, 0x00 };
  ck_assert (mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, idr, sizeof idr));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, slice, sizeof slice));
  ck_assert (mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, stap_sps, sizeof stap_sps));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, stap_bad, sizeof stap_bad));
  ck_assert (mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, fua_start_idr, 3));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, fua_middle_idr, 3));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, fua_start_slice, 3));
  /* truncated VP8 descriptors are never keyframes */
  const guint8 vp8_ext_only[] = { 0x90, 0x80 };
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_VP8, vp8_ext_only, 2));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_VP8, NULL, 0));
  ck_assert (!mcu_payload_is_keyframe (MCU_VIDEO_CODEC_H264, idr, 0));
}
END_TEST

/* A packet with every optional part: 2 CSRCs, a one-byte extension, padding. */
static gsize
full_packet (guint8 *p)
{
  gsize n = 0;
  p[n++] = 0x80 | 0x20 | 0x10 | 2; /* V=2, P, X, CC=2 */
  p[n++] = 0x80 | 96;              /* marker, PT 96 */
  p[n++] = 0x12, p[n++] = 0x34;    /* seq */
  p[n++] = 1, p[n++] = 2, p[n++] = 3, p[n++] = 4;
  p[n++] = 0xA0, p[n++] = 0, p[n++] = 0, p[n++] = 1;
  for (guint i = 0; i < 8; i++)
    p[n++] = (guint8)(0xC0 + i); /* CSRCs */
  p[n++] = 0xBE, p[n++] = 0xDE, p[n++] = 0, p[n++] = 1;
  p[n++] = 0x10, p[n++] = 0x55, p[n++] = 0, p[n++] = 0; /* id 1, 1 byte */
  for (guint i = 0; i < 50; i++)
    p[n++] = (guint8)i;               /* payload */
  p[n++] = 0, p[n++] = 0, p[n++] = 3; /* padding of 3 */
  return n;
}

START_TEST (test_rtx_format)
{
  guint8 orig[200], rtx[200];
  gsize len = full_packet (orig);
  gsize hl = 12 + 8 + 8;
  ck_assert_uint_eq (mcu_rtx_wrap (rtx, len + 1, orig, len, 0x1234, 97, 5, 0xBB), 0);
  gsize n = mcu_rtx_wrap (rtx, sizeof rtx, orig, len, 0x1234, 97, 5, 0xBBCCDDEE);
  ck_assert_uint_eq (n, len + 2);
  /* the header is the original's but for PT (marker kept), number and SSRC */
  ck_assert_uint_eq (rtx[0], orig[0]);
  ck_assert_uint_eq (rtx[1], 0x80 | 97);
  ck_assert_uint_eq (rtx[2] << 8 | rtx[3], 5);
  ck_assert_mem_eq (rtx + 4, orig + 4, 4); /* timestamp */
  ck_assert_uint_eq ((guint32)rtx[8] << 24 | rtx[9] << 16 | rtx[10] << 8 | rtx[11],
                     0xBBCCDDEEu);
  ck_assert_mem_eq (rtx + 12, orig + 12, hl - 12); /* CSRCs, extension */
  ck_assert_uint_eq (rtx[hl] << 8 | rtx[hl + 1], 0x1234);
  ck_assert_mem_eq (rtx + hl + 2, orig + hl, len - hl); /* payload, padding */
  /* unwrapping gives the original back, byte for byte */
  gsize back = n;
  ck_assert_int_eq (mcu_rtx_unwrap (rtx, &back, 96, 0xA0000001), MCU_RTX_OK);
  ck_assert_uint_eq (back, len);
  ck_assert_mem_eq (rtx, orig, len);

  /* refused, and left as they were */
  guint8 bad[40];
  gsize blen = 13;
  make_rtp (bad, 1, 2, 3);
  bad[12] = 7; /* one byte: no room for an OSN */
  ck_assert_int_eq (mcu_rtx_unwrap (bad, &blen, 96, 1), MCU_RTX_ERR_NO_OSN);
  ck_assert_uint_eq (blen, 13);
  ck_assert_uint_eq (bad[1], 96);
  blen = 12; /* nothing but a header: a probe */
  ck_assert_int_eq (mcu_rtx_unwrap (bad, &blen, 96, 1), MCU_RTX_PADDING);
  blen = 11;
  ck_assert_int_eq (mcu_rtx_unwrap (bad, &blen, 96, 1), MCU_RTX_ERR_MALFORMED);
  bad[0] = 0x40; /* version 1 */
  blen = 20;
  ck_assert_int_eq (mcu_rtx_unwrap (bad, &blen, 96, 1), MCU_RTX_ERR_MALFORMED);
  ck_assert_uint_eq (mcu_rtx_wrap (rtx, sizeof rtx, bad, 20, 1, 97, 1, 1), 0);
}
END_TEST

START_TEST (test_loss_tracker)
{
  McuLossTracker t;
  mcu_loss_tracker_init (&t);
  guint16 seqs[MCU_LOSS_TRACKER_MAX + 8];
  gint64 now = 1000000, rtt = 50000;
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 65533, now), MCU_LOSS_NEW);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 1, now), MCU_LOSS_NEW); /* lost 65534..0 */
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now, rtt, seqs, 64), 3);
  ck_assert_uint_eq (seqs[0], 65534);
  ck_assert_uint_eq (seqs[1], 65535);
  ck_assert_uint_eq (seqs[2], 0);
  /* not again within a round trip; a late one fills its gap, a repeat does not */
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now + rtt / 2, rtt, seqs, 64), 0);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 65535, now + 1000), MCU_LOSS_FILLED);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 65535, now + 1000), MCU_LOSS_DUPLICATE);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 1, now + 1000), MCU_LOSS_DUPLICATE);
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now + 2 * rtt, rtt, seqs, 64), 2);
  ck_assert_uint_eq (seqs[0], 65534);
  ck_assert_uint_eq (seqs[1], 0);
  /* too old to be played: given up (300 ms at least), then unwanted */
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now + 310000, rtt, seqs, 64), 0);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 0, now + 320000), MCU_LOSS_DUPLICATE);
  McuLossCounters c;
  mcu_loss_tracker_get (&t, &c);
  ck_assert_uint_eq (c.missing, 3);
  ck_assert_uint_eq (c.requested, 5);
  ck_assert_uint_eq (c.filled, 1);
  ck_assert_uint_eq (c.given_up, 2);
  /* bounded: two gaps of 90 keep the newest MCU_LOSS_TRACKER_MAX numbers */
  now += 1000000;
  mcu_loss_tracker_push (&t, 91, now);
  mcu_loss_tracker_push (&t, 182, now);
  guint n = mcu_loss_tracker_due (&t, now, rtt, seqs, G_N_ELEMENTS (seqs));
  ck_assert_uint_eq (n, MCU_LOSS_TRACKER_MAX);
  ck_assert_uint_eq (seqs[n - 1], 181);
  ck_assert_uint_eq (seqs[0], 181 - MCU_LOSS_TRACKER_MAX); /* 91 came */
  /* an outage (here 100 numbers, and thousands) is not NACKed number by number:
   * the keyframe it needs anyway is quicker than a burst of retransmissions */
  now += 1000000;
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now, rtt, seqs, 64), 0);
  mcu_loss_tracker_push (&t, 283, now);
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now, rtt, seqs, 64), 0);
  mcu_loss_tracker_push (&t, 5000, now);
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now + 500000, rtt, seqs, 64), 0);
  mcu_loss_tracker_push (&t, 5002, now);
  ck_assert_uint_eq (mcu_loss_tracker_due (&t, now, rtt, seqs, 64), 1);
  ck_assert_uint_eq (seqs[0], 5001);
  /* on a short round trip (20 ms: asked every 40 at least, given up after 300)
   * asked 4 times at most, and a late answer still fills the gap */
  guint asks = 1;
  for (gint64 at = now + 25000; at < now + 290000; at += 25000)
    asks += mcu_loss_tracker_due (&t, at, 20000, seqs, 64);
  ck_assert_uint_eq (asks, 4);
  ck_assert_int_eq (mcu_loss_tracker_push (&t, 5001, now + 295000), MCU_LOSS_FILLED);
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  Suite *s = suite_create ("mcu-relay-parts");
  TCase *tc = tcase_create ("parts");
  tcase_add_test (tc, test_rewriter_switch_is_continuous);
  tcase_add_test (tc, test_rtx_buffer);
  tcase_add_test (tc, test_rtx_format);
  tcase_add_test (tc, test_loss_tracker);
  tcase_add_test (tc, test_keyframe_vp8_real);
  tcase_add_test (tc, test_keyframe_h264_and_garbage);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
