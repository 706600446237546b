/* bench-quality: what the link measurement costs. Prints the time per packet of
 * McuRecvStats/McuSendStats updates (the packet path), of a quality window's
 * per-second sample and per-2-second snapshot plus JSON, the size of the JSON for
 * one leg, and the memory a leg's measurement takes (allocated sizes, as malloc
 * reports them), scaled to a national meeting of 11,000 legs. Never fails on speed. */
#include "quality.h"
#include "rtp-stats.h"

#include <malloc.h>
#include <stdio.h>

static double
elapsed_ns (gint64 start_us, guint64 n)
{
  return (g_get_monotonic_time () - start_us) * 1000.0 / n;
}

int
main (void)
{
  const guint64 n = 20000000;
  g_autoptr (McuRecvStats) rx = mcu_recv_stats_new (1, 90000);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);

  /* a precomputed pattern: 1% lost, 1% swapped with the next, 20 ms-ish arrivals */
  enum
  {
    PATTERN = 4096
  };
  static guint16 seqs[PATTERN];
  static gint32 offsets[PATTERN];
  guint16 seq = 0;
  for (guint i = 0; i < PATTERN; i++)
    {
      if (g_rand_int_range (rand, 0, 100) == 0)
        seq++;
      seqs[i] = seq++;
      offsets[i] = g_rand_int_range (rand, -2000, 2000);
    }
  for (guint i = 0; i + 1 < PATTERN; i++)
    if (g_rand_int_range (rand, 0, 100) == 0)
      {
        guint16 t = seqs[i];
        seqs[i] = seqs[i + 1];
        seqs[i + 1] = t;
      }

  gint64 start = g_get_monotonic_time ();
  guint32 cycle_base = 0;
  for (guint64 i = 0; i < n; i++)
    {
      guint k = i % PATTERN;
      if (k == 0 && i > 0)
        cycle_base += seq; /* continue the sequence where the pattern ended */
      guint16 s = (guint16)(seqs[k] + cycle_base);
      mcu_recv_stats_update (rx, s, (guint32)s * 3000, 1200,
                             (gint64)i * 33333 + offsets[k]);
    }
  double recv_ns = elapsed_ns (start, n);
  McuRecvCounters rc;
  mcu_recv_stats_get (rx, &rc);

  g_autoptr (McuSendStats) tx = mcu_send_stats_new (2, 90000);
  start = g_get_monotonic_time ();
  for (guint64 i = 0; i < n; i++)
    mcu_send_stats_on_sent (tx, 1200, 1188);
  double send_ns = elapsed_ns (start, n);

  /* a leg's 2-second cycle: both windows sampled, snapshots taken, JSON written */
  const guint64 m = 1000000;
  g_autoptr (McuQualityWindow) up = mcu_quality_window_new (5000, 0);
  g_autoptr (McuQualityWindow) down = mcu_quality_window_new (5000, 0);
  g_autoptr (GString) json = g_string_sized_new (1024);
  McuQualitySnapshot su, sd;
  start = g_get_monotonic_time ();
  for (guint64 i = 0; i < m; i++)
    {
      gint64 now = (gint64)i * 2 * G_USEC_PER_SEC;
      mcu_quality_window_sample_recv (up, rx, now);
      mcu_quality_window_sample_send (down, tx, now);
      mcu_quality_window_get (up, now, &su);
      mcu_quality_window_get (down, now, &sd);
      g_string_truncate (json, 0);
      mcu_quality_leg_to_json (i, &su, &sd, json);
    }
  double cycle_ns = elapsed_ns (start, m);

  /* one leg: audio and video each way (2 McuRecvStats + 2 McuSendStats) and the
   * two windows */
  gsize recv_size = malloc_usable_size (rx), send_size = malloc_usable_size (tx);
  gsize window_size = malloc_usable_size (up);
  gsize leg = 2 * recv_size + 2 * send_size + 2 * window_size;

  printf ("recv-stats-update: %.1f ns/packet (%" G_GUINT64_FORMAT
          " packets, %.2f%% lost, %" G_GUINT64_FORMAT " reordered)\n",
          recv_ns, rc.packets, 100.0 * rc.cumulative_lost / rc.expected, rc.reordered);
  printf ("send-stats-sent: %.1f ns/packet\n", send_ns);
  printf ("leg-report-cycle: %.0f ns/leg (sample, snapshot and JSON, both ways)\n",
          cycle_ns);
  printf ("leg-report-cycle-11000-legs: %.2f ms per 2 s\n", cycle_ns * 11000 / 1e6);
  printf ("leg-json: %zu bytes\n", json->len);
  printf ("mcu-recv-stats: %zu bytes\n", recv_size);
  printf ("mcu-send-stats: %zu bytes\n", send_size);
  printf ("mcu-quality-window: %zu bytes\n", window_size);
  printf ("leg-measurement: %zu bytes (2 recv + 2 send stats + 2 windows)\n", leg);
  printf ("leg-measurement-11000-legs: %.1f MiB\n", leg * 11000 / 1048576.0);
  return 0;
}
