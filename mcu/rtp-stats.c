#include "rtp-stats.h"

#include <string.h>

#define SEQ_MOD (1u << 16)
#define DUP_WINDOW 128 /* sequence numbers behind the highest we remember */

struct _McuRecvStats
{
  guint32 ssrc;
  guint clock_rate;

  /* RFC 3550 A.1 source state */
  guint16 max_seq;
  guint32 cycles;
  guint32 base_seq;
  guint32 bad_seq;
  guint probation;
  guint64 received;
  gint64 expected_prior;
  guint64 received_prior;
  gboolean valid;

  /* seen[0] bit i: max_seq - i was counted, i < 64; seen[1]: i - 64 */
  guint64 seen[2];

  /* A.8 jitter, 16 times the estimate as in the RFC's integer code */
  gboolean have_transit;
  guint32 transit;
  guint64 jitter_q4;
  gint64 time_base_us;
  gboolean have_time_base;

  guint8 fraction_lost;
  guint64 packets, bytes, duplicates, reordered, resyncs;

  guint32 lsr;
  gint64 sr_arrival_us;
  gboolean have_sr;
};

McuRecvStats *
mcu_recv_stats_new (guint32 ssrc, guint clock_rate)
{
  g_return_val_if_fail (clock_rate > 0, NULL);
  McuRecvStats *s = g_new0 (McuRecvStats, 1);
  s->ssrc = ssrc;
  s->clock_rate = clock_rate;
  return s;
}

void
mcu_recv_stats_free (McuRecvStats *stats)
{
  g_free (stats);
}

/* RFC 3550 A.1 init_seq, plus our duplicate window and jitter restart: after a
 * resync the source's timestamps start afresh too. */
static void
init_seq (McuRecvStats *s, guint16 seq)
{
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = SEQ_MOD + 1;
  s->cycles = 0;
  s->received = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
  s->seen[0] = 1;
  s->seen[1] = 0;
  s->have_transit = FALSE;
}

/* Moves the duplicate window forward by @d sequence numbers (the highest moved). */
static void
window_advance (McuRecvStats *s, guint d)
{
  if (d >= DUP_WINDOW)
    {
      s->seen[0] = s->seen[1] = 0;
    }
  else if (d >= 64)
    {
      s->seen[1] = s->seen[0] << (d - 64);
      s->seen[0] = 0;
    }
  else if (d > 0)
    {
      s->seen[1] = (s->seen[1] << d) | (s->seen[0] >> (64 - d));
      s->seen[0] <<= d;
    }
}

/* Tests and sets the bit of the sequence number @back behind the highest.
 * Returns: TRUE when it was already set (a duplicate). */
static gboolean
window_test_and_set (McuRecvStats *s, guint back)
{
  if (back >= DUP_WINDOW)
    return FALSE; /* too old to tell; count it as a late first copy */
  guint w = back / 64;
  guint64 bit = G_GUINT64_CONSTANT (1) << (back % 64);
  gboolean was = (s->seen[w] & bit) != 0;
  s->seen[w] |= bit;
  return was;
}

/* RFC 3550 A.1 update_seq, which also tells duplicates from late first copies
 * through a 128-bit window (the RFC itself does not detect duplicates; they are
 * counted as received, which is what makes its loss negative). */
static McuRecvResult
update_seq (McuRecvStats *s, guint16 seq)
{
  guint16 udelta = (guint16)(seq - s->max_seq);

  if (s->probation)
    {
      if (seq == (guint16)(s->max_seq + 1))
        {
          s->probation--;
          s->max_seq = seq;
          if (s->probation == 0)
            {
              init_seq (s, seq);
              s->received++;
              s->valid = TRUE;
              return MCU_RECV_VALID;
            }
        }
      else
        {
          s->probation = MCU_RECV_MIN_SEQUENTIAL - 1;
          s->max_seq = seq;
        }
      return MCU_RECV_PROBATION;
    }

  McuRecvResult r = MCU_RECV_VALID;
  if (udelta < MCU_RECV_MAX_DROPOUT)
    {
      if (seq < s->max_seq)
        s->cycles += SEQ_MOD;
      s->max_seq = seq;
      window_advance (s, udelta);
      if (window_test_and_set (s, 0))
        r = MCU_RECV_DUPLICATE;
    }
  else if (udelta <= SEQ_MOD - MCU_RECV_MAX_MISORDER)
    {
      if (seq == s->bad_seq)
        {
          /* Two sequential packets after a big jump: the source restarted. */
          init_seq (s, seq);
          s->resyncs++;
          r = MCU_RECV_RESYNCED;
        }
      else
        {
          s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
          return MCU_RECV_BAD_SEQ;
        }
    }
  else
    {
      guint back = SEQ_MOD - udelta;
      r = window_test_and_set (s, back) ? MCU_RECV_DUPLICATE : MCU_RECV_REORDERED;
    }
  s->received++;
  return r;
}

/* The arrival time in the source's timestamp units, from a base taken at the first
 * packet; split in seconds and rest so that no product overflows. */
static guint32
arrival_ts (McuRecvStats *s, gint64 arrival_us)
{
  if (!s->have_time_base)
    {
      s->time_base_us = arrival_us;
      s->have_time_base = TRUE;
    }
  gint64 rel = arrival_us - s->time_base_us;
  gint64 secs = rel / G_USEC_PER_SEC, rest = rel % G_USEC_PER_SEC;
  gint64 ts
      = secs * (gint64)s->clock_rate + rest * (gint64)s->clock_rate / G_USEC_PER_SEC;
  return (guint32)(guint64)ts;
}

McuRecvResult
mcu_recv_stats_update (McuRecvStats *stats, guint16 seq, guint32 rtp_ts, gsize len,
                       gint64 arrival_us)
{
  McuRecvStats *s = stats;
  g_return_val_if_fail (s != NULL, MCU_RECV_PROBATION);

  s->packets++;
  s->bytes += len;

  if (!s->valid && s->probation == 0)
    {
      /* First packet ever: RFC 3550 A.1's start of probation. */
      init_seq (s, seq);
      s->max_seq = seq - 1;
      s->probation = MCU_RECV_MIN_SEQUENTIAL;
    }

  McuRecvResult r = update_seq (s, seq);
  if (r == MCU_RECV_DUPLICATE)
    s->duplicates++;
  else if (r == MCU_RECV_REORDERED)
    s->reordered++;

  guint32 arrival = arrival_ts (s, arrival_us);
  if (r == MCU_RECV_VALID || r == MCU_RECV_REORDERED || r == MCU_RECV_RESYNCED)
    {
      /* RFC 3550 A.8 */
      guint32 transit = arrival - rtp_ts;
      if (s->have_transit)
        {
          gint32 d = (gint32)(transit - s->transit);
          gint64 ad = d < 0 ? -(gint64)d : d;
          gint64 j = (gint64)s->jitter_q4 + ad - (gint64)((s->jitter_q4 + 8) >> 4);
          s->jitter_q4 = j < 0 ? 0 : (guint64)j;
        }
      s->transit = transit;
      s->have_transit = TRUE;
    }
  return r;
}

McuRecvResult
mcu_recv_stats_update_rtp (McuRecvStats *stats, const McuRtpHeader *h, gsize len,
                           gint64 arrival_us)
{
  g_return_val_if_fail (stats != NULL && h != NULL, MCU_RECV_PROBATION);
  if (h->ssrc != stats->ssrc)
    return MCU_RECV_PROBATION;
  return mcu_recv_stats_update (stats, h->seq, h->timestamp, len, arrival_us);
}

void
mcu_recv_stats_on_sr (McuRecvStats *stats, const McuRtcpSenderInfo *sr, gint64 arrival_us)
{
  g_return_if_fail (stats != NULL && sr != NULL);
  stats->lsr = mcu_ntp_middle32 (sr->ntp);
  stats->sr_arrival_us = arrival_us;
  stats->have_sr = TRUE;
}

static guint32
ext_highest (const McuRecvStats *s)
{
  return s->cycles + s->max_seq;
}

static gint64
expected (const McuRecvStats *s)
{
  if (!s->valid)
    return 0;
  return (gint64)ext_highest (s) - (gint64)s->base_seq + 1;
}

void
mcu_recv_stats_report_block (McuRecvStats *stats, gint64 now_us, McuRtcpReportBlock *out)
{
  g_return_if_fail (stats != NULL && out != NULL);
  McuRecvStats *s = stats;

  memset (out, 0, sizeof *out);
  out->ssrc = s->ssrc;

  /* RFC 3550 A.3 */
  gint64 exp = expected (s);
  gint64 lost = exp - (gint64)s->received;
  out->cumulative_lost = (gint32)CLAMP (lost, -0x800000, 0x7fffff);
  gint64 expected_interval = exp - s->expected_prior;
  s->expected_prior = exp;
  gint64 received_interval = (gint64)(s->received - s->received_prior);
  s->received_prior = s->received;
  gint64 lost_interval = expected_interval - received_interval;
  if (expected_interval <= 0 || lost_interval <= 0)
    s->fraction_lost = 0;
  else
    s->fraction_lost = (guint8)MIN ((lost_interval << 8) / expected_interval, 255);
  out->fraction_lost = s->fraction_lost;
  out->ext_highest_seq = s->valid ? ext_highest (s) : 0;
  out->jitter = (guint32)(s->jitter_q4 >> 4);

  if (s->have_sr)
    {
      out->lsr = s->lsr;
      gint64 delay = MAX (now_us - s->sr_arrival_us, 0);
      /* 1/65536 s units, 32 bits: wraps only after 18 hours without an SR */
      out->dlsr = (guint32)(delay * 65536 / G_USEC_PER_SEC);
    }
}

void
mcu_recv_stats_get (const McuRecvStats *stats, McuRecvCounters *out)
{
  g_return_if_fail (stats != NULL && out != NULL);
  const McuRecvStats *s = stats;
  memset (out, 0, sizeof *out);
  out->ssrc = s->ssrc;
  out->clock_rate = s->clock_rate;
  out->valid = s->valid;
  out->packets = s->packets;
  out->bytes = s->bytes;
  out->duplicates = s->duplicates;
  out->reordered = s->reordered;
  out->resyncs = s->resyncs;
  out->cycles = s->cycles;
  out->ext_highest_seq = s->valid ? ext_highest (s) : 0;
  out->base_seq = s->base_seq;
  out->received = s->received;
  out->expected = expected (s);
  out->cumulative_lost = out->expected - (gint64)s->received;
  out->fraction_lost = s->fraction_lost;
  out->jitter = (guint32)(s->jitter_q4 >> 4);
  out->jitter_ms = out->jitter * 1000.0 / s->clock_rate;
}

struct _McuSendStats
{
  McuSendCounters c;
};

McuSendStats *
mcu_send_stats_new (guint32 ssrc, guint clock_rate)
{
  g_return_val_if_fail (clock_rate > 0, NULL);
  McuSendStats *s = g_new0 (McuSendStats, 1);
  s->c.ssrc = ssrc;
  s->c.clock_rate = clock_rate;
  return s;
}

void
mcu_send_stats_free (McuSendStats *stats)
{
  g_free (stats);
}

void
mcu_send_stats_on_sent (McuSendStats *stats, gsize len, gsize payload_len)
{
  g_return_if_fail (stats != NULL);
  stats->c.packets++;
  stats->c.bytes += len;
  stats->c.payload_bytes += payload_len;
}

void
mcu_send_stats_fill_sr (McuSendStats *stats, guint64 ntp, guint32 rtp_ts,
                        McuRtcpSenderInfo *out)
{
  g_return_if_fail (stats != NULL && out != NULL);
  stats->c.last_sr_ntp = ntp;
  stats->c.last_sr_rtp = rtp_ts;
  out->ssrc = stats->c.ssrc;
  out->ntp = ntp;
  out->rtp_ts = rtp_ts;
  /* RFC 3550 6.4.1: both counts wrap at 32 bits */
  out->packet_count = (guint32)stats->c.packets;
  out->octet_count = (guint32)stats->c.payload_bytes;
}

/* RFC 3550 6.4.1: the peer says when it got our SR (LSR) and how long it held the
 * report (DLSR); what remains of the time since is the round trip. A block whose
 * LSR + DLSR lies in our future (clock step, forged block) gives none. */
gboolean
mcu_send_stats_on_report_block (McuSendStats *stats, const McuRtcpReportBlock *block,
                                guint32 now_ntp32)
{
  g_return_val_if_fail (stats != NULL && block != NULL, FALSE);
  McuSendCounters *c = &stats->c;
  if (block->ssrc != c->ssrc)
    return FALSE;

  c->reports++;
  c->remote_fraction_lost = block->fraction_lost;
  c->remote_cumulative_lost = block->cumulative_lost;
  c->remote_ext_highest_seq = block->ext_highest_seq;
  c->remote_jitter = block->jitter;
  c->remote_jitter_ms = block->jitter * 1000.0 / c->clock_rate;

  if (block->lsr != 0)
    {
      guint32 since = now_ntp32 - block->lsr;
      if (since >= block->dlsr && since < 0x80000000u)
        {
          c->rtt_ms = (since - block->dlsr) * 1000.0 / 65536.0;
          c->has_rtt = TRUE;
        }
    }
  return TRUE;
}

void
mcu_send_stats_get (const McuSendStats *stats, McuSendCounters *out)
{
  g_return_if_fail (stats != NULL && out != NULL);
  *out = stats->c;
}

guint64
mcu_ntp_from_unix_us (gint64 unix_us)
{
  /* 70 years (17 leap days) between the NTP era 0 and the Unix epoch */
  const guint64 offset = G_GUINT64_CONSTANT (2208988800);
  guint64 secs = (guint64)(unix_us / G_USEC_PER_SEC) + offset;
  guint64 frac = ((guint64)(unix_us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;
  return (secs << 32) | frac;
}

guint32
mcu_ntp_middle32 (guint64 ntp)
{
  return (guint32)(ntp >> 16);
}
