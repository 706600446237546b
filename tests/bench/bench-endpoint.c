/* bench-endpoint: time to first media between two McuEndpoints on loopback, from
 * mcu_endpoint_start() (certificates already made, as a running node has them) to
 * the first RTP packet decrypted by the receiver: host gathering, signalling of
 * the parameters (in-process, instant), ICE checks, DTLS 1.2 handshake, key export
 * and one SRTP packet. Prints the median, minimum and maximum of 20 runs for each
 * SRTP profile. A figure, never a pass/fail. */
#include "mcu.h"
#include "../mcu/mcutx-util.h"

#include <stdio.h>
#include <stdlib.h>

#define RUNS 20

typedef struct
{
  McutxSide side[2];
  gint64 t_connected, t_media, t_ice;
} Run;

/* Notes when side 1's ICE first reports connected; polled once per main-loop
 * iteration, so the figure is as fine as the loop's wake-ups (sub-millisecond on
 * an idle loopback). */
static gboolean
ice_then_done (gpointer data)
{
  Run *r = data;
  if (r->t_ice == 0
      && mcu_ice_get_state (mcu_endpoint_get_ice (r->side[1].ep))
             == MCU_ICE_STATE_CONNECTED)
    r->t_ice = g_get_monotonic_time ();
  return mcutx_both_final (r->side);
}

static void
on_state_send (McuEndpoint *ep, int state, gpointer data)
{
  Run *r = data;
  if (state != MCU_ENDPOINT_STATE_CONNECTED || r->t_connected)
    return;
  r->t_connected = g_get_monotonic_time ();
  guint8 pkt[1200];
  gsize len = mcutx_rtp (pkt, 1, 0x5eed, 1000);
  mcu_endpoint_send_rtp (ep, pkt, len);
}

static gboolean
got_media (gpointer data)
{
  Run *r = data;
  if (r->side[1].packets > 0 && r->t_media == 0)
    r->t_media = g_get_monotonic_time ();
  return r->t_media != 0;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

static gboolean
run_profile (McuCert *ca, McuCert *cb, McuSrtpProfile profile, gint64 *total_us,
             gint64 *conn_us, gint64 *ice_us)
{
  GMainContext *ctx = g_main_context_new ();
  gboolean ok = TRUE;
  for (int i = 0; i < RUNS && ok; i++)
    {
      Run r = { 0 };
      mcutx_side_init (&r.side[0], ctx, ca, TRUE, &profile, 1, 0, "bench-a");
      mcutx_side_init (&r.side[1], ctx, cb, FALSE, &profile, 1, 0, "bench-b");
      g_signal_connect (r.side[0].ep, "state-changed", G_CALLBACK (on_state_send), &r);
      gint64 t0 = g_get_monotonic_time ();
      ok = mcutx_connect_until (ctx, r.side, NULL, ice_then_done, &r)
           && mcutx_wait (ctx, got_media, &r, 10000)
           && mcu_endpoint_get_srtp_profile (r.side[1].ep) == profile;
      total_us[i] = r.t_media - t0;
      conn_us[i] = r.t_connected - t0;
      ice_us[i] = r.t_ice - t0;
      mcutx_side_clear (&r.side[0]);
      mcutx_side_clear (&r.side[1]);
      while (g_main_context_iteration (ctx, FALSE))
        ;
    }
  g_main_context_unref (ctx);
  return ok;
}

int
main (void)
{
  g_autoptr (McuCert) ca = mcu_cert_generate ("bench-a", NULL);
  g_autoptr (McuCert) cb = mcu_cert_generate ("bench-b", NULL);
  const McuSrtpProfile profiles[]
      = { MCU_SRTP_PROFILE_AEAD_AES_128_GCM, MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  for (guint p = 0; p < G_N_ELEMENTS (profiles); p++)
    {
      gint64 total[RUNS], conn[RUNS], ice[RUNS];
      if (!run_profile (ca, cb, profiles[p], total, conn, ice))
        {
          fprintf (stderr, "bench-endpoint: a run did not reach first media\n");
          return EXIT_FAILURE;
        }
      qsort (total, RUNS, sizeof total[0], cmp_i64);
      qsort (conn, RUNS, sizeof conn[0], cmp_i64);
      qsort (ice, RUNS, sizeof ice[0], cmp_i64);
      const char *name = mcu_srtp_profile_name (profiles[p]);
      printf ("first-media-median[%s]: %.1f ms\n", name,
              (total[RUNS / 2 - 1] + total[RUNS / 2]) / 2000.0);
      printf ("first-media-min[%s]: %.1f ms\n", name, total[0] / 1000.0);
      printf ("first-media-max[%s]: %.1f ms\n", name, total[RUNS - 1] / 1000.0);
      printf ("ice-connected-median[%s]: %.1f ms\n", name,
              (ice[RUNS / 2 - 1] + ice[RUNS / 2]) / 2000.0);
      printf ("dtls-connected-median[%s]: %.1f ms\n", name,
              (conn[RUNS / 2 - 1] + conn[RUNS / 2]) / 2000.0);
    }
  printf ("runs: %d per profile\n", RUNS);
  return EXIT_SUCCESS;
}
