/* bwe.c: McuBwe, a per-peer downlink estimate from transport-cc results. */
#include "bwe.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (mcu_bwe_debug);
#define GST_CAT_DEFAULT mcu_bwe_debug

#define BUCKET_US 100000 /* acked bytes and loss, per 100 ms of our clock */
#define N_BUCKETS 10     /* one second */
#define BASE_SLOT_US 1000000
#define N_BASE 30 /* the delay baseline: the minimum over 30 s */
#define MIN_BPS 50000
#define MAX_BPS 30000000
#define HOLD_US 300000  /* at most one decrease per 300 ms: about a round trip */
#define OVERUSE_MS 40.0 /* queueing that counts as congestion */
#define CLEAN_MS 20.0   /* under this (and little loss) the line is clean */
#define CONGESTED_US 5000000
#define REMB_TTL_US 5000000
#define DOWN_HOLD_US 2000000
#define UP_CLEAN_US 5000000
#define BACKOFF_MIN_US 10000000
#define BACKOFF_MAX_US 160000000
#define FAILED_UP_US 30000000
/* the loss-based half, from receiver reports (mcu_bwe_on_loss_report()) */
#define LOSS_HIGH 0.10 /* GCC: over this, decrease by half the loss */
#define LOSS_LOW 0.02  /* GCC: under this, increase */
/* a lossy report limits for this long at most: reports come 2 to 6 s apart, and a
 * receiver that keeps NACKing may put its next ones off for 15 s and more
 * (webrtcbin does, on a clean line too) */
#define REPORT_STALE_US 10000000
#define NACK_STALE_US 1000000 /* a lossy NACK window limits for this long */
/* NACKs that come this much later after sending than the quickest ones of the last
 * 30 s: the line holds what we send in a queue (see mcu_bwe_on_nack_loss()) */
#define NACK_QUEUE_MS 100.0
#define WARMUP_US 5000000 /* sending about full this long before judging */

struct _McuBwe
{
  double estimate; /* bits per second */
  gint64 last_update, last_decrease, congested_at;
  gint64 first_result; /* our clock at the first feedback that named packets */
  gboolean have_results;
  gint64 bucket_epoch[N_BUCKETS];
  guint64 bucket_bytes[N_BUCKETS];
  guint bucket_recv[N_BUCKETS], bucket_lost[N_BUCKETS];
  gint64 base_epoch[N_BASE];
  gint64 base_min[N_BASE]; /* arrival - send minimum per second (clock offset in it) */
  double queue_ms;
  gboolean have_queue;
  guint64 remb;
  gint64 remb_at;
  /* the loss-based estimate, from receiver reports: for peers without transport-cc
   * the only one; with it, the lower of the two counts (GCC) */
  gboolean have_reports, report_congested, nack_congested;
  gint64 nack_at, nack_congested_at; /* the last NACK window, the last lossy one */
  /* how long after sending NACKs come: per second the quickest, over 30 s */
  gint64 nack_base_epoch[N_BASE];
  gint64 nack_base_min[N_BASE];
  double nack_queue_ms;
  double loss_estimate;
  gint64 report_at, report_decrease;
  guint64 report_recv_bps; /* what the last report says got through */
  double loss_sent;        /* what we sent when the last loss figure came */
  gint64 full_since;       /* since when we send it about full, 0: not yet */
  gboolean lossy_run;      /* the last loss figure was over 10% */
  double report_loss;
  /* level suggestion */
  gboolean low, is_below;
  gint64 below_since, low_since, up_at, backoff;
  guint n_moves;
};

McuBwe *
mcu_bwe_new (gint64 now_us)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_bwe_debug, "mcu-bwe", 0, "downlink estimate");
      g_once_init_leave (&done, 1);
    }
  McuBwe *bwe = g_new0 (McuBwe, 1);
  bwe->estimate = MCU_BWE_START_BPS;
  bwe->last_update = now_us;
  bwe->last_decrease = bwe->congested_at = bwe->remb_at = G_MININT64 / 2;
  bwe->report_at = bwe->report_decrease = bwe->nack_at = G_MININT64 / 2;
  bwe->nack_congested_at = G_MININT64 / 2;
  bwe->up_at = G_MININT64 / 2;
  bwe->backoff = BACKOFF_MIN_US;
  for (guint i = 0; i < N_BUCKETS; i++)
    bwe->bucket_epoch[i] = G_MININT64;
  for (guint i = 0; i < N_BASE; i++)
    bwe->base_epoch[i] = bwe->nack_base_epoch[i] = G_MININT64;
  return bwe;
}

void
mcu_bwe_free (McuBwe *bwe)
{
  g_free (bwe);
}

static guint
bucket (McuBwe *bwe, gint64 now_us)
{
  gint64 epoch = now_us / BUCKET_US;
  guint b = (guint)(epoch % N_BUCKETS);
  if (bwe->bucket_epoch[b] != epoch)
    {
      bwe->bucket_epoch[b] = epoch;
      bwe->bucket_bytes[b] = 0;
      bwe->bucket_recv[b] = bwe->bucket_lost[b] = 0;
    }
  return b;
}

/* Bits per second received and the fraction lost over the last second. */
static void
window (McuBwe *bwe, gint64 now_us, guint64 *acked_bps, double *loss)
{
  gint64 epoch = now_us / BUCKET_US;
  guint64 bytes = 0;
  guint recv = 0, lost = 0;
  for (guint i = 0; i < N_BUCKETS; i++)
    if (bwe->bucket_epoch[i] > epoch - N_BUCKETS && bwe->bucket_epoch[i] <= epoch)
      {
        bytes += bwe->bucket_bytes[i];
        recv += bwe->bucket_recv[i];
        lost += bwe->bucket_lost[i];
      }
  /* over the time the window covers: a peer heard from for 300 ms is not judged
   * on a whole second */
  gint64 span = MIN (now_us - bwe->first_result, (gint64)BUCKET_US * N_BUCKETS);
  span = MAX (span, BUCKET_US);
  *acked_bps = bytes * 8 * 1000000 / (guint64)span;
  *loss = recv + lost ? (double)lost / (recv + lost) : 0.0;
}

/* The minimum of a delay over the last 30 s, after taking @d into this second's
 * slot of @epochs and @mins (N_BASE each). */
static gint64
minimum_30s (gint64 *epochs, gint64 *mins, gint64 d, gint64 now_us)
{
  gint64 epoch = now_us / BASE_SLOT_US;
  guint s = (guint)(epoch % N_BASE);
  if (epochs[s] != epoch)
    {
      epochs[s] = epoch;
      mins[s] = d;
    }
  else if (d < mins[s])
    mins[s] = d;
  gint64 m = d;
  for (guint i = 0; i < N_BASE; i++)
    if (epochs[i] > epoch - N_BASE && mins[i] < m)
      m = mins[i];
  return m;
}

/* The minimum one-way delay (with the clocks' offset in it) over the last 30 s,
 * after taking @d into this second's slot. */
static gint64
baseline (McuBwe *bwe, gint64 d, gint64 now_us)
{
  return minimum_30s (bwe->base_epoch, bwe->base_min, d, now_us);
}

/* One feedback's worth: the delay trend from the received packets (how far the
 * batch's mean one-way delay sits above the 30 s minimum), loss and delivered bytes
 * into the one-second window, then one step of the estimate (see bwe.h). */
void
mcu_bwe_on_results (McuBwe *bwe, const McuTwccResult *r, guint n, gint64 now_us)
{
  if (n == 0)
    return;
  if (!bwe->have_results)
    {
      /* the first feedback covers about one feedback interval of sending */
      bwe->first_result = now_us - BUCKET_US;
      bwe->have_results = TRUE;
    }
  guint b = bucket (bwe, now_us);
  gint64 sum = 0, base = G_MAXINT64;
  guint recv = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!r[i].received)
        {
          bwe->bucket_lost[b]++;
          continue;
        }
      bwe->bucket_recv[b]++;
      bwe->bucket_bytes[b] += r[i].size;
      gint64 d = r[i].arrival_us - r[i].send_us;
      base = baseline (bwe, d, now_us);
      sum += d;
      recv++;
    }
  if (recv)
    {
      double q = ((double)sum / recv - (double)base) / 1000.0;
      bwe->queue_ms = bwe->have_queue ? 0.7 * bwe->queue_ms + 0.3 * q : q;
      bwe->have_queue = TRUE;
    }
  guint64 acked;
  double loss;
  window (bwe, now_us, &acked, &loss);
  double dt = CLAMP ((now_us - bwe->last_update) / 1e6, 0.0, 1.0);
  bwe->last_update = now_us;
  gboolean overuse = bwe->queue_ms > OVERUSE_MS;
  if ((overuse || loss > 0.10) && acked > 0)
    {
      bwe->congested_at = now_us;
      if (now_us - bwe->last_decrease >= HOLD_US)
        {
          /* GCC's decrease: to beta times what got through, which may also lift
           * an estimate that an earlier, shorter window set too low */
          bwe->estimate = 0.85 * (double)acked;
          bwe->last_decrease = now_us;
          GST_LOG ("decrease to %.0f (queue %.1f ms, loss %.2f)", bwe->estimate,
                   bwe->queue_ms, loss);
        }
    }
  else if (loss < 0.02 && bwe->queue_ms < CLEAN_MS)
    {
      /* what it demonstrably took without queueing is a floor at once */
      double next = MAX (bwe->estimate * (1.0 + 0.08 * dt), 0.95 * (double)acked);
      double limit = 1.5 * (double)acked + 100000.0;
      if (!bwe->low && next > limit)
        next = MAX (bwe->estimate, limit);
      bwe->estimate = next;
    }
  bwe->estimate = CLAMP (bwe->estimate, MIN_BPS, MAX_BPS);
}

void
mcu_bwe_on_remb (McuBwe *bwe, guint64 bps, gint64 now_us)
{
  guint64 acked;
  double loss;
  window (bwe, now_us, &acked, &loss);
  bwe->remb = MAX (bps, MIN_BPS);
  bwe->remb_at = now_us;
  if (acked > 0 && bwe->remb < acked)
    bwe->congested_at = now_us;
}

/* The loss-based decrease, at most once per 300 ms: from what we send, not from the
 * estimate: we do not send at the estimate (the program is what the tree takes), so
 * the loss measures what we send against the line; the estimate may also be a
 * stale one from before we sent this much. */
static void
loss_decrease (McuBwe *bwe, double sent, double loss, gint64 now_us)
{
  if (!bwe->have_reports)
    {
      bwe->loss_estimate = MAX (sent, (double)MIN_BPS);
      bwe->have_reports = TRUE;
    }
  bwe->loss_sent = sent;
  if (now_us - bwe->report_decrease < HOLD_US)
    return;
  double next = MIN (sent * (1.0 - loss / 2.0), 0.85 * sent * (1.0 - loss));
  /* within one lossy run, a milder figure after a worse one does not lift the
   * estimate (NACKs undercount once their packets are lost too); a new run
   * starts from what we send */
  if (bwe->lossy_run)
    next = MIN (next, bwe->loss_estimate);
  bwe->lossy_run = TRUE;
  bwe->loss_estimate = CLAMP (next, MIN_BPS, MAX_BPS);
  bwe->report_decrease = now_us;
  GST_LOG ("loss %.2f: decrease to %.0f", loss, bwe->loss_estimate);
}

/* GCC's loss-based controller (draft-ietf-rmcat-gcc-02, section 6), fed by receiver
 * reports instead of the sender's own loss count: over 10% lost, the
 * estimate goes to what we send times (1 - loss / 2), and no higher than 85% of
 * what got through (the delay half's decrease, so a line that passes a fraction of
 * full is not taken for one that nearly takes it), at most once per 300 ms; under
 * 2%, it rises by 8% a second, at once to 95% of what got through, no higher than
 * 1.5 times that (except while low: the probe back); in between it holds. */
void
mcu_bwe_on_loss_report (McuBwe *bwe, guint expected, guint lost, guint64 sent_bps,
                        gint64 now_us)
{
  if (expected == 0)
    return;
  double loss = (double)MIN (lost, expected) / expected;
  double sent = (double)MIN (sent_bps, (guint64)MAX_BPS);
  double recv = sent * (1.0 - loss);
  double dt = bwe->have_reports ? CLAMP ((now_us - bwe->report_at) / 1e6, 0.0, 1.0) : 0.0;
  if (!bwe->have_reports)
    {
      bwe->loss_estimate = MAX (sent, (double)MIN_BPS);
      bwe->have_reports = TRUE;
    }
  bwe->report_at = now_us;
  bwe->loss_sent = sent;
  bwe->report_loss = loss;
  bwe->report_recv_bps = (guint64)recv;
  /* a lossy report limits until the next one (see mcu_bwe_limited()): a limit
   * that holds 2 s takes reports that keep saying so, not one unlucky interval
   * of random loss among clean ones */
  bwe->report_congested = loss > LOSS_HIGH;
  if (loss <= LOSS_HIGH)
    bwe->lossy_run = FALSE;
  if (loss > LOSS_HIGH)
    loss_decrease (bwe, sent, loss, now_us);
  else if (loss < LOSS_LOW)
    {
      double next = MAX (bwe->loss_estimate * (1.0 + 0.08 * dt), 0.95 * recv);
      double limit = 1.5 * recv + 100000.0;
      if (!bwe->low && next > limit)
        next = MAX (bwe->loss_estimate, limit);
      bwe->loss_estimate = next;
    }
  bwe->loss_estimate = CLAMP (bwe->loss_estimate, MIN_BPS, MAX_BPS);
}

/* The NACKed fraction is no measure of the loss by itself. It overstates it when
 * the receiver NACKs packets that are only late: a jitter buffer that has just
 * started (no jitter measured yet) NACKs most of a bursty program the moment each
 * packet is later than a smooth pace would bring it (weak-link saw 50 to 97% of a
 * clean line's packets NACKed for seconds after joining, packets sent a few ms
 * before, that its receiver reports then counted as received). And it understates
 * it on a line that queues: a receiver NACKs only what a retransmission can still
 * repair within its latency, so behind a 300 ms queue that drops 60% it NACKed 10
 * to 20%. What tells them apart is how late the NACKs come: a NACK follows the
 * packet by the line's round trip and the receiver's wait, and a queue on the line
 * adds its own length to that; a late packet's NACK comes no later than usual.
 * So a window counts as congestion when it NACKs some loss (over 2%) and its
 * quickest NACK came over NACK_QUEUE_MS later than the quickest of the last 30 s:
 * the line holds more than it passes (a queue only stands while we send more than
 * it carries), and the estimate falls, at most once per 300 ms, by 15% from the
 * lower of itself and what we send (GCC's decrease, without the received rate
 * that only reports tell), and no higher than the loss-based decrease of its NACKed
 * fraction. It never raises the estimate (only reports say what got through), and
 * its limit lapses 1 s after the last such window, or at once when NACKs come as
 * quickly as ever. */
void
mcu_bwe_on_nack_loss (McuBwe *bwe, guint expected, guint nacked, gint64 min_age_us,
                      guint64 sent_bps, gint64 now_us)
{
  if (expected == 0)
    return;
  double loss = (double)MIN (nacked, expected) / expected;
  bwe->nack_queue_ms = 0;
  if (min_age_us >= 0)
    bwe->nack_queue_ms = (double)(min_age_us
                                  - minimum_30s (bwe->nack_base_epoch, bwe->nack_base_min,
                                                 min_age_us, now_us))
                         / 1000.0;
  bwe->nack_at = now_us;
  double sent = (double)MIN (sent_bps, (guint64)MAX_BPS);
  bwe->loss_sent = sent; /* the warm-up counts from what we send (suggest_low()) */
  gboolean queue = bwe->nack_queue_ms > NACK_QUEUE_MS;
  if (min_age_us >= 0 && !queue)
    bwe->nack_congested = FALSE; /* NACKs as quick as ever: nothing waits */
  /* a window without NACKs, or queued with little NACKed, says nothing new: the
   * limit lapses 1 s after the last lossy window rather than at once, so that
   * one quiet window among lossy ones does not restart the hold to low */
  if (!queue || loss <= LOSS_LOW)
    return;
  bwe->nack_congested = TRUE;
  bwe->nack_congested_at = now_us;
  double before = bwe->have_reports ? bwe->loss_estimate : sent;
  gint64 last = bwe->report_decrease;
  loss_decrease (bwe, sent, loss, now_us);
  if (bwe->report_decrease == last)
    return; /* held */
  bwe->loss_estimate
      = CLAMP (MIN (bwe->loss_estimate, 0.85 * MIN (before, sent)), MIN_BPS, MAX_BPS);
  GST_LOG ("NACKs %.0f ms late, %.2f NACKed: decrease to %.0f", bwe->nack_queue_ms, loss,
           bwe->loss_estimate);
}

guint64
mcu_bwe_estimate (McuBwe *bwe, gint64 now_us)
{
  /* without transport-cc results, the delay half has measured nothing */
  double d = bwe->have_results || !bwe->have_reports ? bwe->estimate : MAX_BPS;
  if (bwe->have_reports)
    d = MIN (d, bwe->loss_estimate);
  guint64 e = (guint64)d;
  if (now_us - bwe->remb_at < REMB_TTL_US && bwe->remb < e)
    e = bwe->remb;
  return e;
}

gboolean
mcu_bwe_limited (McuBwe *bwe, gint64 now_us, gint64 within_us)
{
  /* receiver reports come a second or more apart: a lossy one stands until the
   * next one says otherwise (or it is too old to mean anything); neither counts
   * before the peer has been sent about full for 5 s (mcu_bwe_suggest_low(), which
   * keeps that time): a starting receiver's loss caps nothing either */
  gboolean warm = bwe->full_since != 0 && now_us - bwe->full_since >= WARMUP_US;
  if (warm && bwe->report_congested && now_us - bwe->report_at < REPORT_STALE_US)
    return TRUE;
  if (warm && bwe->nack_congested && now_us - bwe->nack_congested_at < NACK_STALE_US)
    return TRUE;
  return now_us - bwe->congested_at < within_us;
}

gboolean
mcu_bwe_has_feedback (McuBwe *bwe)
{
  return bwe->have_results || bwe->have_reports;
}

gboolean
mcu_bwe_suggest_low (McuBwe *bwe, guint64 need_bps, gint64 now_us)
{
  guint64 est = mcu_bwe_estimate (bwe, now_us);
  /* 0.7: a decrease sets the estimate to 85% of what got through, so this means
   * over ~18% of what full costs did not get through; a peer that receives all of
   * it, only late (a busy receiver, a standing queue), stays at full */
  double down = 0.7 * (double)need_bps;
  double up = MAX ((double)need_bps, (double)MCU_BWE_FULL_MIN_BPS);
  /* the loss-based half measures what we send against the line: while we send a
   * peer much less than full costs (its video not started, or paused), its loss
   * says nothing about whether it could take full; nor in the first seconds of
   * full, while the peer's receiver starts (packets that came before it could
   * decrypt or play them are NACKed and reported lost) */
  gboolean about_full
      = bwe->loss_sent >= MAX (0.3 * (double)need_bps, MCU_BWE_FULL_MIN_BPS / 2.0);
  if (about_full && bwe->full_since == 0 && !bwe->low)
    bwe->full_since = now_us; /* reset when it moves to low */
  /* once warm, it stays judged until it moves: what full costs swings with the
   * program's keyframes and retransmissions, and a judgement that came and went
   * with them would restart the 2 s hold each time (mcu_bwe_limited() also waits
   * for the warm-up on loss-based limits) */
  gboolean judged = bwe->have_results
                    || (bwe->full_since != 0 && now_us - bwe->full_since >= WARMUP_US);
  if (!bwe->low)
    {
      gboolean below = need_bps > 0 && (double)est < down && judged
                       && mcu_bwe_limited (bwe, now_us, DOWN_HOLD_US);
      if (!below)
        bwe->is_below = FALSE;
      else if (!bwe->is_below)
        {
          bwe->is_below = TRUE;
          bwe->below_since = now_us;
        }
      else if (now_us - bwe->below_since >= DOWN_HOLD_US)
        {
          /* a return to full that failed soon: wait longer before the next one */
          bwe->backoff = now_us - bwe->up_at < FAILED_UP_US
                             ? MIN (bwe->backoff * 2, BACKOFF_MAX_US)
                             : BACKOFF_MIN_US;
          bwe->low = TRUE;
          bwe->low_since = now_us;
          bwe->full_since = 0;
          bwe->n_moves++;
          GST_INFO ("to low: estimate %" G_GUINT64_FORMAT " under %.0f", est, down);
        }
    }
  else if (now_us - bwe->low_since >= bwe->backoff
           && !mcu_bwe_limited (bwe, now_us, UP_CLEAN_US) && (double)est >= up)
    {
      bwe->low = FALSE;
      bwe->up_at = now_us;
      bwe->is_below = FALSE;
      bwe->n_moves++;
      GST_INFO ("to full: estimate %" G_GUINT64_FORMAT, est);
    }
  return bwe->low;
}

void
mcu_bwe_get (McuBwe *bwe, gint64 now_us, McuBweSnapshot *out)
{
  out->estimate_bps = mcu_bwe_estimate (bwe, now_us);
  window (bwe, now_us, &out->acked_bps, &out->loss);
  if (!bwe->have_results && bwe->have_reports
      && now_us - bwe->report_at < REPORT_STALE_US)
    {
      out->acked_bps = bwe->report_recv_bps;
      out->loss = bwe->report_loss;
    }
  out->queue_ms = bwe->have_queue                         ? bwe->queue_ms
                  : now_us - bwe->nack_at < NACK_STALE_US ? bwe->nack_queue_ms
                                                          : 0.0;
  out->congested = mcu_bwe_limited (bwe, now_us, CONGESTED_US);
  out->low = bwe->low;
  out->n_moves = bwe->n_moves;
}
