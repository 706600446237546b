#include "loss-tracker.h"

#include <string.h>

#define MAX_JUMP 96 /* a gap wider than this is an outage: not NACKed */
#define MAX_TRIES 4
#define DEFAULT_RTT_US (100 * 1000)
/* floors for a round trip measured on a fast line: a sender answers a NACK after
 * its own scheduling and pacing, not within the network's round trip */
#define MIN_RETRY_US (40 * 1000)
#define MIN_GIVE_UP_US (300 * 1000)
#define MAX_GIVE_UP_US (1000 * 1000)

void
mcu_loss_tracker_init (McuLossTracker *t)
{
  g_return_if_fail (t != NULL);
  memset (t, 0, sizeof *t);
}

void
mcu_loss_tracker_reset (McuLossTracker *t)
{
  g_return_if_fail (t != NULL);
  t->c.given_up += t->n;
  t->n = 0;
  t->started = FALSE;
}

static void
remove_at (McuLossTracker *t, guint i)
{
  memmove (&t->missing[i], &t->missing[i + 1], (t->n - i - 1) * sizeof (McuLossMissing));
  t->n--;
}

McuLossResult
mcu_loss_tracker_push (McuLossTracker *t, guint16 seq, gint64 now_us)
{
  g_return_val_if_fail (t != NULL, MCU_LOSS_DUPLICATE);
  if (!t->started)
    {
      t->started = TRUE;
      t->highest = seq;
      return MCU_LOSS_NEW;
    }
  gint16 d = (gint16)(seq - t->highest);
  if (d > 0)
    {
      guint gap = (guint)d - 1;
      if (gap > MAX_JUMP)
        {
          /* an outage or a restart: the numbers in between are not worth asking
           * for one by one, and the old ones are behind it */
          t->c.given_up += t->n;
          t->n = 0;
        }
      else
        for (guint k = 1; k <= gap; k++)
          {
            if (t->n == MCU_LOSS_TRACKER_MAX)
              {
                remove_at (t, 0); /* the oldest is the least likely to help */
                t->c.given_up++;
              }
            t->missing[t->n++] = (McuLossMissing){ .seq = (guint16)(t->highest + k),
                                                   .since_us = now_us };
            t->c.missing++;
          }
      t->highest = seq;
      return MCU_LOSS_NEW;
    }
  for (guint i = 0; i < t->n; i++)
    if (t->missing[i].seq == seq)
      {
        remove_at (t, i);
        t->c.filled++;
        return MCU_LOSS_FILLED;
      }
  if (d < -(gint16)(MAX_JUMP * 4))
    {
      /* far behind everything we track: the sender started over without a new SSRC */
      t->c.given_up += t->n;
      t->n = 0;
      t->highest = seq;
      return MCU_LOSS_NEW;
    }
  return MCU_LOSS_DUPLICATE;
}

guint
mcu_loss_tracker_due (McuLossTracker *t, gint64 now_us, gint64 rtt_us, guint16 *seqs,
                      guint max)
{
  g_return_val_if_fail (t != NULL && seqs != NULL, 0);
  gint64 rtt = rtt_us > 0 ? rtt_us : DEFAULT_RTT_US;
  /* asked again after a round trip and a little (the answer is on its way) */
  gint64 retry = MAX (rtt + rtt / 4, MIN_RETRY_US);
  /* a retransmission older than a few round trips misses the receivers' playout;
   * by then the decoder asks for a keyframe anyway */
  gint64 give_up = CLAMP (4 * rtt, MIN_GIVE_UP_US, MAX_GIVE_UP_US);
  guint n = 0;
  for (guint i = 0; i < t->n;)
    {
      McuLossMissing *m = &t->missing[i];
      /* asked often enough is not given up: a late answer still fills the gap */
      if (now_us - m->since_us > give_up)
        {
          remove_at (t, i);
          t->c.given_up++;
          continue;
        }
      if (n < max && m->tries < MAX_TRIES
          && (m->tries == 0 || now_us - m->asked_us >= retry))
        {
          seqs[n++] = m->seq;
          m->tries++;
          m->asked_us = now_us;
          t->c.requested++;
        }
      i++;
    }
  return n;
}

void
mcu_loss_tracker_get (const McuLossTracker *t, McuLossCounters *out)
{
  g_return_if_fail (t != NULL && out != NULL);
  *out = t->c;
}
