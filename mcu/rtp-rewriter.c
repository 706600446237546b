#include "rtp-rewriter.h"

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16)((p[0] << 8) | p[1]);
}

static inline guint32
rd32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  p[0] = (guint8)(v >> 24);
  p[1] = (guint8)(v >> 16);
  p[2] = (guint8)(v >> 8);
  p[3] = (guint8)v;
}

void
mcu_rtp_rewriter_init (McuRtpRewriter *rw, guint32 out_ssrc, guint32 clock_rate)
{
  g_return_if_fail (rw != NULL && clock_rate > 0);
  *rw = (McuRtpRewriter){ .out_ssrc = out_ssrc, .clock_rate = clock_rate };
}

void
mcu_rtp_rewriter_switch (McuRtpRewriter *rw, guint32 src_ssrc)
{
  g_return_if_fail (rw != NULL);
  if (rw->have_src && rw->src_ssrc == src_ssrc)
    return;
  rw->src_ssrc = src_ssrc;
  rw->have_src = TRUE;
  rw->src_started = FALSE;
}

/* Why the timestamp gap comes from wall time: the new source's clock has an
 * unrelated origin, and a receiver's jitter buffer expects timestamps to advance
 * with real time; at least one tick, so no two frames share a timestamp. */
static void
rewriter_start_source (McuRtpRewriter *rw, guint16 seq, guint32 ts, gint64 now_us)
{
  guint16 out_seq = rw->started ? (guint16)(rw->last_out_seq + 1) : seq;
  guint32 out_ts = ts;
  if (rw->started)
    {
      gint64 gap_us = MAX (now_us - rw->last_out_us, 0);
      guint64 ticks = (guint64)gap_us * rw->clock_rate / G_USEC_PER_SEC;
      out_ts = rw->last_out_ts + (guint32)MAX (ticks, 1);
    }
  rw->seq_offset = (guint16)(out_seq - seq);
  rw->ts_offset = out_ts - ts;
  rw->first_out_seq = out_seq;
  rw->long_run = FALSE;
  rw->src_started = TRUE;
}

gboolean
mcu_rtp_rewriter_rewrite (McuRtpRewriter *rw, guint8 *pkt, gsize len, gint64 now_us)
{
  if (len < 12 || !rw->have_src || rd32 (pkt + 8) != rw->src_ssrc)
    {
      rw->dropped++;
      return FALSE;
    }
  guint16 seq = rd16 (pkt + 2);
  guint32 ts = rd32 (pkt + 4);
  if (!rw->src_started)
    rewriter_start_source (rw, seq, ts, now_us);

  guint16 out_seq = (guint16)(seq + rw->seq_offset);
  /* a packet of the new source that precedes its first one would land on sequence
   * numbers the previous source already used */
  if ((gint16)(out_seq - rw->first_out_seq) < 0)
    {
      rw->dropped++;
      return FALSE;
    }
  guint32 out_ts = ts + rw->ts_offset;
  wr16 (pkt + 2, out_seq);
  wr32 (pkt + 4, out_ts);
  wr32 (pkt + 8, rw->out_ssrc);
  if (!rw->started || (gint16)(out_seq - rw->last_out_seq) > 0)
    {
      rw->last_out_seq = out_seq;
      /* last only moves forward by less than half the space at a time, so the
       * distance from first passes through the upper half before it could wrap */
      if ((guint16)(out_seq - rw->first_out_seq) >= 0x8000)
        rw->long_run = TRUE;
      rw->last_out_ts = out_ts;
      rw->last_out_us = now_us;
      rw->started = TRUE;
    }
  return TRUE;
}

gboolean
mcu_rtp_rewriter_source_seq (const McuRtpRewriter *rw, guint16 out_seq, guint16 *src_seq)
{
  if (!rw->have_src || !rw->src_started || !rw->started)
    return FALSE;
  guint16 back = (guint16)(rw->last_out_seq - out_seq);
  /* ahead of the last packet sent (never sent), or so far back that the 16 bits
   * cannot say which round it was */
  if (back >= 0x8000)
    return FALSE;
  if (!rw->long_run && back > (guint16)(rw->last_out_seq - rw->first_out_seq))
    return FALSE; /* before the current source's first packet */
  *src_seq = (guint16)(out_seq - rw->seq_offset);
  return TRUE;
}
