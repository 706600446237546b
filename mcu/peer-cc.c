/* peer-cc.c: McuPeerCc, one peer's congestion control (see peer-cc.h). */
#include "peer-cc.h"
#include "twcc.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (mcu_peer_cc_debug);
#define GST_CAT_DEFAULT mcu_peer_cc_debug

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

gboolean
mcu_peer_cc_on_send (McuPeerCc *cc, guint8 *pkt, gsize *len, gsize cap, gint64 now_us)
{
  return mcu_twcc_sender_stamp (cc->tx, pkt, len, cap, now_us);
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
