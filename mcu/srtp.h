/* srtp.h: McuSrtp, one SRTP/SRTCP session pair over libsrtp2 (RFC 3711, RFC 7714).
 *
 * One McuSrtp holds both directions of one transport: an outbound session keyed with
 * our local key (protect) and an inbound session keyed with the peer's (unprotect).
 * Both sessions match any SSRC; replay protection is on. The per-packet functions
 * work in place, allocate nothing and return a McuSrtpStatus code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* DTLS-SRTP protection profile identifiers (RFC 5764 section 4.1.2, RFC 7714
 * section 14.2). AEAD_AES_128_GCM is preferred. */
typedef enum
{
  MCU_SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007,  /* RFC 7714, DTLS-SRTP id */
  MCU_SRTP_PROFILE_AES128_CM_SHA1_80 = 0x0001, /* RFC 3711 default */
} McuSrtpProfile;

/* Return codes of the per-packet functions: 0 or negative. */
typedef enum
{
  MCU_SRTP_OK = 0,
  MCU_SRTP_ERR_REPLAY = -1,  /* already seen, or too old for the replay window */
  MCU_SRTP_ERR_AUTH = -2,    /* authentication tag did not verify */
  MCU_SRTP_ERR_TOO_BIG = -3, /* protecting would exceed the buffer capacity */
  MCU_SRTP_ERR_INVALID = -4, /* malformed or truncated packet, or other failure */
} McuSrtpStatus;

/**
 * mcu_srtp_profile_key_len:
 * Returns: the master key length in bytes of @p (16 for both profiles), 0 for an
 * unknown profile.
 */
gsize mcu_srtp_profile_key_len (McuSrtpProfile p);

/**
 * mcu_srtp_profile_salt_len:
 * Returns: the master salt length in bytes of @p (12 for GCM, 14 for CM), 0 for an
 * unknown profile.
 */
gsize mcu_srtp_profile_salt_len (McuSrtpProfile p);

/**
 * mcu_srtp_profile_name:
 * Returns: (transfer none): the RFC name of @p ("AEAD_AES_128_GCM",
 * "AES_CM_128_HMAC_SHA1_80"), or "unknown".
 */
const char *mcu_srtp_profile_name (McuSrtpProfile p);

/* One direction pair: outbound (local key) + inbound (remote key). */
typedef struct _McuSrtp McuSrtp;

/**
 * mcu_srtp_new:
 * @p: the negotiated profile
 * @local_key_salt: (transfer none): our master key || master salt, exactly
 *   key_len + salt_len bytes; used to protect what we send
 * @remote_key_salt: (transfer none): the peer's master key || master salt, same
 *   length; used to unprotect what we receive
 * @error: MCU_ERROR_UNSUPPORTED for an unknown profile, MCU_ERROR_SRTP when libsrtp
 *   refuses the policy
 *
 * Creates both sessions. The key bytes are copied; the caller may wipe its copies.
 * Returns: (transfer full) (nullable): the new session pair, free with
 * mcu_srtp_free().
 */
McuSrtp *mcu_srtp_new (McuSrtpProfile p, const guint8 *local_key_salt,
                       const guint8 *remote_key_salt, GError **error);

/**
 * mcu_srtp_free:
 * Frees @s and wipes its keys. NULL is accepted.
 */
void mcu_srtp_free (McuSrtp *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuSrtp, mcu_srtp_free)

/**
 * mcu_srtp_get_profile:
 * Returns: the profile @s was created with.
 */
McuSrtpProfile mcu_srtp_get_profile (const McuSrtp *s);

/**
 * mcu_srtp_protect_rtp:
 * @s: the session pair
 * @buf: (inout): a plain RTP packet, encrypted in place
 * @len: (inout): its length; on success the SRTP length (grows by the auth tag)
 * @cap: the capacity of @buf in bytes
 *
 * Protecting the same sequence number again is allowed within the replay window
 * of 1,024 packets (a retransmission answering a NACK keeps its original number).
 * Returns: MCU_SRTP_OK, or MCU_SRTP_ERR_TOO_BIG when @cap cannot hold the trailer,
 * MCU_SRTP_ERR_INVALID for a malformed packet, MCU_SRTP_ERR_REPLAY for a sequence
 * number older than the window. No allocation.
 */
int mcu_srtp_protect_rtp (McuSrtp *s, guint8 *buf, gsize *len, gsize cap);

/**
 * mcu_srtp_unprotect_rtp:
 * @s: the session pair
 * @buf: (inout): an SRTP packet, decrypted in place
 * @len: (inout): its length; on success the plain RTP length
 *
 * Returns: MCU_SRTP_OK, MCU_SRTP_ERR_REPLAY, MCU_SRTP_ERR_AUTH (also for plain RTP,
 * which carries no valid tag) or MCU_SRTP_ERR_INVALID. On failure @buf and @len
 * must be treated as garbage and dropped. No allocation.
 */
int mcu_srtp_unprotect_rtp (McuSrtp *s, guint8 *buf, gsize *len);

/**
 * mcu_srtp_protect_rtcp:
 * Like mcu_srtp_protect_rtp() for a (compound) RTCP packet; the packet grows by the
 * SRTCP index and the auth tag.
 */
int mcu_srtp_protect_rtcp (McuSrtp *s, guint8 *buf, gsize *len, gsize cap);

/**
 * mcu_srtp_unprotect_rtcp:
 * Like mcu_srtp_unprotect_rtp() for an SRTCP packet.
 */
int mcu_srtp_unprotect_rtcp (McuSrtp *s, guint8 *buf, gsize *len);

/**
 * mcu_srtp_status_name:
 * Returns: (transfer none): a short name of a McuSrtpStatus code, for logs.
 */
const char *mcu_srtp_status_name (int status);

G_END_DECLS
