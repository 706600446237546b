/* Suite mcu-router: proves the relay's decisions with recording peers in place of
 * transports. The program video reaches every other peer (sites, parent and child
 * links) as one stream with the program SSRC and each receiver's payload type,
 * never back to its source; a floor change waits for the new source's keyframe
 * (asked with PLI, then FIR) and keeps sequence numbers continuous; NACKs are
 * answered from the node's buffer; receivers' keyframe requests reach the source at
 * a bounded rate; audio-only peers get no video; a peer stepping between the full and
 * the low-resolution program sees one continuous stream; garbage is counted and
 * dropped; a retransmission never protects other bytes under an SRTP index, with
 * or without an RFC 4588 RTX stream (a receiver that negotiated rtx gets its
 * retransmissions there, each under a fresh index, and the original bytes back from
 * the OSN); the node NACKs the losses of the program's source, takes its RTX to
 * fill them, and gives up on numbers too old to help; a receiver's NACKs for its
 * audio mix are answered on an audio RTX stream from the bytes sent to it alone,
 * and abuse of them (another's SSRC, numbers never sent, floods) gets nothing; the
 * content (a second video stream, told from the program by the SSRCs a peer
 * announced on its content m-line) is relayed from its source only, beside the
 * program and numbered apart from it, with its own keyframe requests and NACK
 * answers, and content from anyone else is dropped and counted. */
#include "router.h"
#include "rtcp.h"
#include "rtp.h"
#include "rtx-buffer.h"
#include "lt-test.h"

#include <string.h>

#define PROGRAM_SSRC 0x11223344u
#define RTX_SSRC 0x55667788u
#define PEER2_RTX_PT 101
#define SOURCE_RTX_PT 98
#define AUDIO_RTX_SSRC 0x66778899u
#define PEER2_AUDIO_RTX_PT 110
#define AUDIO_SSRC(id) (0xAA000000u + (id)) /* what each peer hears the mix from */

typedef struct
{
  guint id;
  GPtrArray *rtp;  /* GBytes */
  GPtrArray *rtcp; /* GBytes */
} FakePeer;

static GArray *send_order; /* peer ids in the order packets were sent to them */

/* --- what each peer's SRTP session would protect -------------------------------
 * The router hands every RTP packet to a peer's send_rtp, which protects it. The
 * recorder stands in for that protect step: it gives each packet the SRTP index
 * (ROC || SEQ, 48 bits) the sender's libsrtp would (RFC 3711 section 3.3.1, the
 * estimate relative to the highest index of that SSRC so far, as libsrtp's
 * rdbx_estimate_index does) and keeps the plaintext protected under each
 * (peer, SSRC, index). Protecting other bytes under a recorded index is the
 * keystream (AES-CM) or nonce (GCM) reuse the router must never cause. */
typedef struct
{
  GHashTable *highest;   /* "peer/ssrc" -> guint64* highest index */
  GHashTable *protected; /* "peer/ssrc/index" -> GBytes of the plaintext */
  guint repeats;         /* same bytes under the same index: retransmissions */
  guint reuses;          /* other bytes under a used index: must stay 0 */
} ProtectLog;

static ProtectLog *protect_log;

static guint64
srtp_index_estimate (guint64 *highest, gboolean first, guint16 seq)
{
  if (first)
    return *highest = seq;
  guint32 roc = (guint32)(*highest >> 16);
  guint16 local = (guint16)*highest;
  guint32 guess_roc = roc;
  gint64 diff;
  if (local < 0x8000)
    {
      if ((gint)seq - (gint)local > 0x8000 && roc > 0)
        {
          guess_roc = roc - 1;
          diff = (gint64)seq - 0x10000 - local;
        }
      else
        diff = (gint64)seq - local;
    }
  else if ((gint)local - 0x8000 > (gint)seq)
    {
      guess_roc = roc + 1;
      diff = (gint64)seq + 0x10000 - local;
    }
  else
    diff = (gint64)seq - local;
  guint64 index = (guint64)guess_roc << 16 | seq;
  if (diff > 0)
    *highest = index;
  return index;
}

static void
protect_log_record (guint peer, const guint8 *pkt, gsize len)
{
  if (protect_log == NULL || len < 12)
    return;
  guint32 ssrc
      = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8 | pkt[11];
  guint16 seq = (guint16)(pkt[2] << 8 | pkt[3]);
  char *stream = g_strdup_printf ("%u/%08x", peer, ssrc);
  guint64 *highest = g_hash_table_lookup (protect_log->highest, stream);
  gboolean first = highest == NULL;
  if (first)
    {
      highest = g_new0 (guint64, 1);
      g_hash_table_insert (protect_log->highest, g_strdup (stream), highest);
    }
  guint64 index = srtp_index_estimate (highest, first, seq);
  char *key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, stream, index);
  g_free (stream);
  GBytes *seen = g_hash_table_lookup (protect_log->protected, key);
  if (seen == NULL)
    {
      g_hash_table_insert (protect_log->protected, key, g_bytes_new (pkt, len));
      return;
    }
  if (g_bytes_get_size (seen) == len
      && memcmp (g_bytes_get_data (seen, NULL), pkt, len) == 0)
    protect_log->repeats++;
  else
    protect_log->reuses++;
  g_free (key);
}

static gboolean
fake_send_rtp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  FakePeer *p = peer;
  protect_log_record (p->id, pkt, len);
  if (send_order)
    g_array_append_val (send_order, p->id);
  ck_assert_uint_ge (cap, len + 16); /* room to protect in place */
  g_ptr_array_add (p->rtp, g_bytes_new (pkt, len));
  return TRUE;
}

static gboolean
fake_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  FakePeer *p = peer;
  g_ptr_array_add (p->rtcp, g_bytes_new (pkt, len));
  return TRUE;
}

static const McuPeerOps fake_ops = { fake_send_rtp, fake_send_rtcp };

static FakePeer peers[5]; /* 1..4 used */
static GPtrArray *audio_seen;

static void
on_audio (guint peer, const guint8 *pkt, gsize len, gpointer data)
{
  g_ptr_array_add (audio_seen, GUINT_TO_POINTER (peer));
}

/* set before setup(): peer 2 negotiated rtx; peer 1 (the usual program source)
 * takes NACKs and sends rtx; the node does no retransmission at all */
static gboolean peer2_rtx, source_feedback, no_retransmission;
/* set before setup(): peer 2 negotiated rtx (and NACK) for the audio it receives */
static gboolean peer2_audio_rtx;
/* set before setup(): peers 2, 3 and 4 have a content m-line on their video
 * payload type, announced with the SSRCs CONTENT_IN(id) and CONTENT_IN(id) + 1 */
static gboolean with_content;
#define CONTENT_IN(id) (0xC0000000u + 0x100u * (id))
#define CONTENT_SSRC 0x0C0C0C0Cu

static McuRouter *
setup (void)
{
  McuRouterConfig cfg = { .program_ssrc = PROGRAM_SSRC,
                          .content_ssrc = CONTENT_SSRC,
                          .rtx_slots = 64,
                          .rtx_ssrc = RTX_SSRC,
                          .audio_rtx_ssrc = AUDIO_RTX_SSRC,
                          .no_retransmission = no_retransmission,
                          .audio = on_audio };
  McuRouter *r = mcu_router_new (&cfg);
  audio_seen = g_ptr_array_new ();
  /* 1, 2 sites; 3 a child node link; 4 the parent link. Peer 2 uses other PTs. */
  static const McuPeerKind kinds[]
      = { 0, MCU_PEER_SITE, MCU_PEER_SITE, MCU_PEER_CHILD, MCU_PEER_PARENT };
  for (guint id = 1; id <= 4; id++)
    {
      peers[id].id = id;
      peers[id].rtp = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      peers[id].rtcp = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      McuPeerInfo info = { .kind = kinds[id],
                           .audio_pt = id == 2 ? 109 : 111,
                           .video_pt = id == 2 ? 100 : 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
      if (id == 2 && peer2_rtx)
        info.video_rtx_pt = PEER2_RTX_PT;
      if (id == 2 && peer2_audio_rtx)
        info.audio_rtx_pt = PEER2_AUDIO_RTX_PT;
      if (id == 1 && source_feedback)
        info.video_rtx_pt = SOURCE_RTX_PT, info.nack = TRUE;
      if (with_content && id >= 2)
        {
          info.content_pt = info.video_pt;
          info.content_codec = MCU_VIDEO_CODEC_VP8;
          info.content_ssrcs[0] = CONTENT_IN (id);
          info.content_ssrcs[1] = CONTENT_IN (id) + 1;
          info.n_content_ssrcs = 2;
        }
      ck_assert (mcu_router_add_peer (r, id, &info, &fake_ops, &peers[id]));
    }
  McuPeerInfo dup = { 0 };
  ck_assert (!mcu_router_add_peer (r, 1, &dup, &fake_ops, &peers[1]));
  return r;
}

static void
teardown (McuRouter *r)
{
  mcu_router_free (r);
  for (guint id = 1; id <= 4; id++)
    {
      g_ptr_array_unref (peers[id].rtp);
      g_ptr_array_unref (peers[id].rtcp);
    }
  g_ptr_array_unref (audio_seen);
  peer2_rtx = source_feedback = no_retransmission = peer2_audio_rtx = with_content
      = FALSE;
}

/* A VP8 packet: descriptor with S=1, then the frame tag's P bit (0 = keyframe). */
static gsize
vp8_packet (guint8 *buf, guint8 pt, guint16 seq, guint32 ts, guint32 ssrc, gboolean key)
{
  gsize n = mcu_rtp_write_header (buf, 1500, pt, TRUE, seq, ts, ssrc);
  buf[n++] = 0x10;
  buf[n++] = key ? 0x00 : 0x01;
  memset (buf + n, 0xab, 100);
  return n + 100;
}

static void
send_video (McuRouter *r, guint from, guint16 seq, gboolean key, gint64 now)
{
  guint8 buf[1600];
  guint8 pt = from == 2 ? 100 : 96;
  gsize len = vp8_packet (buf, pt, seq, seq * 3000u, 0xA000 + from, key);
  mcu_router_receive_rtp (r, from, buf, len, now);
}

static McuRtpHeader
last_rtp (guint id)
{
  McuRtpHeader h;
  GPtrArray *a = peers[id].rtp;
  ck_assert_uint_gt (a->len, 0);
  GBytes *b = g_ptr_array_index (a, a->len - 1);
  ck_assert_int_eq (mcu_rtp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &h),
                    MCU_RTP_OK);
  return h;
}

static guint
count_feedback (guint id, gboolean fir)
{
  guint n = 0;
  for (guint i = 0; i < peers[id].rtcp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtcp, i);
      McuRtcpInfo info;
      ck_assert_int_eq (mcu_rtcp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                        MCU_RTCP_PARSE_REDUCED_SIZE, &info),
                        MCU_RTCP_OK);
      n += fir ? info.n_firs : info.n_plis;
    }
  return n;
}

START_TEST (test_program_fanout_and_switch)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;

  /* floor to site 1: its delta frames wait, a PLI asks for a keyframe */
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 500, FALSE, now);
  ck_assert_uint_eq (count_feedback (1, FALSE), 1);
  ck_assert_uint_eq (peers[2].rtp->len, 0);
  ck_assert_uint_eq (mcu_router_program (r), 0);
  send_video (r, 1, 501, TRUE, now += 33000);
  ck_assert_uint_eq (mcu_router_program (r), 1);
  for (guint16 s = 502; s < 510; s++)
    send_video (r, 1, s, FALSE, now += 33000);
  /* 9 packets reach 2, 3 and 4; none goes back to 1 */
  ck_assert_uint_eq (peers[1].rtp->len, 0);
  for (guint id = 2; id <= 4; id++)
    {
      ck_assert_uint_eq (peers[id].rtp->len, 9);
      McuRtpHeader h = last_rtp (id);
      ck_assert_uint_eq (h.ssrc, PROGRAM_SSRC);
      ck_assert_uint_eq (h.pt, id == 2 ? 100 : 96);
    }
  guint16 last_seq = last_rtp (3).seq;

  /* floor to the parent link (the floor holder is elsewhere in the tree): 1 stays
   * the program until 4 sends a keyframe; then 4's video goes to 1, 2, 3 */
  mcu_router_set_program (r, 4, now);
  send_video (r, 4, 7, FALSE, now += 1000);
  send_video (r, 1, 510, FALSE, now += 1000);
  ck_assert_uint_eq (peers[3].rtp->len, 10);
  ck_assert_uint_eq (last_rtp (3).seq, (guint16)(last_seq + 1));
  send_video (r, 4, 8, TRUE, now += 33000);
  ck_assert_uint_eq (mcu_router_program (r), 4);
  ck_assert_uint_eq (last_rtp (3).seq, (guint16)(last_seq + 2));
  ck_assert_uint_eq (last_rtp (1).ssrc, PROGRAM_SSRC);
  guint n4 = peers[4].rtp->len;
  send_video (r, 1, 511, FALSE, now += 33000); /* no longer the program */
  send_video (r, 4, 9, FALSE, now += 33000);
  ck_assert_uint_eq (peers[4].rtp->len, n4); /* never back to the source */
  ck_assert_uint_eq (last_rtp (3).seq, (guint16)(last_seq + 3));
  teardown (r);
}
END_TEST

START_TEST (test_pli_then_fir_for_a_silent_source)
{
  McuRouter *r = setup ();
  gint64 now = 5000000;
  send_video (r, 2, 1, FALSE, now); /* its SSRC is known */
  mcu_router_set_program (r, 2, now);
  ck_assert_uint_eq (count_feedback (2, FALSE), 1);
  mcu_router_tick (r, now + 100000); /* too soon to ask again */
  ck_assert_uint_eq (count_feedback (2, FALSE), 1);
  mcu_router_tick (r, now + 350000);
  ck_assert_uint_eq (count_feedback (2, FALSE), 2);
  ck_assert_uint_eq (count_feedback (2, TRUE), 0);
  mcu_router_tick (r, now + 700000); /* ignored PLI for 600 ms: FIR */
  ck_assert_uint_eq (count_feedback (2, TRUE), 1);
  McuPeerCounters c;
  ck_assert (mcu_router_peer_counters (r, 2, &c));
  ck_assert_uint_eq (c.firs_out, 1);
  ck_assert_uint_eq (c.plis_out, 2);
  teardown (r);
}
END_TEST

START_TEST (test_nack_and_pli_from_receivers)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 100, TRUE, now);
  for (guint16 s = 101; s < 120; s++)
    send_video (r, 1, s, FALSE, now);
  guint16 first = 0;
  {
    GBytes *b = g_ptr_array_index (peers[2].rtp, 0);
    first = (guint16)((((const guint8 *)g_bytes_get_data (b, NULL))[2] << 8)
                      | ((const guint8 *)g_bytes_get_data (b, NULL))[3]);
  }
  guint before = peers[2].rtp->len;
  /* receiver 2 lost first+3 and first+5 (blp bit 1); and asks for one never sent */
  guint8 buf[64];
  gsize n = mcu_rtcp_write_nack (buf, sizeof buf, 0xBEEF, PROGRAM_SSRC,
                                 (guint16[]){ first + 3, first + 5, first + 1000 }, 3);
  ck_assert_uint_gt (n, 0);
  mcu_router_receive_rtcp (r, 2, buf, n, now);
  ck_assert_uint_eq (peers[2].rtp->len, before + 2);
  McuRtpHeader h = last_rtp (2);
  ck_assert_uint_eq (h.seq, (guint16)(first + 5));
  ck_assert_uint_eq (h.pt, 100); /* its own payload type */
  McuPeerCounters c;
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.retransmitted, 2);
  ck_assert_uint_eq (c.nack_misses, 1);

  /* three receivers ask for a keyframe at once: the source is asked once */
  guint plis = count_feedback (1, FALSE);
  n = mcu_rtcp_write_pli (buf, sizeof buf, 0xBEEF, PROGRAM_SSRC);
  mcu_router_receive_rtcp (r, 2, buf, n, now + 400000);
  mcu_router_receive_rtcp (r, 3, buf, n, now + 400001);
  mcu_router_receive_rtcp (r, 4, buf, n, now + 400002);
  ck_assert_uint_eq (count_feedback (1, FALSE), plis + 1);
  /* feedback about another SSRC is not ours to act on */
  n = mcu_rtcp_write_pli (buf, sizeof buf, 0xBEEF, 0x999);
  mcu_router_receive_rtcp (r, 2, buf, n, now + 900000);
  ck_assert_uint_eq (count_feedback (1, FALSE), plis + 1);
  teardown (r);
}
END_TEST

START_TEST (test_levels_audio_and_garbage)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;
  mcu_router_set_level (r, 3, MCU_LEVEL_AUDIO);
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 1, TRUE, now);
  ck_assert_uint_eq (peers[3].rtp->len, 0);
  ck_assert_uint_eq (peers[2].rtp->len, 1);

  /* audio goes to the mixer; the mixer's output gets each peer's own PT */
  guint8 buf[200];
  gsize len = mcu_rtp_write_header (buf, sizeof buf, 111, FALSE, 1, 960, 0xA001);
  memset (buf + len, 0, 40);
  mcu_router_receive_rtp (r, 1, buf, len + 40, now);
  ck_assert_uint_eq (audio_seen->len, 1);
  ck_assert_uint_eq (GPOINTER_TO_UINT (g_ptr_array_index (audio_seen, 0)), 1);
  mcu_router_send_audio (r, 2, buf, len + 40);
  ck_assert_uint_eq (last_rtp (2).pt, 109);
  mcu_router_send_audio (r, 3, buf, len + 40); /* audio-only still gets audio */
  ck_assert_uint_eq (last_rtp (3).pt, 111);

  /* malformed packets are counted; unknown peers ignored */
  guint8 junk[20] = { 0x40, 1, 2, 3 };
  mcu_router_receive_rtp (r, 1, junk, sizeof junk, now);
  mcu_router_receive_rtcp (r, 1, junk, sizeof junk, now);
  mcu_router_receive_rtp (r, 42, buf, len + 40, now);
  McuPeerCounters c;
  mcu_router_peer_counters (r, 1, &c);
  ck_assert_uint_eq (c.malformed, 2);
  ck_assert (!mcu_router_peer_counters (r, 42, &c));

  /* the program's source leaves: no program until the leg picks one */
  mcu_router_remove_peer (r, 1);
  ck_assert_uint_eq (mcu_router_program (r), 0);
  McuMediaLevel l;
  ck_assert (mcu_media_level_from_name ("audio", &l) && l == MCU_LEVEL_AUDIO);
  ck_assert (!mcu_media_level_from_name ("hd", &l));
  teardown (r);
}
END_TEST

/* The program goes to node links before local sites: every site below a link waits
 * for it, while a local site is the end of its path. */
START_TEST (test_links_are_served_first)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 1, TRUE, now);
  send_order = g_array_new (FALSE, FALSE, sizeof (guint));
  send_video (r, 1, 2, FALSE, now);
  ck_assert_uint_eq (send_order->len, 3);
  /* peer 2 is a site, 3 a child link, 4 the parent link */
  ck_assert_uint_eq (g_array_index (send_order, guint, 2), 2);
  g_clear_pointer (&send_order, g_array_unref);
  teardown (r);
}
END_TEST

/* The low-resolution program and composites reach a peer through send_video with
 * its own payload type, never an audio-only peer; keyframe requests to a source are
 * rate-limited like the program's. */
START_TEST (test_send_video_and_keyframe_requests)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;
  guint8 buf[200];
  gsize len = vp8_packet (buf, 97, 5, 450, 0x4C540B01, TRUE);
  mcu_router_set_level (r, 3, MCU_LEVEL_AUDIO);
  mcu_router_send_video (r, 2, buf, len);
  mcu_router_send_video (r, 3, buf, len);
  ck_assert_uint_eq (peers[2].rtp->len, 1);
  ck_assert_uint_eq (last_rtp (2).pt, 100);
  ck_assert_uint_eq (peers[3].rtp->len, 0);

  send_video (r, 1, 1, FALSE, now); /* peer 1's SSRC becomes known */
  mcu_router_request_keyframe (r, 1, now);
  mcu_router_request_keyframe (r, 1, now + 1000);
  ck_assert_uint_eq (count_feedback (1, FALSE), 1);
  mcu_router_request_keyframe (r, 1, now + 400000);
  ck_assert_uint_eq (count_feedback (1, FALSE), 2);
  teardown (r);
}
END_TEST

/* A site stepped down to the low-resolution program and back up sees one stream:
 * the program SSRC, sequence numbers without a jump across full -> low -> full ->
 * low again (a new low encoder starting elsewhere), a PLI to the program's source
 * when it is back at full, and NACKs answered in its own numbering. */
START_TEST (test_levels_keep_one_stream)
{
  McuRouter *r = setup ();
  gint64 now = 1000000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 100, TRUE, now += 33000);
  send_video (r, 1, 101, FALSE, now += 33000);
  guint16 s0 = last_rtp (2).seq;

  guint8 buf[200];
  mcu_router_set_level (r, 2, MCU_LEVEL_LOW);
  send_video (r, 1, 102, FALSE, now += 33000); /* full program: not for 2 now */
  gsize len = vp8_packet (buf, 97, 40000, 12345, 0xB0B0, TRUE);
  mcu_router_send_video (r, 2, buf, len);
  McuRtpHeader h = last_rtp (2);
  ck_assert_uint_eq (h.ssrc, PROGRAM_SSRC);
  ck_assert_uint_eq (h.seq, (guint16)(s0 + 1));
  len = vp8_packet (buf, 97, 40001, 12345 + 9000, 0xB0B0, FALSE);
  mcu_router_send_video (r, 2, buf, len);
  ck_assert_uint_eq (last_rtp (2).seq, (guint16)(s0 + 2));

  guint plis = count_feedback (1, FALSE);
  mcu_router_set_level (r, 2, MCU_LEVEL_FULL);
  ck_assert_uint_eq (count_feedback (1, FALSE), plis + 1);
  send_video (r, 1, 103, TRUE, now += 33000);
  h = last_rtp (2);
  ck_assert_uint_eq (h.ssrc, PROGRAM_SSRC);
  ck_assert_uint_eq (h.seq, (guint16)(s0 + 3)); /* one ahead of the program's own */
  /* 2 asks again for the packet it just got: the node's buffer answers it with 2's
   * own sequence number */
  guint8 nack[64];
  gsize nlen = mcu_rtcp_write_nack (nack, sizeof nack, 0xCAFE, PROGRAM_SSRC, &h.seq, 1);
  guint before = peers[2].rtp->len;
  mcu_router_receive_rtcp (r, 2, nack, nlen, now += 1000);
  ck_assert_uint_eq (peers[2].rtp->len, before + 1);
  ck_assert_uint_eq (last_rtp (2).seq, h.seq);

  /* low again, from a low encoder made anew (another starting number) */
  mcu_router_set_level (r, 2, MCU_LEVEL_LOW);
  len = vp8_packet (buf, 97, 7, 99, 0xB0B0, TRUE);
  mcu_router_send_video (r, 2, buf, len);
  ck_assert_uint_eq (last_rtp (2).seq, (guint16)(s0 + 4));
  teardown (r);
}
END_TEST

static void
nack_one (McuRouter *r, guint from, guint16 seq, gint64 now)
{
  guint8 nack[64];
  gsize n = mcu_rtcp_write_nack (nack, sizeof nack, 0xCAFE, PROGRAM_SSRC, &seq, 1);
  mcu_router_receive_rtcp (r, from, nack, n, now);
}

/* Every number peer 2 has seen so far, NACKed one by one, and the next few it has
 * not seen yet. */
static void
nack_everything (McuRouter *r, guint16 first, guint16 last, gint64 now)
{
  for (guint16 s = first; s != (guint16)(last + 4); s++)
    nack_one (r, 2, s, now);
}

/* Proves that a retransmission never puts other bytes under an SRTP index already
 * used: peer 2 steps full -> low -> full -> low -> full while the program and the
 * low stream flow, and NACKs every number it ever got (and a few it did not) after
 * each step. Each (peer, SSRC, SRTP index) the router hands to a peer's protect
 * step is recorded with its plaintext; a second, different plaintext under one
 * index fails the test. Before the fix, a NACK for a number that had carried the
 * low stream was answered, after the step back to full, with the program packet
 * the new offsets pointed at: other content under the same index. The NACKs for
 * numbers of the current mapping are still answered (with the very same bytes).
 * Run twice: peer 2 without rtx (resends under its own numbers), and with rtx
 * (every answer is an RTX packet under a fresh index of the RTX SSRC, and unwrapping
 * it gives back exactly the bytes first sent under its OSN). */
static GBytes *
sent_with_seq (guint id, guint32 ssrc, guint16 seq)
{
  for (guint i = 0; i < peers[id].rtp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtp, i);
      McuRtpHeader h;
      ck_assert_int_eq (
          mcu_rtp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &h),
          MCU_RTP_OK);
      if (h.ssrc == ssrc && h.seq == seq)
        return b;
    }
  return NULL;
}

START_TEST (test_nack_never_reuses_an_srtp_index)
{
  peer2_rtx = _i == 1;
  gboolean rtx = peer2_rtx;
  McuRouter *r = setup ();
  ProtectLog log = {
    .highest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .protected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_bytes_unref),
  };
  protect_log = &log;
  gint64 now = 1000000;
  guint16 src = 100, low = 40000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, src++, TRUE, now += 33000);
  guint16 first = last_rtp (2).seq;
  static const McuMediaLevel steps[]
      = { MCU_LEVEL_FULL, MCU_LEVEL_LOW, MCU_LEVEL_FULL, MCU_LEVEL_LOW, MCU_LEVEL_FULL };
  for (guint step = 0; step < G_N_ELEMENTS (steps); step++)
    {
      mcu_router_set_level (r, 2, steps[step]);
      for (guint i = 0; i < 20; i++)
        {
          /* the program always flows (to peers 3 and 4, and to 2 when at full);
           * the low stream only while 2 is at low, as the leg sends it */
          send_video (r, 1, src++, i == 0, now += 33000);
          if (steps[step] == MCU_LEVEL_LOW)
            {
              guint8 buf[200];
              guint16 lseq = low++;
              gsize len = vp8_packet (buf, 97, lseq, lseq * 3000u, 0xB0B0, i == 0);
              mcu_router_send_video (r, 2, buf, len);
            }
        }
      nack_everything (r, first, last_rtp (2).seq, now += 1000);
      ck_assert_uint_eq (log.reuses, 0);
    }
  McuPeerCounters c;
  ck_assert (mcu_router_peer_counters (r, 2, &c));
  /* not vacuous: the current mapping's numbers were resent, the others refused */
  ck_assert_uint_gt (c.retransmitted, 0);
  ck_assert_uint_eq (log.repeats, rtx ? 0 : c.retransmitted);
  ck_assert_uint_gt (c.nack_misses, 0);
  if (rtx)
    {
      /* every answer is an RTX packet whose OSN names a packet 2 got, and whose
       * unwrapped bytes are that packet's */
      guint n_rtx = 0;
      for (guint i = 0; i < peers[2].rtp->len; i++)
        {
          GBytes *b = g_ptr_array_index (peers[2].rtp, i);
          McuRtpHeader h;
          ck_assert_int_eq (
              mcu_rtp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &h),
              MCU_RTP_OK);
          if (h.ssrc != RTX_SSRC)
            continue;
          ck_assert_uint_eq (h.pt, PEER2_RTX_PT);
          guint8 pkt[1600];
          gsize len = g_bytes_get_size (b);
          memcpy (pkt, g_bytes_get_data (b, NULL), len);
          ck_assert_int_eq (mcu_rtx_unwrap (pkt, &len, 100, PROGRAM_SSRC), MCU_RTX_OK);
          McuRtpHeader o;
          ck_assert_int_eq (mcu_rtp_parse (pkt, len, &o), MCU_RTP_OK);
          GBytes *first_sent = sent_with_seq (2, PROGRAM_SSRC, o.seq);
          ck_assert_ptr_nonnull (first_sent);
          ck_assert_uint_eq (g_bytes_get_size (first_sent), len);
          ck_assert_mem_eq (g_bytes_get_data (first_sent, NULL), pkt, len);
          n_rtx++;
        }
      ck_assert_uint_eq (n_rtx, c.retransmitted);
    }
  protect_log = NULL;
  g_hash_table_unref (log.highest);
  g_hash_table_unref (log.protected);
  teardown (r);
}
END_TEST

static gsize
rtcp_nacked (guint id, guint from_index, guint16 *seqs, guint max)
{
  gsize n = 0;
  for (guint i = from_index; i < peers[id].rtcp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtcp, i);
      McuRtcpInfo info;
      ck_assert_int_eq (mcu_rtcp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                        MCU_RTCP_PARSE_REDUCED_SIZE, &info),
                        MCU_RTCP_OK);
      for (guint k = 0; k < info.n_nacks; k++)
        {
          ck_assert_uint_eq (info.nacks[k].media_ssrc, 0xA001);
          guint16 e[17];
          guint m = mcu_rtcp_nack_expand (info.nacks[k].pid, info.nacks[k].blp, e);
          for (guint j = 0; j < m && n < max; j++)
            seqs[n++] = e[j];
        }
    }
  return n;
}

/* An RTX packet of source 1 repairing @osn, as its sender would make it. */
static gsize
source_rtx (guint8 *out, guint16 osn, guint16 rtx_seq)
{
  guint8 orig[1600];
  gsize len = vp8_packet (orig, 96, osn, osn * 3000u, 0xA001, FALSE);
  return mcu_rtx_wrap (out, 1600, orig, len, osn, SOURCE_RTX_PT, rtx_seq, 0xA0F1);
}

/* Proves the uplink half: the program's source lost 103 and 104 on its way to the
 * node; the node NACKs both at once (and nothing else), its RTX for 103 reaches
 * every receiver as the original packet under the receivers' numbering, a duplicate
 * or malformed RTX is counted and dropped, 104 is asked again after a round trip
 * and given up once it is too old to be played. With retransmission turned off the
 * node neither NACKs nor answers NACKs. No SRTP index is reused throughout. */
START_TEST (test_nacks_to_the_source)
{
  source_feedback = TRUE;
  no_retransmission = _i == 1;
  gboolean off = no_retransmission;
  McuRouter *r = setup ();
  ProtectLog log = {
    .highest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .protected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_bytes_unref),
  };
  protect_log = &log;
  gint64 now = 1000000;
  mcu_router_set_rtt (r, 1, 60000);
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 100, TRUE, now);
  send_video (r, 1, 101, FALSE, now += 10000);
  send_video (r, 1, 102, FALSE, now += 10000);
  guint16 first = last_rtp (2).seq - 2;
  guint rtcp0 = peers[1].rtcp->len;
  send_video (r, 1, 105, FALSE, now += 10000);
  guint16 asked[64];
  gsize n = rtcp_nacked (1, rtcp0, asked, 64);
  if (off)
    ck_assert_uint_eq (n, 0);
  else
    {
      ck_assert_uint_eq (n, 2);
      ck_assert_uint_eq (asked[0], 103);
      ck_assert_uint_eq (asked[1], 104);
    }
  /* the RTX for 103 comes back: every receiver gets the original, in its place */
  guint before = peers[3].rtp->len;
  guint8 buf[1600];
  gsize len = source_rtx (buf, 103, 7);
  mcu_router_receive_rtp (r, 1, buf, len, now += 5000);
  McuPeerCounters c;
  mcu_router_peer_counters (r, 1, &c);
  ck_assert_uint_eq (c.rtx_in, 1);
  ck_assert_uint_eq (c.loss_missing, 2);
  if (!off)
    {
      ck_assert_uint_eq (c.rtx_recovered, 1);
      ck_assert_uint_eq (peers[3].rtp->len, before + 1);
      McuRtpHeader h = last_rtp (3);
      ck_assert_uint_eq (h.seq, (guint16)(first + 3));
      ck_assert_uint_eq (h.ssrc, PROGRAM_SSRC);
      ck_assert_uint_eq (h.pt, 96);
      ck_assert_uint_eq (h.timestamp - last_rtp (2).timestamp, 0); /* 2 got it too */
      guint8 orig[1600];
      gsize olen = vp8_packet (orig, 96, 103, 103 * 3000u, 0xA001, FALSE);
      ck_assert_uint_eq (h.payload_len, olen - 12);
      ck_assert_mem_eq (h.payload, orig + 12, olen - 12);
    }
  /* the same RTX again, one too short for its OSN, one before any was asked for
   * (the router restores packets in place: each is made anew) */
  len = source_rtx (buf, 103, 7);
  mcu_router_receive_rtp (r, 1, buf, len, now += 1000);
  guint8 bad[13];
  source_rtx (buf, 103, 9);
  memcpy (bad, buf, 12);
  bad[12] = 0;
  mcu_router_receive_rtp (r, 1, bad, sizeof bad, now += 1000);
  len = source_rtx (buf, 90, 8);
  mcu_router_receive_rtp (r, 1, buf, len, now += 1000);
  mcu_router_peer_counters (r, 1, &c);
  ck_assert_uint_eq (c.rtx_in, 4);
  ck_assert_uint_eq (c.rtx_dropped, off ? 4 : 3);
  ck_assert_uint_eq (peers[3].rtp->len, before + (off ? 0 : 1));

  /* 104 never comes: asked again after a round trip, then given up */
  guint rtcp1 = peers[1].rtcp->len;
  guint16 s = 106;
  for (guint i = 0; i < 40; i++, now += 20000)
    send_video (r, 1, s++, FALSE, now);
  n = rtcp_nacked (1, rtcp1, asked, 64);
  for (gsize k = 0; k < n; k++)
    ck_assert_uint_eq (asked[k], 104);
  mcu_router_peer_counters (r, 1, &c);
  ck_assert_uint_eq (c.loss_given_up, off ? 2 : 1); /* off: 103 never came either */
  if (off)
    ck_assert_uint_eq (c.nacks_out, 0);
  else
    {
      ck_assert_uint_ge (n, 2);
      ck_assert_uint_le (n, 4);
      ck_assert_uint_eq (c.nack_seqs_out, 2 + n);
    }
  /* a receiver's NACK is answered only when retransmission is on */
  nack_one (r, 2, first + 1, now);
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.nacks_in, 1);
  ck_assert_uint_eq (c.retransmitted, off ? 0 : 1);
  ck_assert_uint_eq (log.reuses, 0);
  protect_log = NULL;
  g_hash_table_unref (log.highest);
  g_hash_table_unref (log.protected);
  teardown (r);
}
END_TEST

/* Proves the answer budget: a receiver that asks for 40 numbers at once gets 32
 * now (the rest are held, to be asked again), and a number answered a moment ago
 * is not answered again until a round trip has passed. A loaded cascade without it
 * fed its own losses: bursts of NACKs, bursts of answers, more datagrams dropped. */
START_TEST (test_rtx_budget)
{
  peer2_rtx = TRUE;
  McuRouter *r = setup ();
  gint64 now = 1000000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 100, TRUE, now);
  for (guint16 s = 101; s < 160; s++)
    send_video (r, 1, s, FALSE, now);
  guint16 first = 0;
  {
    GBytes *b = g_ptr_array_index (peers[2].rtp, 0);
    first = (guint16)((((const guint8 *)g_bytes_get_data (b, NULL))[2] << 8)
                      | ((const guint8 *)g_bytes_get_data (b, NULL))[3]);
  }
  guint16 asked[40];
  for (guint i = 0; i < 40; i++)
    asked[i] = (guint16)(first + 10 + i);
  guint8 buf[256];
  gsize n = mcu_rtcp_write_nack (buf, sizeof buf, 0xBEEF, PROGRAM_SSRC, asked, 40);
  mcu_router_receive_rtcp (r, 2, buf, n, now += 1000);
  McuPeerCounters c;
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.retransmitted, 32);
  ck_assert_uint_eq (c.rtx_held, 8);
  /* the next window, on a 200 ms round trip: the 8 held are answered, the 32
   * answered 100 ms ago are not again */
  mcu_router_set_rtt (r, 2, 200000);
  mcu_router_receive_rtcp (r, 2, buf, n, now += 100000);
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.retransmitted, 40);
  ck_assert_uint_eq (c.rtx_held, 8 + 32);
  teardown (r);
}
END_TEST

/* --- the audio mix ---------------------------------------------------------- */

/* One mix packet for peer @to as the mixer makes it: its own SSRC, number @seq,
 * 20 ms of Opus (bytes that differ with @seq and @to). */
static void
send_mix (McuRouter *r, guint to, guint32 ssrc, guint16 seq)
{
  guint8 buf[200];
  gsize len = mcu_rtp_write_header (buf, sizeof buf, 111, FALSE, seq, seq * 960u, ssrc);
  for (guint i = 0; i < 60; i++)
    buf[len + i] = (guint8)(seq * 7 + to * 13 + i);
  mcu_router_send_audio (r, to, buf, len + 60);
}

static void
nack_audio (McuRouter *r, guint from, guint32 ssrc, const guint16 *seqs, guint n,
            gint64 now)
{
  guint8 buf[256];
  gsize len = mcu_rtcp_write_nack (buf, sizeof buf, 0xBEEF, ssrc, seqs, n);
  ck_assert_uint_gt (len, 0);
  mcu_router_receive_rtcp (r, from, buf, len, now);
}

/* How many packets peer @id got on SSRC @ssrc since its packet @from_index. */
static guint
count_ssrc (guint id, guint from_index, guint32 ssrc)
{
  guint n = 0;
  for (guint i = from_index; i < peers[id].rtp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtp, i);
      McuRtpHeader h;
      ck_assert_int_eq (
          mcu_rtp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &h),
          MCU_RTP_OK);
      n += h.ssrc == ssrc;
    }
  return n;
}

/* Proves audio retransmission: peer 2 (audio rtx negotiated) NACKs two numbers of
 * its mix and gets two RTX packets on the audio RTX SSRC, with its rtx payload
 * type and numbers of their own, which unwrap to exactly the bytes first sent to it
 * under those numbers (with its payload type). Then the abuse: a NACK naming peer
 * 3's mix, numbers never sent (ahead of the highest, long gone), the same numbers
 * asked a hundred times at once, NACKs from peer 3 (no audio rtx), garbage RTCP,
 * and a mix that starts over under another SSRC: nothing is sent for any of them
 * but what the budget allows of the repeats (once per number per round trip).
 * Throughout, no (peer, SSRC, SRTP index) is protected with two different
 * payloads. Run twice: the second time with retransmission off, when nothing at
 * all is answered. */
START_TEST (test_audio_nack_answered_with_rtx)
{
  peer2_audio_rtx = TRUE;
  no_retransmission = _i == 1;
  gboolean off = no_retransmission;
  McuRouter *r = setup ();
  ProtectLog log = {
    .highest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .protected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_bytes_unref),
  };
  protect_log = &log;
  gint64 now = 1000000;
  mcu_router_set_rtt (r, 2, 60000);
  for (guint16 k = 0; k < 20; k++)
    {
      send_mix (r, 2, AUDIO_SSRC (2), (guint16)(65530 + k)); /* wraps */
      send_mix (r, 3, AUDIO_SSRC (3), (guint16)(700 + k));
    }
  ck_assert_uint_eq (peers[2].rtp->len, 20);
  guint before2 = peers[2].rtp->len, before3 = peers[3].rtp->len;

  /* 2 lost 65533 and 2 (past the wrap) */
  nack_audio (r, 2, AUDIO_SSRC (2), (guint16[]){ 65533, 2 }, 2, now);
  McuPeerCounters c;
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.audio_nacks_in, 1);
  ck_assert_uint_eq (c.nacks_in, 0);
  ck_assert_uint_eq (c.audio_retransmitted, off ? 0 : 2);
  ck_assert_uint_eq (peers[2].rtp->len, before2 + (off ? 0 : 2));
  guint16 first_rtx_seq = 0;
  for (guint i = before2; i < peers[2].rtp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[2].rtp, i);
      gsize len = g_bytes_get_size (b);
      guint8 pkt[1600];
      memcpy (pkt, g_bytes_get_data (b, NULL), len);
      McuRtpHeader h;
      ck_assert_int_eq (mcu_rtp_parse (pkt, len, &h), MCU_RTP_OK);
      ck_assert_uint_eq (h.ssrc, AUDIO_RTX_SSRC);
      ck_assert_uint_eq (h.pt, PEER2_AUDIO_RTX_PT);
      if (i == before2)
        first_rtx_seq = h.seq;
      ck_assert_uint_eq (h.seq, (guint16)(first_rtx_seq + (i - before2)));
      ck_assert_int_eq (mcu_rtx_unwrap (pkt, &len, 109, AUDIO_SSRC (2)), MCU_RTX_OK);
      McuRtpHeader o;
      ck_assert_int_eq (mcu_rtp_parse (pkt, len, &o), MCU_RTP_OK);
      ck_assert_uint_eq (o.seq, i == before2 ? 65533 : 2);
      GBytes *orig = sent_with_seq (2, AUDIO_SSRC (2), o.seq);
      ck_assert_ptr_nonnull (orig);
      ck_assert_uint_eq (g_bytes_get_size (orig), len);
      ck_assert_mem_eq (g_bytes_get_data (orig, NULL), pkt, len);
      ck_assert_uint_eq (o.pt, 109);
    }
  guint sent2 = peers[2].rtp->len;

  /* peer 3's mix, named by peer 2: not its own, not answered (nor counted as its) */
  nack_audio (r, 2, AUDIO_SSRC (3), (guint16[]){ 703, 704 }, 2, now += 1000);
  /* numbers never sent: ahead of the highest, and long before the first */
  nack_audio (r, 2, AUDIO_SSRC (2), (guint16[]){ 14, 15, 300 }, 3, now += 1000);
  nack_audio (r, 2, AUDIO_SSRC (2), (guint16[]){ 65000 }, 1, now += 1000);
  ck_assert_uint_eq (peers[2].rtp->len, sent2);
  ck_assert_uint_eq (peers[3].rtp->len, before3);
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.audio_nacks_in, 4); /* NACK entries: 300 took one of its own */
  ck_assert_uint_eq (c.audio_nack_misses, off ? 0 : 4);

  /* a flood: every number sent, a hundred times within one round trip; each is
   * answered at most once (the two answered above not again) */
  guint16 all[20];
  for (guint k = 0; k < 20; k++)
    all[k] = (guint16)(65530 + k);
  for (guint i = 0; i < 100; i++)
    nack_audio (r, 2, AUDIO_SSRC (2), all, 20, now += 100);
  mcu_router_peer_counters (r, 2, &c);
  ck_assert_uint_eq (c.audio_retransmitted, off ? 0 : 20);
  ck_assert_uint_eq (peers[2].rtp->len, sent2 + (off ? 0 : 18));
  ck_assert_uint_eq (count_ssrc (2, 0, AUDIO_RTX_SSRC), off ? 0 : 20);
  if (!off)
    ck_assert_uint_ge (c.rtx_held, 100 * 20 - 20);

  /* peer 3 negotiated no audio rtx: its NACKs get nothing (no plain resend) */
  nack_audio (r, 3, AUDIO_SSRC (3), (guint16[]){ 703, 705 }, 2, now += 100000);
  ck_assert_uint_eq (peers[3].rtp->len, before3);
  mcu_router_peer_counters (r, 3, &c);
  ck_assert_uint_eq (c.audio_nacks_in, 1);
  ck_assert_uint_eq (c.audio_retransmitted, 0);

  /* garbage: counted, nothing sent */
  guint8 junk[24] = { 0x81, 205, 0, 9, 1, 2, 3, 4 };
  mcu_router_receive_rtcp (r, 2, junk, sizeof junk, now += 1000);
  guint8 runt[] = { 0x81, 205, 0, 2, 0xBE, 0xEF, 0, 0, 0xAA, 0, 0 };
  mcu_router_receive_rtcp (r, 2, runt, sizeof runt, now += 1000);

  /* the mix starts over under another SSRC (the mixer made the peer anew): what was
   * kept of the old stream is never an answer for the new one */
  guint32 renewed = AUDIO_SSRC (2) ^ 0x00FF0000u;
  send_mix (r, 2, renewed, 5);
  guint sent_now = peers[2].rtp->len;
  nack_audio (r, 2, renewed, (guint16[]){ 3, 4 }, 2, now += 200000);
  nack_audio (r, 2, AUDIO_SSRC (2), (guint16[]){ 3, 4 }, 2, now += 1000);
  ck_assert_uint_eq (peers[2].rtp->len, sent_now);
  /* and its own numbers are answered */
  send_mix (r, 2, renewed, 6);
  nack_audio (r, 2, renewed, (guint16[]){ 5 }, 1, now += 1000);
  ck_assert_uint_eq (peers[2].rtp->len, sent_now + 1 + (off ? 0 : 1));

  ck_assert_uint_eq (log.reuses, 0);
  protect_log = NULL;
  g_hash_table_unref (log.highest);
  g_hash_table_unref (log.protected);
  teardown (r);
}
END_TEST

/* --- threads ------------------------------------------------------------------
 * Peers that record from any thread, and can hold a send open (gate) so a test
 * decides exactly where a fan-out stands while another thread acts. A gate waits
 * at most GATE_TIMEOUT_S: a router that would deadlock fails the test instead of
 * hanging it. */
#define GATE_TIMEOUT_S 5
#define N_THREAD_PEERS 70 /* more than one chunk of a fan-out (64) */

typedef struct
{
  guint id;
  GMutex lock;
  GCond cond;
  gboolean block_video; /* hold the next video send until released */
  guint blocked;        /* a send is held now */
  gboolean released;
  guint video, audio;
  gboolean have_seq;
  guint16 last_seq;
  guint seq_gaps; /* video numbers not last + 1 */
} ThreadPeer;

static gboolean
thread_send_rtp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  ThreadPeer *p = peer;
  McuRtpHeader h;
  ck_assert_int_eq (mcu_rtp_parse (pkt, len, &h), MCU_RTP_OK);
  g_mutex_lock (&p->lock);
  if (h.pt == 111)
    p->audio++;
  else
    {
      if (p->have_seq && h.seq != (guint16)(p->last_seq + 1))
        p->seq_gaps++;
      p->have_seq = TRUE;
      p->last_seq = h.seq;
      p->video++;
      if (p->block_video)
        {
          p->block_video = FALSE;
          p->blocked = TRUE;
          g_cond_broadcast (&p->cond);
          gint64 end = g_get_monotonic_time () + GATE_TIMEOUT_S * G_USEC_PER_SEC;
          while (!p->released && g_cond_wait_until (&p->cond, &p->lock, end))
            ;
          p->blocked = FALSE;
        }
    }
  g_mutex_unlock (&p->lock);
  return TRUE;
}

static gboolean
thread_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  return TRUE; /* keyframe requests to the source: not what these tests look at */
}

static const McuPeerOps thread_ops = { thread_send_rtp, thread_send_rtcp };

/* Waits until @p holds a send; FALSE after GATE_TIMEOUT_S. */
static gboolean
thread_peer_wait_blocked (ThreadPeer *p)
{
  gint64 end = g_get_monotonic_time () + GATE_TIMEOUT_S * G_USEC_PER_SEC;
  g_mutex_lock (&p->lock);
  while (!p->blocked && g_cond_wait_until (&p->cond, &p->lock, end))
    ;
  gboolean blocked = p->blocked;
  g_mutex_unlock (&p->lock);
  return blocked;
}

static void
thread_peer_release (ThreadPeer *p)
{
  g_mutex_lock (&p->lock);
  p->released = TRUE;
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
}

static guint
thread_peer_get (ThreadPeer *p, guint *field)
{
  g_mutex_lock (&p->lock);
  guint v = *field;
  g_mutex_unlock (&p->lock);
  return v;
}

/* A router whose program is peer 1's video, with peers 2..n receiving it (all
 * sites, so in the snapshot in id order). Peer 1 has sent its keyframe. */
static McuRouter *
thread_setup (ThreadPeer *tp, guint n)
{
  McuRouterConfig cfg = { .program_ssrc = PROGRAM_SSRC, .rtx_slots = 64 };
  McuRouter *r = mcu_router_new (&cfg);
  for (guint id = 1; id <= n; id++)
    {
      tp[id].id = id;
      g_mutex_init (&tp[id].lock);
      g_cond_init (&tp[id].cond);
      McuPeerInfo info = { .kind = MCU_PEER_SITE,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
      ck_assert (mcu_router_add_peer (r, id, &info, &thread_ops, &tp[id]));
    }
  mcu_router_set_program (r, 1, 1000);
  send_video (r, 1, 1, TRUE, 2000);
  ck_assert_uint_eq (mcu_router_program (r), 1);
  for (guint id = 2; id <= n; id++)
    ck_assert_uint_eq (tp[id].video, 1);
  return r;
}

static void
thread_teardown (McuRouter *r, ThreadPeer *tp, guint n)
{
  mcu_router_free (r);
  for (guint id = 1; id <= n; id++)
    {
      g_mutex_clear (&tp[id].lock);
      g_cond_clear (&tp[id].cond);
    }
}

typedef struct
{
  McuRouter *r;
  guint16 first_seq;
  guint packets;
} VideoJob;

static gpointer
video_thread (gpointer data)
{
  VideoJob *j = data;
  for (guint i = 0; i < j->packets; i++)
    send_video (j->r, 1, (guint16)(j->first_seq + i), FALSE, 100000 + i * 1000);
  return NULL;
}

typedef struct
{
  McuRouter *r;
  guint to_first, to_last, packets;
  gint done;
} AudioJob;

static gpointer
audio_thread (gpointer data)
{
  AudioJob *j = data;
  guint8 pkt[200];
  for (guint i = 0; i < j->packets; i++)
    for (guint id = j->to_first; id <= j->to_last; id++)
      {
        gsize len = mcu_rtp_write_header (pkt, sizeof pkt, 120, FALSE, (guint16)i,
                                          i * 960, 0xA0D10);
        memset (pkt + len, 0x5a, 60);
        mcu_router_send_audio (j->r, id, pkt, len + 60);
      }
  g_atomic_int_set (&j->done, 1);
  return NULL;
}

/* The lock covers the decisions, not the sends: while the fan-out is held inside
 * a send to one receiver, an audio thread still sends to every peer (with the whole
 * fan-out under the router's lock it would wait, and the gate's timeout would fail
 * the test), and the held fan-out then completes. */
START_TEST (test_audio_goes_ahead_of_a_fanout)
{
  static ThreadPeer tp[N_THREAD_PEERS + 1];
  memset (tp, 0, sizeof tp);
  McuRouter *r = thread_setup (tp, N_THREAD_PEERS);
  tp[2].block_video = TRUE;
  VideoJob vj = { r, 2, 1 };
  GThread *vt = g_thread_new ("video", video_thread, &vj);
  ck_assert (thread_peer_wait_blocked (&tp[2]));
  AudioJob aj = { r, 1, N_THREAD_PEERS, 1, 0 };
  GThread *at = g_thread_new ("audio", audio_thread, &aj);
  g_thread_join (at);
  ck_assert_int_eq (g_atomic_int_get (&aj.done), 1);
  for (guint id = 1; id <= N_THREAD_PEERS; id++)
    ck_assert_uint_eq (thread_peer_get (&tp[id], &tp[id].audio), 1);
  ck_assert (thread_peer_get (&tp[2], &tp[2].blocked)); /* still held: not vacuous */
  thread_peer_release (&tp[2]);
  g_thread_join (vt);
  for (guint id = 2; id <= N_THREAD_PEERS; id++)
    ck_assert_uint_eq (tp[id].video, 2);
  thread_teardown (r, tp, N_THREAD_PEERS);
}
END_TEST

/* Under ThreadSanitizer this is the race check: video fan-outs, two audio threads
 * and level changes of one peer at once. Every packet arrives, and a peer that
 * stays at full level sees the program's numbers without a gap or a reordering
 * (its header rewrite and its send happen in the same order). */
START_TEST (test_fanout_audio_and_levels_at_once)
{
  enum
  {
    N = 20,
    VIDEO = 400,
    AUDIO = 200
  };
  static ThreadPeer tp[N + 1];
  memset (tp, 0, sizeof tp);
  McuRouter *r = thread_setup (tp, N);
  VideoJob vj = { r, 2, VIDEO };
  AudioJob a1 = { r, 1, N / 2, AUDIO, 0 }, a2 = { r, N / 2 + 1, N, AUDIO, 0 };
  GThread *vt = g_thread_new ("video", video_thread, &vj);
  GThread *t1 = g_thread_new ("audio1", audio_thread, &a1);
  GThread *t2 = g_thread_new ("audio2", audio_thread, &a2);
  for (guint i = 0; i < 100; i++)
    {
      mcu_router_set_level (r, N, i % 2 ? MCU_LEVEL_FULL : MCU_LEVEL_LOW);
      McuPeerCounters c;
      ck_assert (mcu_router_peer_counters (r, 3, &c));
      g_thread_yield ();
    }
  mcu_router_set_level (r, N, MCU_LEVEL_FULL);
  g_thread_join (vt);
  g_thread_join (t1);
  g_thread_join (t2);
  for (guint id = 1; id <= N; id++)
    ck_assert_uint_eq (tp[id].audio, AUDIO);
  for (guint id = 2; id < N; id++)
    {
      ck_assert_uint_eq (tp[id].video, 1 + VIDEO);
      ck_assert_uint_eq (tp[id].seq_gaps, 0);
      McuPeerCounters c;
      ck_assert (mcu_router_peer_counters (r, id, &c));
      ck_assert_uint_eq (c.rtp_out, 1 + VIDEO + AUDIO);
      ck_assert_uint_eq (c.send_failures, 0);
    }
  ck_assert_uint_le (tp[N].video, 1 + VIDEO);
  thread_teardown (r, tp, N);
}
END_TEST

typedef struct
{
  McuRouter *r;
  guint id;
  gint returned;
} RemoveJob;

static gpointer
remove_thread (gpointer data)
{
  RemoveJob *j = data;
  mcu_router_remove_peer (j->r, j->id);
  g_atomic_int_set (&j->returned, 1);
  return NULL;
}

/* Removing peers while a fan-out runs: the fan-out is held inside its send to
 * peer 2. Removing peer 2 does not return while that send is under way (its caller
 * may free the peer as soon as it returns). Peer N, in the fan-out's next chunk and
 * not yet begun, is removed at once, its recorder freed (under AddressSanitizer a
 * late send to it is a use after free) and the fan-out skips it. */
START_TEST (test_remove_during_fanout)
{
  static ThreadPeer tp[N_THREAD_PEERS + 1];
  memset (tp, 0, sizeof tp);
  McuRouter *r = thread_setup (tp, N_THREAD_PEERS);
  guint last = N_THREAD_PEERS;
  /* the last peer's recorder is one the test can free */
  ThreadPeer *gone = g_new0 (ThreadPeer, 1);
  g_mutex_init (&gone->lock);
  g_cond_init (&gone->cond);
  McuPeerInfo info = { .kind = MCU_PEER_SITE,
                       .audio_pt = 111,
                       .video_pt = 96,
                       .video_codec = MCU_VIDEO_CODEC_VP8 };
  mcu_router_remove_peer (r, last);
  ck_assert (mcu_router_add_peer (r, last, &info, &thread_ops, gone));
  tp[2].block_video = TRUE;
  VideoJob vj = { r, 2, 1 };
  GThread *vt = g_thread_new ("video", video_thread, &vj);
  ck_assert (thread_peer_wait_blocked (&tp[2]));

  /* the last peer: removed at once (the fan-out is held before its chunk), and
   * its recorder freed as a caller may */
  mcu_router_remove_peer (r, last);
  ck_assert_uint_eq (thread_peer_get (gone, &gone->video), 0);
  g_mutex_clear (&gone->lock);
  g_cond_clear (&gone->cond);
  g_free (gone);

  RemoveJob rj = { r, 2, 0 };
  GThread *rt = g_thread_new ("remove", remove_thread, &rj);
  g_usleep (100 * 1000); /* a chance to return too early; cannot make it wait */
  ck_assert_int_eq (g_atomic_int_get (&rj.returned), 0);
  thread_peer_release (&tp[2]);
  g_thread_join (rt);
  ck_assert_int_eq (g_atomic_int_get (&rj.returned), 1);
  g_thread_join (vt);

  /* the held packet reached the others but not the removed last peer (a send to
   * its freed recorder would have crashed or been caught); later ones skip 2 */
  for (guint id = 3; id < last; id++)
    ck_assert_uint_eq (tp[id].video, 2);
  send_video (r, 1, 3, FALSE, 300000);
  ck_assert_uint_eq (tp[2].video, 2);
  ck_assert_uint_eq (tp[3].video, 3);
  McuPeerCounters c;
  ck_assert (!mcu_router_peer_counters (r, 2, &c));
  thread_teardown (r, tp, N_THREAD_PEERS);
}
END_TEST

/* Counts the RTP packets peer @id got with @ssrc, from the @from_index-th on. */
static guint
count_ssrc_rtp (guint id, guint from_index, guint32 ssrc)
{
  guint n = 0;
  for (guint i = from_index; i < peers[id].rtp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtp, i);
      McuRtpHeader h;
      if (mcu_rtp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &h)
              == MCU_RTP_OK
          && h.ssrc == ssrc)
        n++;
    }
  return n;
}

/* A content packet of peer @from, on its video payload type. */
static void
send_content (McuRouter *r, guint from, guint16 seq, gboolean key, gint64 now)
{
  guint8 buf[1600];
  gsize len
      = vp8_packet (buf, from == 2 ? 100 : 96, seq, seq * 9000u, CONTENT_IN (from), key);
  mcu_router_receive_rtp (r, from, buf, len, now);
}

/* Whether an RTCP packet peer @id got asks for a keyframe of @media. */
static gboolean
keyframe_asked (guint id, guint32 media)
{
  for (guint i = 0; i < peers[id].rtcp->len; i++)
    {
      GBytes *b = g_ptr_array_index (peers[id].rtcp, i);
      McuRtcpInfo info;
      if (mcu_rtcp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                          MCU_RTCP_PARSE_REDUCED_SIZE, &info)
          != MCU_RTCP_OK)
        continue;
      for (guint k = 0; k < info.n_plis; k++)
        if (info.plis[k].media_ssrc == media)
          return TRUE;
    }
  return FALSE;
}

START_TEST (test_content_beside_the_program)
{
  with_content = TRUE;
  McuRouter *r = setup ();
  ProtectLog log = {
    .highest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .protected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_bytes_unref),
  };
  protect_log = &log;
  gint64 now = 1000000;
  mcu_router_set_program (r, 1, now);
  send_video (r, 1, 100, TRUE, now);

  /* content from a site that is not presenting: dropped, counted, sent nowhere */
  send_content (r, 2, 700, TRUE, now += 1000);
  McuPeerCounters c;
  ck_assert (mcu_router_peer_counters (r, 2, &c));
  ck_assert_uint_eq (c.content_dropped, 1);
  for (guint id = 1; id <= 4; id++)
    ck_assert_uint_eq (count_ssrc_rtp (id, 0, CONTENT_SSRC), 0);

  /* site 2 presents: a PLI names its content SSRC; its next keyframe starts the
   * content at 3 and 4 (1 has no content m-line), never back to 2 */
  mcu_router_set_content (r, 2, now);
  ck_assert (keyframe_asked (2, CONTENT_IN (2)));
  send_content (r, 2, 701, FALSE, now += 1000);
  ck_assert_uint_eq (mcu_router_content (r), 0);
  send_content (r, 2, 702, TRUE, now += 1000);
  ck_assert_uint_eq (mcu_router_content (r), 2);
  for (guint16 s = 703; s < 710; s++)
    send_content (r, 2, s, FALSE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (1, 0, CONTENT_SSRC), 0);
  ck_assert_uint_eq (count_ssrc_rtp (2, 0, CONTENT_SSRC), 0);
  ck_assert_uint_eq (count_ssrc_rtp (3, 0, CONTENT_SSRC), 8);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), 8);
  McuRtpHeader h = last_rtp (3);
  ck_assert_uint_eq (h.ssrc, CONTENT_SSRC);
  guint16 content_seq = h.seq;

  /* the program goes on beside it, numbered on its own */
  send_video (r, 1, 101, FALSE, now += 1000);
  send_video (r, 1, 102, FALSE, now += 1000);
  h = last_rtp (2);
  ck_assert_uint_eq (h.ssrc, PROGRAM_SSRC);
  ck_assert_uint_eq (count_ssrc_rtp (2, 0, PROGRAM_SSRC), 3);
  ck_assert_uint_eq (count_ssrc_rtp (3, 0, PROGRAM_SSRC), 3);
  send_content (r, 2, 710, FALSE, now += 1000);
  ck_assert_uint_eq (last_rtp (3).seq, (guint16)(content_seq + 1));

  /* content from another peer while 2 presents: dropped and counted */
  send_content (r, 3, 50, TRUE, now += 1000);
  ck_assert (mcu_router_peer_counters (r, 3, &c));
  ck_assert_uint_eq (c.content_dropped, 1);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), 9);

  /* a receiver's PLI for the content reaches the presenter, naming its content */
  g_ptr_array_set_size (peers[1].rtcp, 0);
  g_ptr_array_set_size (peers[2].rtcp, 0);
  guint8 buf[256];
  gsize len = mcu_rtcp_write_pli (buf, sizeof buf, 0x4444, CONTENT_SSRC);
  mcu_router_receive_rtcp (r, 4, buf, len, now += 400000);
  ck_assert (keyframe_asked (2, CONTENT_IN (2)));
  ck_assert (!keyframe_asked (1, 0xA001));

  /* a NACK for the content is answered with the content's own bytes */
  guint16 last4 = last_rtp (4).seq; /* the last content packet 4 got, before it */
  guint before = peers[4].rtp->len;
  guint16 lost = (guint16)(content_seq - 2);
  len = mcu_rtcp_write_nack (buf, sizeof buf, 0x4444, CONTENT_SSRC, &lost, 1);
  mcu_router_receive_rtcp (r, 4, buf, len, now += 1000);
  ck_assert_uint_eq (peers[4].rtp->len, before + 1);
  h = last_rtp (4);
  ck_assert_uint_eq (h.ssrc, CONTENT_SSRC);
  ck_assert_uint_eq (h.seq, lost);
  ck_assert_uint_eq (protect_log->reuses, 0);

  /* audio only: stills, the keyframes alone, each numbered on from the last
   * packet it got (no gap to NACK); one is asked of the presenter every 5 s */
  mcu_router_set_level (r, 4, MCU_LEVEL_AUDIO);
  before = count_ssrc_rtp (4, 0, CONTENT_SSRC);
  send_content (r, 2, 711, FALSE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), before);
  send_content (r, 2, 712, TRUE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), before + 1);
  ck_assert_uint_eq (last_rtp (4).seq, (guint16)(last4 + 1));
  send_content (r, 2, 713, FALSE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), before + 1);
  ck_assert_uint_eq (count_ssrc_rtp (3, 0, CONTENT_SSRC), 12); /* 3 gets every one */
  g_ptr_array_set_size (peers[2].rtcp, 0);
  mcu_router_tick (r, now += 5 * G_USEC_PER_SEC);
  ck_assert (keyframe_asked (2, CONTENT_IN (2)));
  g_ptr_array_set_size (peers[2].rtcp, 0);
  mcu_router_tick (r, now += G_USEC_PER_SEC);
  ck_assert (!keyframe_asked (2, CONTENT_IN (2)));
  ck_assert_uint_gt (mcu_router_content_key_bytes (r), 100);
  /* where a still does not fit, nothing */
  mcu_router_set_stills (r, 4, FALSE);
  send_content (r, 2, 714, TRUE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), before + 1);
  mcu_router_tick (r, now += 6 * G_USEC_PER_SEC);
  ck_assert (!keyframe_asked (2, CONTENT_IN (2)));

  /* low: the whole content again, from a keyframe asked at once */
  before = count_ssrc_rtp (4, 0, CONTENT_SSRC);
  mcu_router_set_level (r, 4, MCU_LEVEL_LOW);
  ck_assert (keyframe_asked (2, CONTENT_IN (2)));
  send_content (r, 2, 715, FALSE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (4, 0, CONTENT_SSRC), before + 1);

  /* the content ends: nothing more reaches anyone */
  mcu_router_set_content (r, 0, now);
  before = count_ssrc_rtp (3, 0, CONTENT_SSRC);
  send_content (r, 2, 716, FALSE, now += 1000);
  ck_assert_uint_eq (count_ssrc_rtp (3, 0, CONTENT_SSRC), before);
  ck_assert_uint_eq (log.repeats, 1); /* the NACK's answer: the same bytes */
  protect_log = NULL;
  g_hash_table_unref (log.highest);
  g_hash_table_unref (log.protected);
  teardown (r);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-router");
  TCase *tc = tcase_create ("router");
  tcase_add_test (tc, test_program_fanout_and_switch);
  tcase_add_test (tc, test_pli_then_fir_for_a_silent_source);
  tcase_add_test (tc, test_nack_and_pli_from_receivers);
  tcase_add_test (tc, test_levels_audio_and_garbage);
  tcase_add_test (tc, test_send_video_and_keyframe_requests);
  tcase_add_test (tc, test_links_are_served_first);
  tcase_add_test (tc, test_levels_keep_one_stream);
  tcase_add_loop_test (tc, test_nack_never_reuses_an_srtp_index, 0, 2);
  tcase_add_loop_test (tc, test_nacks_to_the_source, 0, 2);
  tcase_add_test (tc, test_rtx_budget);
  tcase_add_loop_test (tc, test_audio_nack_answered_with_rtx, 0, 2);
  tcase_add_test (tc, test_audio_goes_ahead_of_a_fanout);
  tcase_add_test (tc, test_fanout_audio_and_levels_at_once);
  tcase_add_test (tc, test_remove_during_fanout);
  tcase_add_test (tc, test_content_beside_the_program);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
