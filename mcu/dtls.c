/* dtls.c: McuDtls over OpenSSL 3.0 DTLS.
 *
 * Records go out through a small custom BIO whose write sends each write as one
 * datagram (a memory BIO would glue a flight's datagrams together), and come in
 * through a memory BIO fed one datagram at a time, so record boundaries hold in
 * both directions. */
#include "dtls.h"
#include "cert-private.h"
#include "mcu-error.h"

#include <gst/gst.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_dtls_debug);
#define GST_CAT_DEFAULT mcu_dtls_debug

/* Records are kept under a conservative path MTU: ICE may run over a TURN relay
 * and IPv6, and a fragmented handshake datagram is often lost. */
#define DTLS_MTU 1200
/* The first flight is retransmitted after 100 ms rather than OpenSSL's 1 s, then
 * doubling to a 2 s ceiling; OpenSSL gives up after 12 timeouts (~17 s). */
#define DTLS_FIRST_TIMEOUT_US 100000
#define DTLS_MAX_TIMEOUT_US 2000000
#define EXPORT_LABEL "EXTRACTOR-dtls_srtp"
/* Forward-secret AEAD suites first. Our own certificate is ECDSA, so as a server we
 * pick an ECDSA suite; the RSA ones are there for peers whose certificate is RSA
 * (GStreamer's dtls elements, many hardware endpoints), which as DTLS servers
 * could otherwise find no shared cipher with us. */
#define DTLS_CIPHERS                                           \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"

struct _McuDtls
{
  GMainContext *context;
  McuCert *cert;
  McuDtlsRole role;
  char *remote_fingerprint;
  McuDtlsCallbacks cb;
  gpointer user_data;
  McuDtlsState state;
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio; /* owned by ssl */
  GSource *timer;
  McuSrtpProfile profile;
  guint retransmissions;
  gboolean fingerprint_mismatch;
  char *seen_fingerprint;
  /* during mcu_dtls_receive() only: set when OpenSSL accepted what it was fed (see
   * there); NULL again before any callback, which may free @dtls */
  gboolean *accepted;
};

static BIO_METHOD *send_bio_method;

static int
send_bio_write (BIO *bio, const char *data, int len)
{
  McuDtls *dtls = BIO_get_data (bio);
  if (len <= 0)
    return 0;
  if (!dtls->cb.send (dtls, (const guint8 *)data, (gsize)len, dtls->user_data))
    GST_DEBUG ("dtls %p: a %d-byte datagram could not be sent", dtls, len);
  /* A lost datagram is for the retransmission timer, not an I/O error. */
  return len;
}

static long
send_bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 0;
    default:
      return 0;
    }
}

static int
send_bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static void
dtls_global_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_dtls_debug, "mcu-dtls", 0, "DTLS-SRTP handshake");
      BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK,
                                    "lienthong-dtls-send");
      BIO_meth_set_write (m, send_bio_write);
      BIO_meth_set_ctrl (m, send_bio_ctrl);
      BIO_meth_set_create (m, send_bio_create);
      send_bio_method = m;
      g_once_init_leave (&once, 1);
    }
}

static void
dtls_timer_stop (McuDtls *dtls)
{
  if (dtls->timer != NULL)
    {
      g_source_destroy (dtls->timer);
      g_clear_pointer (&dtls->timer, g_source_unref);
    }
}

static void dtls_arm_timer (McuDtls *dtls);
static void dtls_fail (McuDtls *dtls, const char *why);

static gboolean
dtls_timer_fired (gpointer data)
{
  McuDtls *dtls = data;
  g_clear_pointer (&dtls->timer, g_source_unref);
  if (dtls->state != MCU_DTLS_STATE_CONNECTING)
    return G_SOURCE_REMOVE;
  if (DTLSv1_handle_timeout (dtls->ssl) < 0)
    {
      dtls_fail (dtls, "no answer from the peer after repeated retransmissions");
      return G_SOURCE_REMOVE;
    }
  dtls_arm_timer (dtls);
  return G_SOURCE_REMOVE;
}

/* OpenSSL only tells how long until its timer expires; the main loop must call
 * DTLSv1_handle_timeout() then. Re-armed after every step of the handshake. */
static void
dtls_arm_timer (McuDtls *dtls)
{
  dtls_timer_stop (dtls);
  struct timeval tv = { 0, 0 };
  if (dtls->state != MCU_DTLS_STATE_CONNECTING
      || DTLSv1_get_timeout (dtls->ssl, &tv) != 1)
    return;
  guint ms = (guint)tv.tv_sec * 1000 + (guint)(tv.tv_usec + 999) / 1000;
  dtls->timer = g_timeout_source_new (ms);
  g_source_set_callback (dtls->timer, dtls_timer_fired, dtls, NULL);
  g_source_attach (dtls->timer, dtls->context);
}

static unsigned int
dtls_timer_cb (SSL *ssl, unsigned int timer_us)
{
  McuDtls *dtls = SSL_get_app_data (ssl);
  if (timer_us == 0)
    return DTLS_FIRST_TIMEOUT_US;
  dtls->retransmissions++;
  return MIN (timer_us * 2, DTLS_MAX_TIMEOUT_US);
}

/* OpenSSL calls this for every handshake message and change_cipher_spec it has
 * read and parsed (record headers, reported before any check, are ignored here).
 * During the handshake that is the evidence that a datagram belonged to it. Once
 * connected, handshake messages (a stray or forged epoch-0 one) are not evidence:
 * only records that decrypt under the association's keys are (dtls_drive). */
static void
dtls_msg_cb (int write_p, int version, int content_type, const void *buf, size_t len,
             SSL *ssl, void *arg)
{
  McuDtls *dtls = arg;
  if (write_p || dtls->accepted == NULL || dtls->state != MCU_DTLS_STATE_CONNECTING)
    return;
  if (content_type == SSL3_RT_HANDSHAKE || content_type == SSL3_RT_CHANGE_CIPHER_SPEC)
    *dtls->accepted = TRUE;
}

/* Replaces chain validation: a WebRTC peer's certificate is self-signed and what
 * authenticates it is the fingerprint the signalling channel carried (RFC 8122). */
static int
dtls_verify_cb (X509_STORE_CTX *store, void *arg)
{
  McuDtls *dtls = arg;
  X509 *peer = X509_STORE_CTX_get0_cert (store);
  g_free (dtls->seen_fingerprint);
  dtls->seen_fingerprint = mcu_cert_fingerprint_of (peer);
  if (dtls->seen_fingerprint != NULL
      && mcu_cert_fingerprint_equal (dtls->seen_fingerprint, dtls->remote_fingerprint))
    return 1;
  dtls->fingerprint_mismatch = TRUE;
  X509_STORE_CTX_set_error (store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

static void
dtls_fail (McuDtls *dtls, const char *why)
{
  dtls_timer_stop (dtls);
  dtls->state = MCU_DTLS_STATE_FAILED;
  unsigned long e = ERR_get_error ();
  char ossl[256] = "";
  if (e != 0)
    ERR_error_string_n (e, ossl, sizeof ossl);
  /* Failing after the handshake finished (no SRTP profile, keys refused): the
   * peer believes it is connected, so tell it with close_notify. */
  if (SSL_is_init_finished (dtls->ssl))
    (void)SSL_shutdown (dtls->ssl);
  ERR_clear_error ();
  g_autoptr (GError) error = NULL;
  if (dtls->fingerprint_mismatch)
    error = g_error_new (MCU_ERROR, MCU_ERROR_DTLS,
                         "DTLS handshake aborted: the peer's certificate is %s, the SDP "
                         "announced %s",
                         dtls->seen_fingerprint ? dtls->seen_fingerprint : "unknown",
                         dtls->remote_fingerprint);
  else
    error = g_error_new (MCU_ERROR, MCU_ERROR_DTLS, "DTLS handshake failed: %s%s%s", why,
                         *ossl ? ": " : "", ossl);
  g_message ("dtls %p (%s): %s", dtls,
             dtls->role == MCU_DTLS_ROLE_CLIENT ? "client" : "server", error->message);
  dtls->accepted = NULL;
  if (dtls->cb.ended)
    dtls->cb.ended (dtls, error, dtls->user_data);
}

/* RFC 5764 section 4.2: the exporter output is client key, server key, client salt,
 * server salt; each side protects with its own role's key and salt. */
static void
dtls_finish (McuDtls *dtls)
{
  dtls_timer_stop (dtls);
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile (dtls->ssl);
  X509 *peer = SSL_get0_peer_certificate (dtls->ssl);
  g_autofree char *fp = mcu_cert_fingerprint_of (peer);
  if (fp == NULL || !mcu_cert_fingerprint_equal (fp, dtls->remote_fingerprint))
    {
      dtls->fingerprint_mismatch = TRUE;
      dtls_fail (dtls, "peer certificate missing or unverified");
      return;
    }
  if (p == NULL)
    {
      dtls_fail (dtls, "the peer negotiated no SRTP profile (use_srtp)");
      return;
    }
  McuSrtpProfile profile = (McuSrtpProfile)p->id;
  gsize k = mcu_srtp_profile_key_len (profile), s = mcu_srtp_profile_salt_len (profile);
  /* every copy of the keying material is wiped on every path out, with
   * OPENSSL_cleanse (a memset of buffers about to die may be optimised away) */
  guint8 km[2 * (32 + 14)];
  guint8 client[32 + 14], server[32 + 14];
  McuSrtp *srtp = NULL;
  g_autoptr (GError) error = NULL;
  gboolean exported
      = k != 0 && k + s <= sizeof client
        && SSL_export_keying_material (dtls->ssl, km, 2 * (k + s), EXPORT_LABEL,
                                       strlen (EXPORT_LABEL), NULL, 0, 0)
               == 1;
  if (exported)
    {
      memcpy (client, km, k);
      memcpy (server, km + k, k);
      memcpy (client + k, km + 2 * k, s);
      memcpy (server + k, km + 2 * k + s, s);
      gboolean is_client = dtls->role == MCU_DTLS_ROLE_CLIENT;
      srtp = mcu_srtp_new (profile, is_client ? client : server,
                           is_client ? server : client, &error);
    }
  OPENSSL_cleanse (km, sizeof km);
  OPENSSL_cleanse (client, sizeof client);
  OPENSSL_cleanse (server, sizeof server);
  if (!exported)
    {
      dtls_fail (dtls, "cannot export SRTP keys");
      return;
    }
  if (srtp == NULL)
    {
      dtls_fail (dtls, error->message);
      return;
    }
  dtls->profile = profile;
  dtls->state = MCU_DTLS_STATE_CONNECTED;
  GST_INFO ("dtls %p: connected, %s, %u retransmissions", dtls,
            mcu_srtp_profile_name (profile), dtls->retransmissions);
  /* the peer's Finished just verified: the flight it ended in was the peer's */
  if (dtls->accepted != NULL)
    *dtls->accepted = TRUE;
  dtls->accepted = NULL;
  if (dtls->cb.connected)
    dtls->cb.connected (dtls, srtp, dtls->user_data);
  else
    mcu_srtp_free (srtp);
}

/* Runs OpenSSL after new input or a start: the handshake until it wants more, then
 * (once connected) reads records to notice close_notify and fatal alerts. Any
 * callback is the last thing done, so a callback may free @dtls.
 * Returns: FALSE when a callback ran (@dtls may be gone), TRUE otherwise. */
static gboolean
dtls_drive (McuDtls *dtls)
{
  if (dtls->state == MCU_DTLS_STATE_CONNECTING)
    {
      int r = SSL_do_handshake (dtls->ssl);
      if (r == 1)
        {
          dtls_finish (dtls);
          return FALSE;
        }
      int err = SSL_get_error (dtls->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        {
          dtls_arm_timer (dtls);
          return TRUE;
        }
      dtls_fail (dtls, "handshake error");
      return FALSE;
    }
  if (dtls->state != MCU_DTLS_STATE_CONNECTED)
    return TRUE;
  guint8 buf[2048];
  for (;;)
    {
      int r = SSL_read (dtls->ssl, buf, sizeof buf);
      if (r > 0)
        {
          /* application data (a data channel: not offered, dropped), decrypted
           * and authenticated with the association's keys */
          if (dtls->accepted != NULL)
            *dtls->accepted = TRUE;
          continue;
        }
      int err = SSL_get_error (dtls->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return TRUE;
      ERR_clear_error ();
      dtls->state = MCU_DTLS_STATE_CLOSED;
      GST_INFO ("dtls %p: closed by the peer", dtls);
      dtls->accepted = NULL;
      if (dtls->cb.ended)
        dtls->cb.ended (dtls, NULL, dtls->user_data);
      return FALSE;
    }
}

static char *
profile_list (const McuSrtpProfile *profiles, guint n, GError **error)
{
  static const McuSrtpProfile defaults[]
      = { MCU_SRTP_PROFILE_AEAD_AES_128_GCM, MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  if (profiles == NULL || n == 0)
    {
      profiles = defaults;
      n = G_N_ELEMENTS (defaults);
    }
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      const char *name = NULL;
      if (profiles[i] == MCU_SRTP_PROFILE_AEAD_AES_128_GCM)
        name = "SRTP_AEAD_AES_128_GCM";
      else if (profiles[i] == MCU_SRTP_PROFILE_AES128_CM_SHA1_80)
        name = "SRTP_AES128_CM_SHA1_80";
      if (name == NULL)
        {
          g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "unknown SRTP profile 0x%04x",
                       (guint)profiles[i]);
          g_string_free (s, TRUE);
          return NULL;
        }
      g_string_append_printf (s, "%s%s", i ? ":" : "", name);
    }
  return g_string_free (s, FALSE);
}

static SSL_CTX *
dtls_make_ctx (McuDtls *dtls, const char *profiles, GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (DTLS_method ());
  if (ctx == NULL)
    return NULL;
  gboolean ok = SSL_CTX_set_min_proto_version (ctx, DTLS1_2_VERSION)
                && SSL_CTX_set_max_proto_version (ctx, DTLS1_2_VERSION)
                && SSL_CTX_use_certificate (ctx, mcu_cert_get_x509 (dtls->cert)) == 1
                && SSL_CTX_use_PrivateKey (ctx, mcu_cert_get_pkey (dtls->cert)) == 1
                && SSL_CTX_check_private_key (ctx) == 1
                && SSL_CTX_set_cipher_list (ctx, DTLS_CIPHERS) == 1
                /* this one returns 0 on success */
                && SSL_CTX_set_tlsext_use_srtp (ctx, profiles) == 0;
  if (!ok)
    {
      SSL_CTX_free (ctx);
      return NULL;
    }
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  SSL_CTX_set_cert_verify_callback (ctx, dtls_verify_cb, dtls);
  SSL_CTX_set_read_ahead (ctx, 1);
  return ctx;
}

McuDtls *
mcu_dtls_new (GMainContext *context, McuCert *cert, McuDtlsRole role,
              const char *remote_fingerprint, const McuSrtpProfile *profiles,
              guint n_profiles, const McuDtlsCallbacks *callbacks, gpointer user_data,
              GError **error)
{
  g_return_val_if_fail (cert != NULL && callbacks != NULL && callbacks->send != NULL,
                        NULL);
  dtls_global_init ();
  if (remote_fingerprint == NULL || !g_str_has_prefix (remote_fingerprint, "sha-256 "))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "a sha-256 remote fingerprint is required, got %s",
                   remote_fingerprint ? remote_fingerprint : "none");
      return NULL;
    }
  g_autofree char *plist = profile_list (profiles, n_profiles, error);
  if (plist == NULL)
    return NULL;

  g_autoptr (McuDtls) dtls = g_new0 (McuDtls, 1);
  dtls->context = g_main_context_ref (context ? context : g_main_context_default ());
  dtls->cert = mcu_cert_ref (cert);
  dtls->role = role;
  dtls->remote_fingerprint = g_strdup (remote_fingerprint);
  dtls->cb = *callbacks;
  dtls->user_data = user_data;
  dtls->ctx = dtls_make_ctx (dtls, plist, error);
  if (dtls->ctx != NULL)
    dtls->ssl = SSL_new (dtls->ctx);
  BIO *wbio = dtls->ssl ? BIO_new (send_bio_method) : NULL;
  dtls->rbio = wbio ? BIO_new (BIO_s_mem ()) : NULL;
  if (dtls->rbio == NULL)
    {
      BIO_free (wbio);
      unsigned long e = ERR_get_error ();
      ERR_clear_error ();
      g_set_error (error, MCU_ERROR, MCU_ERROR_DTLS,
                   "OpenSSL refused the DTLS set-up (%s)",
                   e ? ERR_reason_error_string (e) : "?");
      return NULL;
    }
  BIO_set_data (wbio, dtls);
  BIO_set_mem_eof_return (dtls->rbio, -1);
  SSL_set_bio (dtls->ssl, dtls->rbio, wbio);
  SSL_set_app_data (dtls->ssl, dtls);
  SSL_set_msg_callback (dtls->ssl, dtls_msg_cb);
  SSL_set_msg_callback_arg (dtls->ssl, dtls);
  SSL_set_options (dtls->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu (dtls->ssl, DTLS_MTU);
  DTLS_set_link_mtu (dtls->ssl, DTLS_MTU);
  DTLS_set_timer_cb (dtls->ssl, dtls_timer_cb);
  if (role == MCU_DTLS_ROLE_CLIENT)
    SSL_set_connect_state (dtls->ssl);
  else
    SSL_set_accept_state (dtls->ssl);
  return g_steal_pointer (&dtls);
}

void
mcu_dtls_free (McuDtls *dtls)
{
  if (dtls == NULL)
    return;
  dtls_timer_stop (dtls);
  SSL_free (dtls->ssl);
  SSL_CTX_free (dtls->ctx);
  mcu_cert_unref (dtls->cert);
  g_free (dtls->remote_fingerprint);
  g_free (dtls->seen_fingerprint);
  g_main_context_unref (dtls->context);
  g_free (dtls);
}

void
mcu_dtls_start (McuDtls *dtls)
{
  g_return_if_fail (dtls != NULL);
  if (dtls->state != MCU_DTLS_STATE_NEW)
    return;
  dtls->state = MCU_DTLS_STATE_CONNECTING;
  if (dtls->role == MCU_DTLS_ROLE_CLIENT)
    dtls_drive (dtls);
}

gboolean
mcu_dtls_receive (McuDtls *dtls, const guint8 *buf, gsize len)
{
  if (len == 0 || len > G_MAXINT)
    return FALSE;
  if (dtls->state == MCU_DTLS_STATE_NEW && dtls->role == MCU_DTLS_ROLE_SERVER)
    dtls->state = MCU_DTLS_STATE_CONNECTING; /* the ClientHello can beat ICE's news */
  if (dtls->state != MCU_DTLS_STATE_CONNECTING && dtls->state != MCU_DTLS_STATE_CONNECTED)
    return FALSE;
  /* One datagram at a time: the memory BIO is drained before the next one. */
  (void)BIO_reset (dtls->rbio);
  if (BIO_write (dtls->rbio, buf, (int)len) != (int)len)
    return FALSE;
  /* Bytes in the DTLS range prove nothing (anyone can send them, and OpenSSL drops
   * what it cannot use without a word): only what OpenSSL accepted counts. */
  gboolean accepted = FALSE;
  dtls->accepted = &accepted;
  if (dtls_drive (dtls))
    dtls->accepted = NULL; /* else a callback ran, which may have freed @dtls: every
                            * callback site cleared the pointer before */
  return accepted;
}

void
mcu_dtls_close (McuDtls *dtls)
{
  g_return_if_fail (dtls != NULL);
  dtls_timer_stop (dtls);
  if (dtls->state == MCU_DTLS_STATE_CONNECTED)
    {
      (void)SSL_shutdown (dtls->ssl);
      ERR_clear_error ();
    }
  if (dtls->state != MCU_DTLS_STATE_FAILED)
    dtls->state = MCU_DTLS_STATE_CLOSED;
}

McuDtlsState
mcu_dtls_get_state (McuDtls *dtls)
{
  return dtls->state;
}

McuSrtpProfile
mcu_dtls_get_profile (McuDtls *dtls)
{
  return dtls->profile;
}

guint
mcu_dtls_get_retransmissions (McuDtls *dtls)
{
  return dtls->retransmissions;
}
