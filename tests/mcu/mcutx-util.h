/* mcutx-util.h: helpers shared by the transport tests and bench-endpoint: drive a
 * GMainContext until a condition holds (no sleeps), and connect two McuEndpoints
 * over loopback. Check-free so the benchmark can use it too. */
#pragma once

#include "mcu.h"

typedef gboolean (*McutxCond) (gpointer data);

static gboolean
mcutx_timed_out (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates @ctx until @cond(@data) is TRUE or @timeout_ms passed; returns the
 * condition's final value. The timeout is a generous safety net, never the thing
 * measured. */
static inline gboolean
mcutx_wait (GMainContext *ctx, McutxCond cond, gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  GSource *t = g_timeout_source_new (timeout_ms);
  g_source_set_callback (t, mcutx_timed_out, &timed_out, NULL);
  g_source_attach (t, ctx);
  while (!cond (data) && !timed_out)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (t);
  g_source_unref (t);
  return cond (data);
}

static gboolean
mcutx_time_passed (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *)data;
}

/* Runs @ctx for @ms milliseconds of wall time: for rules about silence, where the
 * passing of time is the input, not something awaited. */
static inline void
mcutx_run_for (GMainContext *ctx, guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64)ms * 1000;
  mcutx_wait (ctx, mcutx_time_passed, &until, ms + 1000);
}

typedef struct
{
  McuEndpoint *ep;
  GPtrArray *candidates; /* "candidate:..." */
  gboolean gathered;
  GArray *states; /* McuEndpointState seen, in order */
  guint packets, rtcp_packets;
  guint8 last[1500];
  gsize last_len;
} McutxSide;

static void
mcutx_on_candidate (McuEndpoint *ep, const char *cand, gpointer data)
{
  McutxSide *s = data;
  g_ptr_array_add (s->candidates, g_strdup (cand));
}

static void
mcutx_on_gathered (McuEndpoint *ep, gpointer data)
{
  ((McutxSide *)data)->gathered = TRUE;
}

static void
mcutx_on_state (McuEndpoint *ep, int state, gpointer data)
{
  McutxSide *s = data;
  McuEndpointState st = state;
  g_array_append_val (s->states, st);
}

static void
mcutx_on_packet (McuEndpoint *ep, gboolean is_rtcp, guint8 *buf, gsize len, gpointer data)
{
  McutxSide *s = data;
  if (is_rtcp)
    s->rtcp_packets++;
  else
    s->packets++;
  s->last_len = MIN (len, sizeof s->last);
  memcpy (s->last, buf, s->last_len);
}

static inline McuEndpoint *
mcutx_side_init (McutxSide *s, GMainContext *ctx, McuCert *cert, gboolean controlling,
                 const McuSrtpProfile *profiles, guint n_profiles, guint consent_ms,
                 const char *name)
{
  static const char *const loopback[] = { "127.0.0.1", NULL };
  McuEndpointConfig cfg = { 0 };
  cfg.ice.controlling = controlling;
  cfg.ice.local_addresses = loopback;
  cfg.ice.consent_timeout_ms = consent_ms;
  cfg.srtp_profiles = profiles;
  cfg.n_srtp_profiles = n_profiles;
  cfg.name = name;
  memset (s, 0, sizeof *s);
  s->candidates = g_ptr_array_new_with_free_func (g_free);
  s->states = g_array_new (FALSE, FALSE, sizeof (McuEndpointState));
  s->ep = mcu_endpoint_new (ctx, cert, &cfg, NULL);
  if (s->ep == NULL)
    return NULL;
  g_signal_connect (s->ep, "local-candidate", G_CALLBACK (mcutx_on_candidate), s);
  g_signal_connect (s->ep, "gathering-done", G_CALLBACK (mcutx_on_gathered), s);
  g_signal_connect (s->ep, "state-changed", G_CALLBACK (mcutx_on_state), s);
  mcu_endpoint_set_packet_func (s->ep, mcutx_on_packet, s, NULL);
  return s->ep;
}

static inline void
mcutx_side_clear (McutxSide *s)
{
  g_clear_object (&s->ep);
  g_clear_pointer (&s->candidates, g_ptr_array_unref);
  g_clear_pointer (&s->states, g_array_unref);
}

static gboolean
mcutx_both_gathered (gpointer data)
{
  McutxSide *s = data;
  return s[0].gathered && s[1].gathered;
}

static gboolean
mcutx_both_final (gpointer data)
{
  McutxSide *s = data;
  for (int i = 0; i < 2; i++)
    {
      McuEndpointState st = mcu_endpoint_get_state (s[i].ep);
      if (st == MCU_ENDPOINT_STATE_CONNECTING || st == MCU_ENDPOINT_STATE_NEW)
        return FALSE;
    }
  return TRUE;
}

/* Gathers on both sides, then hands each the other's parameters, as signalling
 * would after an offer/answer (s[0] offers actpass, s[1] answers active... here
 * s[1] is told s[0] is "actpass" so s[1] becomes the DTLS client). @fp_override
 * replaces the fingerprint s[1] expects from s[0] (NULL = the real one). Returns
 * TRUE when both reached a final-or-connected state within the timeout. */
static inline gboolean mcutx_connect_until (GMainContext *ctx, McutxSide s[2],
                                            const char *fp_override, McutxCond done,
                                            gpointer done_data);

static inline gboolean
mcutx_connect (GMainContext *ctx, McutxSide s[2], const char *fp_override)
{
  return mcutx_connect_until (ctx, s, fp_override, mcutx_both_final, s);
}

/* As mcutx_connect(), waiting for @done instead of both sides settling. */
static inline gboolean
mcutx_connect_until (GMainContext *ctx, McutxSide s[2], const char *fp_override,
                     McutxCond done, gpointer done_data)
{
  if (!mcu_endpoint_start (s[0].ep, NULL) || !mcu_endpoint_start (s[1].ep, NULL))
    return FALSE;
  if (!mcutx_wait (ctx, mcutx_both_gathered, s, 10000))
    return FALSE;
  g_ptr_array_add (s[0].candidates, NULL);
  g_ptr_array_add (s[1].candidates, NULL);
  /* s[1] answers: it sees s[0]'s actpass and takes active (DTLS client). */
  if (!mcu_endpoint_set_remote (
          s[1].ep, mcu_endpoint_get_local_ufrag (s[0].ep),
          mcu_endpoint_get_local_pwd (s[0].ep),
          fp_override ? fp_override : mcu_endpoint_get_local_fingerprint (s[0].ep),
          "actpass", (const char *const *)s[0].candidates->pdata, NULL))
    return FALSE;
  if (!mcu_endpoint_set_remote (s[0].ep, mcu_endpoint_get_local_ufrag (s[1].ep),
                                mcu_endpoint_get_local_pwd (s[1].ep),
                                mcu_endpoint_get_local_fingerprint (s[1].ep),
                                mcu_endpoint_get_local_setup (s[1].ep),
                                (const char *const *)s[1].candidates->pdata, NULL))
    return FALSE;
  mcu_endpoint_add_remote_candidate (s[0].ep, "", NULL);
  mcu_endpoint_add_remote_candidate (s[1].ep, "", NULL);
  return mcutx_wait (ctx, done, done_data, 20000);
}

/* A minimal RTP packet: V=2, PT 96, the given sequence number, SSRC, payload. */
static inline gsize
mcutx_rtp (guint8 *buf, guint16 seq, guint32 ssrc, gsize payload)
{
  memset (buf, 0, 12 + payload);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = 0;
  buf[5] = 0;
  buf[6] = (seq * 960) >> 8 & 0xff;
  buf[8] = ssrc >> 24;
  buf[9] = ssrc >> 16 & 0xff;
  buf[10] = ssrc >> 8 & 0xff;
  buf[11] = ssrc & 0xff;
  for (gsize i = 0; i < payload; i++)
    buf[12 + i] = (guint8)(i * 7 + seq);
  return 12 + payload;
}

/* An RTCP receiver report with no blocks (8 bytes). */
static inline gsize
mcutx_rtcp_rr (guint8 *buf, guint32 ssrc)
{
  buf[0] = 0x80;
  buf[1] = 201;
  buf[2] = 0;
  buf[3] = 1;
  buf[4] = ssrc >> 24;
  buf[5] = ssrc >> 16 & 0xff;
  buf[6] = ssrc >> 8 & 0xff;
  buf[7] = ssrc & 0xff;
  return 8;
}
