/* Suite mcu-ice: proves that two McuIce agents on loopback connect with trickled
 * candidates (each local candidate handed over as it appears, then
 * end-of-candidates), select a host/host pair on 127.0.0.1 and carry datagrams both
 * ways; that unusable candidate lines and credentials are refused with
 * MCU_ERROR_INVALID; that an ICE restart changes the local credentials and
 * reconnects; and that the consent rule runs at the ICE layer on its own: with a
 * 600 ms timeout and nobody vouching for the peer, the agent reports
 * disconnected, then failed with consent expired; and that the configured STUN
 * server is asked and yields a server-reflexive candidate, and a configured TURN
 * server (coturn on loopback, when installed) a working relayed pair. */
#include "mcu.h"
#include "lt-test.h"
#include "mcutx-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

typedef struct Side Side;
struct Side
{
  McuIce *ice;
  Side *other;
  gboolean remote_set;
  GPtrArray *pending; /* candidates produced before the peer had credentials */
  GPtrArray *all_local;
  gboolean gathered;
  guint received;
  gboolean refresh_on_receive;
  GArray *states;
  guint8 last[64];
};

static GMainContext *ctx;
static Side sides[2];

static void
hand_over (Side *from, const char *cand)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (mcu_ice_add_remote_candidate (from->other->ice, cand, &error), "%s",
                 error ? error->message : "");
}

static void
on_candidate (McuIce *ice, const char *cand, gpointer data)
{
  Side *s = data;
  ck_assert (g_str_has_prefix (cand, "candidate:"));
  g_ptr_array_add (s->all_local, g_strdup (cand));
  if (s->other->remote_set)
    hand_over (s, cand);
  else
    g_ptr_array_add (s->pending, g_strdup (cand));
}

static void
on_gathered (McuIce *ice, gpointer data)
{
  ((Side *)data)->gathered = TRUE;
}

static void
on_state (McuIce *ice, McuIceState st, gpointer data)
{
  g_array_append_val (((Side *)data)->states, st);
}

static void
on_receive (McuIce *ice, guint8 *buf, gsize len, gpointer data)
{
  Side *s = data;
  s->received++;
  memcpy (s->last, buf, MIN (len, sizeof s->last));
  if (s->refresh_on_receive)
    mcu_ice_consent_refresh (ice);
}

static const McuIceCallbacks cbs = { on_candidate, on_gathered, on_state, on_receive };

static void
make (guint consent_ms)
{
  static const char *const lo[] = { "127.0.0.1", NULL };
  for (int i = 0; i < 2; i++)
    {
      McuIceConfig cfg = { 0 };
      cfg.controlling = i == 0;
      cfg.local_addresses = lo;
      cfg.consent_timeout_ms = consent_ms;
      g_autoptr (GError) error = NULL;
      sides[i].ice = mcu_ice_new (ctx, &cfg, &cbs, &sides[i], &error);
      ck_assert_msg (sides[i].ice != NULL, "%s", error ? error->message : "");
    }
}

static void
setup (void)
{
  ctx = g_main_context_new ();
  memset (sides, 0, sizeof sides);
  for (int i = 0; i < 2; i++)
    {
      sides[i].other = &sides[1 - i];
      sides[i].pending = g_ptr_array_new_with_free_func (g_free);
      sides[i].all_local = g_ptr_array_new_with_free_func (g_free);
      sides[i].states = g_array_new (FALSE, FALSE, sizeof (McuIceState));
      sides[i].refresh_on_receive = TRUE;
    }
}

static void turn_stop (void);

static void
teardown (void)
{
  turn_stop ();
  for (int i = 0; i < 2; i++)
    {
      g_clear_pointer (&sides[i].ice, mcu_ice_free);
      g_clear_pointer (&sides[i].pending, g_ptr_array_unref);
      g_clear_pointer (&sides[i].all_local, g_ptr_array_unref);
      g_clear_pointer (&sides[i].states, g_array_unref);
    }
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_main_context_unref (ctx);
}

static void
exchange_credentials (void)
{
  for (int i = 0; i < 2; i++)
    {
      Side *s = &sides[i];
      g_autoptr (GError) error = NULL;
      ck_assert (
          mcu_ice_set_remote_credentials (s->ice, mcu_ice_get_local_ufrag (s->other->ice),
                                          mcu_ice_get_local_pwd (s->other->ice), &error));
      s->remote_set = TRUE;
      for (guint j = 0; j < s->other->pending->len; j++)
        hand_over (s->other, g_ptr_array_index (s->other->pending, j));
      g_ptr_array_set_size (s->other->pending, 0);
    }
}

static gboolean
both_connected (gpointer data)
{
  return mcu_ice_get_state (sides[0].ice) == MCU_ICE_STATE_CONNECTED
         && mcu_ice_get_state (sides[1].ice) == MCU_ICE_STATE_CONNECTED;
}

static gboolean
both_gathered (gpointer data)
{
  return sides[0].gathered && sides[1].gathered;
}

static gboolean
received (gpointer data)
{
  Side *s = data;
  return s->received > 0;
}

static void
connect_trickle (void)
{
  /* credentials first, as in an offer/answer; candidates trickle as they come */
  exchange_credentials ();
  ck_assert (mcu_ice_gather (sides[0].ice, NULL));
  ck_assert (mcu_ice_gather (sides[1].ice, NULL));
  ck_assert (mcutx_wait (ctx, both_gathered, NULL, 10000));
  mcu_ice_add_remote_candidate (sides[0].ice, "", NULL);
  mcu_ice_add_remote_candidate (sides[1].ice, "a=end-of-candidates", NULL);
  ck_assert_msg (mcutx_wait (ctx, both_connected, NULL, 20000),
                 "ICE did not connect: %s/%s",
                 mcu_ice_state_name (mcu_ice_get_state (sides[0].ice)),
                 mcu_ice_state_name (mcu_ice_get_state (sides[1].ice)));
}

static void
send_both_ways (guint8 tag)
{
  for (int i = 0; i < 2; i++)
    {
      Side *rx = &sides[1 - i];
      rx->received = 0;
      guint8 pkt[32] = { 0x80, 96, tag, (guint8)i };
      ck_assert (mcu_ice_send (sides[i].ice, pkt, sizeof pkt));
      ck_assert (mcutx_wait (ctx, received, rx, 5000));
      ck_assert_int_eq (rx->last[2], tag);
      ck_assert_int_eq (rx->last[3], i);
    }
}

static McuIceSendCounters
send_counters (int side)
{
  McuIceSendCounters c;
  mcu_ice_get_send_counters (sides[side].ice, &c);
  return c;
}

/* On a host pair every send takes the direct path (a dup of the pair's socket),
 * none goes through libnice; and the peer's libnice, which drops datagrams from
 * sources that are not a known remote candidate, delivered them: they left from
 * the selected local candidate's address. */
static void
assert_sent_directly (int side, guint64 at_least)
{
  McuIceSendCounters c = send_counters (side);
  ck_assert_uint_ge (c.direct, at_least);
  ck_assert_uint_eq (c.via_agent, 0);
  ck_assert_uint_eq (c.would_block + c.error + c.agent_refused, 0);
}

START_TEST (test_trickle_connect)
{
  make (0);
  ck_assert_int_eq (mcu_ice_get_state (sides[0].ice), MCU_ICE_STATE_NEW);
  guint8 early[4] = { 1, 2, 3, 4 };
  ck_assert (!mcu_ice_send (sides[0].ice, early, sizeof early)); /* no pair yet */
  ck_assert_uint_eq (send_counters (0).refused, 1);
  const char *lt = NULL, *rt = NULL;
  ck_assert (!mcu_ice_get_pair_types (sides[0].ice, &lt, &rt));
  ck_assert_str_eq (lt, "");
  ck_assert_str_eq (rt, "");
  connect_trickle ();
  send_both_ways (7);
  /* many in a row: nothing queues behind a direct send */
  for (int k = 0; k < 200; k++)
    {
      guint8 pkt[1200] = { 0x80, 96, 9 };
      ck_assert (mcu_ice_send (sides[0].ice, pkt, sizeof pkt));
    }
  send_both_ways (8); /* receiving on the same socket still works */
  assert_sent_directly (0, 202);
  assert_sent_directly (1, 2);
  for (int i = 0; i < 2; i++)
    {
      McuIcePair p;
      ck_assert (mcu_ice_get_selected_pair (sides[i].ice, &p));
      ck_assert_str_eq (p.local_type, "host");
      ck_assert (g_str_has_prefix (p.local_address, "127.0.0.1:"));
      ck_assert (g_str_has_prefix (p.remote_address, "127.0.0.1:"));
      ck_assert (mcu_ice_get_pair_types (sides[i].ice, &lt, &rt));
      ck_assert_str_eq (lt, "host");
      ck_assert_str_eq (rt, "host");
    }
  McuIcePair p0, p1;
  mcu_ice_get_selected_pair (sides[0].ice, &p0);
  mcu_ice_get_selected_pair (sides[1].ice, &p1);
  ck_assert_str_eq (p0.local_address, p1.remote_address);
  ck_assert_int_eq (g_array_index (sides[0].states, McuIceState, 0),
                    MCU_ICE_STATE_CHECKING);
}
END_TEST

START_TEST (test_bad_input)
{
  make (0);
  g_autoptr (GError) error = NULL;
  ck_assert (!mcu_ice_add_remote_candidate (sides[0].ice, "candidate:garbage", &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert (!mcu_ice_add_remote_candidate (sides[0].ice, "hello", &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  /* component 2 (no rtcp-mux) is not ours */
  ck_assert (!mcu_ice_add_remote_candidate (
      sides[0].ice, "candidate:1 2 UDP 2122252543 127.0.0.1 40000 typ host", &error));
  g_clear_error (&error);
  /* mDNS and TCP candidates are skipped, not errors */
  ck_assert (mcu_ice_add_remote_candidate (
      sides[0].ice, "candidate:1 1 udp 2122252543 0b6e7d0c-1d2a.local 40000 typ host",
      NULL));
  ck_assert (mcu_ice_add_remote_candidate (
      sides[0].ice, "candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
      NULL));
  ck_assert (!mcu_ice_set_remote_credentials (sides[0].ice, "", "pwd", &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  static const char *const bad[] = { "not-an-ip", NULL };
  McuIceConfig cfg = { 0 };
  cfg.local_addresses = bad;
  ck_assert_ptr_null (mcu_ice_new (ctx, &cfg, &cbs, NULL, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
}
END_TEST

START_TEST (test_restart)
{
  make (0);
  connect_trickle ();
  send_both_ways (1);
  g_autofree char *old_ufrag = g_strdup (mcu_ice_get_local_ufrag (sides[0].ice));
  for (int i = 0; i < 2; i++)
    {
      ck_assert (mcu_ice_restart (sides[i].ice, NULL));
      sides[i].remote_set = FALSE;
    }
  ck_assert_str_ne (old_ufrag, mcu_ice_get_local_ufrag (sides[0].ice));
  ck_assert_int_eq (mcu_ice_get_state (sides[0].ice), MCU_ICE_STATE_CHECKING);
  /* no send while the checks run again: the old pair's target was dropped */
  guint8 early[4] = { 0x80, 96 };
  guint64 direct_before = send_counters (0).direct;
  ck_assert (!mcu_ice_send (sides[0].ice, early, sizeof early));
  ck_assert_uint_eq (send_counters (0).direct, direct_before);
  /* libnice keeps the local candidates across a restart and forgets the remote
   * ones: signal the new credentials and the candidates again. */
  exchange_credentials ();
  for (int i = 0; i < 2; i++)
    {
      for (guint j = 0; j < sides[i].all_local->len; j++)
        hand_over (&sides[i], g_ptr_array_index (sides[i].all_local, j));
      mcu_ice_remote_gathering_done (sides[i].ice);
    }
  ck_assert_msg (mcutx_wait (ctx, both_connected, NULL, 20000), "no reconnect: %s/%s",
                 mcu_ice_state_name (mcu_ice_get_state (sides[0].ice)),
                 mcu_ice_state_name (mcu_ice_get_state (sides[1].ice)));
  send_both_ways (2);
  assert_sent_directly (0, direct_before + 1); /* the new pair's target */
}
END_TEST

static gboolean
failed0 (gpointer data)
{
  return mcu_ice_get_state (sides[0].ice) == MCU_ICE_STATE_FAILED;
}

START_TEST (test_consent_at_ice_layer)
{
  make (600);
  sides[0].refresh_on_receive = FALSE; /* nobody vouches for side 1 */
  connect_trickle ();
  ck_assert (mcutx_wait (ctx, failed0, NULL, 5000));
  ck_assert (mcu_ice_get_consent_expired (sides[0].ice));
  ck_assert_int_ge (mcu_ice_consent_age_ms (sides[0].ice), 600);
  /* connected -> disconnected (a third of the timeout) -> failed */
  GArray *st = sides[0].states;
  ck_assert_int_eq (g_array_index (st, McuIceState, st->len - 1), MCU_ICE_STATE_FAILED);
  ck_assert_int_eq (g_array_index (st, McuIceState, st->len - 2),
                    MCU_ICE_STATE_DISCONNECTED);
  guint8 pkt[4] = { 0 };
  McuIceSendCounters before = send_counters (0);
  ck_assert (!mcu_ice_send (sides[0].ice, pkt, sizeof pkt)); /* no consent, no send */
  McuIceSendCounters after = send_counters (0);
  ck_assert_uint_eq (after.direct, before.direct); /* not even on the socket */
  ck_assert_uint_eq (after.refused, before.refused + 1);
}
END_TEST

/* ---- a STUN server of a few lines, on loopback ---- */

static guint32
crc32_ieee (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;
  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
  return ~c;
}

static guint stun_requests;

/* Answers each Binding request with a success whose XOR-MAPPED-ADDRESS is
 * 127.0.0.2 and the request's source port, as a NAT would report a public
 * address, plus the FINGERPRINT libnice checks. */
static gboolean
stun_serve (GSocket *sock, GIOCondition cond, gpointer data)
{
  guint8 req[1500];
  GSocketAddress *from = NULL;
  gssize n = g_socket_receive_from (sock, &from, (char *)req, sizeof req, NULL, NULL);
  if (n < 20 || req[0] != 0x00 || req[1] != 0x01)
    {
      g_clear_object (&from);
      return G_SOURCE_CONTINUE;
    }
  stun_requests++;
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from));
  guint8 r[20 + 12 + 8];
  memcpy (r, req, 20);
  r[0] = 0x01;
  r[1] = 0x01;
  r[2] = 0;
  r[3] = 12 + 8;
  guint8 *a = r + 20;
  a[0] = 0x00, a[1] = 0x20, a[2] = 0, a[3] = 8; /* XOR-MAPPED-ADDRESS */
  a[4] = 0, a[5] = 0x01;
  guint16 xport = port ^ 0x2112;
  a[6] = xport >> 8, a[7] = xport & 0xff;
  const guint8 ip[4] = { 127, 0, 0, 2 }, cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
  for (int i = 0; i < 4; i++)
    a[8 + i] = ip[i] ^ cookie[i];
  guint8 *f = a + 12;
  f[0] = 0x80, f[1] = 0x28, f[2] = 0, f[3] = 4; /* FINGERPRINT */
  guint32 fp = crc32_ieee (r, 20 + 12) ^ 0x5354554eu;
  f[4] = fp >> 24, f[5] = fp >> 16 & 0xff, f[6] = fp >> 8 & 0xff, f[7] = fp & 0xff;
  g_socket_send_to (sock, from, (const char *)r, sizeof r, NULL, NULL);
  g_object_unref (from);
  return G_SOURCE_CONTINUE;
}

static gboolean
gathered0 (gpointer data)
{
  return sides[0].gathered;
}

/* The STUN server setting is used: gathering asks it and a server-reflexive
 * candidate with the mapped address it reported is signalled. */
START_TEST (test_stun_server)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                           G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  ck_assert (g_socket_bind (sock, any, FALSE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (sock, NULL);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  GSource *src = g_socket_create_source (sock, G_IO_IN, NULL);
  g_source_set_callback (src, (GSourceFunc)(void (*) (void))stun_serve, NULL, NULL);
  g_source_attach (src, ctx);
  stun_requests = 0;

  static const char *const lo_addr[] = { "127.0.0.1", NULL };
  McuIceConfig cfg = { 0 };
  cfg.local_addresses = lo_addr;
  cfg.stun_server = "127.0.0.1";
  cfg.stun_port = port;
  sides[0].ice = mcu_ice_new (ctx, &cfg, &cbs, &sides[0], NULL);
  ck_assert_ptr_nonnull (sides[0].ice);
  sides[1].remote_set = FALSE; /* keep candidates in sides[0].pending */
  ck_assert (mcu_ice_gather (sides[0].ice, NULL));
  ck_assert (mcutx_wait (ctx, gathered0, NULL, 10000));
  g_source_destroy (src);
  g_source_unref (src);
  ck_assert_uint_ge (stun_requests, 1);
  gboolean host = FALSE, srflx = FALSE;
  for (guint i = 0; i < sides[0].all_local->len; i++)
    {
      const char *c = g_ptr_array_index (sides[0].all_local, i);
      host |= strstr (c, " 127.0.0.1 ") && strstr (c, "typ host");
      srflx |= strstr (c, " 127.0.0.2 ") && strstr (c, "typ srflx");
    }
  ck_assert_msg (host && srflx, "host %d srflx %d", host, srflx);
  /* a name is not accepted: libnice does not resolve */
  cfg.stun_server = "stun.example.org";
  g_autoptr (GError) error = NULL;
  ck_assert_ptr_null (mcu_ice_new (ctx, &cfg, &cbs, NULL, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
}
END_TEST

/* ---- TURN: a real coturn on loopback, when installed ---- */

static GPid turn_pid;

static guint16
free_udp_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                        G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  if (!g_socket_bind (s, any, FALSE, NULL))
    return 0;
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Waits until the server answers a STUN Binding request: an event awaited with a
 * per-try timeout, not a sleep. */
static gboolean
turn_ready (guint16 port)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                        G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, port);
  guint8 req[20]
      = { 0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  for (int attempt = 0; attempt < 50; attempt++)
    {
      g_socket_send_to (s, to, (const char *)req, sizeof req, NULL, NULL);
      if (g_socket_condition_timed_wait (s, G_IO_IN, 200 * 1000, NULL, NULL))
        {
          guint8 buf[512];
          if (g_socket_receive (s, (char *)buf, sizeof buf, NULL, NULL) >= 20
              && buf[0] == 0x01 && buf[1] == 0x01)
            return TRUE;
        }
    }
  return FALSE;
}

static void
turn_stop (void)
{
  if (turn_pid != 0)
    {
      kill (turn_pid, SIGTERM);
      waitpid (turn_pid, NULL, 0);
      g_spawn_close_pid (turn_pid);
      turn_pid = 0;
    }
}

/* coturn must not outlive the test process, even when a failed assertion ends
 * it before turn_stop(). */
static void
turn_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts coturn on 127.0.0.1 with one long-term user; 0 when coturn is absent. */
static guint16
turn_start (const char *dir)
{
  g_autofree char *exe = g_find_program_in_path ("turnserver");
  if (exe == NULL)
    return 0;
  guint16 port = free_udp_port ();
  guint16 relay = free_udp_port ();
  g_autofree char *a_port = g_strdup_printf ("--listening-port=%u", port);
  g_autofree char *a_min = g_strdup_printf ("--min-port=%u", relay);
  g_autofree char *a_max = g_strdup_printf ("--max-port=%u", relay + 20);
  g_autofree char *a_db = g_strdup_printf ("--userdb=%s/turndb", dir);
  g_autofree char *a_pid = g_strdup_printf ("--pidfile=%s/pid", dir);
  g_autofree char *a_log = g_strdup_printf ("--log-file=%s/log", dir);
  char *argv[] = { exe,
                   "-n",
                   "--no-cli",
                   "--no-tcp",
                   "--no-tls",
                   "--no-dtls",
                   "--no-tcp-relay",
                   "--listening-ip=127.0.0.1",
                   "--relay-ip=127.0.0.1",
                   a_port,
                   a_min,
                   a_max,
                   "--allow-loopback-peers",
                   "--lt-cred-mech",
                   "--user=lt:secret",
                   "--realm=lienthong",
                   a_db,
                   a_pid,
                   "--no-stdout-log",
                   a_log,
                   "--simple-log",
                   NULL };
  g_autoptr (GError) error = NULL;
  if (!g_spawn_async (NULL, argv, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                          | G_SPAWN_STDERR_TO_DEV_NULL,
                      turn_child_setup, NULL, &turn_pid, &error))
    ck_abort_msg ("cannot start turnserver: %s", error->message);
  ck_assert_msg (turn_ready (port), "turnserver did not answer on port %u", port);
  return port;
}

static gboolean
no_pending_closes (gpointer data)
{
  return mcu_ice_pending_closes () == 0;
}

/* Side 0 may use relayed candidates only: the pair it selects is relay/host
 * through coturn, and datagrams still pass both ways. Proves the TURN settings
 * (address, port, long-term credentials) reach libnice and work. */
START_TEST (test_turn_relay)
{
  g_autofree char *dir = g_dir_make_tmp ("mcutx-turn-XXXXXX", NULL);
  guint16 port = turn_start (dir);
  if (port == 0)
    {
      g_print ("SKIP %s: turnserver (coturn) not installed\n", __func__);
      g_rmdir (dir);
      return;
    }
  static const char *const lo[] = { "127.0.0.1", NULL };
  for (int i = 0; i < 2; i++)
    {
      McuIceConfig cfg = { 0 };
      cfg.controlling = i == 0;
      cfg.local_addresses = lo;
      if (i == 0)
        {
          cfg.turn_server = "127.0.0.1";
          cfg.turn_port = port;
          cfg.turn_username = "lt";
          cfg.turn_password = "secret";
          cfg.relay_only = TRUE;
        }
      sides[i].ice = mcu_ice_new (ctx, &cfg, &cbs, &sides[i], NULL);
      ck_assert_ptr_nonnull (sides[i].ice);
    }
  connect_trickle ();
  send_both_ways (5);
  McuIcePair p;
  ck_assert (mcu_ice_get_selected_pair (sides[0].ice, &p));
  ck_assert_str_eq (p.local_type, "relay");
  /* a relayed local candidate wraps what it sends for the TURN server: only
   * libnice can send on it; the peer's host side sends to the relay directly */
  McuIceSendCounters c0 = send_counters (0);
  ck_assert_uint_eq (c0.direct, 0);
  ck_assert_uint_ge (c0.via_agent, 1);
  assert_sent_directly (1, 1);
  for (guint i = 0; i < sides[0].all_local->len; i++)
    ck_assert_msg (strstr (g_ptr_array_index (sides[0].all_local, i), "typ relay"),
                   "a non-relay candidate escaped: %s",
                   (char *)g_ptr_array_index (sides[0].all_local, i));
  /* the agents go before the server, so the relay is released cleanly */
  g_clear_pointer (&sides[0].ice, mcu_ice_free);
  g_clear_pointer (&sides[1].ice, mcu_ice_free);
  ck_assert (mcutx_wait (ctx, no_pending_closes, NULL, 10000));
  turn_stop ();
  g_autofree char *f1 = g_build_filename (dir, "turndb", NULL);
  g_autofree char *f2 = g_build_filename (dir, "pid", NULL);
  g_autofree char *f3 = g_build_filename (dir, "log", NULL);
  g_remove (f1);
  g_remove (f2);
  g_remove (f3);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-ice");
  TCase *tc = tcase_create ("loopback");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_trickle_connect);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_restart);
  tcase_add_test (tc, test_consent_at_ice_layer);
  tcase_add_test (tc, test_stun_server);
  tcase_add_test (tc, test_turn_relay);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
