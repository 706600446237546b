/* bench-srtp-path: packets per second on one core for 1,200-byte RTP packets, per
 * SRTP profile, compared like with like:
 *   (a) the baseline, raw libsrtp: srtp_unprotect + srtp_protect in place on
 *       sessions made directly with libsrtp's API, nothing else: no RFC 7983 demux,
 *       no RTP parse or rewrite, no wrapper, no copy;
 *   (b) our receive path: mcu_demux_classify → mcu_srtp_unprotect_rtp →
 *       mcu_rtp_parse → SSRC rewrite → mcu_srtp_protect_rtp;
 * each measured twice: without sending, and sending every packet with sendmmsg()
 * in batches of 32 to a loopback UDP socket (the same sending code on both sides).
 * The ratios (b)/(a) compare the two with sending and the two without; the first
 * is what the wrappers cost on a path that ends in the kernel, the second what they
 * cost against the cipher alone. Rates use this process's CPU time (user + system), so
 * other load on the machine slows the wall clock but not the figure much; the wall
 * clock rate is printed too. Input packets are protected beforehand, outside the
 * timed part, in rounds so the sequence numbers keep increasing. The receiving
 * socket is never read: once its buffer is full the kernel drops each datagram at
 * the socket, after the whole send path (sendmmsg, UDP/IP, loopback) has run.
 * Usage: bench-srtp-path [SECONDS per measurement, default 1.5] */
#define _GNU_SOURCE
#include "mcu.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_LEN 1200
#define SLOT 1280
#define ROUND 4096
#define BATCH 32

typedef struct
{
  guint8 *pkts; /* ROUND slots of SLOT bytes */
  gsize lens[ROUND];
  McuSrtp *gen; /* protects the input with key_a */
  guint16 seq;
} Input;

static double
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_now (void)
{
  return (double)g_get_monotonic_time () / 1e6;
}

/* Fills the next ROUND input packets: plain RTP with increasing sequence numbers,
 * protected with the sender's key. Not timed. */
static void
input_fill (Input *in)
{
  for (guint i = 0; i < ROUND; i++)
    {
      guint8 *p = in->pkts + (gsize)i * SLOT;
      mcu_rtp_write_header (p, SLOT, 96, FALSE, in->seq, (guint32)in->seq * 3000,
                            0x1234abcd);
      memset (p + 12, (int)(in->seq & 0xff), PKT_LEN - 12);
      gsize len = PKT_LEN;
      if (mcu_srtp_protect_rtp (in->gen, p, &len, SLOT) != MCU_SRTP_OK)
        g_error ("input protect failed");
      in->lens[i] = len;
      in->seq++;
    }
}

static void
make_policy (McuSrtpProfile p, const guint8 *key, gboolean outbound, srtp_policy_t *pol)
{
  memset (pol, 0, sizeof *pol);
  if (p == MCU_SRTP_PROFILE_AEAD_AES_128_GCM)
    {
      srtp_crypto_policy_set_aes_gcm_128_16_auth (&pol->rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth (&pol->rtcp);
    }
  else
    {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&pol->rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&pol->rtcp);
    }
  pol->ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  pol->key = (guint8 *)key;
  pol->window_size = 1024;
  pol->allow_repeat_tx = outbound;
}

/* A loopback UDP pair; the receiver is never read. */
typedef struct
{
  int rx, tx;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  guint n;
  guint64 sent;
} Sender;

static void
sender_open (Sender *s)
{
  memset (s, 0, sizeof *s);
  s->rx = socket (AF_INET, SOCK_DGRAM, 0);
  s->tx = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr
      = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof addr;
  if (s->rx < 0 || s->tx < 0 || bind (s->rx, (struct sockaddr *)&addr, sizeof addr) != 0
      || getsockname (s->rx, (struct sockaddr *)&addr, &alen) != 0
      || connect (s->tx, (struct sockaddr *)&addr, sizeof addr) != 0)
    g_error ("loopback socket setup failed");
}

/* Queues one packet (which must stay put until the flush) and sends a full batch. */
static void
sender_add (Sender *s, guint8 *pkt, gsize len)
{
  s->iov[s->n].iov_base = pkt;
  s->iov[s->n].iov_len = len;
  s->msgs[s->n].msg_hdr.msg_iov = &s->iov[s->n];
  s->msgs[s->n].msg_hdr.msg_iovlen = 1;
  if (++s->n == BATCH)
    {
      int r = sendmmsg (s->tx, s->msgs, s->n, 0);
      s->sent += r > 0 ? (guint64)r : 0;
      s->n = 0;
    }
}

static void
sender_flush (Sender *s)
{
  if (s->n == 0)
    return;
  int r = sendmmsg (s->tx, s->msgs, s->n, 0);
  s->sent += r > 0 ? (guint64)r : 0;
  s->n = 0;
}

static void
sender_close (Sender *s)
{
  close (s->rx);
  close (s->tx);
}

/* (a): libsrtp alone, unprotect then protect each packet in place; with @send,
 * then the same sendmmsg() batches as (b). */
static double
bench_raw (McuSrtpProfile p, const guint8 *key_a, const guint8 *key_b, double secs,
           gboolean send, double *wall_rate, guint64 *sent_out)
{
  Sender snd;
  sender_open (&snd);
  srtp_policy_t pol_in, pol_out;
  srtp_t in_s, out_s;
  make_policy (p, key_a, FALSE, &pol_in);
  make_policy (p, key_b, TRUE, &pol_out);
  if (srtp_create (&in_s, &pol_in) || srtp_create (&out_s, &pol_out))
    g_error ("srtp_create failed");

  Input in = { .pkts = g_malloc (ROUND * SLOT) };
  in.gen = mcu_srtp_new (p, key_a, key_b, NULL);
  guint64 n = 0;
  double cpu = 0, wall = 0;
  while (cpu < secs)
    {
      input_fill (&in);
      double c0 = cpu_now (), w0 = wall_now ();
      for (guint i = 0; i < ROUND; i++)
        {
          guint8 *pkt = in.pkts + (gsize)i * SLOT;
          int len = (int)in.lens[i];
          if (srtp_unprotect (in_s, pkt, &len) != srtp_err_status_ok)
            g_error ("raw unprotect failed");
          if (srtp_protect (out_s, pkt, &len) != srtp_err_status_ok)
            g_error ("raw protect failed");
          if (send)
            sender_add (&snd, pkt, (gsize)len);
        }
      sender_flush (&snd);
      cpu += cpu_now () - c0;
      wall += wall_now () - w0;
      n += ROUND;
    }
  srtp_dealloc (in_s);
  srtp_dealloc (out_s);
  mcu_srtp_free (in.gen);
  g_free (in.pkts);
  sender_close (&snd);
  *wall_rate = (double)n / wall;
  *sent_out = snd.sent;
  return (double)n / cpu;
}

/* (b): the relay's receive path over our wrappers; with @send, ending in the same
 * sendmmsg() batches as (a). */
static double
bench_path (McuSrtpProfile p, const guint8 *key_a, const guint8 *key_b, double secs,
            gboolean send, double *wall_rate, guint64 *sent_out)
{
  Sender snd;
  sender_open (&snd);
  McuSrtp *relay = mcu_srtp_new (p, key_b, key_a, NULL); /* in: key_a, out: key_b */
  Input in = { .pkts = g_malloc (ROUND * SLOT) };
  in.gen = mcu_srtp_new (p, key_a, key_b, NULL);
  guint64 n = 0, dropped = 0;
  double cpu = 0, wall = 0;
  while (cpu < secs)
    {
      input_fill (&in);
      double c0 = cpu_now (), w0 = wall_now ();
      for (guint i = 0; i < ROUND; i++)
        {
          guint8 *pkt = in.pkts + (gsize)i * SLOT;
          gsize len = in.lens[i];
          McuRtpHeader h;
          if (mcu_demux_classify (pkt, len) != MCU_PACKET_RTP
              || mcu_srtp_unprotect_rtp (relay, pkt, &len) != MCU_SRTP_OK
              || mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK)
            {
              dropped++;
              continue;
            }
          mcu_rtp_set_ssrc (pkt, len, h.ssrc ^ 0x5a5a5a5a);
          if (mcu_srtp_protect_rtp (relay, pkt, &len, SLOT) != MCU_SRTP_OK)
            {
              dropped++;
              continue;
            }
          if (send)
            sender_add (&snd, pkt, len);
        }
      sender_flush (&snd);
      cpu += cpu_now () - c0;
      wall += wall_now () - w0;
      n += ROUND;
    }
  if (dropped)
    g_error ("%" G_GUINT64_FORMAT " packets failed on the path", dropped);
  sender_close (&snd);
  mcu_srtp_free (relay);
  mcu_srtp_free (in.gen);
  g_free (in.pkts);
  *wall_rate = (double)n / wall;
  *sent_out = snd.sent;
  return (double)n / cpu;
}

int
main (int argc, char **argv)
{
  double secs = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 1.5;
  if (secs <= 0)
    secs = 1.5;
  guint8 key_a[30], key_b[30];
  for (guint i = 0; i < 30; i++)
    {
      key_a[i] = (guint8)(0x11 * i + 3);
      key_b[i] = (guint8)(0x3d * i + 7);
    }
  const McuSrtpProfile profiles[]
      = { MCU_SRTP_PROFILE_AEAD_AES_128_GCM, MCU_SRTP_PROFILE_AES128_CM_SHA1_80 };

  printf ("bench-srtp-path: %d-byte RTP packets, %.1f s CPU per measurement\n", PKT_LEN,
          secs);
  for (guint k = 0; k < G_N_ELEMENTS (profiles); k++)
    {
      McuSrtpProfile p = profiles[k];
      const char *name = mcu_srtp_profile_name (p);
      g_autoptr (McuSrtp) warm = mcu_srtp_new (p, key_a, key_b, NULL); /* srtp_init */
      for (int send = 0; send <= 1; send++)
        {
          const char *how = send ? "+sendmmsg" : " (no send)";
          double raw_wall, path_wall;
          guint64 raw_sent, path_sent;
          double raw = bench_raw (p, key_a, key_b, secs, send, &raw_wall, &raw_sent);
          double path = bench_path (p, key_a, key_b, secs, send, &path_wall, &path_sent);
          printf ("%s raw libsrtp unprotect+protect%s: %.0f packets/s (wall %.0f, "
                  "%" G_GUINT64_FORMAT " sent)\n",
                  name, how, raw, raw_wall, raw_sent);
          printf ("%s our path demux+unprotect+parse+rewrite+protect%s: %.0f packets/s "
                  "(wall %.0f, %" G_GUINT64_FORMAT " sent)\n",
                  name, how, path, path_wall, path_sent);
          printf ("%s ratio path/raw, %s: %.2f\n", name,
                  send ? "both sending" : "neither sending", path / raw);
        }
    }
  return 0;
}
