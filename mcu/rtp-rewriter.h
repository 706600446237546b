/* rtp-rewriter.h: one continuous outgoing RTP stream across source switches.
 *
 * The program a node forwards changes source whenever the floor moves. Receivers
 * must see one stream: the same SSRC, sequence numbers without a jump, timestamps
 * that advance with wall time. McuRtpRewriter maps each source's numbering onto the
 * output's, in place, on the packet path: no allocation.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 out_ssrc;
  guint32 clock_rate;
  /* the current source and its offsets: out = in + offset (mod 2^16 / 2^32) */
  guint32 src_ssrc;
  gboolean have_src;
  gboolean src_started; /* offsets computed from the source's first packet */
  guint16 seq_offset;
  guint32 ts_offset;
  guint16 first_out_seq; /* output seq of the source's first packet */
  /* the current source's numbers, first_out_seq .. last_out_seq, span half the
   * sequence space or more: every recent number is the current source's */
  gboolean long_run;
  /* the last packet sent */
  gboolean started;
  guint16 last_out_seq;
  guint32 last_out_ts;
  gint64 last_out_us;
  guint64 dropped; /* packets from other sources or from before the switch */
} McuRtpRewriter;

/**
 * mcu_rtp_rewriter_init:
 * @out_ssrc: the SSRC every receiver sees
 * @clock_rate: the RTP clock of the codec (90000 for video, 48000 for Opus)
 */
void mcu_rtp_rewriter_init (McuRtpRewriter *rw, guint32 out_ssrc, guint32 clock_rate);

/**
 * mcu_rtp_rewriter_switch:
 * @src_ssrc: the SSRC of the new program source
 *
 * From now on only packets of @src_ssrc are forwarded; its first packet continues
 * the output's sequence at last + 1 and its timestamp at last + the wall time since
 * the last packet. The caller switches on a keyframe of the new source.
 */
void mcu_rtp_rewriter_switch (McuRtpRewriter *rw, guint32 src_ssrc);

/**
 * mcu_rtp_rewriter_rewrite:
 * @pkt: (inout): an RTP packet (at least 12 bytes); SSRC, sequence number and
 *   timestamp are rewritten in place
 * @now_us: monotonic arrival time of the packet
 *
 * Returns: %TRUE when the packet belongs to the output and was rewritten, %FALSE
 * when it must be dropped (another source, or older than the switch).
 */
gboolean mcu_rtp_rewriter_rewrite (McuRtpRewriter *rw, guint8 *pkt, gsize len,
                                   gint64 now_us);

/**
 * mcu_rtp_rewriter_source_seq:
 * @out_seq: a sequence number of the output (one a receiver reports lost)
 * @src_seq: (out): the source's sequence number that was sent as @out_seq
 *
 * Maps an output number back through the current mapping, only when that mapping
 * made it: numbered since the current source's first packet and not after the last
 * packet sent. A number from before (another source, or another level's stream,
 * numbered with other offsets) is refused: the current offsets would name another
 * packet, and sending that under @out_seq would protect two different payloads
 * under one SRTP index.
 * Returns: %TRUE when @out_seq belongs to the current mapping.
 */
gboolean mcu_rtp_rewriter_source_seq (const McuRtpRewriter *rw, guint16 out_seq,
                                      guint16 *src_seq);

G_END_DECLS
