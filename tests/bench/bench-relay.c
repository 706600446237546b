/* bench-relay: the cost of forwarding one program to N receivers on one node.
 *
 * Ours: unprotect once -> McuRouter -> per receiver: protect with its own SRTP
 * session -> sendto on loopback. Baseline, in the same run: GStreamer's
 * appsrc ! srtpdec ! tee ! N x (srtpenc ! udpsink), with no queues so it too runs on
 * one thread. Both forward the same pre-encrypted 1,200-byte VP8 packets (a 2 Mbit/s
 * program is about 210 of them a second) as fast as they can; the figure is CPU
 * time per forwarded packet and the ratio ours/baseline (target <= 0.5). Also the
 * time from a packet's arrival to its last receiver's send, p50 and p99 (one hop).
 *
 * Usage: bench-relay [PACKETS]   (default 2000 input packets per receiver count)
 */
#include "router.h"
#include "rtp.h"
#include "srtp.h"

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

typedef struct
{
  McuSrtp *srtp;
  int fd;
  struct sockaddr_in to;
  guint64 sent;
} Receiver;

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill_key (guint8 *key, guint seed)
{
  for (guint i = 0; i < KEYLEN; i++)
    key[i] = (guint8)(seed * 31 + i * 7 + 1);
}

static gboolean
receiver_send (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  Receiver *r = peer;
  if (mcu_srtp_protect_rtp (r->srtp, pkt, &len, cap) != MCU_SRTP_OK)
    return FALSE;
  r->sent++;
  return sendto (r->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&r->to, sizeof r->to)
         >= 0;
}

static gboolean
receiver_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  return TRUE; /* keyframe requests to the source: not part of this measure */
}

/* The source's packets, encrypted as the source would send them. */
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

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Returns CPU µs per forwarded packet; fills p50/p99 of per-packet hop time. */
static double
run_ours (GPtrArray *packets, const guint8 *src_key, guint n_recv, int sink_port,
          double *p50, double *p99)
{
  g_autoptr (GError) error = NULL;
  guint8 node_key[KEYMAX];
  fill_key (node_key, 999);
  g_autoptr (McuSrtp) from_src = mcu_srtp_new (prof->id, node_key, src_key, &error);
  g_assert_no_error (error);
  McuRouterConfig cfg = { .program_ssrc = 0x50524f47 };
  g_autoptr (McuRouter) router = mcu_router_new (&cfg);
  McuPeerOps ops = { receiver_send, receiver_send_rtcp };
  McuPeerInfo src_info = { MCU_PEER_PARENT, 111, 96, MCU_VIDEO_CODEC_VP8 };
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
      McuPeerInfo info = { MCU_PEER_SITE, 111, 96, MCU_VIDEO_CODEC_VP8 };
      mcu_router_add_peer (router, i + 2, &info, &ops, &recv[i]);
    }
  mcu_router_set_program (router, 1, g_get_monotonic_time ());

  double *hop = g_new (double, packets->len);
  double t0 = cpu_seconds ();
  for (guint i = 0; i < packets->len; i++)
    {
      guint8 buf[PKT + 64];
      gsize len = g_bytes_get_size (g_ptr_array_index (packets, i));
      memcpy (buf, g_bytes_get_data (g_ptr_array_index (packets, i), NULL), len);
      gint64 start = g_get_monotonic_time ();
      if (mcu_srtp_unprotect_rtp (from_src, buf, &len) == MCU_SRTP_OK)
        mcu_router_receive_rtp (router, 1, buf, len, start);
      hop[i] = (double)(g_get_monotonic_time () - start);
    }
  double cpu = cpu_seconds () - t0;
  guint64 sent = 0;
  for (guint i = 0; i < n_recv; i++)
    {
      sent += recv[i].sent;
      mcu_srtp_free (recv[i].srtp);
    }
  qsort (hop, packets->len, sizeof *hop, cmp_double);
  *p50 = hop[packets->len / 2];
  *p99 = hop[packets->len * 99 / 100];
  g_free (hop);
  g_free (recv);
  close (fd);
  if (sent != (guint64)packets->len * n_recv)
    fprintf (stderr, "bench-relay: ours sent %" G_GUINT64_FORMAT " of %u\n", sent,
             packets->len * n_recv);
  return cpu * 1e6 / ((double)packets->len * n_recv);
}

static gint last_sink_count;

static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc (&last_sink_count);
  return GST_PAD_PROBE_OK;
}

static double
run_gstreamer (GPtrArray *packets, const guint8 *src_key, guint n_recv, int sink_port)
{
  g_autoptr (GString) desc = g_string_new (NULL);
  g_autofree char *hex = NULL;
  {
    GString *h = g_string_new (NULL);
    for (guint i = 0; i < KEYLEN; i++)
      g_string_append_printf (h, "%02x", src_key[i]);
    hex = g_string_free (h, FALSE);
  }
  g_string_append_printf (
      desc,
      "appsrc name=src format=time max-bytes=0 caps=\"application/x-srtp,media=video,"
      "clock-rate=90000,encoding-name=VP8,payload=96,ssrc=(uint)%u,srtp-key=(buffer)%s,"
      "srtp-cipher=%s,srtp-auth=%s,srtcp-cipher=%s,srtcp-auth=%s,roc=(uint)0\" ! "
      "srtpdec ! tee name=t "
      "allow-not-linked=true ",
      0xABCD0001u, hex, prof->gst_cipher, prof->gst_auth, prof->gst_cipher,
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
  if (pipe == NULL)
    {
      fprintf (stderr, "bench-relay: baseline: %s\n", error->message);
      return 0;
    }
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autofree char *last_name = g_strdup_printf ("u%u", n_recv - 1);
  g_autoptr (GstElement) last = gst_bin_get_by_name (GST_BIN (pipe), last_name);
  g_autoptr (GstPad) last_pad = gst_element_get_static_pad (last, "sink");
  g_atomic_int_set (&last_sink_count, 0);
  gst_pad_add_probe (last_pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, NULL, NULL);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gst_element_get_state (pipe, NULL, NULL, GST_CLOCK_TIME_NONE);
  double t0 = cpu_seconds ();
  for (guint i = 0; i < packets->len; i++)
    {
      GBytes *b = g_ptr_array_index (packets, i);
      GstBuffer *buf
          = gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      GST_BUFFER_PTS (buf) = i * GST_SECOND / 210;
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
    }
  /* done when the last branch's sink has had every packet (EOS would wait for
   * srtpdec's unlinked RTCP branch) */
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((guint)g_atomic_int_get (&last_sink_count) < packets->len
         && g_get_monotonic_time () < deadline)
    g_usleep (200);
  double cpu = cpu_seconds () - t0;
  if ((guint)g_atomic_int_get (&last_sink_count) < packets->len)
    fprintf (stderr, "bench-relay: baseline forwarded %d of %u\n",
             g_atomic_int_get (&last_sink_count), packets->len);
  gst_element_set_state (pipe, GST_STATE_NULL);
  return cpu * 1e6 / ((double)packets->len * n_recv);
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
  McuPeerInfo info = { MCU_PEER_CHILD, 111, 96, MCU_VIDEO_CODEC_VP8 };
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

/* Runs every fan-out size with the current profile and prints its figures. */
static void
run_profile (guint n, int port)
{
  guint8 src_key[KEYMAX];
  fill_key (src_key, 77);
  g_autoptr (GPtrArray) packets = make_source_packets (n, src_key);

  printf ("profile: %s (%u input packets of 1200 bytes per run)\n",
          mcu_srtp_profile_name (prof->id), n);
  static const guint counts[] = { 10, 50, 150, 300 };
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      guint r = counts[i];
      /* fewer input packets for large fan-outs keep each run a few seconds */
      guint m = MAX (100, n * 10 / r);
      g_autoptr (GPtrArray) sub = g_ptr_array_new ();
      for (guint k = 0; k < m && k < packets->len; k++)
        g_ptr_array_add (sub, g_ptr_array_index (packets, k));
      double p50, p99;
      double ours = run_ours (sub, src_key, r, port, &p50, &p99);
      double base = run_gstreamer (sub, src_key, r, port);
      printf ("relay_%s_%u_ours: %.2f us/forwarded-packet\n", prof->label, r, ours);
      printf ("relay_%s_%u_gstreamer: %.2f us/forwarded-packet\n", prof->label, r, base);
      printf ("relay_%s_%u_ratio: %.2f x\n", prof->label, r, base > 0 ? ours / base : 0);
      printf ("relay_%s_%u_hop_p50: %.0f us\n", prof->label, r, p50);
      printf ("relay_%s_%u_hop_p99: %.0f us\n", prof->label, r, p99);
    }
  /* three hops, the next node forwarded to first, 50 local sites at each node */
  {
    double p50, p99;
    run_three_hops (packets, src_key, 50, port, &p50, &p99);
    printf ("relay_%s_three_hops_50_local_p50: %.0f us\n", prof->label, p50);
    printf ("relay_%s_three_hops_50_local_p99: %.0f us\n", prof->label, p99);
  }
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
  for (gsize pi = 0; pi < G_N_ELEMENTS (profiles); pi++)
    {
      prof = &profiles[pi];
      run_profile (n, port);
    }
  close (sink);
  return 0;
}
