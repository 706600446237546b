/* bwe.h: McuBwe, the node's estimate of one peer's downlink (what we can send it),
 * from the transport-cc feedback it returns on what we send (mcu/twcc.h), and the
 * decision, with hysteresis, to move that peer between the full program and the
 * low-resolution one before its link grade fails.
 *
 * The estimate follows the loss- and delay-based halves of the Google congestion
 * control draft (draft-ietf-rmcat-gcc-02) in a simplified form: a queue building
 * up (one-way delay above its recent minimum) or loss above 10% sets the estimate
 * to 85% of what the peer actually received in the last second; a clean line (loss
 * under 2%, no queue) raises it by 8% per second (at once to 95% of what it received,
 * when that is more), no higher than 1.5 times what it
 * received (it cannot be known to take more than we give it), except while the
 * peer is at low, where the rise is the probe that lets it come back to full.
 *
 * Everything is driven by the caller's clock (@now_us): tests replay a line.
 * Not thread-safe: one owner (the leg's context). */
#pragma once

#include "twcc.h"

#include <glib.h>

G_BEGIN_DECLS

/* A peer that cannot take this does not cap the tree (the one program encoder is
 * not pulled down to it: it takes the low program), nor comes back to full:
 * 720p VP8 is poor under ~1 Mbit/s. */
#define MCU_BWE_FULL_MIN_BPS 1000000
#define MCU_BWE_START_BPS 300000

typedef struct _McuBwe McuBwe;

/* What the estimator knows now, for statistics and tests. */
typedef struct
{
  guint64 estimate_bps;
  guint64 acked_bps;  /* what the peer received in the last second */
  double loss;        /* fraction lost in the last second */
  double queue_ms;    /* one-way delay above the recent minimum, smoothed */
  gboolean congested; /* loss or queueing seen in the last 5 s */
  gboolean low;       /* the suggested level is low */
  guint n_moves;      /* level moves suggested so far */
} McuBweSnapshot;

McuBwe *mcu_bwe_new (gint64 now_us);
void mcu_bwe_free (McuBwe *bwe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuBwe, mcu_bwe_free)

/**
 * mcu_bwe_on_results:
 * @results: (array length=n): what one feedback said about the packets we sent
 *
 * Updates the estimate. Feedback that names nothing we remember is ignored.
 */
void mcu_bwe_on_results (McuBwe *bwe, const McuTwccResult *results, guint n,
                         gint64 now_us);

/**
 * mcu_bwe_on_remb:
 * A receiver estimate the peer sent us (REMB): a node link's subtree capacity, or
 * a browser's. Caps the estimate for 5 s; a peer that keeps sending it keeps the
 * cap. A cap under what the peer receives counts as congestion.
 */
void mcu_bwe_on_remb (McuBwe *bwe, guint64 bps, gint64 now_us);

/* The estimate, with any REMB cap applied. */
guint64 mcu_bwe_estimate (McuBwe *bwe, gint64 now_us);

/* TRUE when loss, queueing or a REMB cap under the received rate was seen in the
 * last @within_us: the estimate measures a limit, not only what we happened to
 * send. */
gboolean mcu_bwe_limited (McuBwe *bwe, gint64 now_us, gint64 within_us);

/**
 * mcu_bwe_suggest_low:
 * @need_bps: what the full program costs now (what a peer at full is sent)
 *
 * Call about every 100 ms. Full to low once the peer's line has been congested and
 * its estimate under 70% of @need_bps for 2 s; low back to full once it has been
 * clean for 5 s, its estimate (probing upwards while low) is at least @need_bps and
 * MCU_BWE_FULL_MIN_BPS, and it has waited at low long enough: 10 s, doubled (up to
 * 160 s) each time a return to full failed within 30 s.
 * Returns: TRUE when the peer should be at low.
 */
gboolean mcu_bwe_suggest_low (McuBwe *bwe, guint64 need_bps, gint64 now_us);

void mcu_bwe_get (McuBwe *bwe, gint64 now_us, McuBweSnapshot *out);

G_END_DECLS
