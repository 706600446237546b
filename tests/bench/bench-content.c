/* bench-content: what the content (a presenter's screen, issue 16) costs a node per
 * forwarded packet, next to the program's, on the router's real path: unprotect
 * the source's packet, McuRouter (stream classification by SSRC, rewrite, the
 * retransmission store, keyframe tracking for stills), then per receiver a copy
 * protected with its own SRTP session (AEAD_AES_128_GCM) and sent with sendto() to
 * a loopback socket. Rows, CPU µs per forwarded packet (one packet to one receiver)
 * of the thread that forwards, min/median/max over REPS repetitions after a
 * warm-up, at 10, 50 and 150 receivers:
 *   program    the floor holder's video (the baseline, measured in the same run)
 *   content    the presenter's screen, relayed beside it
 *   both       one of each in turn, as a meeting with content runs
 * and the ratio content/program of the medians. Sessions and sockets are made
 * before the timed window; each row's every packet must reach every receiver, or
 * the benchmark fails instead of printing a ratio.
 *
 * Usage: bench-content [PACKETS]   (input packets per repetition, default 600) */
#include "router.h"
#include "rtp.h"
#include "srtp.h"
#include "bench-receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT 1200
#define KEYLEN 28 /* AEAD_AES_128_GCM: 16 + 12 */
#define REPS 7
#define PROGRAM_IN 0xABCD0001u
#define CONTENT_IN 0xC0DE0001u

static void
fill_key (guint8 *key, guint seed)
{
  for (guint i = 0; i < KEYLEN; i++)
    key[i] = (guint8)(seed * 31 + i * 7 + 1);
}

/* @n VP8 packets of one source (@ssrc), the first a keyframe, encrypted as it
 * would send them with @key. */
static GPtrArray *
make_packets (guint n, guint32 ssrc, const guint8 *key)
{
  g_autoptr (GError) error = NULL;
  guint8 other[KEYLEN] = { 0 };
  g_autoptr (McuSrtp) tx
      = mcu_srtp_new (MCU_SRTP_PROFILE_AEAD_AES_128_GCM, key, other, &error);
  g_assert_no_error (error);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < n; i++)
    {
      guint8 buf[PKT + 64];
      /* a frame of 6 packets every 1/30 s, as a 2 Mbit/s stream makes them */
      gsize len = mcu_rtp_write_header (buf, sizeof buf, 96, i % 6 == 5, (guint16)i,
                                        (i / 6) * 3000u, ssrc);
      buf[len] = i % 6 == 0 ? 0x10 : 0x00; /* VP8 descriptor: S=1 on a frame's first */
      buf[len + 1] = i == 0 ? 0x00 : 0x01; /* the first frame a keyframe */
      memset (buf + len + 2, (int)i, PKT - len - 2);
      len = PKT;
      g_assert (mcu_srtp_protect_rtp (tx, buf, &len, sizeof buf) == MCU_SRTP_OK);
      g_ptr_array_add (out, g_bytes_new (buf, len));
    }
  return out;
}

static double
thread_cpu_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct
{
  McuRouter *router;
  McuSrtp *from[3];   /* by peer id 1 (program), 2 (content) */
  GPtrArray *pkts[3]; /* their packets */
  guint next[3];      /* the next packet of each */
  Receiver *rx;
  guint n_rx;
} Bench;

/* Feeds @n packets: of peer 1, of peer 2, or (@which 0) of each in turn. Returns
 * the CPU µs per forwarded packet; exits when a packet did not reach every
 * receiver. */
static double
feed (Bench *b, guint which, guint n, gboolean check)
{
  guint64 before = 0;
  for (guint i = 0; i < b->n_rx; i++)
    before += b->rx[i].sent;
  double t0 = thread_cpu_us ();
  for (guint k = 0; k < n; k++)
    {
      guint id = which ? which : 1 + k % 2;
      g_assert (b->next[id] < b->pkts[id]->len); /* a repeat would be a replay */
      GBytes *p = g_ptr_array_index (b->pkts[id], b->next[id]++);
      guint8 buf[PKT + 64];
      gsize len = g_bytes_get_size (p);
      memcpy (buf, g_bytes_get_data (p, NULL), len);
      if (mcu_srtp_unprotect_rtp (b->from[id], buf, &len) == MCU_SRTP_OK)
        mcu_router_receive_rtp (b->router, id, buf, len, g_get_monotonic_time ());
    }
  double spent = thread_cpu_us () - t0;
  guint64 after = 0;
  for (guint i = 0; i < b->n_rx; i++)
    after += b->rx[i].sent;
  if (check && after - before != (guint64)n * b->n_rx)
    {
      fprintf (stderr,
               "bench-content: %" G_GUINT64_FORMAT " sends for %u packets to %u "
               "receivers: a stream was not relayed\n",
               after - before, n, b->n_rx);
      exit (1);
    }
  return spent / (double)(n * b->n_rx);
}

static void
run (guint n_rx, guint packets, int sink_port)
{
  static const McuPeerOps ops = { receiver_send, receiver_send_rtcp };
  McuRouterConfig cfg = { .program_ssrc = 0x4C540B01u };
  Bench b = { .router = mcu_router_new (&cfg), .n_rx = n_rx };
  b.rx = g_new0 (Receiver, n_rx);
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_assert (fd >= 0);
  guint8 node_key[KEYLEN], key[KEYLEN];
  fill_key (node_key, 999);
  /* the two sources: 1 sends the program, 2 (a site with a content m-line, its
   * content on the same payload type, told apart by SSRC) the content */
  for (guint id = 1; id <= 2; id++)
    {
      g_autoptr (GError) error = NULL;
      fill_key (key, id);
      b.from[id]
          = mcu_srtp_new (MCU_SRTP_PROFILE_AEAD_AES_128_GCM, node_key, key, &error);
      g_assert_no_error (error);
      /* each packet once: the warm-up, then per repetition its row and half of
       * "both" */
      b.pkts[id] = make_packets (packets + REPS * (packets + packets / 2 + 1),
                                 id == 1 ? PROGRAM_IN : CONTENT_IN, key);
    }
  /* the receivers: sites that took both video m-lines */
  for (guint i = 0; i < n_rx; i++)
    {
      g_autoptr (GError) error = NULL;
      guint8 k[KEYLEN], remote[KEYLEN];
      fill_key (k, 100 + i);
      fill_key (remote, 5000 + i);
      b.rx[i].srtp = mcu_srtp_new (MCU_SRTP_PROFILE_AEAD_AES_128_GCM, k, remote, &error);
      g_assert_no_error (error);
      b.rx[i].fd = fd;
      b.rx[i].to.sin_family = AF_INET;
      b.rx[i].to.sin_port = htons ((guint16)sink_port);
      b.rx[i].to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      McuPeerInfo info = { .kind = MCU_PEER_SITE,
                           .audio_pt = 111,
                           .video_pt = 96,
                           .video_codec = MCU_VIDEO_CODEC_VP8,
                           .content_pt = 96,
                           .content_codec = MCU_VIDEO_CODEC_VP8,
                           .content_ssrcs = { 0xEE000000u + i },
                           .n_content_ssrcs = 1 };
      g_assert (mcu_router_add_peer (b.router, 10 + i, &info, &ops, &b.rx[i]));
    }
  /* the sources take nothing back (1 has no content m-line, 2 no program one), so
   * every send counted is to a receiver */
  McuPeerInfo src1 = { .kind = MCU_PEER_SITE,
                       .audio_pt = 111,
                       .video_pt = 96,
                       .video_codec = MCU_VIDEO_CODEC_VP8 };
  McuPeerInfo src2 = { .kind = MCU_PEER_SITE,
                       .audio_pt = 111,
                       .content_pt = 96,
                       .content_codec = MCU_VIDEO_CODEC_VP8,
                       .content_ssrcs = { CONTENT_IN },
                       .n_content_ssrcs = 1 };
  static Receiver nobody = { .fd = -1 };
  g_assert (mcu_router_add_peer (b.router, 1, &src1, &ops, &nobody));
  g_assert (mcu_router_add_peer (b.router, 2, &src2, &ops, &nobody));
  gint64 now = g_get_monotonic_time ();
  mcu_router_set_program (b.router, 1, now);
  mcu_router_set_content (b.router, 2, now);
  /* warm-up: both switches complete on their first keyframes; caches and the
   * sessions' replay windows settle */
  feed (&b, 0, 2 * packets, FALSE);
  if (mcu_router_program (b.router) != 1 || mcu_router_content (b.router) != 2)
    {
      fprintf (stderr, "bench-content: the streams did not start\n");
      exit (1);
    }
  double rows[3][REPS];
  for (guint r = 0; r < REPS; r++)
    {
      rows[0][r] = feed (&b, 1, packets, TRUE);
      rows[1][r] = feed (&b, 2, packets, TRUE);
      rows[2][r] = feed (&b, 0, packets, TRUE);
    }
  if (nobody.sent != 0)
    {
      fprintf (stderr, "bench-content: a source got its own stream back\n");
      exit (1);
    }
  static const char *names[] = { "program", "content", "both" };
  for (guint k = 0; k < 3; k++)
    {
      qsort (rows[k], REPS, sizeof rows[k][0], cmp_double);
      printf ("content_%u_%s: min %.2f median %.2f max %.2f us/forwarded-packet\n", n_rx,
              names[k], rows[k][0], rows[k][REPS / 2], rows[k][REPS - 1]);
    }
  printf ("content_%u_ratio_content_program: %.2f x (medians)\n", n_rx,
          rows[1][REPS / 2] / rows[0][REPS / 2]);
  mcu_router_free (b.router);
  for (guint id = 1; id <= 2; id++)
    {
      mcu_srtp_free (b.from[id]);
      g_ptr_array_unref (b.pkts[id]);
    }
  for (guint i = 0; i < n_rx; i++)
    mcu_srtp_free (b.rx[i].srtp);
  g_free (b.rx);
  close (fd);
}

int
main (int argc, char **argv)
{
  guint packets = argc > 1 ? (guint)atoi (argv[1]) : 600;
  if (packets < 60)
    packets = 60;
  /* a socket nobody reads: the kernel takes every datagram through the loopback
   * path and drops what overflows, the same for every row */
  int sink = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a
      = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (sink < 0 || bind (sink, (struct sockaddr *)&a, sizeof a) != 0
      || getsockname (sink, (struct sockaddr *)&a, &alen) != 0)
    {
      perror ("bench-content: sink socket");
      return 1;
    }
  static const guint counts[] = { 10, 50, 150 };
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    run (counts[i], MAX (60u, packets * 10 / counts[i]), ntohs (a.sin_port));
  close (sink);
  return 0;
}
