/* srtp.c: McuSrtp, the wrapper around libsrtp2 (see srtp.h). All of libsrtp's quirks
 * live here: its global init, its int lengths, its unchecked trailer writes. */
#include "srtp.h"
#include "lt-config.h"
#include "mcu-error.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <string.h>
#include <srtp2/srtp.h>
#if LT_SRTP_NSS
#include <nss.h>
#endif

#define MCU_SRTP_MAX_KEY_SALT 30
/* Inbound replay window in packets: video keyframes arrive as bursts that the
 * network may reorder; 128 (libsrtp's default) drops late packets we could use. */
#define MCU_SRTP_REPLAY_WINDOW 1024
#define MCU_SRTCP_INDEX_LEN 4

struct _McuSrtp
{
  McuSrtpProfile profile;
  srtp_t out; /* protect: our key, any outbound SSRC */
  srtp_t in;  /* unprotect: the peer's key, any inbound SSRC */
  gsize rtp_trailer;
  gsize rtcp_trailer;
};

gsize
mcu_srtp_profile_key_len (McuSrtpProfile p)
{
  switch (p)
    {
    case MCU_SRTP_PROFILE_AEAD_AES_128_GCM:
    case MCU_SRTP_PROFILE_AES128_CM_SHA1_80:
      return 16;
    default:
      return 0;
    }
}

gsize
mcu_srtp_profile_salt_len (McuSrtpProfile p)
{
  switch (p)
    {
    case MCU_SRTP_PROFILE_AEAD_AES_128_GCM:
      return 12;
    case MCU_SRTP_PROFILE_AES128_CM_SHA1_80:
      return 14;
    default:
      return 0;
    }
}

const char *
mcu_srtp_profile_name (McuSrtpProfile p)
{
  switch (p)
    {
    case MCU_SRTP_PROFILE_AEAD_AES_128_GCM:
      return "AEAD_AES_128_GCM";
    case MCU_SRTP_PROFILE_AES128_CM_SHA1_80:
      return "AES_CM_128_HMAC_SHA1_80";
    default:
      return "unknown";
    }
}

const char *
mcu_srtp_status_name (int status)
{
  switch (status)
    {
    case MCU_SRTP_OK:
      return "ok";
    case MCU_SRTP_ERR_REPLAY:
      return "replay";
    case MCU_SRTP_ERR_AUTH:
      return "auth";
    case MCU_SRTP_ERR_TOO_BIG:
      return "too-big";
    case MCU_SRTP_ERR_INVALID:
      return "invalid";
    default:
      return "unknown";
    }
}

/* A libsrtp2 built on NSS (Debian's) initialises NSS itself on its first cipher
 * with NSS_INIT_OPTIMIZESPACE, which gives softoken 32-bucket hash tables for its
 * sessions and objects. Each key libsrtp imports is an object holding a session
 * of its own (four per McuSrtp), and every GCM or ICM operation opens a session
 * (walking a session bucket for a free handle) and looks its key up by handle
 * (walking an object bucket): with a node's thousand or more keys those walks
 * were the largest single cost of a protect (a third of the video thread's CPU
 * in bench-relay's real row). NSS keeps the tables of its first initialisation,
 * so we initialise it first, without that flag (1,024 buckets each); libsrtp's
 * own NSS_InitContext() then only adds a reference. The context lives as long as
 * the process. Nothing to do when libsrtp does its crypto elsewhere, or when NSS
 * was already up (GStreamer's srtp elements initialised libsrtp first). */
static void
mcu_srtp_nss_init (void)
{
#if LT_SRTP_NSS
  if (NSS_IsInitialized ())
    return;
  if (NSS_InitContext ("", "", "", "", NULL,
                       NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB
                           | NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT)
      == NULL)
    g_debug ("NSS_InitContext failed: libsrtp initialises NSS itself");
#endif
}

/* srtp_init() registers libsrtp's ciphers in a process-wide kernel and is not safe
 * to call concurrently; every McuSrtp goes through this once. In a process where
 * GStreamer's srtp plugin initialised libsrtp first (webrtcbin, srtpenc), the
 * second srtp_init() fails although the kernel is ready: that failure is not ours
 * to report, and a real problem still shows when a session is created. */
static srtp_err_status_t
mcu_srtp_global_init (void)
{
  static gsize done = 0;
  static srtp_err_status_t result = srtp_err_status_ok;

  if (g_once_init_enter (&done))
    {
      mcu_srtp_nss_init ();
      result = srtp_init ();
      if (result != srtp_err_status_ok)
        {
          g_debug ("srtp_init: %d, libsrtp already initialised in this process",
                   (int)result);
          result = srtp_err_status_ok;
        }
      g_once_init_leave (&done, 1);
    }
  return result;
}

static void
mcu_srtp_set_crypto (McuSrtpProfile p, srtp_policy_t *policy)
{
  if (p == MCU_SRTP_PROFILE_AEAD_AES_128_GCM)
    {
      srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth (&policy->rtcp);
    }
  else
    {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtcp);
    }
}

/* libsrtp reads policy->key during srtp_create() only (it derives session keys at
 * once), so the stack copy below and the policy that points at it are wiped right
 * after, with OPENSSL_cleanse: a plain memset of a buffer about to die may be
 * optimised away. allow_repeat_tx lets the
 * router resend a stored packet with its original sequence number when it answers a
 * NACK; without it libsrtp refuses to protect the same index twice. */
static srtp_err_status_t
mcu_srtp_create_one (McuSrtpProfile p, const guint8 *key_salt, gsize key_salt_len,
                     gboolean outbound, srtp_t *out)
{
  guint8 key[MCU_SRTP_MAX_KEY_SALT];
  srtp_policy_t policy;

  memset (&policy, 0, sizeof policy);
  memcpy (key, key_salt, key_salt_len);
  mcu_srtp_set_crypto (p, &policy);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = MCU_SRTP_REPLAY_WINDOW;
  policy.allow_repeat_tx = outbound ? 1 : 0;
  policy.next = NULL;

  srtp_err_status_t st = srtp_create (out, &policy);
  OPENSSL_cleanse (key, sizeof key);
  OPENSSL_cleanse (&policy, sizeof policy);
  return st;
}

McuSrtp *
mcu_srtp_new (McuSrtpProfile p, const guint8 *local_key_salt,
              const guint8 *remote_key_salt, GError **error)
{
  g_return_val_if_fail (local_key_salt != NULL, NULL);
  g_return_val_if_fail (remote_key_salt != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gsize ks_len = mcu_srtp_profile_key_len (p) + mcu_srtp_profile_salt_len (p);
  if (ks_len == 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                   "SRTP protection profile 0x%04x is not supported", (guint)p);
      return NULL;
    }

  srtp_err_status_t st = mcu_srtp_global_init ();
  if (st != srtp_err_status_ok)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_SRTP, "srtp_init failed (%d)", (int)st);
      return NULL;
    }

  McuSrtp *s = g_new0 (McuSrtp, 1);
  s->profile = p;
  if (p == MCU_SRTP_PROFILE_AEAD_AES_128_GCM)
    {
      s->rtp_trailer = 16;
      s->rtcp_trailer = 16 + MCU_SRTCP_INDEX_LEN;
    }
  else
    {
      s->rtp_trailer = 10;
      s->rtcp_trailer = 10 + MCU_SRTCP_INDEX_LEN;
    }

  st = mcu_srtp_create_one (p, local_key_salt, ks_len, TRUE, &s->out);
  if (st == srtp_err_status_ok)
    st = mcu_srtp_create_one (p, remote_key_salt, ks_len, FALSE, &s->in);
  if (st != srtp_err_status_ok)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_SRTP,
                   "libsrtp refused the %s policy (error %d)", mcu_srtp_profile_name (p),
                   (int)st);
      mcu_srtp_free (s);
      return NULL;
    }
  return s;
}

void
mcu_srtp_free (McuSrtp *s)
{
  if (s == NULL)
    return;
  /* srtp_dealloc() zeroes the stream keys before freeing them. */
  if (s->out != NULL)
    srtp_dealloc (s->out);
  if (s->in != NULL)
    srtp_dealloc (s->in);
  g_free (s);
}

McuSrtpProfile
mcu_srtp_get_profile (const McuSrtp *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->profile;
}

static int
mcu_srtp_map_status (srtp_err_status_t st)
{
  switch (st)
    {
    case srtp_err_status_ok:
      return MCU_SRTP_OK;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return MCU_SRTP_ERR_REPLAY;
    case srtp_err_status_auth_fail:
      return MCU_SRTP_ERR_AUTH;
    default:
      return MCU_SRTP_ERR_INVALID;
    }
}

/* libsrtp writes its trailer past *len without knowing the buffer's size, so the
 * capacity check happens here, with the exact trailer of the profile. */
static int
mcu_srtp_protect_common (McuSrtp *s, guint8 *buf, gsize *len, gsize cap, gsize min_len,
                         gsize trailer, gboolean rtcp)
{
  if (s == NULL || buf == NULL || len == NULL)
    return MCU_SRTP_ERR_INVALID;
  if (*len < min_len || (buf[0] >> 6) != 2)
    return MCU_SRTP_ERR_INVALID;
  if (*len > (gsize)INT_MAX - trailer || cap < *len + trailer)
    return MCU_SRTP_ERR_TOO_BIG;

  int n = (int)*len;
  srtp_err_status_t st
      = rtcp ? srtp_protect_rtcp (s->out, buf, &n) : srtp_protect (s->out, buf, &n);
  if (st != srtp_err_status_ok)
    return mcu_srtp_map_status (st);
  *len = (gsize)n;
  return MCU_SRTP_OK;
}

static int
mcu_srtp_unprotect_common (McuSrtp *s, guint8 *buf, gsize *len, gsize min_len,
                           gboolean rtcp)
{
  if (s == NULL || buf == NULL || len == NULL)
    return MCU_SRTP_ERR_INVALID;
  if (*len < min_len || *len > (gsize)INT_MAX || (buf[0] >> 6) != 2)
    return MCU_SRTP_ERR_INVALID;

  int n = (int)*len;
  srtp_err_status_t st
      = rtcp ? srtp_unprotect_rtcp (s->in, buf, &n) : srtp_unprotect (s->in, buf, &n);
  if (st != srtp_err_status_ok)
    return mcu_srtp_map_status (st);
  if (n < 0 || (gsize)n > *len)
    return MCU_SRTP_ERR_INVALID;
  *len = (gsize)n;
  return MCU_SRTP_OK;
}

int
mcu_srtp_protect_rtp (McuSrtp *s, guint8 *buf, gsize *len, gsize cap)
{
  return mcu_srtp_protect_common (s, buf, len, cap, 12, s ? s->rtp_trailer : 0, FALSE);
}

int
mcu_srtp_unprotect_rtp (McuSrtp *s, guint8 *buf, gsize *len)
{
  /* A header and a full tag at least: anything shorter cannot authenticate. */
  return mcu_srtp_unprotect_common (s, buf, len, 12 + (s ? s->rtp_trailer : 0), FALSE);
}

int
mcu_srtp_protect_rtcp (McuSrtp *s, guint8 *buf, gsize *len, gsize cap)
{
  return mcu_srtp_protect_common (s, buf, len, cap, 8, s ? s->rtcp_trailer : 0, TRUE);
}

int
mcu_srtp_unprotect_rtcp (McuSrtp *s, guint8 *buf, gsize *len)
{
  return mcu_srtp_unprotect_common (s, buf, len, 8 + (s ? s->rtcp_trailer : 0), TRUE);
}
