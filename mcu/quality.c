#include "quality.h"

#include <math.h>
#include <string.h>

/* The E-model for Opus, and why these numbers.
 *
 * R = R0 - Id - Ie_eff (ITU-T G.107 with Is and A left at their defaults, which
 * gives R0 = 93.2 for a clean connection).
 *
 * Id: the delay impairment in the form of Cole & Rosenbluth ("Voice over IP
 * performance monitoring", ACM CCR 31(2), 2001), a fit of G.107's Idd and Idte for
 * the default echo parameters: Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), d the
 * one-way mouth-to-ear delay in ms. It falls monotonically, so longer delay always
 * costs, and needs no echo parameters we cannot know (browsers cancel echo).
 *
 * Ie_eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl) (G.107 7.2 with BurstR = 1, random
 * loss). G.113 Appendix I has no values for Opus. We use those of G.711 with its
 * Appendix I packet-loss concealment: Ie = 0, Bpl = 25.1. Ie = 0 because Opus at
 * the rates WebRTC uses (>= 24 kbit/s, wideband or better) scores at or above
 * G.711 in listening tests (the IETF codec WG's characterisation, RFC 6716's
 * references), and 0 is the floor of the narrowband scale. Bpl = 25.1 because
 * Opus's concealment is at least as good as G.711 Appendix I's; not counting its
 * in-band FEC (LBRR), which a sender may not enable, keeps the estimate on the
 * pessimistic side. With these, 5% loss gives R ~ 77 (MOS ~ 3.9) and 15% loss
 * R ~ 57 (MOS ~ 2.9), which matches what users report of such links.
 *
 * The one-way delay: RTT / 2 + the jitter buffer + Opus's algorithmic delay
 * (20 ms frame + 6.5 ms look-ahead = 26.5 ms). The jitter buffer is estimated as
 * one frame plus twice the RFC 3550 jitter: that jitter is a mean absolute
 * deviation, and a buffer covering about 95% of arrivals (what NetEq aims at)
 * needs about 1.65 sigma = 2 x that deviation for normally spread delays. */
static double
delay_impairment (double d)
{
  double id = 0.024 * d;
  if (d > 177.3)
    id += 0.11 * (d - 177.3);
  return id;
}

double
mcu_quality_r_factor (double one_way_delay_ms, double loss_pct)
{
  double d = MAX (one_way_delay_ms, 0.0);
  double ppl = CLAMP (loss_pct, 0.0, 100.0);
  double ie_eff = MCU_QUALITY_OPUS_IE
                  + (95.0 - MCU_QUALITY_OPUS_IE) * ppl / (ppl + MCU_QUALITY_OPUS_BPL);
  double r = MCU_QUALITY_R0 - delay_impairment (d) - ie_eff;
  return CLAMP (r, 0.0, 100.0);
}

/* G.107 Annex B (B-4). */
double
mcu_quality_mos_from_r (double r)
{
  if (r <= 0.0)
    return 1.0;
  if (r >= 100.0)
    return 4.5;
  return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
}

double
mcu_quality_audio_mos (double rtt_ms, double jitter_ms, double loss_pct)
{
  double rtt = rtt_ms < 0 ? 0 : rtt_ms;
  double jitter = jitter_ms < 0 ? 0 : jitter_ms;
  double jitter_buffer = 20.0 + 2.0 * jitter;
  double d = rtt / 2.0 + jitter_buffer + MCU_QUALITY_OPUS_CODEC_MS;
  return mcu_quality_mos_from_r (mcu_quality_r_factor (d, loss_pct));
}

McuGrade
mcu_quality_grade (double loss_pct, double jitter_ms, double rtt_ms)
{
  McuGrade g;
  if (loss_pct < 1.0)
    g = MCU_GRADE_GOOD;
  else if (loss_pct < 3.0)
    g = MCU_GRADE_OK;
  else if (loss_pct < 10.0)
    g = MCU_GRADE_BAD;
  else
    g = MCU_GRADE_VERY_BAD;
  if ((jitter_ms > 40.0 || rtt_ms > 300.0) && g < MCU_GRADE_VERY_BAD)
    g++;
  return g;
}

const char *
mcu_grade_id (McuGrade grade)
{
  static const char *const ids[] = { "good", "ok", "bad", "very_bad" };
  return (guint)grade < G_N_ELEMENTS (ids) ? ids[grade] : "very_bad";
}

const char *
mcu_grade_name_vi (McuGrade grade)
{
  static const char *const names[] = { "Tốt", "Khá", "Kém", "Rất kém" };
  return (guint)grade < G_N_ELEMENTS (names) ? names[grade] : "Rất kém";
}

const char *
mcu_grade_name_en (McuGrade grade)
{
  static const char *const names[] = { "Good", "OK", "Bad", "Very bad" };
  return (guint)grade < G_N_ELEMENTS (names) ? names[grade] : "Very bad";
}

/* One slice of the window. */
typedef struct
{
  gint64 index; /* which slice since the start; -1 unused */
  gint64 expected, lost;
  guint64 bytes;
  double jitter_sum, rtt_sum;
  guint jitter_n, rtt_n;
  guint nacks, plis, firs, rtx;
  guint64 played_ms, concealed_ms;
  guint freezes;
  gint64 frozen_us;
} Bucket;

struct _McuQualityWindow
{
  gint64 start_us;
  gint64 window_us, bucket_us;
  Bucket buckets[MCU_QUALITY_BUCKETS];

  gboolean have_frame;
  gint64 last_frame_us;
  gboolean video_unknown;

  /* baselines of the sample_* feeds */
  gboolean recv_base;
  gint64 recv_expected, recv_lost;
  guint64 recv_bytes, recv_resyncs;
  gboolean send_base;
  guint64 send_bytes, send_reports;
  guint32 send_ext_highest;
  gint32 send_cum_lost;
  gboolean send_have_block;
};

McuQualityWindow *
mcu_quality_window_new (guint window_ms, gint64 now_us)
{
  if (window_ms == 0)
    window_ms = MCU_QUALITY_DEFAULT_WINDOW_MS;
  g_return_val_if_fail (window_ms >= 100, NULL);
  McuQualityWindow *w = g_new0 (McuQualityWindow, 1);
  w->start_us = now_us;
  w->window_us = (gint64)window_ms * 1000;
  w->bucket_us = w->window_us / MCU_QUALITY_BUCKETS;
  for (guint i = 0; i < MCU_QUALITY_BUCKETS; i++)
    w->buckets[i].index = -1;
  return w;
}

void
mcu_quality_window_free (McuQualityWindow *w)
{
  g_free (w);
}

static gint64
slice_index (const McuQualityWindow *w, gint64 now_us)
{
  return MAX (now_us - w->start_us, 0) / w->bucket_us;
}

/* The slice @now_us falls in, emptied first when it last held an older slice. */
static Bucket *
bucket_at (McuQualityWindow *w, gint64 now_us)
{
  gint64 idx = slice_index (w, now_us);
  Bucket *b = &w->buckets[idx % MCU_QUALITY_BUCKETS];
  if (b->index != idx)
    {
      memset (b, 0, sizeof *b);
      b->index = idx;
    }
  return b;
}

void
mcu_quality_window_add_traffic (McuQualityWindow *w, gint64 now_us, gint64 expected,
                                gint64 lost, guint64 bytes)
{
  g_return_if_fail (w != NULL);
  Bucket *b = bucket_at (w, now_us);
  b->expected += expected;
  b->lost += lost;
  b->bytes += bytes;
}

void
mcu_quality_window_add_jitter (McuQualityWindow *w, gint64 now_us, double jitter_ms)
{
  g_return_if_fail (w != NULL);
  if (jitter_ms < 0 || !isfinite (jitter_ms))
    return;
  Bucket *b = bucket_at (w, now_us);
  b->jitter_sum += jitter_ms;
  b->jitter_n++;
}

void
mcu_quality_window_add_rtt (McuQualityWindow *w, gint64 now_us, double rtt_ms)
{
  g_return_if_fail (w != NULL);
  if (rtt_ms < 0 || !isfinite (rtt_ms))
    return;
  Bucket *b = bucket_at (w, now_us);
  b->rtt_sum += rtt_ms;
  b->rtt_n++;
}

void
mcu_quality_window_add_feedback (McuQualityWindow *w, gint64 now_us, guint nacks,
                                 guint plis, guint firs)
{
  g_return_if_fail (w != NULL);
  Bucket *b = bucket_at (w, now_us);
  b->nacks += nacks;
  b->plis += plis;
  b->firs += firs;
}

void
mcu_quality_window_add_retransmissions (McuQualityWindow *w, gint64 now_us, guint packets)
{
  g_return_if_fail (w != NULL);
  bucket_at (w, now_us)->rtx += packets;
}

void
mcu_quality_window_add_rtcp_feedback (McuQualityWindow *w, gint64 now_us,
                                      const McuRtcpInfo *info)
{
  g_return_if_fail (w != NULL && info != NULL);
  guint nacked = 0;
  for (guint i = 0; i < info->n_nacks && i < MCU_RTCP_MAX_NACK; i++)
    {
      /* 1 + the bits of blp: the packets asked for again */
      nacked += 1 + (guint)__builtin_popcount (info->nacks[i].blp);
    }
  mcu_quality_window_add_feedback (w, now_us, nacked,
                                   MIN (info->n_plis, MCU_RTCP_MAX_PLI),
                                   MIN (info->n_firs, MCU_RTCP_MAX_FIR));
}

void
mcu_quality_window_add_audio (McuQualityWindow *w, gint64 now_us, guint played_ms,
                              guint concealed_ms)
{
  g_return_if_fail (w != NULL);
  Bucket *b = bucket_at (w, now_us);
  b->played_ms += played_ms;
  b->concealed_ms += concealed_ms;
}

/* A gap over 500 ms between two frames is one freeze, counted (with its whole
 * length) in the slice where it ended; a gap still open is added by _get(). */
void
mcu_quality_window_video_frame (McuQualityWindow *w, gint64 now_us)
{
  g_return_if_fail (w != NULL);
  if (w->have_frame && now_us - w->last_frame_us > MCU_QUALITY_FREEZE_MS * 1000)
    {
      Bucket *b = bucket_at (w, now_us);
      b->freezes++;
      b->frozen_us += now_us - w->last_frame_us;
    }
  if (!w->have_frame || now_us > w->last_frame_us)
    w->last_frame_us = now_us;
  w->have_frame = TRUE;
}

void
mcu_quality_window_set_video_unknown (McuQualityWindow *w)
{
  g_return_if_fail (w != NULL);
  w->video_unknown = TRUE;
}

void
mcu_quality_window_sample_recv (McuQualityWindow *w, const McuRecvStats *stats,
                                gint64 now_us)
{
  g_return_if_fail (w != NULL && stats != NULL);
  McuRecvCounters c;
  mcu_recv_stats_get (stats, &c);

  if (w->recv_base && c.resyncs == w->recv_resyncs && c.expected >= w->recv_expected)
    {
      mcu_quality_window_add_traffic (w, now_us, c.expected - w->recv_expected,
                                      c.cumulative_lost - w->recv_lost,
                                      c.bytes - w->recv_bytes);
      if (c.valid)
        mcu_quality_window_add_jitter (w, now_us, c.jitter_ms);
    }
  else if (w->recv_base)
    {
      /* restarted source: keep its bytes, start loss afresh */
      mcu_quality_window_add_traffic (w, now_us, 0, 0, c.bytes - w->recv_bytes);
    }
  w->recv_base = TRUE;
  w->recv_expected = c.expected;
  w->recv_lost = c.cumulative_lost;
  w->recv_bytes = c.bytes;
  w->recv_resyncs = c.resyncs;
}

void
mcu_quality_window_sample_send (McuQualityWindow *w, const McuSendStats *stats,
                                gint64 now_us)
{
  g_return_if_fail (w != NULL && stats != NULL);
  McuSendCounters c;
  mcu_send_stats_get (stats, &c);

  if (w->send_base)
    {
      gint64 expected = 0, lost = 0;
      gboolean fresh = c.reports != w->send_reports;
      if (fresh && w->send_have_block && c.remote_ext_highest_seq >= w->send_ext_highest)
        {
          expected = (gint64)c.remote_ext_highest_seq - w->send_ext_highest;
          lost = (gint64)c.remote_cumulative_lost - w->send_cum_lost;
        }
      mcu_quality_window_add_traffic (w, now_us, expected, lost, c.bytes - w->send_bytes);
      if (fresh)
        {
          mcu_quality_window_add_jitter (w, now_us, c.remote_jitter_ms);
          if (c.has_rtt)
            mcu_quality_window_add_rtt (w, now_us, c.rtt_ms);
        }
    }
  w->send_base = TRUE;
  w->send_bytes = c.bytes;
  if (c.reports > 0)
    {
      w->send_have_block = TRUE;
      w->send_reports = c.reports;
      w->send_ext_highest = c.remote_ext_highest_seq;
      w->send_cum_lost = c.remote_cumulative_lost;
    }
}

void
mcu_quality_window_get (McuQualityWindow *w, gint64 now_us, McuQualitySnapshot *out)
{
  g_return_if_fail (w != NULL && out != NULL);
  memset (out, 0, sizeof *out);

  gint64 cur = slice_index (w, now_us);
  guint64 bytes = 0, played = 0, concealed = 0;
  double jitter_sum = 0, rtt_sum = 0;
  guint jitter_n = 0, rtt_n = 0;
  gint64 frozen_us = 0;
  for (guint i = 0; i < MCU_QUALITY_BUCKETS; i++)
    {
      const Bucket *b = &w->buckets[i];
      if (b->index < 0 || b->index > cur || b->index <= cur - MCU_QUALITY_BUCKETS)
        continue;
      out->expected += b->expected;
      out->lost += b->lost;
      bytes += b->bytes;
      jitter_sum += b->jitter_sum;
      jitter_n += b->jitter_n;
      rtt_sum += b->rtt_sum;
      rtt_n += b->rtt_n;
      out->nacks += b->nacks;
      out->plis += b->plis;
      out->firs += b->firs;
      out->retransmissions += b->rtx;
      played += b->played_ms;
      concealed += b->concealed_ms;
      out->freezes += b->freezes;
      frozen_us += b->frozen_us;
    }

  if (w->have_frame && now_us - w->last_frame_us > MCU_QUALITY_FREEZE_MS * 1000)
    {
      out->frozen = TRUE;
      frozen_us += now_us - w->last_frame_us;
    }
  out->frozen_ms = MIN (frozen_us, w->window_us) / 1000.0;
  out->video_unknown = w->video_unknown;

  /* the span the window really covers: from its start until it is full */
  gint64 span = CLAMP (now_us - w->start_us, w->bucket_us, w->window_us);
  out->window_s = span / (double)G_USEC_PER_SEC;
  out->kbps = bytes * 8.0 / 1000.0 / out->window_s;

  out->loss_pct = out->expected > 0 ? 100.0 * out->lost / out->expected : 0.0;
  out->loss_pct = CLAMP (out->loss_pct, 0.0, 100.0);
  out->jitter_ms = jitter_n > 0 ? jitter_sum / jitter_n : -1.0;
  out->rtt_ms = rtt_n > 0 ? rtt_sum / rtt_n : -1.0;
  /* a lost stretch is counted when declared, its concealment when decoded: the
   * two can straddle a slice, so the share is capped */
  out->concealed_pct = played > 0 ? MIN (100.0, 100.0 * concealed / played) : -1.0;
  out->mos = mcu_quality_audio_mos (out->rtt_ms, out->jitter_ms, out->loss_pct);
  out->grade = mcu_quality_grade (out->loss_pct, out->jitter_ms, out->rtt_ms);
}

/* Appends ,"key":value with '.' as the decimal point whatever the locale, and
 * without a fraction when it is a whole number (the message stays small). */
static void
put_num (GString *out, const char *key, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite (v))
    v = -1;
  if (v == floor (v) && fabs (v) < 1e15)
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, (gint64)v);
  else
    g_ascii_formatd (buf, sizeof buf, "%.2f", v);
  g_string_append_printf (out, "\"%s\":%s,", key, buf);
}

static void
snapshot_to_json (const McuQualitySnapshot *s, GString *out)
{
  g_string_append_c (out, '{');
  put_num (out, "win", s->window_s);
  put_num (out, "exp", (double)s->expected);
  put_num (out, "lost", (double)s->lost);
  put_num (out, "loss", s->loss_pct);
  put_num (out, "jit", s->jitter_ms);
  put_num (out, "rtt", s->rtt_ms);
  put_num (out, "kbps", s->kbps);
  put_num (out, "nack", s->nacks);
  put_num (out, "pli", s->plis);
  put_num (out, "fir", s->firs);
  put_num (out, "rtx", s->retransmissions);
  put_num (out, "frz", s->video_unknown ? -1.0 : (double)s->freezes);
  put_num (out, "frz_ms", s->video_unknown ? -1 : s->frozen_ms);
  put_num (out, "frozen", s->video_unknown ? -1 : (s->frozen ? 1 : 0));
  put_num (out, "conc", s->concealed_pct);
  put_num (out, "mos", s->mos);
  put_num (out, "grade", s->grade);
  g_string_truncate (out, out->len - 1); /* the last comma */
  g_string_append_c (out, '}');
}

void
mcu_quality_leg_to_json (guint64 leg, const McuQualitySnapshot *up,
                         const McuQualitySnapshot *down, GString *out)
{
  g_return_if_fail (out != NULL);
  g_string_append_printf (out, "{\"leg\":%" G_GUINT64_FORMAT, leg);
  if (up != NULL)
    {
      g_string_append (out, ",\"up\":");
      snapshot_to_json (up, out);
    }
  if (down != NULL)
    {
      g_string_append (out, ",\"down\":");
      snapshot_to_json (down, out);
    }
  g_string_append_c (out, '}');
}
