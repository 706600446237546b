/* bench-relay: the cost of forwarding one program to N receivers on one node.
 *
 * Four rows per profile and receiver count (10, 50, 150, 300), each the CPU time
 * per forwarded packet (one packet to one receiver), over REPS timed repetitions
 * after a warm-up, printed as min/median/max:
 *   real       what a node runs: unprotect -> McuRouter -> per receiver McuEndpoint
 *              (copy, protect with its SRTP session under its send lock, send on
 *              the ICE pair it negotiated with a real peer endpoint on loopback:
 *              McuIce's direct path on the pair's socket, as for any host or
 *              reflexive pair), while two audio threads send a 20 ms Opus packet
 *              to every receiver through the same router, as the mixer's threads
 *              do, each run on an SSRC of its own as the program is. The
 *              figure is the video thread's own CPU time (CLOCK_THREAD_CPUTIME_ID):
 *              the audio threads' work is theirs, their contention is in it. Also
 *              how long an audio send waited (p50/p99/max), the lock's cost to them.
 *   bare       the same router with a bare libsrtp session and sendto() per
 *              receiver: what the endpoint and ICE add is real - bare.
 *   gstreamer  the baseline: appsrc ! srtpdec ! tee ! N x (srtpenc ! udpsink), no
 *              queues, so it also forwards on one thread; process CPU time.
 *   floor      the kernel's own cost: one packet protected beforehand, sent with
 *              sendto() from one socket per receiver (as each endpoint has its
 *              own) to the same sink, no SRTP, no router, no lock: what no change
 *              in user space removes from any row above; process CPU time.
 * Both sides decrypt the same pre-encrypted 1,200-byte VP8 packets (a 2 Mbit/s
 * program is about 210 a second) and protect and send one copy per receiver; the
 * receivers' sockets are not read while timing (the kernel drops what overflows
 * after the whole send path ran). Set-up is outside the timed window on both sides:
 * sessions, ICE and DTLS, and srtpenc's sessions, which it creates on its first
 * buffer, made by the warm-up. A baseline that cannot be built or does not forward
 * every packet fails the benchmark. The ratio is real/gstreamer of the medians
 * (goal with GCM: <= 0.5), printed beside floor/gstreamer: the goal cannot be met
 * where the floor alone is above half of GStreamer's figure. Failed sends of the
 * real row are split by cause (SRTP replay, endpoint or ICE not connected, socket
 * full, other) and by the endpoints they hit. The three-hop figure is the relay's
 * share of the delay across three nodes (bare path).
 *
 * Usage: bench-relay [PACKETS [cm|gcm]]   (PACKETS, default 2000: input packets per
 * repetition at 10 receivers; fewer at larger fan-outs, at least 100; both
 * profiles unless one is named)
 */
#include "router.h"
#include "rtp.h"
#include "srtp.h"
#include "../mcu/mcutx-util.h"
#include "bench-receiver.h"

#include <arpa/inet.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT 1200
#define KEYMAX 30 /* the longest master key + salt: 16 + 14 for AES-CM */
#define REPS 7
#define MAX_RECV 300
#define AUDIO_THREADS 2
#define AUDIO_PERIOD_US 20000

/* One SRTP profile, as ours and GStreamer's srtpenc/srtpdec each name it. */
typedef struct
{
  McuSrtpProfile id;
  guint keylen;
  const char *gst_cipher, *gst_auth, *label;
} Profile;

static const Profile profiles[] = {
  { MCU_SRTP_PROFILE_AES128_CM_SHA1_80, 30, "aes-128-icm", "hmac-sha1-80", "cm" },
  { MCU_SRTP_PROFILE_AEAD_AES_128_GCM, 28, "aes-128-gcm", "null", "gcm" },
};
static const Profile *prof = &profiles[0];
#define KEYLEN (prof->keylen)

/* Per-repetition figures of one row. */
typedef struct
{
  double v[REPS];
} Reps;

static double
cpu_seconds (clockid_t clock)
{
  struct timespec ts;
  clock_gettime (clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void
reps_sort (Reps *r)
{
  qsort (r->v, REPS, sizeof r->v[0], cmp_double);
}

static void
print_row (const char *row, guint n, const Reps *r)
{
  printf ("relay_%s_%u_%s: min %.2f median %.2f max %.2f us/forwarded-packet\n",
          prof->label, n, row, r->v[0], r->v[REPS / 2], r->v[REPS - 1]);
}

static void
fill_key (guint8 *key, guint seed)
{
  for (guint i = 0; i < KEYLEN; i++)
    key[i] = (guint8)(seed * 31 + i * 7 + 1);
}

/* The source's packets, encrypted as the source would send them, numbered on
 * without a break: the warm-up and every repetition take the next ones. */
static GPtrArray *
make_source_packets (guint n, const guint8 *key)
{
  g_autoptr (GError) error = NULL;
  guint8 other[KEYMAX] = { 0 };
  g_autoptr (McuSrtp) tx = mcu_srtp_new (prof->id, key, other, &error);
  g_assert_no_error (error);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < n; i++)
    {
      guint8 buf[PKT + 64];
      gsize len = mcu_rtp_write_header (buf, sizeof buf, 96, FALSE, (guint16)i, i * 450,
                                        0xABCD0001);
      buf[len] = 0x10;                     /* VP8 descriptor: S=1, PID 0 */
      buf[len + 1] = i == 0 ? 0x00 : 0x01; /* first packet a keyframe */
      memset (buf + len + 2, (int)i, PKT - len - 2);
      len = PKT;
      int rc = mcu_srtp_protect_rtp (tx, buf, &len, sizeof buf);
      g_assert (rc == MCU_SRTP_OK);
      g_ptr_array_add (out, g_bytes_new (buf, len));
    }
  return out;
}

/* Unprotects packets [first, first + n) and hands them to @router as peer 1's.
 * With @pace_recv receivers, pauses after every PACE_SLICE packets: the sites'
 * sockets are read by the transport thread, and a socket's unread datagrams count
 * against its sender's send buffer (loopback), so a sender that outruns them gets
 * EAGAIN. The pauses cost the timed thread no CPU time. */
#define PACE_SLICE 64
#define PACE_US_PER_DATAGRAM 100

static void
feed (McuRouter *router, McuSrtp *from_src, GPtrArray *packets, guint first, guint n,
      double *hop, guint pace_recv)
{
  for (guint i = first; i < first + n; i++)
    {
      guint8 buf[PKT + 64];
      gsize len = g_bytes_get_size (g_ptr_array_index (packets, i));
      memcpy (buf, g_bytes_get_data (g_ptr_array_index (packets, i), NULL), len);
      gint64 start = g_get_monotonic_time ();
      if (mcu_srtp_unprotect_rtp (from_src, buf, &len) == MCU_SRTP_OK)
        mcu_router_receive_rtp (router, 1, buf, len, start);
      if (hop)
        hop[i - first] = (double)(g_get_monotonic_time () - start);
      if (pace_recv && (i - first + 1) % PACE_SLICE == 0)
        g_usleep ((gulong)PACE_SLICE * pace_recv * PACE_US_PER_DATAGRAM);
    }
}

/* The bare row: returns through @out the per-repetition CPU µs per forwarded
 * packet; p50/p99 of the last repetition's per-packet time from arrival to the
 * last receiver's send. Packets: a warm-up of @m, then REPS x @m. */
static void
run_bare (GPtrArray *packets, const guint8 *src_key, guint m, guint n_recv, int sink_port,
          Reps *out, double *p50, double *p99)
{
  g_autoptr (GError) error = NULL;
  guint8 node_key[KEYMAX];
  fill_key (node_key, 999);
  g_autoptr (McuSrtp) from_src = mcu_srtp_new (prof->id, node_key, src_key, &error);
  g_assert_no_error (error);
  McuRouterConfig cfg = { .program_ssrc = 0x50524f47 };
  g_autoptr (McuRouter) router = mcu_router_new (&cfg);
  McuPeerOps ops = { receiver_send, receiver_send_rtcp };
  McuPeerInfo src_info = { .kind = MCU_PEER_PARENT,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
  mcu_router_add_peer (router, 1, &src_info, &ops, NULL);
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  Receiver *recv = g_new0 (Receiver, n_recv);
  for (guint i = 0; i < n_recv; i++)
    {
      guint8 k[KEYMAX], remote[KEYMAX];
      fill_key (k, i + 1);
      fill_key (remote, i + 5000);
      recv[i].srtp = mcu_srtp_new (prof->id, k, remote, &error);
      recv[i].fd = fd;
      recv[i].to.sin_family = AF_INET;
      recv[i].to.sin_port = htons (sink_port);
      recv[i].to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      McuPeerInfo info = { .kind = MCU_PEER_SITE,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
      mcu_router_add_peer (router, i + 2, &info, &ops, &recv[i]);
    }
  mcu_router_set_program (router, 1, g_get_monotonic_time ());

  double *hop = g_new (double, m);
  feed (router, from_src, packets, 0, m, NULL, 0); /* warm-up */
  for (guint rep = 0; rep < REPS; rep++)
    {
      double t0 = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
      feed (router, from_src, packets, m * (rep + 1), m, hop, 0);
      double cpu = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - t0;
      out->v[rep] = cpu * 1e6 / ((double)m * n_recv);
    }
  guint64 sent = 0;
  for (guint i = 0; i < n_recv; i++)
    {
      sent += recv[i].sent;
      mcu_srtp_free (recv[i].srtp);
    }
  qsort (hop, m, sizeof *hop, cmp_double);
  *p50 = hop[m / 2];
  *p99 = hop[m * 99 / 100];
  g_free (hop);
  g_free (recv);
  close (fd);
  if (sent != (guint64)m * (REPS + 1) * n_recv)
    {
      fprintf (stderr, "bench-relay: bare sent %" G_GUINT64_FORMAT " of %u\n", sent,
               m * (REPS + 1) * n_recv);
      exit (EXIT_FAILURE);
    }
}

/* The floor row: @n_recv sockets, each sending one pre-protected packet per input
 * packet to the sink, as the endpoints each send on their own socket. The same
 * warm-up and repetitions as the other rows; set-up outside the window. */
static void
run_floor (guint m, guint n_recv, int sink_port, Reps *out)
{
  g_autoptr (GError) error = NULL;
  guint8 k[KEYMAX], other[KEYMAX] = { 0 };
  fill_key (k, 1);
  g_autoptr (McuSrtp) tx = mcu_srtp_new (prof->id, k, other, &error);
  g_assert_no_error (error);
  guint8 pkt[PKT + 64];
  gsize len = mcu_rtp_write_header (pkt, sizeof pkt, 96, FALSE, 1, 450, 0x50524f47);
  memset (pkt + len, 0x5a, PKT - len);
  len = PKT;
  if (mcu_srtp_protect_rtp (tx, pkt, &len, sizeof pkt) != MCU_SRTP_OK)
    {
      fprintf (stderr, "bench-relay: floor: cannot protect its packet\n");
      exit (EXIT_FAILURE);
    }
  struct sockaddr_in to = { .sin_family = AF_INET,
                            .sin_port = htons (sink_port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int *fds = g_new (int, n_recv);
  for (guint i = 0; i < n_recv; i++)
    if ((fds[i] = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0)
      {
        perror ("bench-relay: floor socket");
        exit (EXIT_FAILURE);
      }
  guint64 sent = 0;
  for (guint rep = 0; rep <= REPS; rep++) /* rep 0 is the warm-up */
    {
      double t0 = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
      for (guint p = 0; p < m; p++)
        for (guint i = 0; i < n_recv; i++)
          sent += sendto (fds[i], pkt, len, MSG_DONTWAIT, (struct sockaddr *)&to,
                          sizeof to)
                  == (ssize_t)len;
      double cpu = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - t0;
      if (rep > 0)
        out->v[rep - 1] = cpu * 1e6 / ((double)m * n_recv);
    }
  for (guint i = 0; i < n_recv; i++)
    close (fds[i]);
  g_free (fds);
  if (sent != (guint64)m * (REPS + 1) * n_recv)
    {
      fprintf (stderr, "bench-relay: floor sent %" G_GUINT64_FORMAT " of %u\n", sent,
               m * (REPS + 1) * n_recv);
      exit (EXIT_FAILURE);
    }
}

static gint last_sink_count;

static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc (&last_sink_count);
  return GST_PAD_PROBE_OK;
}

/* Pushes packets [first, first + n) and waits until the last branch's sink had
 * them all (EOS would wait for srtpdec's unlinked RTCP branch). */
static gboolean
gst_push (GstElement *src, GPtrArray *packets, guint first, guint n)
{
  g_atomic_int_set (&last_sink_count, 0);
  for (guint i = first; i < first + n; i++)
    {
      GBytes *b = g_ptr_array_index (packets, i);
      GstBuffer *buf
          = gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      GST_BUFFER_PTS (buf) = i * GST_SECOND / 210;
      if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK)
        return FALSE;
    }
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((guint)g_atomic_int_get (&last_sink_count) < n
         && g_get_monotonic_time () < deadline)
    g_usleep (200);
  return (guint)g_atomic_int_get (&last_sink_count) == n;
}

/* The baseline row; exits the benchmark when the pipeline cannot be made or does
 * not forward every packet: a missing baseline must not read as a result. */
static void
run_gstreamer (GPtrArray *packets, const guint8 *src_key, guint m, guint n_recv,
               int sink_port, Reps *out)
{
  g_autoptr (GString) desc = g_string_new (NULL);
  g_autoptr (GString) hex = g_string_new (NULL);
  for (guint i = 0; i < KEYLEN; i++)
    g_string_append_printf (hex, "%02x", src_key[i]);
  g_string_append_printf (
      desc,
      "appsrc name=src format=time max-bytes=0 caps=\"application/x-srtp,media=video,"
      "clock-rate=90000,encoding-name=VP8,payload=96,ssrc=(uint)%u,srtp-key=(buffer)%s,"
      "srtp-cipher=%s,srtp-auth=%s,srtcp-cipher=%s,srtcp-auth=%s,roc=(uint)0\" ! "
      "srtpdec ! tee name=t "
      "allow-not-linked=true ",
      0xABCD0001u, hex->str, prof->gst_cipher, prof->gst_auth, prof->gst_cipher,
      prof->gst_auth);
  for (guint i = 0; i < n_recv; i++)
    {
      guint8 k[KEYMAX];
      fill_key (k, i + 1);
      g_autoptr (GString) kh = g_string_new (NULL);
      for (guint j = 0; j < KEYLEN; j++)
        g_string_append_printf (kh, "%02x", k[j]);
      /* srtpenc's pads are request and sometimes pads: name them */
      g_string_append_printf (desc,
                              "t. ! e%u.rtp_sink_0 srtpenc name=e%u key=%s "
                              "rtp-cipher=%s rtp-auth=%s rtcp-cipher=%s rtcp-auth=%s "
                              "e%u.rtp_src_0 ! udpsink name=u%u host=127.0.0.1 port=%d "
                              "sync=false async=false ",
                              i, i, kh->str, prof->gst_cipher, prof->gst_auth,
                              prof->gst_cipher, prof->gst_auth, i, i, sink_port);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (desc->str, &error);
  if (pipe == NULL || error != NULL)
    {
      fprintf (stderr, "bench-relay: the baseline pipeline cannot be made: %s\n",
               error ? error->message : "?");
      exit (EXIT_FAILURE);
    }
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autofree char *last_name = g_strdup_printf ("u%u", n_recv - 1);
  g_autoptr (GstElement) last = gst_bin_get_by_name (GST_BIN (pipe), last_name);
  g_autoptr (GstPad) last_pad = gst_element_get_static_pad (last, "sink");
  gst_pad_add_probe (last_pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, NULL, NULL);
  if (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (pipe, NULL, NULL, 10 * GST_SECOND)
             == GST_STATE_CHANGE_FAILURE
      || !gst_push (src, packets, 0, m)) /* warm-up: srtpenc makes its sessions */
    {
      fprintf (stderr, "bench-relay: the baseline does not start or forward\n");
      exit (EXIT_FAILURE);
    }
  for (guint rep = 0; rep < REPS; rep++)
    {
      double t0 = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
      gboolean ok = gst_push (src, packets, m * (rep + 1), m);
      double cpu = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - t0;
      if (!ok)
        {
          fprintf (stderr, "bench-relay: the baseline forwarded %d of %u\n",
                   g_atomic_int_get (&last_sink_count), m);
          exit (EXIT_FAILURE);
        }
      out->v[rep] = cpu * 1e6 / ((double)m * n_recv);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
}

/* ---- the real path: McuEndpoints over ICE, as a node sends ---- */

typedef struct
{
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *loop_thread;
  McutxSide pairs[MAX_RECV][2]; /* [0] the node's endpoint, [1] the site's */
  guint n;
} Sites;

/* The endpoints' context runs on a thread of its own while the real rows run, as a
 * node's main loop does beside its media threads: ICE keepalives and answers go on
 * (libnice gives a pair up after 50 s without answers, and a loaded machine takes
 * that long for a few repetitions), and the sites' receiving happens there, not in
 * the timed video thread. */
static gpointer
loop_thread (gpointer data)
{
  Sites *s = data;
  g_main_context_push_thread_default (s->ctx);
  g_main_loop_run (s->loop);
  g_main_context_pop_thread_default (s->ctx);
  return NULL;
}

static void
sites_run (Sites *s)
{
  s->loop = g_main_loop_new (s->ctx, FALSE);
  s->loop_thread = g_thread_new ("transport", loop_thread, s);
}

static void
sites_stop (Sites *s)
{
  g_main_loop_quit (s->loop);
  g_thread_join (s->loop_thread);
  g_main_loop_unref (s->loop);
}

/* Connects MAX_RECV endpoint pairs on loopback (ICE, DTLS, SRTP keys); not timed.
 * Consent is only refreshed by authenticated traffic from the peer, and these
 * sites send none (a real site's reports would keep it): a consent timeout longer
 * than the run keeps the pairs up. */
#define BENCH_CONSENT_MS (3600 * 1000)

static gboolean
sites_connect (Sites *s, McuCert *node_cert, McuCert *site_cert)
{
  s->ctx = g_main_context_default ();
  gint64 t0 = g_get_monotonic_time ();
  for (s->n = 0; s->n < MAX_RECV; s->n++)
    {
      McutxSide *p = s->pairs[s->n];
      g_autofree char *a = g_strdup_printf ("node-%u", s->n);
      g_autofree char *b = g_strdup_printf ("site-%u", s->n);
      if (!mcutx_side_init (&p[0], s->ctx, node_cert, TRUE, &prof->id, 1,
                            BENCH_CONSENT_MS, a)
          || !mcutx_side_init (&p[1], s->ctx, site_cert, FALSE, &prof->id, 1,
                               BENCH_CONSENT_MS, b)
          || !mcutx_connect (s->ctx, p, NULL)
          || mcu_endpoint_get_state (p[0].ep) != MCU_ENDPOINT_STATE_CONNECTED
          || mcu_endpoint_get_state (p[1].ep) != MCU_ENDPOINT_STATE_CONNECTED)
        {
          fprintf (stderr, "bench-relay: endpoint pair %u did not connect\n", s->n);
          return FALSE;
        }
      /* the sites only read and discard what they receive: in a node they are
       * elsewhere, and decrypting 300 sites' media here would starve the transport
       * thread of the time to answer ICE keepalives */
      mcu_ice_set_drop_incoming (mcu_endpoint_get_ice (p[1].ep), TRUE);
    }
  fprintf (stderr, "bench-relay: %u endpoint pairs connected in %.1f s (not timed)\n",
           s->n, (double)(g_get_monotonic_time () - t0) / 1e6);
  return TRUE;
}

static void
sites_clear (Sites *s)
{
  for (guint i = 0; i < s->n; i++)
    {
      mcutx_side_clear (&s->pairs[i][0]);
      mcutx_side_clear (&s->pairs[i][1]);
    }
  while (g_main_context_iteration (s->ctx, FALSE))
    ;
}

/* Sends the endpoint's SRTP session refused as replays (an index it already
 * protected): counted apart, since that is a stream's fault, not the transport's. */
static gint srtp_replays;

/* What the leg's member ops do, less its statistics. */
static gboolean
endpoint_send_rtp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  int st = mcu_endpoint_send_rtp (peer, pkt, len);
  if (st == MCU_SRTP_ERR_REPLAY)
    g_atomic_int_inc (&srtp_replays);
  return st == MCU_SRTP_OK;
}

static gboolean
endpoint_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  return mcu_endpoint_send_rtcp (peer, pkt, len) == MCU_SRTP_OK;
}

typedef struct
{
  McuRouter *router;
  guint first, last; /* router peer ids served */
  /* the mix's SSRC: one of its own per run, as for the program, since its
   * numbers start again at 0; reusing one would have the endpoints that served
   * an earlier run refuse the new run's packets as SRTP replays */
  guint32 ssrc;
  gint stop;
  GArray *waits; /* double µs per send */
} AudioJob;

/* One mixer output thread: every 20 ms an Opus packet to each of its peers. */
static gpointer
audio_thread (gpointer data)
{
  AudioJob *j = data;
  guint8 pkt[160];
  gsize hlen = mcu_rtp_write_header (pkt, sizeof pkt, 111, FALSE, 0, 0, j->ssrc);
  memset (pkt + hlen, 0x3c, sizeof pkt - hlen);
  gint64 next = g_get_monotonic_time ();
  for (guint16 seq = 0; !g_atomic_int_get (&j->stop); seq++)
    {
      for (guint id = j->first; id <= j->last; id++)
        {
          mcu_rtp_write_header (pkt, sizeof pkt, 111, FALSE, seq, seq * 960u, j->ssrc);
          gint64 t0 = g_get_monotonic_time ();
          mcu_router_send_audio (j->router, id, pkt, sizeof pkt);
          double w = (double)(g_get_monotonic_time () - t0);
          g_array_append_val (j->waits, w);
        }
      next += AUDIO_PERIOD_US;
      gint64 now = g_get_monotonic_time ();
      if (next > now)
        g_usleep ((gulong)(next - now));
      else
        next = now;
    }
  return NULL;
}

/* Where the real row's sends went and why some failed, summed over the node's
 * endpoints serving the row. */
typedef struct
{
  McuIceSendCounters ice;
  guint64 attempts, failures; /* McuEndpoint's: video and audio */
  guint hit;                  /* endpoints with a failed send in the row */
  guint replays;              /* failures that were SRTP replay refusals */
  guint ice_failed;           /* endpoints whose ICE had failed by the row's end */
} SendTally;

static void
send_tally (Sites *s, guint n, SendTally *out)
{
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < n; i++)
    {
      McuEndpoint *ep = s->pairs[i][0].ep;
      McuEndpointCounters c;
      McuIceSendCounters ic;
      mcu_endpoint_get_counters (ep, &c);
      mcu_ice_get_send_counters (mcu_endpoint_get_ice (ep), &ic);
      out->attempts += c.rtp_out + c.send_failed;
      out->failures += c.send_failed;
      out->ice.direct += ic.direct;
      out->ice.via_agent += ic.via_agent;
      out->ice.refused += ic.refused;
      out->ice.would_block += ic.would_block;
      out->ice.error += ic.error;
      out->ice.agent_refused += ic.agent_refused;
      if (mcu_ice_get_state (mcu_endpoint_get_ice (ep)) == MCU_ICE_STATE_FAILED)
        out->ice_failed++;
    }
}

/* @after minus @before, per field; @hit and @ice_failed are taken from @after
 * (endpoints, not sends), @hit counted by the caller. */
static void
send_tally_diff (SendTally *after, const SendTally *before)
{
  after->attempts -= before->attempts;
  after->failures -= before->failures;
  after->ice.direct -= before->ice.direct;
  after->ice.via_agent -= before->ice.via_agent;
  after->ice.refused -= before->ice.refused;
  after->ice.would_block -= before->ice.would_block;
  after->ice.error -= before->ice.error;
  after->ice.agent_refused -= before->ice.agent_refused;
}

static guint64
endpoint_failures (McuEndpoint *ep)
{
  McuEndpointCounters c;
  mcu_endpoint_get_counters (ep, &c);
  return c.send_failed;
}

/* The real row: @n_recv of the connected node endpoints as the router's sites,
 * the audio threads running through the whole of it. */
static void
run_real (Sites *s, GPtrArray *packets, const guint8 *src_key, guint m, guint n_recv,
          guint32 program_ssrc, Reps *out, double audio_wait[3], SendTally *tally)
{
  g_autoptr (GError) error = NULL;
  guint8 node_key[KEYMAX];
  fill_key (node_key, 999);
  g_autoptr (McuSrtp) from_src = mcu_srtp_new (prof->id, node_key, src_key, &error);
  g_assert_no_error (error);
  /* a program SSRC of its own per run: each endpoint's outbound SRTP stream for it
   * starts fresh (made by the warm-up), never reusing an index of an earlier run */
  McuRouterConfig cfg = { .program_ssrc = program_ssrc };
  g_autoptr (McuRouter) router = mcu_router_new (&cfg);
  McuPeerOps ops = { endpoint_send_rtp, endpoint_send_rtcp };
  McuPeerOps src_ops = { receiver_send, receiver_send_rtcp };
  McuPeerInfo src_info = { .kind = MCU_PEER_PARENT,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
  mcu_router_add_peer (router, 1, &src_info, &src_ops, NULL);
  for (guint i = 0; i < n_recv; i++)
    {
      McuPeerInfo info = { .kind = MCU_PEER_SITE,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8 };
      mcu_router_add_peer (router, i + 2, &info, &ops, s->pairs[i][0].ep);
    }
  mcu_router_set_program (router, 1, g_get_monotonic_time ());
  SendTally before;
  send_tally (s, n_recv, &before);
  g_atomic_int_set (&srtp_replays, 0);
  guint64 *failed0 = g_new (guint64, n_recv);
  for (guint i = 0; i < n_recv; i++)
    failed0[i] = endpoint_failures (s->pairs[i][0].ep);

  AudioJob jobs[AUDIO_THREADS];
  GThread *threads[AUDIO_THREADS];
  for (guint t = 0; t < AUDIO_THREADS; t++)
    {
      jobs[t] = (AudioJob){ router,
                            2 + t * n_recv / AUDIO_THREADS,
                            1 + (t + 1) * n_recv / AUDIO_THREADS,
                            program_ssrc ^ 0xA0D10,
                            0,
                            g_array_new (FALSE, FALSE, sizeof (double)) };
      threads[t] = g_thread_new ("audio", audio_thread, &jobs[t]);
    }
  feed (router, from_src, packets, 0, m, NULL, n_recv); /* warm-up */
  for (guint rep = 0; rep < REPS; rep++)
    {
      /* the sites' sockets fill while a repetition floods them: a pause lets the
       * transport thread drain them, so ICE keepalives get through (outside the
       * window; the figure is this thread's CPU time anyway) */
      g_usleep (300 * 1000);
      double t0 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
      feed (router, from_src, packets, m * (rep + 1), m, NULL, n_recv);
      double cpu = cpu_seconds (CLOCK_THREAD_CPUTIME_ID) - t0;
      out->v[rep] = cpu * 1e6 / ((double)m * n_recv);
    }
  for (guint t = 0; t < AUDIO_THREADS; t++)
    {
      g_atomic_int_set (&jobs[t].stop, 1);
      g_thread_join (threads[t]);
    }
  GArray *all = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint t = 0; t < AUDIO_THREADS; t++)
    {
      g_array_append_vals (all, jobs[t].waits->data, jobs[t].waits->len);
      g_array_unref (jobs[t].waits);
    }
  g_array_sort (all, cmp_double);
  audio_wait[0] = all->len ? g_array_index (all, double, all->len / 2) : 0;
  audio_wait[1] = all->len ? g_array_index (all, double, all->len * 99 / 100) : 0;
  audio_wait[2] = all->len ? g_array_index (all, double, all->len - 1) : 0;
  g_array_unref (all);
  McuPeerCounters c;
  mcu_router_peer_counters (router, n_recv + 1, &c);
  if (c.video_forwarded != (guint64)m * (REPS + 1))
    {
      fprintf (stderr, "bench-relay: real path forwarded %" G_GUINT64_FORMAT " of %u\n",
               c.video_forwarded, m * (REPS + 1));
      exit (EXIT_FAILURE);
    }
  /* a failed send costs less than one that goes out: printed beside the figure
   * with its cause rather than hidden */
  send_tally (s, n_recv, tally);
  send_tally_diff (tally, &before);
  tally->replays = (guint)g_atomic_int_get (&srtp_replays);
  for (guint i = 0; i < n_recv; i++)
    tally->hit += endpoint_failures (s->pairs[i][0].ep) > failed0[i];
  g_free (failed0);
}

/* Three nodes in a chain, as central -> province -> district: each hop unprotects
 * what the previous node protected for it, routes it (to the next node and to
 * @local local receivers) and protects it again. The figure is the time from a
 * packet entering the first node to its leaving the third: the relay's own share of
 * the end-to-end delay over three hops (the network's is not in it). */
typedef struct Hop Hop;
struct Hop
{
  McuSrtp *in; /* unprotects what the previous hop sent */
  McuRouter *router;
  McuSrtp *to_next; /* protects for the next hop */
  Hop *next;
  gint64 *done_us; /* the last hop records when it sent */
};

static gboolean
hop_send_next (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  Hop *h = peer;
  if (mcu_srtp_protect_rtp (h->to_next, pkt, &len, cap) != MCU_SRTP_OK)
    return FALSE;
  if (h->next == NULL)
    {
      *h->done_us = g_get_monotonic_time ();
      return TRUE;
    }
  if (mcu_srtp_unprotect_rtp (h->next->in, pkt, &len) == MCU_SRTP_OK)
    mcu_router_receive_rtp (h->next->router, 1, pkt, len, g_get_monotonic_time ());
  return TRUE;
}

static void
run_three_hops (GPtrArray *packets, const guint8 *src_key, guint local, int port,
                double *p50, double *p99)
{
  g_autoptr (GError) error = NULL;
  Hop hops[3] = { { 0 } };
  gint64 done = 0;
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  Receiver *recv = g_new0 (Receiver, local * 3);
  McuPeerOps next_ops = { hop_send_next, receiver_send_rtcp };
  McuPeerOps local_ops = { receiver_send, receiver_send_rtcp };
  McuPeerInfo info = { .kind = MCU_PEER_CHILD,
                       .audio_pt = 111,
                       .video_pt = 96,
                       .video_codec = MCU_VIDEO_CODEC_VP8 };
  for (guint i = 0; i < 3; i++)
    {
      guint8 in_key[KEYMAX], out_key[KEYMAX], other[KEYMAX] = { 0 };
      fill_key (in_key, i == 0 ? 77 : 100 + i); /* hop i reads what i-1 wrote */
      fill_key (out_key, 101 + i);
      hops[i].in = mcu_srtp_new (prof->id, other, in_key, &error);
      hops[i].to_next = mcu_srtp_new (prof->id, out_key, other, &error);
      McuRouterConfig cfg = { .program_ssrc = 0x50524f47 + i };
      hops[i].router = mcu_router_new (&cfg);
      hops[i].next = i < 2 ? &hops[i + 1] : NULL;
      hops[i].done_us = &done;
      mcu_router_add_peer (hops[i].router, 1, &info, &next_ops, NULL); /* the source */
      mcu_router_add_peer (hops[i].router, 2, &info, &next_ops, &hops[i]);
      for (guint k = 0; k < local; k++)
        {
          Receiver *r = &recv[i * local + k];
          guint8 a[KEYMAX], b[KEYMAX];
          fill_key (a, 1000 + i * local + k);
          fill_key (b, 5000 + k);
          r->srtp = mcu_srtp_new (prof->id, a, b, &error);
          r->fd = fd;
          r->to = (struct sockaddr_in){ .sin_family = AF_INET,
                                        .sin_port = htons (port),
                                        .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
          mcu_router_add_peer (hops[i].router, 3 + k, &info, &local_ops, r);
        }
      mcu_router_set_program (hops[i].router, 1, g_get_monotonic_time ());
    }
  double *lat = g_new (double, packets->len);
  for (guint i = 0; i < packets->len; i++)
    {
      guint8 buf[PKT + 64];
      gsize len = g_bytes_get_size (g_ptr_array_index (packets, i));
      memcpy (buf, g_bytes_get_data (g_ptr_array_index (packets, i), NULL), len);
      gint64 start = g_get_monotonic_time ();
      done = start;
      if (mcu_srtp_unprotect_rtp (hops[0].in, buf, &len) == MCU_SRTP_OK)
        mcu_router_receive_rtp (hops[0].router, 1, buf, len, start);
      lat[i] = (double)(done - start);
    }
  qsort (lat, packets->len, sizeof *lat, cmp_double);
  *p50 = lat[packets->len / 2];
  *p99 = lat[packets->len * 99 / 100];
  g_free (lat);
  for (guint i = 0; i < 3; i++)
    {
      mcu_router_free (hops[i].router);
      mcu_srtp_free (hops[i].in);
      mcu_srtp_free (hops[i].to_next);
    }
  for (guint k = 0; k < local * 3; k++)
    mcu_srtp_free (recv[k].srtp);
  g_free (recv);
  close (fd);
}

/* Runs every fan-out size with the current profile and prints its figures. The
 * bare and GStreamer rows run first, before the endpoints exist: the real row's
 * endpoints then run their ICE keepalives on a context iterated between its
 * repetitions (libnice gives a pair up after 50 s without answers). */
static gboolean
run_profile (guint n, int port, McuCert *node_cert, McuCert *site_cert)
{
  guint8 src_key[KEYMAX];
  fill_key (src_key, 77);
  static const guint counts[] = { 10, 50, 150, MAX_RECV };
  enum
  {
    N_COUNTS = G_N_ELEMENTS (counts)
  };
  guint most = MAX (100, n);
  g_autoptr (GPtrArray) packets = make_source_packets (most * (REPS + 1), src_key);
  Reps bare[N_COUNTS], base[N_COUNTS], real[N_COUNTS], floor_[N_COUNTS];
  double p50[N_COUNTS], p99[N_COUNTS], wait[N_COUNTS][3];
  guint ms[N_COUNTS];
  for (guint i = 0; i < N_COUNTS; i++)
    {
      /* fewer input packets for large fan-outs keep each run a few seconds */
      ms[i] = MAX (100, n * 10 / counts[i]);
      run_bare (packets, src_key, ms[i], counts[i], port, &bare[i], &p50[i], &p99[i]);
      run_gstreamer (packets, src_key, ms[i], counts[i], port, &base[i]);
      run_floor (ms[i], counts[i], port, &floor_[i]);
    }
  g_autofree Sites *sites = g_new0 (Sites, 1);
  if (!sites_connect (sites, node_cert, site_cert))
    return FALSE;
  SendTally tally[N_COUNTS];
  sites_run (sites);
  for (guint i = 0; i < N_COUNTS; i++)
    run_real (sites, packets, src_key, ms[i], counts[i], 0x50524f00 + i, &real[i],
              wait[i], &tally[i]);
  sites_stop (sites);
  sites_clear (sites);

  printf ("profile: %s (%u repetitions after a warm-up; 1200-byte packets)\n",
          mcu_srtp_profile_name (prof->id), REPS);
  for (guint i = 0; i < N_COUNTS; i++)
    {
      guint r = counts[i];
      reps_sort (&bare[i]);
      reps_sort (&base[i]);
      reps_sort (&real[i]);
      reps_sort (&floor_[i]);
      printf ("relay_%s_%u_packets: %u per repetition, %u forwarded\n", prof->label, r,
              ms[i], ms[i] * r);
      print_row ("real", r, &real[i]);
      print_row ("bare", r, &bare[i]);
      print_row ("gstreamer", r, &base[i]);
      print_row ("floor", r, &floor_[i]);
      printf ("relay_%s_%u_ratio_real_gstreamer: %.2f x (medians; floor/gstreamer "
              "%.2f x)\n",
              prof->label, r, real[i].v[REPS / 2] / base[i].v[REPS / 2],
              floor_[i].v[REPS / 2] / base[i].v[REPS / 2]);
      printf ("relay_%s_%u_real_audio_send: p50 %.0f p99 %.0f max %.0f us "
              "(%u threads, 20 ms per receiver)\n",
              prof->label, r, wait[i][0], wait[i][1], wait[i][2], AUDIO_THREADS);
      SendTally *t = &tally[i];
      guint64 at_ice = t->ice.refused + t->ice.would_block + t->ice.error
                       + t->ice.agent_refused + t->replays;
      printf ("relay_%s_%u_real_send_failures: %" G_GUINT64_FORMAT " (%.2f%% of video "
              "and audio sends) on %u endpoints: SRTP replay %u, endpoint not "
              "connected %" G_GUINT64_FORMAT " (ICE failed on %u by the end), ICE not "
              "connected %" G_GUINT64_FORMAT ", socket full %" G_GUINT64_FORMAT
              ", other %" G_GUINT64_FORMAT ", refused by libnice %" G_GUINT64_FORMAT "\n",
              prof->label, r, t->failures,
              100.0 * (double)t->failures / (double)MAX (1, t->attempts), t->hit,
              t->replays, t->failures > at_ice ? t->failures - at_ice : 0, t->ice_failed,
              t->ice.refused, t->ice.would_block, t->ice.error, t->ice.agent_refused);
      printf ("relay_%s_%u_real_sends: %" G_GUINT64_FORMAT " on the pair's socket, "
              "%" G_GUINT64_FORMAT " through libnice\n",
              prof->label, r, t->ice.direct, t->ice.via_agent);
      printf ("relay_%s_%u_bare_hop: p50 %.0f p99 %.0f us\n", prof->label, r, p50[i],
              p99[i]);
    }
  /* three hops, the next node forwarded to first, 50 local sites at each node */
  {
    double h50, h99;
    g_autoptr (GPtrArray) sub = g_ptr_array_new ();
    for (guint k = 0; k < 2000 && k < packets->len; k++)
      g_ptr_array_add (sub, g_ptr_array_index (packets, k));
    run_three_hops (sub, src_key, 50, port, &h50, &h99);
    printf ("relay_%s_three_hops_50_local_p50: %.0f us\n", prof->label, h50);
    printf ("relay_%s_three_hops_50_local_p99: %.0f us\n", prof->label, h99);
  }
  fflush (stdout);
  return TRUE;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint n = argc > 1 ? (guint)atoi (argv[1]) : 2000;
  if (n < 100)
    n = 100;
  /* a sink nobody reads: the kernel drops what overflows, the sender pays in full */
  int sink = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a
      = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (bind (sink, (struct sockaddr *)&a, sizeof a) < 0
      || getsockname (sink, (struct sockaddr *)&a, &alen) < 0)
    {
      perror ("bench-relay: sink");
      return 1;
    }
  int port = ntohs (a.sin_port);
  g_autoptr (McuCert) node_cert = mcu_cert_generate ("bench-node", NULL);
  g_autoptr (McuCert) site_cert = mcu_cert_generate ("bench-site", NULL);
  for (gsize pi = 0; pi < G_N_ELEMENTS (profiles); pi++)
    {
      prof = &profiles[pi];
      if (argc > 2 && g_strcmp0 (argv[2], prof->label) != 0)
        continue;
      if (!run_profile (n, port, node_cert, site_cert))
        return EXIT_FAILURE;
    }
  close (sink);
  return 0;
}
