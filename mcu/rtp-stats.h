/* rtp-stats.h: per-SSRC reception and sending statistics (RFC 3550 appendix A.1,
 * A.3, A.8 and section 6.4.1): what a leg's RTCP report blocks say and what the
 * quality view (quality.h) reads.
 *
 * McuRecvStats: one per SSRC we receive. Sequence tracking with probation, cycles
 * and bad-sequence resync; expected, cumulative and per-interval loss; interarrival
 * jitter; duplicate and reordering counters; the LSR/DLSR of the last SR from that
 * source.
 *
 * McuSendStats: one per SSRC we send. Packets and bytes, the NTP/RTP pair of our
 * last SR, and the "remote view": what the peer's report blocks say about this
 * stream (fraction lost, cumulative lost, jitter) and the round-trip time.
 *
 * Packet path: every update function is O(1), allocates nothing and takes no
 * GError. Only _new/_free allocate. Times are microseconds on one monotonic clock
 * (g_get_monotonic_time()) unless the name says NTP. */
#pragma once

#include <glib.h>

#include "rtp.h"
#include "rtcp.h"

G_BEGIN_DECLS

/* RFC 3550 A.1 constants. */
#define MCU_RECV_MIN_SEQUENTIAL 2
#define MCU_RECV_MAX_DROPOUT 3000
#define MCU_RECV_MAX_MISORDER 100

/* What mcu_recv_stats_update() made of one packet. */
typedef enum
{
  MCU_RECV_VALID = 0,     /* in sequence (or a gap ahead): counted */
  MCU_RECV_REORDERED = 1, /* older than the highest seen, first copy: counted */
  MCU_RECV_DUPLICATE = 2, /* a copy of one already counted: counted (RFC 3550) */
  MCU_RECV_PROBATION = 3, /* source not yet validated: not counted */
  MCU_RECV_BAD_SEQ = 4,   /* a large jump, waiting for the next to resync */
  MCU_RECV_RESYNCED = 5,  /* the jump was confirmed: counters restarted, counted */
} McuRecvResult;

/* A snapshot of one McuRecvStats (a value; copy it freely). */
typedef struct
{
  guint32 ssrc;
  guint clock_rate;
  gboolean valid;     /* probation passed at least once */
  guint64 packets;    /* every packet given to update(), valid or not */
  guint64 bytes;      /* their lengths as given */
  guint64 duplicates; /* copies of a sequence number already counted */
  guint64 reordered;  /* arrived after a higher sequence number, first copy */
  guint64 resyncs;    /* restarts after a confirmed large jump */
  guint32 cycles;     /* wraparounds times 65536 (RFC 3550 A.1) */
  guint32 ext_highest_seq;
  guint32 base_seq;
  guint64 received;       /* RFC 3550 "received": since the last (re)start, dups incl. */
  gint64 expected;        /* ext_highest_seq - base_seq + 1, since the last (re)start */
  gint64 cumulative_lost; /* expected - received: negative when duplicates exceed loss */
  guint8 fraction_lost;   /* of the last report interval, 8-bit fixed point */
  guint32 jitter;         /* interarrival jitter, timestamp units (A.8) */
  double jitter_ms;
} McuRecvCounters;

typedef struct _McuRecvStats McuRecvStats;

/**
 * mcu_recv_stats_new:
 * @ssrc: the source this tracks
 * @clock_rate: its RTP clock rate in Hz (48000 Opus, 90000 video); > 0
 *
 * Returns: (transfer full): a tracker, free with mcu_recv_stats_free()
 */
McuRecvStats *mcu_recv_stats_new (guint32 ssrc, guint clock_rate);
void mcu_recv_stats_free (McuRecvStats *stats);

/**
 * mcu_recv_stats_update:
 * @seq: the packet's sequence number
 * @rtp_ts: its RTP timestamp
 * @len: its length in bytes (counted in bytes and bitrate)
 * @arrival_us: its arrival time (monotonic µs)
 *
 * Runs RFC 3550 A.1's update_seq and, for packets that are counted and not
 * duplicates, A.8's jitter estimate. Packet path: O(1), no allocation.
 * Returns: what the packet was.
 */
McuRecvResult mcu_recv_stats_update (McuRecvStats *stats, guint16 seq, guint32 rtp_ts,
                                     gsize len, gint64 arrival_us);

/**
 * mcu_recv_stats_update_rtp:
 * Same as mcu_recv_stats_update() from a parsed header (@len: the datagram's length).
 * Returns: what the packet was; MCU_RECV_PROBATION too when @h is of another SSRC
 * (nothing is counted then).
 */
McuRecvResult mcu_recv_stats_update_rtp (McuRecvStats *stats, const McuRtpHeader *h,
                                         gsize len, gint64 arrival_us);

/**
 * mcu_recv_stats_on_sr:
 * Records an SR from this source: the middle 32 bits of its NTP time become the
 * next report blocks' LSR, @arrival_us the base of their DLSR.
 */
void mcu_recv_stats_on_sr (McuRecvStats *stats, const McuRtcpSenderInfo *sr,
                           gint64 arrival_us);

/**
 * mcu_recv_stats_report_block:
 * @now_us: when the block will be sent
 * @out: (out caller-allocates): the block (reporter_ssrc left 0)
 *
 * Fills an RR report block and closes the report interval (RFC 3550 A.3): the
 * fraction lost is that of packets expected since the previous call, 0 when none
 * were lost or duplicates outnumber losses; the cumulative loss is clamped to the
 * signed 24-bit field. LSR/DLSR are 0 until an SR was seen.
 */
void mcu_recv_stats_report_block (McuRecvStats *stats, gint64 now_us,
                                  McuRtcpReportBlock *out);

/**
 * mcu_recv_stats_get:
 * @out: (out caller-allocates): the counters now (does not close an interval)
 */
void mcu_recv_stats_get (const McuRecvStats *stats, McuRecvCounters *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuRecvStats, mcu_recv_stats_free)

/* A snapshot of one McuSendStats. */
typedef struct
{
  guint32 ssrc;
  guint clock_rate;
  guint64 packets;
  guint64 bytes;         /* whole packets */
  guint64 payload_bytes; /* the SR's octet count */
  guint64 last_sr_ntp;   /* 0 until an SR was sent */
  guint32 last_sr_rtp;
  /* remote view: from the peer's report blocks about this SSRC */
  guint64 reports; /* blocks received */
  guint8 remote_fraction_lost;
  gint32 remote_cumulative_lost;
  guint32 remote_ext_highest_seq;
  guint32 remote_jitter; /* timestamp units */
  double remote_jitter_ms;
  gboolean has_rtt;
  double rtt_ms; /* of the last block with LSR != 0; valid when has_rtt */
} McuSendCounters;

typedef struct _McuSendStats McuSendStats;

/**
 * mcu_send_stats_new:
 * Returns: (transfer full): a tracker for @ssrc at @clock_rate (> 0), free with
 * mcu_send_stats_free()
 */
McuSendStats *mcu_send_stats_new (guint32 ssrc, guint clock_rate);
void mcu_send_stats_free (McuSendStats *stats);

/**
 * mcu_send_stats_on_sent:
 * Counts one sent packet of @len bytes carrying @payload_len payload bytes.
 */
void mcu_send_stats_on_sent (McuSendStats *stats, gsize len, gsize payload_len);

/**
 * mcu_send_stats_fill_sr:
 * @ntp: our wallclock now, NTP 32.32 (see mcu_ntp_from_unix_us())
 * @rtp_ts: the RTP time corresponding to @ntp
 * @out: (out caller-allocates): the sender info of the SR to send
 *
 * Fills the SR's sender info and remembers the NTP/RTP pair.
 */
void mcu_send_stats_fill_sr (McuSendStats *stats, guint64 ntp, guint32 rtp_ts,
                             McuRtcpSenderInfo *out);

/**
 * mcu_send_stats_on_report_block:
 * @block: a report block the peer sent; ignored (FALSE) unless about our SSRC
 * @now_ntp32: the middle 32 bits of our NTP time when the block arrived
 *
 * Keeps the peer's view of this stream and, when LSR is not 0, the round-trip time
 * now - LSR - DLSR (RFC 3550 6.4.1); a block whose LSR + DLSR lies after now is
 * kept but gives no RTT. Returns: TRUE when the block was about our SSRC.
 */
gboolean mcu_send_stats_on_report_block (McuSendStats *stats,
                                         const McuRtcpReportBlock *block,
                                         guint32 now_ntp32);

void mcu_send_stats_get (const McuSendStats *stats, McuSendCounters *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuSendStats, mcu_send_stats_free)

/* NTP helpers. */

/**
 * mcu_ntp_from_unix_us:
 * Returns: the NTP 32.32 timestamp of @unix_us (µs since 1970, g_get_real_time()).
 */
guint64 mcu_ntp_from_unix_us (gint64 unix_us);

/**
 * mcu_ntp_middle32:
 * Returns: the middle 32 bits of @ntp (16.16 seconds), the LSR/DLSR unit.
 */
guint32 mcu_ntp_middle32 (guint64 ntp);

G_END_DECLS
