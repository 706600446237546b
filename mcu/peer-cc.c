/* peer-cc.c: McuPeerCc, one peer's congestion control (see peer-cc.h). */
#include "peer-cc.h"
#include "twcc.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (mcu_peer_cc_debug);
#define GST_CAT_DEFAULT mcu_peer_cc_debug

#define MAX_STREAMS 8         /* SSRCs we send one peer: audio, video, rtx, and spares */
#define REPORT_MIN_PACKETS 20 /* libwebrtc's floor for a loss figure to mean something */
#define NACK_WINDOW_US 500000
#define SENT_SLOTS 1024 /* numbers remembered per stream: a few seconds of video */

/* One SSRC we send the peer: the highest sequence number sent (extended), and where
 * its receiver reports last left it, in the same numbering. */
typedef struct
{
  guint32 ssrc;
  guint32 sent_ext;
  gboolean have_report;
  guint32 report_ext;
  gint32 report_lost;
  gboolean nacked;    /* the peer NACKs this stream: its NACKs count its loss */
  guint32 window_ext; /* sent_ext when the NACK window began */
  /* the last SENT_SLOTS numbers: when each was sent (our clock in ms, never 0),
   * 0 when skipped or already counted as NACKed, so a NACK counts once, only for a
   * packet that went out, and says how long after sending it came */
  guint32 sent_ms[SENT_SLOTS];
} Stream;

struct _McuPeerCc
{
  guint32 our_ssrc;
  guint8 ext_id; /* 0: no transport-cc */
  gboolean remb;
  McuTwccSender *tx;    /* thread-safe itself */
  McuTwccRecorder *rec; /* leg context */
  McuBwe *bwe;          /* leg context */
  McuTwccFeedback fb;   /* scratch for parsing: leg context */
  McuTwccResult results[MCU_TWCC_MAX_PACKETS];
  guint64 malformed;
  GMutex streams_lock; /* on_sent writes streams from any sending thread */
  Stream streams[MAX_STREAMS];
  guint n_streams;
  guint report_expected, report_lost; /* leg context: not yet fed to the estimate */
  guint nack_lost;                    /* leg context: counted in this NACK window */
  gint64 nack_min_age;                /* the youngest of them, when NACKed (us) */
  gint64 nack_window_at;
  guint64 reports_ignored; /* leg context */
};

/* The extension ID of the first accepted m-line that agreed transport-cc: BUNDLE
 * keeps one ID per extension across the transport, and Chromium offers the same. */
McuPeerCc *
mcu_peer_cc_new (const McuSdpSession *session, guint32 our_ssrc, gint64 now_us)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_peer_cc_debug, "mcu-peer-cc", 0,
                               "per-peer congestion control");
      g_once_init_leave (&done, 1);
    }
  McuPeerCc *cc = g_new0 (McuPeerCc, 1);
  cc->our_ssrc = our_ssrc;
  for (guint i = 0; session && i < mcu_sdp_session_n_media (session); i++)
    {
      const McuSdpMedia *m = mcu_sdp_session_media (session, i);
      if (!m->accepted)
        continue;
      if (cc->ext_id == 0 && m->transport_cc)
        cc->ext_id = m->twcc_ext_id;
      cc->remb |= m->remb;
    }
  cc->tx = mcu_twcc_sender_new (cc->ext_id);
  cc->rec = mcu_twcc_recorder_new (our_ssrc);
  cc->bwe = mcu_bwe_new (now_us);
  cc->nack_min_age = G_MAXINT64;
  g_mutex_init (&cc->streams_lock);
  return cc;
}

void
mcu_peer_cc_free (McuPeerCc *cc)
{
  if (cc == NULL)
    return;
  mcu_twcc_sender_free (cc->tx);
  mcu_twcc_recorder_free (cc->rec);
  mcu_bwe_free (cc->bwe);
  g_mutex_clear (&cc->streams_lock);
  g_free (cc);
}

gboolean
mcu_peer_cc_has_twcc (McuPeerCc *cc)
{
  return cc->ext_id != 0;
}

gboolean
mcu_peer_cc_has_remb (McuPeerCc *cc)
{
  return cc->remb;
}

/* Marks @ext sent at @ms (0: not sent, or counted). */
static void
sent_set (Stream *st, guint32 ext, guint32 ms)
{
  st->sent_ms[ext % SENT_SLOTS] = ms;
}

static guint32
sent_get (const Stream *st, guint32 ext)
{
  return st->sent_ms[ext % SENT_SLOTS];
}

/* Remembers the highest sequence number sent per SSRC, and which of the recent ones
 * went out when, so that receiver reports and NACKs are only believed about
 * streams we send and packets we sent, and a NACK's delay is known. No
 * allocation: a peer sent more SSRCs than MAX_STREAMS gets nothing read on the
 * extra ones. */
void
mcu_peer_cc_on_sent (McuPeerCc *cc, const guint8 *pkt, gsize len, gint64 now_us)
{
  if (len < 12 || (pkt[0] >> 6) != 2)
    return;
  guint32 ms = (guint32)(now_us / 1000);
  ms = ms ? ms : 1;
  guint16 seq = (guint16)(pkt[2] << 8 | pkt[3]);
  guint32 ssrc
      = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8 | pkt[11];
  g_mutex_lock (&cc->streams_lock);
  guint i = 0;
  while (i < cc->n_streams && cc->streams[i].ssrc != ssrc)
    i++;
  if (i == cc->n_streams)
    {
      if (i < MAX_STREAMS)
        {
          cc->streams[i] = (Stream){ .ssrc = ssrc, .sent_ext = seq };
          sent_set (&cc->streams[i], seq, ms);
          cc->n_streams++;
        }
    }
  else
    {
      Stream *st = &cc->streams[i];
      gint ahead = (gint16)(seq - (guint16)st->sent_ext);
      if (ahead > 0)
        {
          /* the numbers skipped did not go out (not yet, or never) */
          for (gint k = 1; k < ahead && k <= SENT_SLOTS; k++)
            sent_set (st, st->sent_ext + (guint32)k, 0);
          st->sent_ext += (guint32)ahead;
          sent_set (st, st->sent_ext, ms);
        }
      else if (-ahead < SENT_SLOTS) /* one sent out of order */
        sent_set (st, st->sent_ext - (guint32)(-ahead), ms);
    }
  g_mutex_unlock (&cc->streams_lock);
}

gboolean
mcu_peer_cc_on_send (McuPeerCc *cc, guint8 *pkt, gsize *len, gsize cap, gint64 now_us)
{
  return mcu_twcc_sender_stamp (cc->tx, pkt, len, cap, now_us);
}

/* Maps a sequence number of @st to our extended numbering; FALSE when we have not
 * sent it (or not within the last 32768). Under streams_lock. */
static gboolean
stream_ext (const Stream *st, guint16 seq, guint32 *ext)
{
  guint16 behind = (guint16)((guint16)st->sent_ext - seq);
  if (behind >= 0x8000)
    return FALSE;
  *ext = st->sent_ext - behind;
  return TRUE;
}

/* One report block: how many more packets of ours the peer expected since its last
 * block on that SSRC, and how many more it counts lost. The block's highest
 * sequence number is read against the highest we sent (a number we never sent, or
 * one behind the last report, is not believed); the loss is bounded by what it
 * expected. fraction_lost is not used: the counts cover exactly the packets between
 * two reports, whatever the reporter's interval. Returns: FALSE when the block
 * says nothing new that can be believed. */
static gboolean
streams_on_report (McuPeerCc *cc, const McuRtcpReportBlock *rb, guint *expected,
                   guint *lost)
{
  gboolean ok = FALSE;
  g_mutex_lock (&cc->streams_lock);
  for (guint i = 0; i < cc->n_streams; i++)
    {
      Stream *st = &cc->streams[i];
      if (st->ssrc != rb->ssrc)
        continue;
      guint32 ext;
      if (!stream_ext (st, (guint16)rb->ext_highest_seq, &ext))
        break; /* ahead of anything we sent */
      if (!st->have_report)
        {
          st->have_report = TRUE;
          st->report_ext = ext;
          st->report_lost = rb->cumulative_lost;
          break;
        }
      guint32 d = ext - st->report_ext;
      if (d == 0 || d >= 0x8000)
        break; /* nothing new, or an older report than the last one */
      gint64 l = (gint64)rb->cumulative_lost - st->report_lost;
      *expected = d;
      *lost = (guint)CLAMP (l, 0, (gint64)d);
      st->report_ext = ext;
      st->report_lost = rb->cumulative_lost;
      ok = TRUE;
      break;
    }
  g_mutex_unlock (&cc->streams_lock);
  return ok;
}

/* NACKs as an early measure of the line: receiver reports of RFC 3550's timing come
 * 2 to 6 s apart (GStreamer's rtpbin, most room systems), and a receiver that keeps
 * NACKing may send none for 15 to 26 s (webrtcbin does: its early feedback puts its
 * regular reports off, on a clean line too), while a NACK comes within a round trip
 * and a queue's length of the packet it names. Each number counts once (a repeated
 * NACK counts nothing), and only if it went out within the last SENT_SLOTS; every
 * 500 ms (and 20 packets at least) the count over the packets sent on the NACKed
 * streams meanwhile, and how soon after sending the quickest of those NACKs came,
 * go to the loss-based estimate (mcu_bwe_on_nack_loss()). A receiver that NACKs
 * nothing leaves this to its reports. */
static void
on_nacks (McuPeerCc *cc, const McuRtcpInfo *info, gint64 now_us)
{
  g_mutex_lock (&cc->streams_lock);
  for (guint i = 0; i < info->n_nacks; i++)
    {
      Stream *st = NULL;
      for (guint k = 0; k < cc->n_streams && st == NULL; k++)
        if (cc->streams[k].ssrc == info->nacks[i].media_ssrc)
          st = &cc->streams[k];
      if (st == NULL)
        continue;
      guint16 seqs[17];
      guint n = mcu_rtcp_nack_expand (info->nacks[i].pid, info->nacks[i].blp, seqs);
      for (guint j = 0; j < n; j++)
        {
          guint32 ext;
          if (!stream_ext (st, seqs[j], &ext) || st->sent_ext - ext >= SENT_SLOTS)
            continue;
          if (!st->nacked)
            {
              /* counting starts here: what it lost before is not in this window */
              st->nacked = TRUE;
              st->window_ext = ext - 1;
            }
          guint32 sent = sent_get (st, ext);
          if (sent != 0)
            {
              /* modulo 2^32 ms: an age of a few seconds at most */
              gint64 age = (gint64)(guint32)((guint32)(now_us / 1000) - sent) * 1000;
              sent_set (st, ext, 0);
              cc->nack_lost++;
              cc->nack_min_age = MIN (cc->nack_min_age, age);
            }
        }
    }
  if (cc->nack_window_at == 0)
    cc->nack_window_at = now_us;
  guint expected = 0;
  if (now_us - cc->nack_window_at >= NACK_WINDOW_US)
    for (guint k = 0; k < cc->n_streams; k++)
      if (cc->streams[k].nacked)
        expected += cc->streams[k].sent_ext - cc->streams[k].window_ext;
  gboolean feed = expected >= REPORT_MIN_PACKETS;
  if (feed)
    for (guint k = 0; k < cc->n_streams; k++)
      cc->streams[k].window_ext = cc->streams[k].sent_ext;
  g_mutex_unlock (&cc->streams_lock);
  if (feed)
    {
      GST_DEBUG ("%p: %u of %u NACKed, the quickest NACK %" G_GINT64_FORMAT
                 " ms after sending",
                 (void *)cc, cc->nack_lost, expected,
                 cc->nack_lost ? cc->nack_min_age / 1000 : -1);
      mcu_bwe_on_nack_loss (cc->bwe, expected, cc->nack_lost,
                            cc->nack_lost ? cc->nack_min_age : -1,
                            mcu_twcc_sender_rate (cc->tx, now_us), now_us);
      cc->nack_lost = 0;
      cc->nack_min_age = G_MAXINT64;
      cc->nack_window_at = now_us;
    }
}

/* The receiver reports in one compound: the packets they cover, summed over our
 * streams, go to the loss-based estimate once they make a figure that means
 * something. A flood of reports adds nothing: each must cover packets we sent
 * since the last one. */
static void
on_reports (McuPeerCc *cc, const McuRtcpInfo *info, gint64 now_us)
{
  for (guint i = 0; i < info->n_reports; i++)
    {
      guint expected = 0, lost = 0;
      if (!streams_on_report (cc, &info->reports[i], &expected, &lost))
        {
          cc->reports_ignored++;
          continue;
        }
      cc->report_expected += expected;
      cc->report_lost += lost;
    }
  if (cc->report_expected >= REPORT_MIN_PACKETS)
    {
      GST_DEBUG ("%p: receiver reports: %u of %u lost", (void *)cc, cc->report_lost,
                 cc->report_expected);
      mcu_bwe_on_loss_report (cc->bwe, cc->report_expected, cc->report_lost,
                              mcu_twcc_sender_rate (cc->tx, now_us), now_us);
      cc->report_expected = cc->report_lost = 0;
    }
}

void
mcu_peer_cc_on_rtp (McuPeerCc *cc, const guint8 *pkt, gsize len, gint64 now_us)
{
  guint16 seq;
  if (cc->ext_id && mcu_twcc_read_ext (pkt, len, cc->ext_id, &seq))
    {
      guint32 ssrc = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8
                     | pkt[11];
      mcu_twcc_recorder_on_packet (cc->rec, seq, ssrc, now_us);
    }
}

void
mcu_peer_cc_on_rtcp (McuPeerCc *cc, const guint8 *pkt, gsize len, const McuRtcpInfo *info,
                     gint64 now_us)
{
  if (info == NULL)
    return; /* not valid RTCP: nothing in it is trusted */
  if (info->has_remb)
    mcu_bwe_on_remb (cc->bwe, info->remb_bitrate, now_us);
  on_reports (cc, info, now_us);
  on_nacks (cc, info, now_us);
  if (cc->ext_id == 0)
    return;
  gsize off = 0;
  const guint8 *fbp;
  gsize fblen;
  while (mcu_twcc_find_in_compound (pkt, len, &off, &fbp, &fblen))
    {
      if (mcu_twcc_parse (fbp, fblen, &cc->fb) != MCU_TWCC_OK)
        {
          cc->malformed++;
          continue;
        }
      guint n = mcu_twcc_sender_on_feedback (cc->tx, &cc->fb, cc->results,
                                             G_N_ELEMENTS (cc->results));
      mcu_bwe_on_results (cc->bwe, cc->results, n, now_us);
    }
}

gsize
mcu_peer_cc_write_feedback (McuPeerCc *cc, guint8 *buf, gsize cap)
{
  if (cc->ext_id == 0)
    return 0;
  /* an RR first: peers that check RFC 3550's compound rules (GStreamer's rtpbin
   * without rtcp-rsize) drop a lone feedback packet */
  gsize rr = mcu_rtcp_write_rr (buf, cap, cc->our_ssrc, NULL, 0);
  if (rr == 0)
    return 0;
  gsize n = mcu_twcc_recorder_write_feedback (cc->rec, buf + rr, cap - rr);
  return n ? rr + n : 0;
}

guint64
mcu_peer_cc_send_rate (McuPeerCc *cc, gint64 now_us)
{
  return mcu_twcc_sender_rate (cc->tx, now_us);
}

McuBwe *
mcu_peer_cc_bwe (McuPeerCc *cc)
{
  return cc->bwe;
}

guint64
mcu_peer_cc_malformed (McuPeerCc *cc)
{
  return cc->malformed;
}

guint64
mcu_peer_cc_reports_ignored (McuPeerCc *cc)
{
  return cc->reports_ignored;
}
