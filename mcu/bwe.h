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
 * Peers without transport-cc (webrtcbin, SIP room systems: receiver reports only)
 * get the loss-based half alone, from the loss their reports count on what we
 * send them (mcu_bwe_on_loss_report()) and, sooner, from how late the NACKs they
 * send come (mcu_bwe_on_nack_loss(): a queue on the line); a peer with both gets
 * the lower of the two estimates, as GCC combines them.
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
  guint64 acked_bps;  /* what the peer received in the last second (without
                       * transport-cc: in its last receiver reports' interval) */
  double loss;        /* fraction lost in the last second (likewise) */
  double queue_ms;    /* one-way delay above the recent minimum, smoothed (without
                       * transport-cc: the last NACK window's lateness) */
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
 * mcu_bwe_on_loss_report:
 * @expected: packets the peer's receiver reports say it expected since the last call
 *   (checked against what we sent it: mcu/peer-cc.h does)
 * @lost: how many of them they count lost (more than @expected reads as all)
 * @sent_bps: what we send the peer now, in bits per second
 *
 * One step of the loss-based estimate (see bwe.c). Feed it intervals of at least
 * about 20 packets, as receiver reports cover them.
 */
void mcu_bwe_on_loss_report (McuBwe *bwe, guint expected, guint lost, guint64 sent_bps,
                             gint64 now_us);

/**
 * mcu_bwe_on_nack_loss:
 * @expected: packets we sent on the streams the peer NACKs, over about 500 ms
 * @nacked: how many of them it NACKed (each number once)
 * @min_age_us: how long after we sent it the quickest of those NACKs came; -1
 *   when none
 *
 * NACKs as an early sign of a queue on the line (see bwe.c): over 2% NACKed, the
 * quickest of them over 100 ms later than the quickest of the last 30 s,
 * decreases the loss-based estimate and limits for 1 s; NACKs as quick as ever
 * end that limit. A NACKed fraction alone counts for nothing: a starting receiver
 * NACKs packets that are only late.
 */
void mcu_bwe_on_nack_loss (McuBwe *bwe, guint expected, guint nacked, gint64 min_age_us,
                           guint64 sent_bps, gint64 now_us);

/* Whether any feedback (transport-cc results, receiver reports, lossy NACK windows)
 * came: before, the estimate is only the start value and says nothing about the
 * line. */
gboolean mcu_bwe_has_feedback (McuBwe *bwe);

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
 * last @within_us, the last receiver report (under 10 s old) counted over 10% lost,
 * or the last NACK window (under 1 s old) showed loss behind a queue (these two
 * after the warm-up of mcu_bwe_suggest_low()): the estimate
 * measures a limit, not only what we happened to send. */
gboolean mcu_bwe_limited (McuBwe *bwe, gint64 now_us, gint64 within_us);

/**
 * mcu_bwe_suggest_low:
 * @need_bps: what the full program costs now (what a peer at full is sent)
 *
 * Call about every 100 ms. Full to low once the peer's line has been congested and
 * its estimate under 70% of @need_bps for 2 s; low back to full once it has been
 * clean for 5 s, its estimate (probing upwards while low) is at least @need_bps and
 * MCU_BWE_FULL_MIN_BPS, and it has waited at low long enough: 10 s, doubled (up to
 * 160 s) each time a return to full failed within 30 s. Without transport-cc, a
 * loss-based limit only counts 5 s after we first sent the peer at least 30% of
 * @need_bps and half of MCU_BWE_FULL_MIN_BPS since it joined or came back to full (a peer whose video has not started is not judged on the loss of
 * its audio, nor a receiver that is starting on what it lost meanwhile: the first
 * seconds of a program, still ramping, are NACKed and reported lost in bulk).
 * Returns: TRUE when the peer should be at low.
 */
gboolean mcu_bwe_suggest_low (McuBwe *bwe, guint64 need_bps, gint64 now_us);

void mcu_bwe_get (McuBwe *bwe, gint64 now_us, McuBweSnapshot *out);

G_END_DECLS
