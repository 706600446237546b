/* endpoint.h: McuEndpoint, one secure peer connection: McuIce + McuDtls + McuSrtp.
 *
 * Every datagram from the peer is classified (RFC 7983): DTLS feeds the handshake,
 * SRTP/SRTCP is authenticated and decrypted then handed to the packet callback,
 * anything else is dropped and counted. Nothing unencrypted is accepted or sent.
 * The endpoint belongs to the GMainContext it was created on: every function but
 * the two send functions is called there. */
#pragma once

#include <glib-object.h>

#include "cert.h"
#include "ice.h"
#include "sdp.h"
#include "srtp.h"

G_BEGIN_DECLS

#define MCU_TYPE_ENDPOINT (mcu_endpoint_get_type ())
G_DECLARE_FINAL_TYPE (McuEndpoint, mcu_endpoint, MCU, ENDPOINT, GObject)

typedef enum
{
  MCU_ENDPOINT_STATE_NEW,
  MCU_ENDPOINT_STATE_CONNECTING,   /* ICE checks or the DTLS handshake running */
  MCU_ENDPOINT_STATE_CONNECTED,    /* SRTP keyed, media may flow */
  MCU_ENDPOINT_STATE_DISCONNECTED, /* the transport was lost; an ICE restart may recover */
  MCU_ENDPOINT_STATE_FAILED,       /* ICE or DTLS failed, or consent expired */
  MCU_ENDPOINT_STATE_CLOSED,       /* closed by us or by the peer's close_notify */
} McuEndpointState;

const char *mcu_endpoint_state_name (McuEndpointState state);

/* Read by mcu_endpoint_new(); strings and arrays are copied. */
typedef struct
{
  McuIceConfig ice;
  /* SRTP profiles in order of preference; NULL/0 = AEAD_AES_128_GCM, then
   * AES128_CM_SHA1_80. */
  const McuSrtpProfile *srtp_profiles;
  guint n_srtp_profiles;
  const char *name; /* for logs (site or link id), may be NULL */
  /* From mcu_endpoint_start() to CONNECTED; past it the endpoint FAILS with
   * MCU_ERROR_ICE. Trickle ICE never fails on its own while the peer may still
   * send candidates, so this bounds a connection attempt. 0 = 30000. */
  guint connect_timeout_ms;
} McuEndpointConfig;

/* Counters since creation. Drop reasons are exclusive: each dropped datagram is
 * counted once. */
typedef struct
{
  guint64 rtp_in, rtcp_in, rtp_out, rtcp_out; /* accepted / sent packets */
  guint64 bytes_in, bytes_out;                /* their plaintext payload bytes */
  guint64 dtls_in, dtls_out;                  /* handshake datagrams */
  guint64 dropped_replay;                     /* SRTP/SRTCP replayed or too old */
  guint64 dropped_auth;     /* tag did not verify (tampered, wrong key) */
  guint64 dropped_foreign;  /* from outside the selected pair: see ice.c */
  guint64 dropped_oversize; /* larger than 1500 bytes */
  guint64 dropped_unknown;  /* not DTLS, RTP or RTCP (RFC 7983), or malformed */
  guint64 dropped_plain;    /* RTP/RTCP before SRTP keys exist */
  guint64 send_failed;      /* could not protect or send */
} McuEndpointCounters;

/* Receives each decrypted RTP or RTCP packet. @buf is writable and valid during
 * the call only. Packet path: runs on the endpoint's context, per packet. */
typedef void (*McuEndpointPacketFunc) (McuEndpoint *ep, gboolean is_rtcp, guint8 *buf,
                                       gsize len, gpointer user_data);

/**
 * mcu_endpoint_new:
 * @context: (transfer none) (nullable): the endpoint's context, NULL = default
 * @cert: (transfer none): our DTLS certificate (a reference is taken)
 * @config: (transfer none): settings, copied
 * @error: as mcu_ice_new()
 *
 * Returns: (transfer full) (nullable): a new endpoint in state NEW.
 */
McuEndpoint *mcu_endpoint_new (GMainContext *context, McuCert *cert,
                               const McuEndpointConfig *config, GError **error);

/** mcu_endpoint_get_local_ufrag: Returns: (transfer none): our ICE ufrag. */
const char *mcu_endpoint_get_local_ufrag (McuEndpoint *ep);
/** mcu_endpoint_get_local_pwd: Returns: (transfer none): our ICE password. */
const char *mcu_endpoint_get_local_pwd (McuEndpoint *ep);
/** mcu_endpoint_get_local_fingerprint: Returns: (transfer none): "sha-256 ..". */
const char *mcu_endpoint_get_local_fingerprint (McuEndpoint *ep);
/**
 * mcu_endpoint_get_local_setup:
 * Returns: (transfer none): our a=setup: "actpass" until the remote setup is known,
 * then "active" or "passive".
 */
const char *mcu_endpoint_get_local_setup (McuEndpoint *ep);

/**
 * mcu_endpoint_start:
 * Starts gathering; "local-candidate" signals follow, then "gathering-done". The
 * state becomes CONNECTING.
 * Returns: FALSE with MCU_ERROR_ICE when gathering cannot start.
 */
gboolean mcu_endpoint_start (McuEndpoint *ep, GError **error);

/**
 * mcu_endpoint_set_remote:
 * @ufrag: (transfer none): the peer's ICE ufrag
 * @pwd: (transfer none): its ICE password
 * @fingerprint: (transfer none): its "sha-256 ..." certificate fingerprint
 * @setup: (transfer none): its a=setup: "active" (we are the DTLS server),
 *   "passive" (we are the client) or "actpass" (we take "active")
 * @candidates: (transfer none) (nullable): NULL-terminated "candidate:..." lines
 * @error: MCU_ERROR_INVALID for unusable values; nothing is changed then
 *
 * Sets the peer's parameters once. More candidates may follow with
 * mcu_endpoint_add_remote_candidate().
 * Returns: TRUE on success.
 */
gboolean mcu_endpoint_set_remote (McuEndpoint *ep, const char *ufrag, const char *pwd,
                                  const char *fingerprint, const char *setup,
                                  const char *const *candidates, GError **error);

/**
 * mcu_endpoint_set_remote_sdp:
 * @session: (transfer none): the negotiated session from sdp.h
 * As mcu_endpoint_set_remote() with the session's remote parameters.
 */
gboolean mcu_endpoint_set_remote_sdp (McuEndpoint *ep, const McuSdpSession *session,
                                      GError **error);

/** mcu_endpoint_add_remote_candidate: a trickled candidate; "" = end-of-candidates.
 * Returns: FALSE with MCU_ERROR_INVALID for an unusable line. */
gboolean mcu_endpoint_add_remote_candidate (McuEndpoint *ep, const char *candidate,
                                            GError **error);

/**
 * mcu_endpoint_get_local_candidates:
 * Returns: (transfer none): NULL-terminated "candidate:..." lines gathered so far,
 * for an SDP written without trickle (McuSdpLocal.candidates); valid until the
 * next main-loop iteration of the endpoint's context.
 */
const char *const *mcu_endpoint_get_local_candidates (McuEndpoint *ep);

/**
 * mcu_endpoint_restart_ice:
 * Restarts ICE on our side (RFC 8445 section 9): new local ufrag/pwd, which the
 * caller signals with mcu_endpoint_get_local_candidates() (libnice keeps the local
 * candidates). The DTLS association and SRTP keys survive. A CONNECTED endpoint
 * reports DISCONNECTED until the checks succeed again.
 * Returns: FALSE with MCU_ERROR_ICE, or MCU_ERROR_INVALID when the endpoint has
 * ended or has no remote parameters yet.
 */
gboolean mcu_endpoint_restart_ice (McuEndpoint *ep, GError **error);

/**
 * mcu_endpoint_set_remote_ice:
 * The peer's new ICE credentials and candidates after a restart (either side may
 * have started it). Returns: FALSE with MCU_ERROR_INVALID for unusable values.
 */
gboolean mcu_endpoint_set_remote_ice (McuEndpoint *ep, const char *ufrag, const char *pwd,
                                      const char *const *candidates, GError **error);

/**
 * mcu_endpoint_set_packet_func:
 * @func: (nullable): called per decrypted packet
 * @user_data: for @func
 * @destroy: (nullable): frees @user_data when replaced or at finalize
 */
void mcu_endpoint_set_packet_func (McuEndpoint *ep, McuEndpointPacketFunc func,
                                   gpointer user_data, GDestroyNotify destroy);

/**
 * mcu_endpoint_send_rtp:
 * @buf: (transfer none): one plain RTP packet, at most 1500 bytes with the SRTP
 *   trailer added (so at most 1484 bytes of RTP)
 *
 * Protects a copy of @buf and sends it. The endpoint's one send path: it may be
 * called from any thread, and serialises protect + send per endpoint (one SRTP
 * session never protects two packets at once). Packet path: no allocation.
 * Returns: MCU_SRTP_OK, a negative McuSrtpStatus from protection, or
 * MCU_SRTP_ERR_INVALID when not connected or the send failed.
 */
int mcu_endpoint_send_rtp (McuEndpoint *ep, const guint8 *buf, gsize len);

/** mcu_endpoint_send_rtcp: as mcu_endpoint_send_rtp() for a compound RTCP packet. */
int mcu_endpoint_send_rtcp (McuEndpoint *ep, const guint8 *buf, gsize len);

/** mcu_endpoint_close: sends DTLS close_notify and closes ICE; state CLOSED. */
void mcu_endpoint_close (McuEndpoint *ep);

/** mcu_endpoint_get_state: Returns: the state. */
McuEndpointState mcu_endpoint_get_state (McuEndpoint *ep);

/** mcu_endpoint_get_counters: @out: (out caller-allocates): a copy of the counters. */
void mcu_endpoint_get_counters (McuEndpoint *ep, McuEndpointCounters *out);

/** mcu_endpoint_get_srtp_profile: Returns: the negotiated profile, 0 before. */
McuSrtpProfile mcu_endpoint_get_srtp_profile (McuEndpoint *ep);

/** mcu_endpoint_get_error: Returns: (transfer none) (nullable): why it failed. */
const GError *mcu_endpoint_get_error (McuEndpoint *ep);

/** mcu_endpoint_get_ice: Returns: (transfer none): the ICE transport, for the
 * selected pair, ICE restart and the consent test hook. */
McuIce *mcu_endpoint_get_ice (McuEndpoint *ep);

/**
 * mcu_endpoint_get_pair_types:
 * @local_type: (out) (optional) (transfer none): "host", "srflx", "prflx", "relay"
 * @remote_type: (out) (optional) (transfer none): likewise, for the peer
 *
 * The candidate types of the selected ICE pair, static strings ("" before a pair is
 * selected or after the endpoint closed). Returns: TRUE when a pair is selected.
 */
gboolean mcu_endpoint_get_pair_types (McuEndpoint *ep, const char **local_type,
                                      const char **remote_type);

G_END_DECLS
