/* frame-tracker.h: McuFrameTracker, which tells when a video frame of one RTP stream
 * has been received complete, for the frozen-video measure (quality.h).
 *
 * A frame is the packets sharing one RTP timestamp, the last one carrying the marker
 * bit. It is complete when every sequence number from the packet after the previous
 * frame's marker up to its own marker has arrived, in any order: a packet lost and
 * then repaired by a retransmission completes its frame when the repair arrives.
 * The first frame after the tracker starts (whose start is unknown) is never
 * reported, nor a frame whose previous marker never arrived.
 *
 * Packet path: mcu_frame_tracker_push() is O(1) (a fixed number of slots is
 * looked at) and allocates nothing; only _new/_free allocate. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Packets remembered (a power of two): a packet older than the newest by this many
 * is ignored, and a frame longer than this is never complete. */
#define MCU_FRAME_TRACKER_PACKETS 1024
/* Frames remembered while they are incomplete (the oldest is forgotten first): at
 * 30 frames/s a repair more than about half a second late no longer completes one. */
#define MCU_FRAME_TRACKER_FRAMES 16

typedef struct
{
  guint64 packets;    /* every packet given to push() */
  guint64 duplicates; /* a sequence number already held */
  guint64 too_old;    /* older than the packets remembered */
  guint64 frames;     /* frames reported complete */
} McuFrameCounters;

typedef struct _McuFrameTracker McuFrameTracker;

/**
 * mcu_frame_tracker_new:
 * Returns: (transfer full): an empty tracker, free with mcu_frame_tracker_free()
 */
McuFrameTracker *mcu_frame_tracker_new (void);
void mcu_frame_tracker_free (McuFrameTracker *t);

/* Forgets every packet and frame (the stream changed its SSRC); keeps the counters. */
void mcu_frame_tracker_reset (McuFrameTracker *t);

/**
 * mcu_frame_tracker_push:
 * @seq: the packet's sequence number (for an RFC 4588 retransmission: the original
 *   sequence number carried in its payload)
 * @ts: its RTP timestamp
 * @marker: its marker bit
 *
 * Records one packet. Packet path: O(1), no allocation.
 * Returns: how many frames this packet completed (0, 1, or 2 when a late marker
 * both ends its own frame and tells where an already received next frame begins).
 */
guint mcu_frame_tracker_push (McuFrameTracker *t, guint16 seq, guint32 ts,
                              gboolean marker);

/* @out: (out caller-allocates): the counters now. */
void mcu_frame_tracker_get (const McuFrameTracker *t, McuFrameCounters *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuFrameTracker, mcu_frame_tracker_free)

G_END_DECLS
