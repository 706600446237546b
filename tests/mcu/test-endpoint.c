/* Suite mcu-endpoint: proves that two McuEndpoints in one process connect over
 * loopback (libnice ICE, OpenSSL DTLS 1.2, libsrtp) and carry SRTP and SRTCP both
 * ways with each SRTP profile, decrypting exactly what was sent; that a wrong
 * fingerprint fails the handshake on both sides with MCU_ERROR_DTLS; that replayed,
 * unencrypted, oversized and foreign packets never reach the packet callback and
 * are counted (foreign ones are dropped by libnice, see mcu/ice.c); and the
 * consent rule: with a 2 s consent timeout, 1 s of silence keeps the session and
 * 3 s ends it, and garbage in the DTLS range or unauthenticated RTP is no consent; that the parameters can come from a real sdp.h offer/answer; and
 * that an ICE restart keeps the DTLS association and SRTP keys; and that RTP and
 * RTCP sent at once from two threads are all protected and authenticated. */
#include "mcu.h"
#include "lt-test.h"
#include "mcutx-util.h"

#include <gio/gio.h>

static GMainContext *ctx;
static McuCert *cert_a, *cert_b;
static McutxSide side[2];

static void
setup (void)
{
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  cert_a = mcu_cert_generate ("a", NULL);
  cert_b = mcu_cert_generate ("b", NULL);
  ck_assert (cert_a && cert_b);
}

static void
teardown (void)
{
  mcutx_side_clear (&side[0]);
  mcutx_side_clear (&side[1]);
  g_clear_pointer (&cert_a, mcu_cert_unref);
  g_clear_pointer (&cert_b, mcu_cert_unref);
  /* let libnice's pending sources run down before the context goes */
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
}

static void
make_pair (const McuSrtpProfile *pa, guint na, const McuSrtpProfile *pb, guint nb,
           guint consent_ms)
{
  ck_assert (mcutx_side_init (&side[0], ctx, cert_a, TRUE, pa, na, consent_ms, "a"));
  ck_assert (mcutx_side_init (&side[1], ctx, cert_b, FALSE, pb, nb, consent_ms, "b"));
}

static void
assert_connected (void)
{
  for (int i = 0; i < 2; i++)
    {
      const GError *e = mcu_endpoint_get_error (side[i].ep);
      ck_assert_msg (mcu_endpoint_get_state (side[i].ep) == MCU_ENDPOINT_STATE_CONNECTED,
                     "side %d is %s: %s", i,
                     mcu_endpoint_state_name (mcu_endpoint_get_state (side[i].ep)),
                     e ? e->message : "no error");
    }
}

typedef struct
{
  McutxSide *s;
  guint want;
} Want;

static gboolean
got_packets (gpointer data)
{
  Want *w = data;
  return w->s->packets >= w->want;
}

static gboolean
got_rtcp (gpointer data)
{
  Want *w = data;
  return w->s->rtcp_packets >= w->want;
}

/* Sends one RTP packet each way and one RTCP report each way and checks the
 * plaintext arrived intact. */
static void
exchange_media (guint16 seq)
{
  for (int from = 0; from < 2; from++)
    {
      McutxSide *rx = &side[1 - from];
      guint8 pkt[1200];
      gsize len = mcutx_rtp (pkt, seq, 0x1000 + from, 1000);
      guint before = rx->packets;
      ck_assert_int_eq (mcu_endpoint_send_rtp (side[from].ep, pkt, len), MCU_SRTP_OK);
      Want w = { rx, before + 1 };
      ck_assert_msg (mcutx_wait (ctx, got_packets, &w, 5000), "RTP %d->%d not received",
                     from, 1 - from);
      ck_assert_uint_eq (rx->last_len, len);
      ck_assert (memcmp (rx->last, pkt, len) == 0);

      guint8 rr[8];
      gsize rlen = mcutx_rtcp_rr (rr, 0x1000 + from);
      before = rx->rtcp_packets;
      ck_assert_int_eq (mcu_endpoint_send_rtcp (side[from].ep, rr, rlen), MCU_SRTP_OK);
      Want wr = { rx, before + 1 };
      ck_assert_msg (mcutx_wait (ctx, got_rtcp, &wr, 5000), "RTCP %d->%d not received",
                     from, 1 - from);
      ck_assert_uint_eq (rx->last_len, rlen);
      ck_assert (memcmp (rx->last, rr, rlen) == 0);
    }
}

START_TEST (test_connect_gcm)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  /* both prefer GCM by default */
  ck_assert_int_eq (mcu_endpoint_get_srtp_profile (side[0].ep),
                    MCU_SRTP_PROFILE_AEAD_AES_128_GCM);
  ck_assert_int_eq (mcu_endpoint_get_srtp_profile (side[1].ep),
                    MCU_SRTP_PROFILE_AEAD_AES_128_GCM);
  ck_assert_str_eq (mcu_endpoint_get_local_setup (side[1].ep), "active");
  ck_assert_str_eq (mcu_endpoint_get_local_setup (side[0].ep), "passive");
  exchange_media (1);
  exchange_media (2);
  McuIcePair pair;
  ck_assert (mcu_ice_get_selected_pair (mcu_endpoint_get_ice (side[0].ep), &pair));
  ck_assert_str_eq (pair.local_type, "host");
  ck_assert (g_str_has_prefix (pair.local_address, "127.0.0.1:"));
  ck_assert (g_str_has_prefix (pair.remote_address, "127.0.0.1:"));
  /* the stable type names the statistics report carries: host/host on loopback */
  for (int i = 0; i < 2; i++)
    {
      const char *local = NULL, *remote = NULL;
      ck_assert (mcu_endpoint_get_pair_types (side[i].ep, &local, &remote));
      ck_assert_str_eq (local, "host");
      ck_assert_str_eq (remote, "host");
    }
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  ck_assert_uint_eq (c.rtp_in, 2);
  ck_assert_uint_eq (c.rtcp_in, 2);
  ck_assert_uint_eq (c.rtp_out, 2);
  ck_assert_uint_eq (c.bytes_in, 2 * 1012 + 2 * 8);
  ck_assert_uint_eq (c.dropped_auth + c.dropped_replay + c.dropped_plain
                         + c.dropped_unknown + c.dropped_oversize,
                     0);
  /* the states went new -> connecting -> connected, nothing else */
  ck_assert_uint_eq (side[1].states->len, 2);
  ck_assert_int_eq (g_array_index (side[1].states, McuEndpointState, 0),
                    MCU_ENDPOINT_STATE_CONNECTING);
  ck_assert_int_eq (g_array_index (side[1].states, McuEndpointState, 1),
                    MCU_ENDPOINT_STATE_CONNECTED);
}
END_TEST

START_TEST (test_connect_cm_forced)
{
  /* The answerer (DTLS client) offers only AES_CM: that is what must be chosen even
   * though the other side prefers GCM. */
  static const McuSrtpProfile cm[] = { MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  make_pair (NULL, 0, cm, 1, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  ck_assert_int_eq (mcu_endpoint_get_srtp_profile (side[0].ep),
                    MCU_SRTP_PROFILE_AES128_CM_SHA1_80);
  ck_assert_int_eq (mcu_endpoint_get_srtp_profile (side[1].ep),
                    MCU_SRTP_PROFILE_AES128_CM_SHA1_80);
  exchange_media (7);
}
END_TEST

START_TEST (test_connect_gcm_forced_server)
{
  /* The DTLS server insists on GCM only; the client offers both. */
  static const McuSrtpProfile gcm[] = { MCU_SRTP_PROFILE_AEAD_AES_128_GCM };
  static const McuSrtpProfile both[]
      = { MCU_SRTP_PROFILE_AES128_CM_SHA1_80, MCU_SRTP_PROFILE_AEAD_AES_128_GCM };
  make_pair (gcm, 1, both, 2, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  ck_assert_int_eq (mcu_endpoint_get_srtp_profile (side[1].ep),
                    MCU_SRTP_PROFILE_AEAD_AES_128_GCM);
  exchange_media (9);
}
END_TEST

START_TEST (test_wrong_fingerprint)
{
  make_pair (NULL, 0, NULL, 0, 0);
  /* side 1 expects a fingerprint that is not side 0's (cert_b's own, in fact) */
  ck_assert (mcutx_connect (ctx, side, mcu_cert_get_fingerprint (cert_b)));
  for (int i = 0; i < 2; i++)
    {
      ck_assert_int_eq (mcu_endpoint_get_state (side[i].ep), MCU_ENDPOINT_STATE_FAILED);
      const GError *e = mcu_endpoint_get_error (side[i].ep);
      ck_assert (e != NULL);
      ck_assert_msg (g_error_matches (e, MCU_ERROR, MCU_ERROR_DTLS), "side %d: %s", i,
                     e->message);
    }
  ck_assert_ptr_nonnull (
      strstr (mcu_endpoint_get_error (side[1].ep)->message, "SDP announced"));
  guint8 pkt[100];
  gsize len = mcutx_rtp (pkt, 1, 1, 50);
  ck_assert_int_ne (mcu_endpoint_send_rtp (side[1].ep, pkt, len), MCU_SRTP_OK);
  ck_assert_uint_eq (side[0].packets + side[1].packets, 0);
}
END_TEST

static gboolean
counter_reached (gpointer data)
{
  guint64 *p = data;
  return p[0] >= p[1];
}

/* Polls a counter of side 1 through a closure; the packets arrive asynchronously. */
typedef struct
{
  gsize offset;
  guint64 want;
} CounterWant;

static gboolean
side1_counter_reached (gpointer data)
{
  CounterWant *w = data;
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  return *(guint64 *)((guint8 *)&c + w->offset) >= w->want;
}

START_TEST (test_replay_plain_oversize_dropped)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  guint8 pkt[1200];
  gsize len = mcutx_rtp (pkt, 100, 0xabc, 200);
  ck_assert_int_eq (mcu_endpoint_send_rtp (side[0].ep, pkt, len), MCU_SRTP_OK);
  Want w = { &side[1], 1 };
  ck_assert (mcutx_wait (ctx, got_packets, &w, 5000));
  /* The same packet protected again carries the same SRTP index: a replay. */
  ck_assert_int_eq (mcu_endpoint_send_rtp (side[0].ep, pkt, len), MCU_SRTP_OK);
  CounterWant cw = { G_STRUCT_OFFSET (McuEndpointCounters, dropped_replay), 1 };
  ck_assert (mcutx_wait (ctx, side1_counter_reached, &cw, 5000));

  /* Plain RTP put on the wire directly: refused by authentication. */
  McuIce *ice0 = mcu_endpoint_get_ice (side[0].ep);
  len = mcutx_rtp (pkt, 101, 0xabc, 200);
  ck_assert (mcu_ice_send (ice0, pkt, len));
  cw = (CounterWant){ G_STRUCT_OFFSET (McuEndpointCounters, dropped_auth), 1 };
  ck_assert (mcutx_wait (ctx, side1_counter_reached, &cw, 5000));

  /* Over 1500 bytes: dropped before any parsing. */
  guint8 big[1600];
  mcutx_rtp (big, 102, 0xabc, sizeof big - 12);
  ck_assert (mcu_ice_send (ice0, big, sizeof big));
  cw = (CounterWant){ G_STRUCT_OFFSET (McuEndpointCounters, dropped_oversize), 1 };
  ck_assert (mcutx_wait (ctx, side1_counter_reached, &cw, 5000));

  /* Garbage in the unassigned range (RFC 7983): unknown. */
  guint8 junk[40] = { 100, 1, 2, 3 };
  ck_assert (mcu_ice_send (ice0, junk, sizeof junk));
  cw = (CounterWant){ G_STRUCT_OFFSET (McuEndpointCounters, dropped_unknown), 1 };
  ck_assert (mcutx_wait (ctx, side1_counter_reached, &cw, 5000));

  /* The session is unharmed: the next genuine packet arrives. */
  len = mcutx_rtp (pkt, 103, 0xabc, 200);
  ck_assert_int_eq (mcu_endpoint_send_rtp (side[0].ep, pkt, len), MCU_SRTP_OK);
  w.want = 2;
  ck_assert (mcutx_wait (ctx, got_packets, &w, 5000));
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  ck_assert_uint_eq (side[1].packets, 2);
  ck_assert_uint_eq (c.rtp_in, 2);
  ck_assert_uint_eq (c.dropped_replay, 1);
  ck_assert_uint_eq (c.dropped_auth, 1);
  ck_assert_uint_eq (c.dropped_oversize, 1);
  ck_assert_uint_eq (c.dropped_unknown, 1);
  /* too big to send with its trailer: refused before the wire */
  ck_assert_int_eq (mcu_endpoint_send_rtp (side[0].ep, big, 1495), MCU_SRTP_ERR_TOO_BIG);
  (void)counter_reached;
}
END_TEST

START_TEST (test_foreign_source_dropped)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  McuIcePair pair;
  ck_assert (mcu_ice_get_selected_pair (mcu_endpoint_get_ice (side[1].ep), &pair));
  const char *colon = strrchr (pair.local_address, ':');
  guint16 port = (guint16)atoi (colon + 1);

  /* A third socket sends well-formed RTP (and a copy of a real SRTP-looking
   * header) to side 1's selected local port. */
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                           G_SOCKET_PROTOCOL_UDP, NULL);
  ck_assert (sock);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) dest = g_inet_socket_address_new (lo, port);
  guint8 pkt[300];
  gsize len = mcutx_rtp (pkt, 5, 0xbad, 100);
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq (g_socket_send_to (sock, dest, (const char *)pkt, len, NULL, NULL),
                      (gssize)len);

  McuEndpointCounters before;
  mcu_endpoint_get_counters (side[1].ep, &before);
  /* Then the genuine peer sends one; once it is in, the foreign ones (sent first,
   * on the same loopback) have been processed too. */
  len = mcutx_rtp (pkt, 6, 0x600d, 100);
  ck_assert_int_eq (mcu_endpoint_send_rtp (side[0].ep, pkt, len), MCU_SRTP_OK);
  Want w = { &side[1], 1 };
  ck_assert (mcutx_wait (ctx, got_packets, &w, 5000));
  /* drain anything still queued */
  while (g_main_context_iteration (ctx, FALSE))
    ;
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  ck_assert_uint_eq (side[1].packets, 1);
  ck_assert_uint_eq (c.rtp_in, 1);
  ck_assert_uint_eq (side[1].last[11], 0x0d); /* it was the genuine SSRC */
  /* libnice drops unknown sources before they reach us: none of our own drop
   * counters moved, i.e. the foreign packets never reached SRTP. */
  ck_assert_uint_eq (c.dropped_auth + c.dropped_plain + c.dropped_unknown, 0);
  ck_assert_int_eq (mcu_endpoint_get_state (side[1].ep), MCU_ENDPOINT_STATE_CONNECTED);
}
END_TEST

static gboolean both_connected (gpointer data);

/* Media both ways every 50 ms, as a live call would have. */
static gboolean
pump_media (gpointer data)
{
  static guint16 seq = 1000;
  guint8 pkt[200];
  seq++;
  for (int i = 0; i < 2; i++)
    {
      gsize len = mcutx_rtp (pkt, seq, 0x77 + i, 100);
      mcu_endpoint_send_rtp (side[i].ep, pkt, len);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
side1_final (gpointer data)
{
  McuEndpointState st = mcu_endpoint_get_state (side[1].ep);
  return st == MCU_ENDPOINT_STATE_FAILED || st == MCU_ENDPOINT_STATE_CLOSED;
}

static gboolean
array_has (GArray *a, McuEndpointState st)
{
  for (guint i = 0; i < a->len; i++)
    if (g_array_index (a, McuEndpointState, i) == st)
      return TRUE;
  return FALSE;
}

START_TEST (test_consent_rule)
{
  const guint timeout_ms = 2000;
  make_pair (NULL, 0, NULL, 0, timeout_ms);
  GSource *pump = g_timeout_source_new (50);
  g_source_set_callback (pump, pump_media, NULL, NULL);
  g_source_attach (pump, ctx);
  ck_assert (mcutx_connect (ctx, side, NULL));
  /* with media flowing, both settle in CONNECTED (a loaded machine may have shown
   * DISCONNECTED for a moment between the handshake and the first packet) */
  ck_assert (mcutx_wait (ctx, both_connected, NULL, 10000));
  assert_connected ();
  McuIce *ice1 = mcu_endpoint_get_ice (side[1].ep);

  /* 1 s of silence (half the timeout): reported as disconnected, not ended. */
  mcu_ice_set_drop_incoming (ice1, TRUE);
  mcutx_run_for (ctx, 1000);
  mcu_ice_set_drop_incoming (ice1, FALSE);
  Want w = { &side[1], side[1].packets + 3 };
  ck_assert (mcutx_wait (ctx, got_packets, &w, 5000));
  ck_assert_int_eq (mcu_endpoint_get_state (side[1].ep), MCU_ENDPOINT_STATE_CONNECTED);
  ck_assert (array_has (side[1].states, MCU_ENDPOINT_STATE_DISCONNECTED));
  ck_assert (!array_has (side[1].states, MCU_ENDPOINT_STATE_FAILED));

  /* Now silence for good: within 3 s the session ends, and not before the
   * timeout: the rule is "timeout without consent", not "any gap". */
  gint64 t0 = g_get_monotonic_time ();
  mcu_ice_set_drop_incoming (ice1, TRUE);
  ck_assert (mcutx_wait (ctx, side1_final, NULL, 3000 + 1000));
  gint64 silent_ms = (g_get_monotonic_time () - t0) / 1000;
  ck_assert_int_ge (silent_ms, timeout_ms);
  ck_assert_int_eq (mcu_endpoint_get_state (side[1].ep), MCU_ENDPOINT_STATE_FAILED);
  const GError *e = mcu_endpoint_get_error (side[1].ep);
  ck_assert (g_error_matches (e, MCU_ERROR, MCU_ERROR_ICE));
  ck_assert (mcu_ice_get_consent_expired (ice1));
  /* the other side, still hearing media, keeps its session */
  ck_assert_int_ne (mcu_endpoint_get_state (side[0].ep), MCU_ENDPOINT_STATE_FAILED);
  g_source_destroy (pump);
  g_source_unref (pump);
}
END_TEST

/* Garbage from the peer's address every 20 ms: a DTLS application-data record
 * header (epoch 1) with bytes that cannot decrypt, other bytes in the DTLS range,
 * and RTP-looking bytes with no valid tag. */
static gboolean
send_garbage (gpointer data)
{
  McuIce *ice = data;
  static guint n;
  /* side 1 goes on sending real media, so side 0 (the garbage sender) keeps its
   * own consent and its ICE pair for the whole test */
  guint8 pkt[200];
  gsize plen = mcutx_rtp (pkt, (guint16)(2000 + n), 0x78, 100);
  mcu_endpoint_send_rtp (side[1].ep, pkt, plen);
  guint8 rec[80];
  for (gsize i = 0; i < sizeof rec; i++)
    rec[i] = (guint8)g_random_int ();
  rec[0] = 23; /* application_data */
  rec[1] = 0xfe;
  rec[2] = 0xfd; /* DTLS 1.2 */
  rec[3] = 0;
  rec[4] = 1; /* epoch 1 */
  rec[11] = 0;
  rec[12] = sizeof rec - 13;
  mcu_ice_send (ice, rec, sizeof rec);
  guint8 junk[60];
  for (gsize i = 0; i < sizeof junk; i++)
    junk[i] = (guint8)g_random_int ();
  junk[0] = 20 + (n++ % 44); /* anywhere in the DTLS range, 20..63 */
  mcu_ice_send (ice, junk, sizeof junk);
  guint8 rtp[100];
  gsize len = mcutx_rtp (rtp, (guint16)n, 0xD00D, 60);
  mcu_ice_send (ice, rtp, len); /* no SRTP tag: cannot authenticate */
  return G_SOURCE_CONTINUE;
}

/* Proves that consent comes only from traffic that authenticates: a peer that
 * sends nothing but bytes in the DTLS range (a record that does not decrypt, and
 * random ones) and RTP without a valid tag is not a consenting peer, and the
 * session ends once the consent timeout passes, as it would in silence. Before,
 * any datagram in the DTLS range that the memory BIO took refreshed consent and
 * this garbage kept the session alive for ever. The garbage also changes nothing
 * else: it is counted as DTLS in and auth drops, and the DTLS association stays
 * up until consent ends it. */
START_TEST (test_garbage_keeps_no_consent)
{
  const guint timeout_ms = 2000;
  make_pair (NULL, 0, NULL, 0, timeout_ms);
  /* real media both ways from the start, as in test_consent_rule: a slow handshake
   * (sanitizer builds) must not let consent lapse before the garbage starts */
  GSource *pump = g_timeout_source_new (50);
  g_source_set_callback (pump, pump_media, NULL, NULL);
  g_source_attach (pump, ctx);
  ck_assert (mcutx_connect (ctx, side, NULL));
  ck_assert (mcutx_wait (ctx, both_connected, NULL, 10000));
  g_source_destroy (pump);
  g_source_unref (pump);
  /* from now on side 0 sends only garbage (a peer that lost its keys, or anyone
   * spoofing its address) */
  McuEndpointCounters before;
  mcu_endpoint_get_counters (side[1].ep, &before);
  GSource *garbage = g_timeout_source_new (20);
  g_source_set_callback (garbage, send_garbage, mcu_endpoint_get_ice (side[0].ep), NULL);
  g_source_attach (garbage, ctx);
  gboolean ended = mcutx_wait (ctx, side1_final, NULL, 10 * timeout_ms);
  g_source_destroy (garbage);
  g_source_unref (garbage);
  ck_assert_msg (ended, "garbage kept the session alive (state %s)",
                 mcu_endpoint_state_name (mcu_endpoint_get_state (side[1].ep)));
  ck_assert_int_eq (mcu_endpoint_get_state (side[1].ep), MCU_ENDPOINT_STATE_FAILED);
  ck_assert (mcu_ice_get_consent_expired (mcu_endpoint_get_ice (side[1].ep)));
  McuEndpointCounters after;
  mcu_endpoint_get_counters (side[1].ep, &after);
  ck_assert_uint_gt (after.dtls_in, before.dtls_in); /* the garbage did arrive */
  ck_assert_uint_gt (after.dropped_auth, before.dropped_auth);
  /* and kept arriving until the end: the sender's side was alive throughout */
  ck_assert_int_eq (mcu_endpoint_get_state (side[0].ep), MCU_ENDPOINT_STATE_CONNECTED);
}
END_TEST

/* The whole offer/answer as the node will do it: side 0 offers with
 * mcu_sdp_create_offer() (setup actpass, its candidates inline), side 1 answers
 * with mcu_sdp_answer_offer() (setup active), side 0 accepts the answer; each side
 * takes its remote parameters from the McuSdpSession. */
START_TEST (test_connect_via_sdp)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcu_endpoint_start (side[0].ep, NULL));
  ck_assert (mcu_endpoint_start (side[1].ep, NULL));
  ck_assert (mcutx_wait (ctx, mcutx_both_gathered, side, 10000));
  McuSdpLocal l0 = { 0 }, l1 = { 0 };
  l0.ice_ufrag = mcu_endpoint_get_local_ufrag (side[0].ep);
  l0.ice_pwd = mcu_endpoint_get_local_pwd (side[0].ep);
  l0.fingerprint = mcu_endpoint_get_local_fingerprint (side[0].ep);
  l0.setup = mcu_endpoint_get_local_setup (side[0].ep);
  ck_assert_str_eq (l0.setup, "actpass");
  l0.audio_ssrc = 0x1111;
  l0.video_ssrc = 0x2222;
  l0.cname = "a";
  l0.msid_stream = "a";
  l0.candidates = mcu_endpoint_get_local_candidates (side[0].ep);
  ck_assert_ptr_nonnull (l0.candidates[0]);
  g_autofree char *offer = mcu_sdp_create_offer (&l0);

  l1 = l0;
  l1.ice_ufrag = mcu_endpoint_get_local_ufrag (side[1].ep);
  l1.ice_pwd = mcu_endpoint_get_local_pwd (side[1].ep);
  l1.fingerprint = mcu_endpoint_get_local_fingerprint (side[1].ep);
  l1.setup = "active";
  l1.audio_ssrc = 0x3333;
  l1.video_ssrc = 0x4444;
  l1.candidates = mcu_endpoint_get_local_candidates (side[1].ep);
  g_autofree char *answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSdpSession) at_b
      = mcu_sdp_answer_offer (offer, strlen (offer), &l1, &answer, &error);
  ck_assert_msg (at_b != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_endpoint_set_remote_sdp (side[1].ep, at_b, &error));
  ck_assert_str_eq (mcu_endpoint_get_local_setup (side[1].ep), "active");
  g_autoptr (McuSdpSession) at_a
      = mcu_sdp_accept_answer (answer, strlen (answer), &error);
  ck_assert_msg (at_a != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_endpoint_set_remote_sdp (side[0].ep, at_a, &error));
  ck_assert_str_eq (mcu_endpoint_get_local_setup (side[0].ep), "passive");
  mcu_endpoint_add_remote_candidate (side[0].ep, "", NULL);
  mcu_endpoint_add_remote_candidate (side[1].ep, "", NULL);
  ck_assert (mcutx_wait (ctx, mcutx_both_final, side, 20000));
  assert_connected ();
  exchange_media (300);
}
END_TEST

static gboolean
both_connected (gpointer data)
{
  return mcu_endpoint_get_state (side[0].ep) == MCU_ENDPOINT_STATE_CONNECTED
         && mcu_endpoint_get_state (side[1].ep) == MCU_ENDPOINT_STATE_CONNECTED;
}

/* An ICE restart started by side 0 (new credentials signalled both ways) keeps
 * the DTLS association and SRTP keys: media resumes, and the replay window still
 * holds (the sequence numbers continue). */
START_TEST (test_ice_restart_keeps_srtp)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  exchange_media (10);
  g_autofree char *old = g_strdup (mcu_endpoint_get_local_ufrag (side[0].ep));
  g_autoptr (GError) error = NULL;
  ck_assert (mcu_endpoint_restart_ice (side[0].ep, &error));
  ck_assert_str_ne (old, mcu_endpoint_get_local_ufrag (side[0].ep));
  ck_assert_int_eq (mcu_endpoint_get_state (side[0].ep), MCU_ENDPOINT_STATE_DISCONNECTED);
  /* side 1 learns side 0's new credentials and restarts too */
  ck_assert (mcu_endpoint_set_remote_ice (
      side[1].ep, mcu_endpoint_get_local_ufrag (side[0].ep),
      mcu_endpoint_get_local_pwd (side[0].ep),
      mcu_endpoint_get_local_candidates (side[0].ep), &error));
  ck_assert (mcu_endpoint_set_remote_ice (
      side[0].ep, mcu_endpoint_get_local_ufrag (side[1].ep),
      mcu_endpoint_get_local_pwd (side[1].ep),
      mcu_endpoint_get_local_candidates (side[1].ep), &error));
  mcu_endpoint_add_remote_candidate (side[0].ep, "", NULL);
  mcu_endpoint_add_remote_candidate (side[1].ep, "", NULL);
  ck_assert_msg (mcutx_wait (ctx, both_connected, NULL, 20000), "no reconnect: %s/%s",
                 mcu_endpoint_state_name (mcu_endpoint_get_state (side[0].ep)),
                 mcu_endpoint_state_name (mcu_endpoint_get_state (side[1].ep)));
  exchange_media (11);
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  ck_assert_uint_eq (c.rtp_in, 2);
  ck_assert_uint_eq (c.dropped_replay + c.dropped_auth, 0);
}
END_TEST

static gboolean
side1_closed (gpointer data)
{
  return mcu_endpoint_get_state (side[1].ep) == MCU_ENDPOINT_STATE_CLOSED;
}

/* Closing one side sends DTLS close_notify: the peer ends as CLOSED (not FAILED),
 * and neither side sends media afterwards. */
START_TEST (test_close)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  mcu_endpoint_close (side[0].ep);
  ck_assert_int_eq (mcu_endpoint_get_state (side[0].ep), MCU_ENDPOINT_STATE_CLOSED);
  ck_assert (mcutx_wait (ctx, side1_closed, NULL, 5000));
  ck_assert_ptr_null (mcu_endpoint_get_error (side[1].ep));
  guint8 pkt[100];
  gsize len = mcutx_rtp (pkt, 1, 1, 50);
  ck_assert_int_ne (mcu_endpoint_send_rtp (side[0].ep, pkt, len), MCU_SRTP_OK);
  ck_assert_int_ne (mcu_endpoint_send_rtp (side[1].ep, pkt, len), MCU_SRTP_OK);
  McuEndpointCounters c;
  mcu_endpoint_get_counters (side[1].ep, &c);
  ck_assert_uint_gt (c.dtls_in, 0);
  ck_assert_uint_gt (c.dtls_out, 0);
  ck_assert_uint_eq (c.send_failed, 1);
}
END_TEST

/* --- one SRTP session, senders on two threads ------------------------------------ */

#define CONCURRENT_PACKETS 400
#define IN_FLIGHT 32 /* flow control, so loopback's socket buffer never overflows */

static gint rx_rtp, rx_rtcp; /* atomics: counted on the context, read by the sender */

static void
count_packet (McuEndpoint *ep, gboolean is_rtcp, guint8 *buf, gsize len, gpointer data)
{
  g_atomic_int_inc (is_rtcp ? &rx_rtcp : &rx_rtp);
}

static gpointer
send_rtp_thread (gpointer data)
{
  McuEndpoint *ep = data;
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint failures = 0;
  for (guint i = 0; i < CONCURRENT_PACKETS; i++)
    {
      while ((gint)i - g_atomic_int_get (&rx_rtp) > IN_FLIGHT
             && g_get_monotonic_time () < give_up)
        g_thread_yield ();
      guint8 pkt[200];
      gsize len = mcutx_rtp (pkt, (guint16)(i + 1), 0xA0A0, 100);
      if (mcu_endpoint_send_rtp (ep, pkt, len) != MCU_SRTP_OK)
        failures++;
    }
  return GUINT_TO_POINTER (failures);
}

static gboolean
all_concurrent_received (gpointer data)
{
  return g_atomic_int_get (&rx_rtp) >= CONCURRENT_PACKETS
         && g_atomic_int_get (&rx_rtcp) >= CONCURRENT_PACKETS;
}

/* The node sends on one endpoint from several threads at once: the mixers' streaming
 * threads send the audio mix while the main loop sends reports, retransmissions
 * and keyframe requests. Proves the endpoint serialises them (one SRTP session
 * never protects two packets at once): with RTP sent from a thread of its own and
 * RTCP from the main loop at the same time, every packet is protected, sent and
 * authenticated by the peer, none dropped as forged or replayed. Without the
 * endpoint's send lock the shared buffer and libsrtp's session state are written by
 * both threads: packets arrive garbled (auth drops) and build-tsan reports the race
 * on every run. */
START_TEST (test_concurrent_senders)
{
  make_pair (NULL, 0, NULL, 0, 0);
  ck_assert (mcutx_connect (ctx, side, NULL));
  assert_connected ();
  g_atomic_int_set (&rx_rtp, 0);
  g_atomic_int_set (&rx_rtcp, 0);
  mcu_endpoint_set_packet_func (side[1].ep, count_packet, NULL, NULL);
  GThread *t = g_thread_new ("rtp-sender", send_rtp_thread, side[0].ep);
  guint failures = 0;
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (guint i = 0; i < CONCURRENT_PACKETS; i++)
    {
      while ((gint)i - g_atomic_int_get (&rx_rtcp) > IN_FLIGHT
             && g_get_monotonic_time () < give_up)
        g_main_context_iteration (ctx, FALSE);
      guint8 rr[8];
      gsize rlen = mcutx_rtcp_rr (rr, 0xB0B0);
      if (mcu_endpoint_send_rtcp (side[0].ep, rr, rlen) != MCU_SRTP_OK)
        failures++;
      g_main_context_iteration (ctx, FALSE);
    }
  ck_assert_msg (mcutx_wait (ctx, all_concurrent_received, NULL, 30000),
                 "received %d RTP and %d RTCP of %d each", g_atomic_int_get (&rx_rtp),
                 g_atomic_int_get (&rx_rtcp), CONCURRENT_PACKETS);
  failures += GPOINTER_TO_UINT (g_thread_join (t));
  ck_assert_uint_eq (failures, 0);
  McuEndpointCounters tx, rx;
  mcu_endpoint_get_counters (side[0].ep, &tx);
  mcu_endpoint_get_counters (side[1].ep, &rx);
  ck_assert_uint_eq (tx.rtp_out, CONCURRENT_PACKETS);
  ck_assert_uint_eq (tx.rtcp_out, CONCURRENT_PACKETS);
  ck_assert_uint_eq (rx.dropped_auth, 0);
  ck_assert_uint_eq (rx.dropped_replay, 0);
  ck_assert_uint_eq (rx.rtp_in, CONCURRENT_PACKETS);
  ck_assert_uint_eq (rx.rtcp_in, CONCURRENT_PACKETS);
}
END_TEST

static gboolean
side0_final (gpointer data)
{
  McuEndpointState st = mcu_endpoint_get_state (side[0].ep);
  return st == MCU_ENDPOINT_STATE_FAILED || st == MCU_ENDPOINT_STATE_CLOSED;
}

/* A peer that never sends a usable candidate nor end-of-candidates would leave
 * trickle ICE waiting for ever: the connect timeout ends the attempt. */
START_TEST (test_connect_timeout)
{
  static const char *const lo[] = { "127.0.0.1", NULL };
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  cfg.connect_timeout_ms = 500;
  memset (&side[0], 0, sizeof side[0]);
  side[0].ep = mcu_endpoint_new (ctx, cert_a, &cfg, NULL);
  ck_assert_ptr_nonnull (side[0].ep);
  ck_assert (mcu_endpoint_start (side[0].ep, NULL));
  ck_assert (mcu_endpoint_set_remote (side[0].ep, "abcd", "0123456789abcdefghijkl",
                                      mcu_cert_get_fingerprint (cert_b), "actpass", NULL,
                                      NULL));
  ck_assert (mcutx_wait (ctx, side0_final, NULL, 10000));
  const GError *e = mcu_endpoint_get_error (side[0].ep);
  ck_assert (g_error_matches (e, MCU_ERROR, MCU_ERROR_ICE));
  ck_assert_ptr_nonnull (strstr (e->message, "not connected after 500 ms"));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-endpoint");
  TCase *tc = tcase_create ("loopback");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_connect_gcm);
  tcase_add_test (tc, test_connect_cm_forced);
  tcase_add_test (tc, test_connect_gcm_forced_server);
  tcase_add_test (tc, test_wrong_fingerprint);
  tcase_add_test (tc, test_replay_plain_oversize_dropped);
  tcase_add_test (tc, test_foreign_source_dropped);
  tcase_add_test (tc, test_consent_rule);
  tcase_add_test (tc, test_connect_via_sdp);
  tcase_add_test (tc, test_ice_restart_keeps_srtp);
  tcase_add_test (tc, test_close);
  tcase_add_test (tc, test_connect_timeout);
  tcase_add_test (tc, test_concurrent_senders);
  tcase_add_test (tc, test_garbage_keeps_no_consent);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
