/* Suite mcu-dtls: proves that two McuDtls, wired back to back in memory, complete
 * a DTLS 1.2 handshake, negotiate the preferred or the forced SRTP profile, and
 * export keys per RFC 5764 such that each side's McuSrtp decrypts what the other
 * protects (both directions, RTP and RTCP); that a fingerprint mismatch aborts
 * both sides with MCU_ERROR_DTLS; that a lost first flight is recovered by the
 * retransmission timer (started at 100 ms); and that close_notify ends the peer. */
#include "mcu.h"
#include "lt-test.h"
#include "mcutx-util.h"

typedef struct Peer Peer;
struct Peer
{
  McuDtls *dtls;
  Peer *other;
  GQueue inbox; /* GBytes waiting for delivery to this peer */
  McuSrtp *srtp;
  gboolean ended;
  GError *error;
  guint drop_next; /* test hook: lose this many datagrams sent to this peer */
  guint delivered;
};

static GMainContext *ctx;
static Peer peers[2];
static McuCert *certs[2];
static guint deliver_source;

static gboolean
deliver (gpointer data)
{
  deliver_source = 0;
  for (int i = 0; i < 2; i++)
    {
      GBytes *b;
      while ((b = g_queue_pop_head (&peers[i].inbox)) != NULL)
        {
          gsize len;
          const guint8 *d = g_bytes_get_data (b, &len);
          peers[i].delivered++;
          if (peers[i].dtls)
            mcu_dtls_receive (peers[i].dtls, d, len);
          g_bytes_unref (b);
        }
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_send (McuDtls *dtls, const guint8 *buf, gsize len, gpointer data)
{
  Peer *to = ((Peer *)data)->other;
  if (to->drop_next > 0)
    {
      to->drop_next--;
      return TRUE;
    }
  g_queue_push_tail (&to->inbox, g_bytes_new (buf, len));
  if (deliver_source == 0)
    {
      GSource *s = g_idle_source_new ();
      g_source_set_callback (s, deliver, NULL, NULL);
      deliver_source = g_source_attach (s, ctx);
      g_source_unref (s);
    }
  return TRUE;
}

static void
on_connected (McuDtls *dtls, McuSrtp *srtp, gpointer data)
{
  ((Peer *)data)->srtp = srtp;
}

static void
on_ended (McuDtls *dtls, const GError *error, gpointer data)
{
  Peer *p = data;
  p->ended = TRUE;
  if (error)
    p->error = g_error_copy (error);
}

static const McuDtlsCallbacks cbs = { on_send, on_connected, on_ended };

static void
setup (void)
{
  ctx = g_main_context_new ();
  memset (peers, 0, sizeof peers);
  peers[0].other = &peers[1];
  peers[1].other = &peers[0];
  certs[0] = mcu_cert_generate ("client", NULL);
  certs[1] = mcu_cert_generate ("server", NULL);
}

static void
teardown (void)
{
  for (int i = 0; i < 2; i++)
    {
      g_clear_pointer (&peers[i].dtls, mcu_dtls_free);
      g_clear_pointer (&peers[i].srtp, mcu_srtp_free);
      g_clear_error (&peers[i].error);
      g_queue_clear_full (&peers[i].inbox, (GDestroyNotify)g_bytes_unref);
      g_clear_pointer (&certs[i], mcu_cert_unref);
    }
  while (g_main_context_iteration (ctx, FALSE))
    ;
  deliver_source = 0;
  g_main_context_unref (ctx);
}

/* peers[0] is the client, peers[1] the server. */
static void
make (const McuSrtpProfile *pc, guint nc, const McuSrtpProfile *ps, guint ns,
      const char *client_expects)
{
  g_autoptr (GError) error = NULL;
  peers[0].dtls = mcu_dtls_new (ctx, certs[0], MCU_DTLS_ROLE_CLIENT,
                                client_expects ? client_expects
                                               : mcu_cert_get_fingerprint (certs[1]),
                                pc, nc, &cbs, &peers[0], &error);
  ck_assert_msg (peers[0].dtls != NULL, "%s", error ? error->message : "");
  peers[1].dtls = mcu_dtls_new (ctx, certs[1], MCU_DTLS_ROLE_SERVER,
                                mcu_cert_get_fingerprint (certs[0]), ps, ns, &cbs,
                                &peers[1], &error);
  ck_assert_msg (peers[1].dtls != NULL, "%s", error ? error->message : "");
}

static gboolean
both_done (gpointer data)
{
  for (int i = 0; i < 2; i++)
    if (peers[i].srtp == NULL && !peers[i].ended)
      return FALSE;
  return TRUE;
}

static void
handshake (void)
{
  mcu_dtls_start (peers[1].dtls);
  mcu_dtls_start (peers[0].dtls);
  ck_assert_msg (mcutx_wait (ctx, both_done, NULL, 20000), "handshake did not finish");
}

/* Each side's protect is the other side's unprotect, for RTP and RTCP. */
static void
assert_keys_match (void)
{
  for (int from = 0; from < 2; from++)
    {
      guint8 pkt[1500], copy[1500];
      gsize len = mcutx_rtp (pkt, 42, 0x1234, 300);
      memcpy (copy, pkt, len);
      gsize plen = len;
      ck_assert_int_eq (mcu_srtp_protect_rtp (peers[from].srtp, pkt, &plen, sizeof pkt),
                        MCU_SRTP_OK);
      ck_assert_uint_gt (plen, len);
      ck_assert (memcmp (pkt + 12, copy + 12, 16) != 0); /* encrypted */
      ck_assert_int_eq (mcu_srtp_unprotect_rtp (peers[1 - from].srtp, pkt, &plen),
                        MCU_SRTP_OK);
      ck_assert_uint_eq (plen, len);
      ck_assert (memcmp (pkt, copy, len) == 0);
      /* a side cannot decrypt its own packets: the two directions differ */
      len = mcutx_rtp (pkt, 43, 0x1234, 300);
      plen = len;
      mcu_srtp_protect_rtp (peers[from].srtp, pkt, &plen, sizeof pkt);
      ck_assert_int_ne (mcu_srtp_unprotect_rtp (peers[from].srtp, pkt, &plen),
                        MCU_SRTP_OK);

      len = mcutx_rtcp_rr (pkt, 0x99);
      memcpy (copy, pkt, len);
      plen = len;
      ck_assert_int_eq (mcu_srtp_protect_rtcp (peers[from].srtp, pkt, &plen, sizeof pkt),
                        MCU_SRTP_OK);
      ck_assert_int_eq (mcu_srtp_unprotect_rtcp (peers[1 - from].srtp, pkt, &plen),
                        MCU_SRTP_OK);
      ck_assert_uint_eq (plen, len);
      ck_assert (memcmp (pkt, copy, len) == 0);
    }
}

START_TEST (test_handshake_gcm)
{
  make (NULL, 0, NULL, 0, NULL);
  handshake ();
  ck_assert_ptr_nonnull (peers[0].srtp);
  ck_assert_ptr_nonnull (peers[1].srtp);
  ck_assert_int_eq (mcu_dtls_get_state (peers[0].dtls), MCU_DTLS_STATE_CONNECTED);
  ck_assert_int_eq (mcu_dtls_get_profile (peers[0].dtls),
                    MCU_SRTP_PROFILE_AEAD_AES_128_GCM);
  ck_assert_int_eq (mcu_srtp_get_profile (peers[1].srtp),
                    MCU_SRTP_PROFILE_AEAD_AES_128_GCM);
  assert_keys_match ();
}
END_TEST

START_TEST (test_handshake_cm_forced)
{
  static const McuSrtpProfile cm[] = { MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  make (NULL, 0, cm, 1, NULL);
  handshake ();
  ck_assert_int_eq (mcu_dtls_get_profile (peers[0].dtls),
                    MCU_SRTP_PROFILE_AES128_CM_SHA1_80);
  ck_assert_int_eq (mcu_srtp_get_profile (peers[0].srtp),
                    MCU_SRTP_PROFILE_AES128_CM_SHA1_80);
  assert_keys_match ();
}
END_TEST

START_TEST (test_no_common_profile)
{
  static const McuSrtpProfile cm[] = { MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  static const McuSrtpProfile gcm[] = { MCU_SRTP_PROFILE_AEAD_AES_128_GCM };
  make (gcm, 1, cm, 1, NULL);
  handshake ();
  /* no SRTP profile in common: nobody may end up with keys */
  ck_assert_ptr_null (peers[0].srtp);
  ck_assert_ptr_null (peers[1].srtp);
  ck_assert (peers[0].error || peers[1].error);
}
END_TEST

START_TEST (test_wrong_fingerprint)
{
  /* the client expects its own fingerprint instead of the server's */
  make (NULL, 0, NULL, 0, mcu_cert_get_fingerprint (certs[0]));
  handshake ();
  for (int i = 0; i < 2; i++)
    {
      ck_assert_msg (peers[i].ended && peers[i].error, "peer %d did not fail", i);
      ck_assert (g_error_matches (peers[i].error, MCU_ERROR, MCU_ERROR_DTLS));
      ck_assert_ptr_null (peers[i].srtp);
      ck_assert_int_eq (mcu_dtls_get_state (peers[i].dtls), MCU_DTLS_STATE_FAILED);
    }
  ck_assert_ptr_nonnull (strstr (peers[0].error->message, "SDP announced"));
}
END_TEST

START_TEST (test_lost_first_flight)
{
  make (NULL, 0, NULL, 0, NULL);
  peers[1].drop_next = 1; /* the ClientHello is lost */
  handshake ();
  ck_assert_ptr_nonnull (peers[0].srtp);
  ck_assert_ptr_nonnull (peers[1].srtp);
  ck_assert_uint_ge (mcu_dtls_get_retransmissions (peers[0].dtls), 1);
  assert_keys_match ();
}
END_TEST

static gboolean
server_ended (gpointer data)
{
  return peers[1].ended;
}

START_TEST (test_close_notify)
{
  make (NULL, 0, NULL, 0, NULL);
  handshake ();
  mcu_dtls_close (peers[0].dtls);
  ck_assert_int_eq (mcu_dtls_get_state (peers[0].dtls), MCU_DTLS_STATE_CLOSED);
  ck_assert (mcutx_wait (ctx, server_ended, NULL, 5000));
  ck_assert_ptr_null (peers[1].error);
  ck_assert_int_eq (mcu_dtls_get_state (peers[1].dtls), MCU_DTLS_STATE_CLOSED);
}
END_TEST

START_TEST (test_bad_parameters)
{
  g_autoptr (GError) error = NULL;
  ck_assert_ptr_null (mcu_dtls_new (ctx, certs[0], MCU_DTLS_ROLE_CLIENT, NULL, NULL, 0,
                                    &cbs, &peers[0], &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert_ptr_null (mcu_dtls_new (ctx, certs[0], MCU_DTLS_ROLE_CLIENT, "sha-1 AB:CD",
                                    NULL, 0, &cbs, &peers[0], &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  static const McuSrtpProfile bogus[] = { (McuSrtpProfile)0x0002 };
  ck_assert_ptr_null (mcu_dtls_new (ctx, certs[0], MCU_DTLS_ROLE_CLIENT,
                                    mcu_cert_get_fingerprint (certs[1]), bogus, 1, &cbs,
                                    &peers[0], &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-dtls");
  TCase *tc = tcase_create ("memory");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_handshake_gcm);
  tcase_add_test (tc, test_handshake_cm_forced);
  tcase_add_test (tc, test_no_common_profile);
  tcase_add_test (tc, test_wrong_fingerprint);
  tcase_add_test (tc, test_lost_first_flight);
  tcase_add_test (tc, test_close_notify);
  tcase_add_test (tc, test_bad_parameters);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
