/* dtls.h: McuDtls, the DTLS 1.2 handshake of one peer (RFC 5763/5764) over OpenSSL,
 * fed datagrams by the caller and sending through a callback, so it rides on McuIce
 * without owning a socket. It checks the peer's certificate against the SDP
 * fingerprint, negotiates use_srtp and exports the SRTP keys into an McuSrtp. */
#pragma once

#include <glib.h>

#include "cert.h"
#include "srtp.h"

G_BEGIN_DECLS

typedef struct _McuDtls McuDtls;

typedef enum
{
  MCU_DTLS_ROLE_CLIENT, /* a=setup:active: we send the ClientHello */
  MCU_DTLS_ROLE_SERVER, /* a=setup:passive */
} McuDtlsRole;

typedef enum
{
  MCU_DTLS_STATE_NEW,
  MCU_DTLS_STATE_CONNECTING,
  MCU_DTLS_STATE_CONNECTED,
  MCU_DTLS_STATE_FAILED,
  MCU_DTLS_STATE_CLOSED, /* the peer sent close_notify, or mcu_dtls_close() */
} McuDtlsState;

typedef struct
{
  /* Sends one datagram to the peer; return FALSE when it could not be sent (the
   * retransmission timer covers losses). Required. */
  gboolean (*send) (McuDtls *dtls, const guint8 *buf, gsize len, gpointer user_data);
  /* The handshake finished: @srtp (transfer full) is keyed for this peer. */
  void (*connected) (McuDtls *dtls, McuSrtp *srtp, gpointer user_data);
  /* The handshake failed (@error: MCU_ERROR_DTLS) or the peer closed (@error NULL). */
  void (*ended) (McuDtls *dtls, const GError *error, gpointer user_data);
} McuDtlsCallbacks;

/**
 * mcu_dtls_new:
 * @context: (transfer none) (nullable): where the retransmission timer runs
 * @cert: (transfer none): our certificate (a reference is taken)
 * @role: client or server
 * @remote_fingerprint: (transfer none): "sha-256 AB:..." from the remote SDP; the
 *   handshake is aborted unless the peer's certificate hashes to it
 * @profiles: (array length=n_profiles) (nullable): SRTP profiles in order of
 *   preference; NULL = AEAD_AES_128_GCM then AES128_CM_SHA1_80
 * @callbacks: (transfer none): copied
 * @error: MCU_ERROR_INVALID for a missing fingerprint or an unknown profile,
 *   MCU_ERROR_DTLS when OpenSSL refuses the set-up
 *
 * Returns: (transfer full) (nullable): the handshake, free with mcu_dtls_free().
 */
McuDtls *mcu_dtls_new (GMainContext *context, McuCert *cert, McuDtlsRole role,
                       const char *remote_fingerprint, const McuSrtpProfile *profiles,
                       guint n_profiles, const McuDtlsCallbacks *callbacks,
                       gpointer user_data, GError **error);

/** mcu_dtls_free: Frees @dtls without callbacks; NULL is accepted. */
void mcu_dtls_free (McuDtls *dtls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuDtls, mcu_dtls_free)

/**
 * mcu_dtls_start:
 * Starts the handshake once the transport is up: a client sends its ClientHello
 * (and retransmits it, starting after 100 ms); a server waits for one.
 */
void mcu_dtls_start (McuDtls *dtls);

/**
 * mcu_dtls_receive:
 * @buf: (transfer none): one DTLS datagram from the peer
 *
 * Feeds a datagram. Callbacks may run inside this call.
 * Returns: TRUE when OpenSSL accepted the datagram as part of this association
 * (usable as consent evidence): during the handshake, a handshake message it
 * parsed (or the peer's verified Finished); once connected, a record that
 * decrypted and authenticated under the association's keys. FALSE for anything
 * OpenSSL discarded, whatever bytes it held.
 */
gboolean mcu_dtls_receive (McuDtls *dtls, const guint8 *buf, gsize len);

/** mcu_dtls_close: Sends close_notify when connected; state becomes CLOSED. */
void mcu_dtls_close (McuDtls *dtls);

/** mcu_dtls_get_state: Returns: the state. */
McuDtlsState mcu_dtls_get_state (McuDtls *dtls);

/** mcu_dtls_get_profile: Returns: the negotiated profile, 0 before connecting. */
McuSrtpProfile mcu_dtls_get_profile (McuDtls *dtls);

/** mcu_dtls_get_retransmissions: Returns: how many times a flight timed out. */
guint mcu_dtls_get_retransmissions (McuDtls *dtls);

G_END_DECLS
