/* frame-tracker.c: McuFrameTracker.
 *
 * Why per-frame counts rather than a cursor walking the sequence numbers: a cursor
 * stops at the first hole and, until it gives the hole up, cannot report the
 * complete frames after it, so a single lost packet would look like a freeze. Here
 * each frame counts its distinct packets; it is complete when it knows its first
 * sequence number (the packet before it is a marker that arrived), its last (its
 * own marker) and holds that many packets. Each packet looks at its own slot, its
 * two neighbours and at most MCU_FRAME_TRACKER_FRAMES frame slots: O(1). */
#include "frame-tracker.h"

#include <string.h>

#define PACKET_MASK (MCU_FRAME_TRACKER_PACKETS - 1)
G_STATIC_ASSERT ((MCU_FRAME_TRACKER_PACKETS & PACKET_MASK) == 0);

/* Extended sequence numbers start here, so a reordered packet from before the first
 * one is still a positive number. */
#define EXT_BASE (G_GUINT64_CONSTANT (1) << 32)

typedef struct
{
  guint64 ext; /* extended sequence number held, valid when received */
  guint32 ts;
  gboolean received, marker;
} Packet;

typedef struct
{
  gboolean used, done;
  guint32 ts;
  guint32 count; /* distinct packets of this timestamp */
  gboolean have_start, have_end;
  guint64 start, end;
} Frame;

struct _McuFrameTracker
{
  gboolean started;
  guint64 highest;
  Packet packets[MCU_FRAME_TRACKER_PACKETS];
  Frame frames[MCU_FRAME_TRACKER_FRAMES];
  guint next_frame; /* the slot taken by the next new timestamp: the oldest */
  McuFrameCounters c;
};

McuFrameTracker *
mcu_frame_tracker_new (void)
{
  return g_new0 (McuFrameTracker, 1);
}

void
mcu_frame_tracker_free (McuFrameTracker *t)
{
  g_free (t);
}

void
mcu_frame_tracker_reset (McuFrameTracker *t)
{
  g_return_if_fail (t != NULL);
  McuFrameCounters c = t->c;
  memset (t, 0, sizeof *t);
  t->c = c;
}

void
mcu_frame_tracker_get (const McuFrameTracker *t, McuFrameCounters *out)
{
  g_return_if_fail (t != NULL && out != NULL);
  *out = t->c;
}

static Packet *
packet_at (McuFrameTracker *t, guint64 ext)
{
  Packet *p = &t->packets[ext & PACKET_MASK];
  return p->received && p->ext == ext ? p : NULL;
}

static Frame *
frame_find (McuFrameTracker *t, guint32 ts)
{
  for (guint i = 0; i < MCU_FRAME_TRACKER_FRAMES; i++)
    if (t->frames[i].used && t->frames[i].ts == ts)
      return &t->frames[i];
  return NULL;
}

/* The frame of @ts, taking the oldest slot for a new one: a frame still incomplete
 * after that many newer timestamps is given up. */
static Frame *
frame_get (McuFrameTracker *t, guint32 ts)
{
  Frame *f = frame_find (t, ts);
  if (f)
    return f;
  f = &t->frames[t->next_frame];
  t->next_frame = (t->next_frame + 1) % MCU_FRAME_TRACKER_FRAMES;
  memset (f, 0, sizeof *f);
  f->used = TRUE;
  f->ts = ts;
  return f;
}

static guint
frame_check (McuFrameTracker *t, Frame *f)
{
  if (f->done || !f->have_start || !f->have_end || f->end < f->start
      || f->end - f->start >= MCU_FRAME_TRACKER_PACKETS
      || f->count != f->end - f->start + 1)
    return 0;
  f->done = TRUE;
  t->c.frames++;
  return 1;
}

guint
mcu_frame_tracker_push (McuFrameTracker *t, guint16 seq, guint32 ts, gboolean marker)
{
  g_return_val_if_fail (t != NULL, 0);
  t->c.packets++;
  if (!t->started)
    {
      t->started = TRUE;
      t->highest = EXT_BASE + seq;
    }
  gint16 delta = (gint16)(guint16)(seq - (guint16)t->highest);
  guint64 ext = t->highest + delta;
  if (delta > 0)
    t->highest = ext;
  else if (ext + MCU_FRAME_TRACKER_PACKETS <= t->highest)
    {
      t->c.too_old++;
      return 0;
    }
  if (packet_at (t, ext) != NULL)
    {
      t->c.duplicates++;
      return 0;
    }
  Packet *p = &t->packets[ext & PACKET_MASK];
  p->ext = ext;
  p->ts = ts;
  p->received = TRUE;
  p->marker = marker;

  Frame *f = frame_get (t, ts);
  f->count++;
  if (marker)
    {
      f->have_end = TRUE;
      f->end = ext;
    }
  const Packet *prev = packet_at (t, ext - 1);
  if (prev && prev->marker)
    {
      f->have_start = TRUE;
      f->start = ext;
    }
  guint completed = frame_check (t, f);
  if (marker)
    {
      /* the next frame may have arrived before this marker did */
      const Packet *next = packet_at (t, ext + 1);
      Frame *g = next ? frame_find (t, next->ts) : NULL;
      if (g && g != f)
        {
          g->have_start = TRUE;
          g->start = ext + 1;
          completed += frame_check (t, g);
        }
    }
  return completed;
}
