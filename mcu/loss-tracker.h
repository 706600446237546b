/* loss-tracker.h: McuLossTracker, the gaps in one incoming stream, for NACKs.
 *
 * The node receives the program from a site or from the link toward it; a packet
 * lost on that uplink is missing for every receiver below. The tracker notes each
 * gap in the sequence numbers as it appears and says which numbers to ask for
 * (RFC 4585 generic NACK) now: each at once, then again after about a round trip
 * (40 ms at least), four times at most, and never once it is older than a few round
 * trips (300 ms to 1 s), when a retransmission would come too late to be played and
 * a keyframe is the cure; until then a late answer still fills the gap.
 * Bounded: at most MCU_LOSS_TRACKER_MAX numbers are pending; a larger jump is an
 * outage, not a loss, and is left to the keyframe request it will cause.
 * Packet path: no allocation.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCU_LOSS_TRACKER_MAX 128 /* numbers pending at once */

/* What a received sequence number was. */
typedef enum
{
  MCU_LOSS_NEW,    /* the highest so far, or the first */
  MCU_LOSS_FILLED, /* one the tracker was waiting for: a retransmission or a late one */
  MCU_LOSS_DUPLICATE, /* received already, or given up on: not wanted */
} McuLossResult;

typedef struct
{
  guint64 missing;   /* numbers that were missing when a later one came */
  guint64 requested; /* NACK entries written (a number asked for twice counts twice) */
  guint64 filled;    /* missing numbers that came after all */
  guint64 given_up;  /* missing numbers dropped: too old, asked too often, too many */
} McuLossCounters;

/* A value embedded in its owner, like McuRtpRewriter: the router keeps one per peer
 * in memory it already has, so no allocation or free is tied to the peer list.
 * Read it through the functions below only. */
typedef struct
{
  guint16 seq;
  guint8 tries;
  gint64 since_us, asked_us;
} McuLossMissing;

typedef struct
{
  gboolean started;
  guint16 highest;
  McuLossMissing missing[MCU_LOSS_TRACKER_MAX]; /* ascending, in wrap-around order */
  guint n;
  McuLossCounters c;
} McuLossTracker;

void mcu_loss_tracker_init (McuLossTracker *t);

/* Forgets the stream's numbering (a new SSRC); the counters stay. */
void mcu_loss_tracker_reset (McuLossTracker *t);

/* Notes sequence number @seq received at @now_us. */
McuLossResult mcu_loss_tracker_push (McuLossTracker *t, guint16 seq, gint64 now_us);

/**
 * mcu_loss_tracker_due:
 * @rtt_us: the round trip to the sender, 0 when unknown (100 ms is assumed)
 * @seqs: (out caller-allocates): room for @max numbers
 *
 * Drops the numbers too old to be worth asking for and returns, in ascending order,
 * those to ask for now: never asked, or asked at least a round trip ago.
 * Returns: how many were written to @seqs.
 */
guint mcu_loss_tracker_due (McuLossTracker *t, gint64 now_us, gint64 rtt_us,
                            guint16 *seqs, guint max);

void mcu_loss_tracker_get (const McuLossTracker *t, McuLossCounters *out);

G_END_DECLS
