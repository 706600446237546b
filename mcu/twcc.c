/* twcc.c: transport-wide congestion control feedback, both ends (see twcc.h). */
#include "twcc.h"
#include "rtp.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_twcc_debug);
#define GST_CAT_DEFAULT mcu_twcc_debug

#define RTPFB 205
#define FIXED_LEN 20 /* RTCP header, two SSRCs, base, count, reference, fb count */
#define DELTA_US 250 /* one delta tick */
#define REF_US 64000 /* one reference-time tick */
#define MAX_RUN 8191 /* 13-bit run length */
#define NONE G_MININT64

static void
debug_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_twcc_debug, "mcu-twcc", 0, "transport-wide cc");
      g_once_init_leave (&done, 1);
    }
}

static guint16
rd16 (const guint8 *p)
{
  return (guint16)(p[0] << 8 | p[1]);
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
wr16 (guint8 *p, guint16 v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

static void
wr32 (guint8 *p, guint32 v)
{
  p[0] = (guint8)(v >> 24);
  p[1] = (guint8)(v >> 16);
  p[2] = (guint8)(v >> 8);
  p[3] = (guint8)v;
}

/* floor division, for reference times before the clock's zero */
static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The statuses first (chunks), then one delta per received packet: everything is
 * read through `end`, which the packet's own length field bounds only after it was
 * checked against the datagram. */
int
mcu_twcc_parse (const guint8 *data, gsize len, McuTwccFeedback *out)
{
  if (data == NULL || len < FIXED_LEN)
    return MCU_TWCC_ERR_SHORT;
  if ((data[0] >> 6) != 2 || data[1] != RTPFB || (data[0] & 0x1f) != MCU_TWCC_FMT)
    return MCU_TWCC_ERR_HEADER;
  gsize plen = ((gsize)rd16 (data + 2) + 1) * 4;
  if (plen > len || plen < FIXED_LEN)
    return MCU_TWCC_ERR_HEADER;
  gsize end = plen;
  if (data[0] & 0x20)
    {
      guint8 pad = data[plen - 1];
      if (pad == 0 || pad > plen - FIXED_LEN)
        return MCU_TWCC_ERR_HEADER;
      end -= pad;
    }
  out->sender_ssrc = rd32 (data + 4);
  out->media_ssrc = rd32 (data + 8);
  out->base_seq = rd16 (data + 12);
  out->count = rd16 (data + 14);
  guint32 ref = (guint32)data[16] << 16 | (guint32)data[17] << 8 | data[18];
  out->ref_time = (ref & 0x800000) ? (gint32)ref - 0x1000000 : (gint32)ref;
  out->fb_count = data[19];
  if (out->count == 0)
    return MCU_TWCC_ERR_HEADER;
  if (out->count > MCU_TWCC_MAX_PACKETS)
    return MCU_TWCC_ERR_TOO_MANY;
  gsize pos = FIXED_LEN;
  guint n = 0;
  while (n < out->count)
    {
      if (pos + 2 > end)
        return MCU_TWCC_ERR_SHORT;
      guint16 chunk = rd16 (data + pos);
      pos += 2;
      if (!(chunk & 0x8000))
        {
          guint8 sym = (chunk >> 13) & 3;
          if (sym == 3)
            return MCU_TWCC_ERR_SYMBOL;
          for (guint i = 0; i < (chunk & 0x1fffu) && n < out->count; i++)
            out->received[n++] = sym;
        }
      else if (!(chunk & 0x4000))
        for (guint i = 0; i < 14 && n < out->count; i++)
          out->received[n++] = (chunk >> (13 - i)) & 1;
      else
        for (guint i = 0; i < 7 && n < out->count; i++)
          {
            guint8 sym = (chunk >> (12 - 2 * i)) & 3;
            if (sym == 3)
              return MCU_TWCC_ERR_SYMBOL;
            out->received[n++] = sym;
          }
    }
  gint64 t = (gint64)out->ref_time * REF_US;
  for (guint i = 0; i < out->count; i++)
    {
      guint8 sym = out->received[i];
      if (sym == MCU_TWCC_SMALL_DELTA)
        {
          if (pos + 1 > end)
            return MCU_TWCC_ERR_SHORT;
          t += (gint64)data[pos] * DELTA_US;
          pos += 1;
        }
      else if (sym == MCU_TWCC_LARGE_DELTA)
        {
          if (pos + 2 > end)
            return MCU_TWCC_ERR_SHORT;
          t += (gint64)(gint16)rd16 (data + pos) * DELTA_US;
          pos += 2;
        }
      out->received[i] = sym != MCU_TWCC_NOT_RECEIVED;
      out->arrival_us[i] = sym != MCU_TWCC_NOT_RECEIVED ? t : 0;
    }
  return MCU_TWCC_OK;
}

/* Deltas are taken between arrival times rounded down to 250 µs on a grid that
 * starts at the reference time, so rounding never accumulates along a feedback. */
gsize
mcu_twcc_write (guint8 *buf, gsize cap, McuTwccFeedback *fb)
{
  guint count = fb->count;
  if (count == 0 || count > MCU_TWCC_MAX_PACKETS || cap < FIXED_LEN)
    return 0;
  guint first = 0;
  while (first < count && !fb->received[first])
    first++;
  if (first == count)
    return 0;
  gint64 ref = floor_div (fb->arrival_us[first], REF_US);
  gint64 origin = ref * REF_US;
  guint8 sym[MCU_TWCC_MAX_PACKETS];
  gint32 delta[MCU_TWCC_MAX_PACKETS];
  gint64 prev = 0;
  for (guint i = 0; i < count; i++)
    {
      if (!fb->received[i])
        {
          sym[i] = MCU_TWCC_NOT_RECEIVED;
          continue;
        }
      gint64 units = floor_div (fb->arrival_us[i] - origin, DELTA_US);
      gint64 d = units - prev;
      prev = units;
      if (d < G_MININT16 || d > G_MAXINT16)
        return 0;
      delta[i] = (gint32)d;
      sym[i] = d >= 0 && d <= 255 ? MCU_TWCC_SMALL_DELTA : MCU_TWCC_LARGE_DELTA;
    }
  buf[0] = 0x80 | MCU_TWCC_FMT;
  buf[1] = RTPFB;
  wr32 (buf + 4, fb->sender_ssrc);
  wr32 (buf + 8, fb->media_ssrc);
  wr16 (buf + 12, fb->base_seq);
  wr16 (buf + 14, (guint16)count);
  guint32 ref24 = (guint32)ref & 0xffffff;
  buf[16] = (guint8)(ref24 >> 16);
  buf[17] = (guint8)(ref24 >> 8);
  buf[18] = (guint8)ref24;
  buf[19] = fb->fb_count;
  fb->ref_time = (ref24 & 0x800000) ? (gint32)ref24 - 0x1000000 : (gint32)ref24;
  gsize pos = FIXED_LEN;
  for (guint i = 0; i < count;)
    {
      guint16 chunk;
      guint run = 1;
      while (i + run < count && run < MAX_RUN && sym[i + run] == sym[i])
        run++;
      gboolean has_large = FALSE;
      for (guint k = i; k < i + 14 && k < count; k++)
        has_large |= sym[k] == MCU_TWCC_LARGE_DELTA;
      if (run >= 14 || (run >= 7 && has_large))
        {
          chunk = (guint16)(sym[i] << 13 | run);
          i += run;
        }
      else if (!has_large)
        {
          chunk = 0x8000;
          for (guint k = 0; k < 14 && i < count; k++, i++)
            chunk |= (guint16)(sym[i] << (13 - k));
        }
      else
        {
          chunk = 0xc000;
          for (guint k = 0; k < 7 && i < count; k++, i++)
            chunk |= (guint16)(sym[i] << (12 - 2 * k));
        }
      if (pos + 2 > cap)
        return 0;
      wr16 (buf + pos, chunk);
      pos += 2;
    }
  for (guint i = 0; i < count; i++)
    {
      if (sym[i] == MCU_TWCC_SMALL_DELTA)
        {
          if (pos + 1 > cap)
            return 0;
          buf[pos++] = (guint8)delta[i];
        }
      else if (sym[i] == MCU_TWCC_LARGE_DELTA)
        {
          if (pos + 2 > cap)
            return 0;
          wr16 (buf + pos, (guint16)(gint16)delta[i]);
          pos += 2;
        }
    }
  while (pos % 4)
    {
      if (pos + 1 > cap)
        return 0;
      buf[pos++] = 0;
    }
  wr16 (buf + 2, (guint16)(pos / 4 - 1));
  return pos;
}

gboolean
mcu_twcc_find_in_compound (const guint8 *data, gsize len, gsize *offset,
                           const guint8 **pkt, gsize *pkt_len)
{
  gsize off = *offset;
  while (off + 4 <= len)
    {
      if ((data[off] >> 6) != 2)
        break;
      gsize plen = ((gsize)rd16 (data + off + 2) + 1) * 4;
      if (plen > len - off)
        break;
      gboolean hit = data[off + 1] == RTPFB && (data[off] & 0x1f) == MCU_TWCC_FMT;
      off += plen;
      if (hit)
        {
          *pkt = data + off - plen;
          *pkt_len = plen;
          *offset = off;
          return TRUE;
        }
    }
  *offset = len;
  return FALSE;
}

gboolean
mcu_twcc_read_ext (const guint8 *pkt, gsize len, guint8 id, guint16 *seq)
{
  McuRtpHeader h;
  const guint8 *d;
  gsize dlen;
  if (id == 0 || mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK || !h.extension
      || !mcu_rtp_find_ext (&h, id, &d, &dlen) || dlen != 2)
    return FALSE;
  *seq = rd16 (d);
  return TRUE;
}

/* --- receive side ------------------------------------------------------------- */

#define REC_SLOTS 2048 /* arrivals kept: > 1 s of a 1500-packet/s peer */

struct _McuTwccRecorder
{
  guint32 sender_ssrc, media_ssrc;
  gboolean started;
  gint64 highest, next; /* unwrapped: highest seen, first not yet reported */
  guint8 fb_count;
  gint64 arrival[REC_SLOTS]; /* NONE = not (yet) arrived */
  McuTwccFeedback scratch;   /* written by write_feedback only: the recorder's thread */
};

McuTwccRecorder *
mcu_twcc_recorder_new (guint32 sender_ssrc)
{
  debug_init ();
  McuTwccRecorder *rec = g_new0 (McuTwccRecorder, 1);
  rec->sender_ssrc = sender_ssrc;
  for (guint i = 0; i < REC_SLOTS; i++)
    rec->arrival[i] = NONE;
  return rec;
}

void
mcu_twcc_recorder_free (McuTwccRecorder *rec)
{
  g_free (rec);
}

/* Sequence numbers are unwrapped against the highest seen. A packet older than
 * the first unreported one was already reported lost and is ignored; a jump
 * further than the window drops what would not fit (reported lost never). */
void
mcu_twcc_recorder_on_packet (McuTwccRecorder *rec, guint16 seq, guint32 media_ssrc,
                             gint64 now_us)
{
  rec->media_ssrc = media_ssrc;
  if (!rec->started)
    {
      rec->started = TRUE;
      rec->highest = rec->next = (gint64)1 << 32 | seq;
      rec->arrival[seq & (REC_SLOTS - 1)] = now_us;
      return;
    }
  gint64 u = rec->highest + (gint16)(seq - (guint16)rec->highest);
  if (u < rec->next)
    return;
  if (u > rec->highest)
    {
      gint64 from = MAX (rec->highest + 1, u - REC_SLOTS + 1);
      for (gint64 k = from; k < u; k++)
        rec->arrival[k & (REC_SLOTS - 1)] = NONE;
      rec->highest = u;
      if (u - rec->next >= REC_SLOTS)
        rec->next = u - REC_SLOTS + 1;
    }
  rec->arrival[u & (REC_SLOTS - 1)] = now_us;
}

gsize
mcu_twcc_recorder_write_feedback (McuTwccRecorder *rec, guint8 *buf, gsize cap)
{
  if (!rec->started || rec->next > rec->highest || cap < FIXED_LEN + 8)
    return 0;
  /* at worst 2 bytes of delta and 2/7 of a chunk per packet */
  gint64 fit = (gint64)(cap - FIXED_LEN - 4) * 7 / 16;
  gint64 count = MIN (MIN (rec->highest - rec->next + 1, MCU_TWCC_MAX_PACKETS), fit);
  McuTwccFeedback *fb = &rec->scratch;
  fb->sender_ssrc = rec->sender_ssrc;
  fb->media_ssrc = rec->media_ssrc;
  fb->base_seq = (guint16)rec->next;
  fb->count = (guint16)count;
  fb->fb_count = rec->fb_count;
  gboolean any = FALSE;
  for (gint64 i = 0; i < count; i++)
    {
      gint64 a = rec->arrival[(rec->next + i) & (REC_SLOTS - 1)];
      fb->received[i] = a != NONE;
      fb->arrival_us[i] = a != NONE ? a : 0;
      any |= a != NONE;
    }
  gsize n = any ? mcu_twcc_write (buf, cap, fb) : 0;
  /* reported, or unreportable (all lost, a jump beyond a 16-bit delta): either way
   * never looked at again */
  rec->next += count;
  if (n)
    rec->fb_count++;
  else if (any)
    GST_DEBUG ("dropped a feedback of %" G_GINT64_FORMAT " packets", count);
  return n;
}

/* --- send side ----------------------------------------------------------------- */

#define TX_SLOTS 4096   /* packets remembered for feedback: seconds at our rates */
#define MAP_SLOTS 2048  /* RTP numbers remembered per SSRC: > the router's 512 */
#define MAP_SSRCS 4     /* streams per peer: audio, video, and spares */
#define RATE_BUCKETS 10 /* of 100 ms */

typedef struct
{
  gint64 send_us;
  guint16 seq;
  guint16 size;
  gboolean used;
} Sent;

typedef struct
{
  guint32 ssrc;
  gboolean used;
  guint16 highest;
  guint64 last_use;
  guint16 rtp_seq[MAP_SLOTS];
  guint16 twcc_seq[MAP_SLOTS];
  guint8 valid[MAP_SLOTS];
} SsrcMap;

struct _McuTwccSender
{
  GMutex lock; /* the peer's packets are stamped on several threads */
  guint8 ext_id;
  guint16 next_seq;
  guint64 uses;
  guint64 refused;
  gint64 bucket_epoch[RATE_BUCKETS];
  guint64 bucket_bytes[RATE_BUCKETS];
  Sent sent[TX_SLOTS];
  SsrcMap maps[MAP_SSRCS];
};

McuTwccSender *
mcu_twcc_sender_new (guint8 ext_id)
{
  debug_init ();
  McuTwccSender *tx = g_new0 (McuTwccSender, 1);
  g_mutex_init (&tx->lock);
  tx->ext_id = ext_id;
  return tx;
}

void
mcu_twcc_sender_free (McuTwccSender *tx)
{
  if (tx == NULL)
    return;
  g_mutex_clear (&tx->lock);
  g_free (tx);
}

static SsrcMap *
sender_map (McuTwccSender *tx, guint32 ssrc)
{
  SsrcMap *lru = &tx->maps[0];
  for (guint i = 0; i < MAP_SSRCS; i++)
    {
      SsrcMap *m = &tx->maps[i];
      if (m->used && m->ssrc == ssrc)
        {
          m->last_use = ++tx->uses;
          return m;
        }
      if (!m->used || (lru->used && m->last_use < lru->last_use))
        lru = m;
    }
  memset (lru, 0, sizeof *lru);
  lru->ssrc = ssrc;
  lru->last_use = ++tx->uses;
  return lru;
}

/* Under tx->lock: the transport-wide number for RTP packet (@ssrc, @rtp_seq), new
 * or the one it had. FALSE for a resend whose number is forgotten. */
static gboolean
sender_number (McuTwccSender *tx, guint32 ssrc, guint16 rtp_seq, guint16 *out,
               gboolean *resend)
{
  SsrcMap *m = sender_map (tx, ssrc);
  guint slot = rtp_seq & (MAP_SLOTS - 1);
  *resend = FALSE;
  if (m->used && m->valid[slot] && m->rtp_seq[slot] == rtp_seq)
    {
      *out = m->twcc_seq[slot];
      *resend = TRUE;
      return TRUE;
    }
  /* an older number within the window that we never stamped, or forgot: refusing
   * it costs one packet, stamping it anew could reuse an SRTP index for new bytes */
  if (m->used && !mcu_rtp_seq_newer (rtp_seq, m->highest)
      && (guint16)(m->highest - rtp_seq) < MAP_SLOTS)
    return FALSE;
  if (!m->used || mcu_rtp_seq_newer (rtp_seq, m->highest))
    m->highest = rtp_seq;
  m->used = TRUE;
  *out = tx->next_seq++;
  m->rtp_seq[slot] = rtp_seq;
  m->twcc_seq[slot] = *out;
  m->valid[slot] = 1;
  return TRUE;
}

static void
sender_count_rate (McuTwccSender *tx, gsize bytes, gint64 now_us)
{
  gint64 epoch = now_us / 100000;
  guint b = (guint)(epoch % RATE_BUCKETS);
  if (tx->bucket_epoch[b] != epoch)
    {
      tx->bucket_epoch[b] = epoch;
      tx->bucket_bytes[b] = 0;
    }
  tx->bucket_bytes[b] += bytes;
}

gboolean
mcu_twcc_sender_stamp (McuTwccSender *tx, guint8 *pkt, gsize *len, gsize cap,
                       gint64 now_us)
{
  gsize l = *len;
  McuRtpHeader h;
  if (mcu_rtp_parse (pkt, l, &h) != MCU_RTP_OK)
    return FALSE;
  gsize hdr = 12 + 4 * (gsize)h.csrc_count;
  if (h.extension)
    {
      gsize ext = h.header_len - hdr;
      memmove (pkt + hdr, pkt + hdr + ext, l - hdr - ext);
      l -= ext;
      pkt[0] &= ~0x10;
    }
  *len = l;
  if (tx->ext_id == 0)
    {
      g_mutex_lock (&tx->lock);
      sender_count_rate (tx, l, now_us);
      g_mutex_unlock (&tx->lock);
      return TRUE;
    }
  if (l + 8 > cap || l + 8 > G_MAXUINT16)
    {
      g_mutex_lock (&tx->lock);
      tx->refused++;
      g_mutex_unlock (&tx->lock);
      return FALSE;
    }
  guint16 seq;
  gboolean resend;
  g_mutex_lock (&tx->lock);
  if (!sender_number (tx, rd32 (pkt + 8), rd16 (pkt + 2), &seq, &resend))
    {
      tx->refused++;
      g_mutex_unlock (&tx->lock);
      return FALSE;
    }
  memmove (pkt + hdr + 8, pkt + hdr, l - hdr);
  guint8 *e = pkt + hdr;
  if (tx->ext_id <= 14)
    {
      wr16 (e, MCU_RTP_EXT_ONE_BYTE);
      wr16 (e + 2, 1);
      e[4] = (guint8)(tx->ext_id << 4 | 1);
      wr16 (e + 5, seq);
      e[7] = 0;
    }
  else
    {
      wr16 (e, MCU_RTP_EXT_TWO_BYTE);
      wr16 (e + 2, 1);
      e[4] = tx->ext_id;
      e[5] = 2;
      wr16 (e + 6, seq);
    }
  pkt[0] |= 0x10;
  l += 8;
  *len = l;
  Sent *s = &tx->sent[seq & (TX_SLOTS - 1)];
  if (!resend)
    {
      s->send_us = now_us;
      s->seq = seq;
      s->size = (guint16)l;
      s->used = TRUE;
    }
  sender_count_rate (tx, l, now_us);
  g_mutex_unlock (&tx->lock);
  return TRUE;
}

guint
mcu_twcc_sender_on_feedback (McuTwccSender *tx, const McuTwccFeedback *fb,
                             McuTwccResult *results, guint max)
{
  guint n = 0;
  g_mutex_lock (&tx->lock);
  for (guint i = 0; i < fb->count && n < max; i++)
    {
      guint16 seq = (guint16)(fb->base_seq + i);
      const Sent *s = &tx->sent[seq & (TX_SLOTS - 1)];
      /* a slot is rewritten every TX_SLOTS numbers: a match is this packet, unless
       * the feedback names numbers we have not sent yet, which match nothing */
      if (!s->used || s->seq != seq || (guint16)(tx->next_seq - seq) > TX_SLOTS)
        continue;
      results[n].send_us = s->send_us;
      results[n].size = s->size;
      results[n].received = fb->received[i];
      results[n].arrival_us = fb->arrival_us[i];
      n++;
    }
  g_mutex_unlock (&tx->lock);
  return n;
}

guint64
mcu_twcc_sender_rate (McuTwccSender *tx, gint64 now_us)
{
  gint64 epoch = now_us / 100000;
  guint64 bytes = 0;
  g_mutex_lock (&tx->lock);
  for (guint b = 0; b < RATE_BUCKETS; b++)
    if (tx->bucket_epoch[b] > epoch - RATE_BUCKETS && tx->bucket_epoch[b] <= epoch)
      bytes += tx->bucket_bytes[b];
  g_mutex_unlock (&tx->lock);
  return bytes * 8;
}

guint64
mcu_twcc_sender_refused (McuTwccSender *tx)
{
  g_mutex_lock (&tx->lock);
  guint64 r = tx->refused;
  g_mutex_unlock (&tx->lock);
  return r;
}
