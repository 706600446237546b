/* rtcp.c: the compound RTCP reader and writers (see rtcp.h). */
#include "rtcp.h"

#include <string.h>

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16)((p[0] << 8) | p[1]);
}

static inline guint32
rd32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

/* RFC 3550 appendix A.2, checked over the whole compound before any packet is read,
 * so a datagram that fails leaves no half-stored result. */
static int
rtcp_validate (const guint8 *data, gsize len, McuRtcpParseFlags flags)
{
  if (data == NULL || len < 4)
    return MCU_RTCP_ERR_SHORT;
  gsize off = 0;
  gboolean first = TRUE;
  while (off < len)
    {
      if (len - off < 4)
        return MCU_RTCP_ERR_LENGTH;
      const guint8 *p = data + off;
      if ((p[0] >> 6) != 2)
        return MCU_RTCP_ERR_VERSION;
      gboolean padded = (p[0] & 0x20) != 0;
      if (first && !(flags & MCU_RTCP_PARSE_REDUCED_SIZE)
          && (padded || (p[1] != MCU_RTCP_SR && p[1] != MCU_RTCP_RR)))
        return MCU_RTCP_ERR_FIRST;
      gsize plen = ((gsize)rd16 (p + 2) + 1) * 4;
      if (plen > len - off)
        return MCU_RTCP_ERR_LENGTH;
      if (padded)
        {
          if (off + plen != len)
            return MCU_RTCP_ERR_PADDING;
          guint8 pad = p[plen - 1];
          if (pad == 0 || pad > plen - 4)
            return MCU_RTCP_ERR_PADDING;
        }
      off += plen;
      first = FALSE;
    }
  return MCU_RTCP_OK;
}

static void
rtcp_read_block (const guint8 *p, guint32 reporter, McuRtcpReportBlock *b)
{
  b->reporter_ssrc = reporter;
  b->ssrc = rd32 (p);
  b->fraction_lost = p[4];
  guint32 lost = ((guint32)p[5] << 16) | ((guint32)p[6] << 8) | p[7];
  b->cumulative_lost = (lost & 0x800000) ? (gint32)lost - 0x1000000 : (gint32)lost;
  b->ext_highest_seq = rd32 (p + 8);
  b->jitter = rd32 (p + 12);
  b->lsr = rd32 (p + 16);
  b->dlsr = rd32 (p + 20);
}

static int
rtcp_read_reports (const guint8 *p, gsize blen, guint rc, guint32 reporter,
                   McuRtcpInfo *out)
{
  if (blen < (gsize)rc * 24)
    return MCU_RTCP_ERR_FORMAT;
  for (guint i = 0; i < rc; i++)
    {
      if (out->n_reports < MCU_RTCP_MAX_REPORTS)
        rtcp_read_block (p + 24 * i, reporter, &out->reports[out->n_reports++]);
      else
        out->dropped++;
    }
  return MCU_RTCP_OK;
}

/* SDES chunks: SSRC, then items (type, length, text) until a zero type byte, then
 * zero bytes up to the next 32-bit boundary (RFC 3550 section 6.5). */
static int
rtcp_read_sdes (const guint8 *b, gsize blen, guint sc, McuRtcpInfo *out)
{
  gsize off = 0;
  for (guint c = 0; c < sc; c++)
    {
      if (blen - off < 4)
        return MCU_RTCP_ERR_FORMAT;
      guint32 ssrc = rd32 (b + off);
      off += 4;
      for (;;)
        {
          if (off >= blen)
            return MCU_RTCP_ERR_FORMAT;
          guint8 type = b[off];
          if (type == 0)
            {
              off = (off + 4) & ~(gsize)3;
              break;
            }
          if (blen - off < 2 || blen - off - 2 < b[off + 1])
            return MCU_RTCP_ERR_FORMAT;
          gsize ilen = b[off + 1];
          if (type == 1)
            {
              if (out->n_sdes < MCU_RTCP_MAX_SDES)
                out->sdes[out->n_sdes++] = (McuRtcpSdes){ ssrc, b + off + 2, ilen };
              else
                out->dropped++;
            }
          off += 2 + ilen;
        }
      if (off > blen)
        return MCU_RTCP_ERR_FORMAT;
    }
  return MCU_RTCP_OK;
}

static int
rtcp_read_rtpfb (const guint8 *b, gsize blen, guint fmt, McuRtcpInfo *out)
{
  if (blen < 8)
    return MCU_RTCP_ERR_FORMAT;
  if (fmt != 1)
    {
      out->n_unknown++; /* e.g. transport-wide CC (fmt 15) */
      return MCU_RTCP_OK;
    }
  guint32 sender = rd32 (b), media = rd32 (b + 4);
  for (gsize off = 8; blen - off >= 4; off += 4)
    {
      if (out->n_nacks < MCU_RTCP_MAX_NACK)
        out->nacks[out->n_nacks++]
            = (McuRtcpNack){ sender, media, rd16 (b + off), rd16 (b + off + 2) };
      else
        out->dropped++;
    }
  return MCU_RTCP_OK;
}

/* REMB (draft-alvestrand-rmcat-remb): an application-layer feedback whose FCI is
 * "REMB", an SSRC count, a 6-bit exponent and an 18-bit mantissa, then the SSRCs. */
static int
rtcp_read_remb (const guint8 *b, gsize blen, McuRtcpInfo *out)
{
  if (blen < 16 || memcmp (b + 8, "REMB", 4) != 0)
    {
      out->n_unknown++;
      return MCU_RTCP_OK;
    }
  guint n = b[12];
  guint exp = b[13] >> 2;
  guint64 mantissa = ((guint64)(b[13] & 0x03) << 16) | rd16 (b + 14);
  if (blen - 16 < (gsize)n * 4)
    return MCU_RTCP_ERR_FORMAT;
  out->has_remb = TRUE;
  out->remb_sender_ssrc = rd32 (b);
  /* 18 + 46 bits fill a guint64; larger exponents saturate rather than wrap. */
  out->remb_bitrate = exp > 46 ? G_MAXUINT64 : mantissa << exp;
  out->n_remb_ssrcs = 0;
  for (guint i = 0; i < n; i++)
    {
      if (out->n_remb_ssrcs < MCU_RTCP_MAX_REMB_SSRCS)
        out->remb_ssrcs[out->n_remb_ssrcs++] = rd32 (b + 16 + 4 * i);
      else
        out->dropped++;
    }
  return MCU_RTCP_OK;
}

static int
rtcp_read_psfb (const guint8 *b, gsize blen, guint fmt, McuRtcpInfo *out)
{
  if (blen < 8)
    return MCU_RTCP_ERR_FORMAT;
  guint32 sender = rd32 (b), media = rd32 (b + 4);
  switch (fmt)
    {
    case 1: /* PLI */
      if (out->n_plis < MCU_RTCP_MAX_PLI)
        out->plis[out->n_plis++] = (McuRtcpPli){ sender, media };
      else
        out->dropped++;
      return MCU_RTCP_OK;
    case 4: /* FIR: FCI entries of SSRC, seq, 3 reserved bytes */
      for (gsize off = 8; blen - off >= 8; off += 8)
        {
          if (out->n_firs < MCU_RTCP_MAX_FIR)
            out->firs[out->n_firs++] = (McuRtcpFir){ sender, rd32 (b + off), b[off + 4] };
          else
            out->dropped++;
        }
      return MCU_RTCP_OK;
    case 15:
      return rtcp_read_remb (b, blen, out);
    default:
      out->n_unknown++;
      return MCU_RTCP_OK;
    }
}

static int
rtcp_read_packet (const guint8 *p, gsize plen, McuRtcpInfo *out)
{
  guint count = p[0] & 0x1f;
  gsize pad = (p[0] & 0x20) ? p[plen - 1] : 0;
  const guint8 *b = p + 4;
  gsize blen = plen - 4 - pad; /* validated: pad <= plen - 4 */

  switch (p[1])
    {
    case MCU_RTCP_SR:
      if (blen < 24)
        return MCU_RTCP_ERR_FORMAT;
      {
        McuRtcpSenderInfo si = { rd32 (b), ((guint64)rd32 (b + 4) << 32) | rd32 (b + 8),
                                 rd32 (b + 12), rd32 (b + 16), rd32 (b + 20) };
        if (out->n_srs < MCU_RTCP_MAX_SR)
          out->srs[out->n_srs++] = si;
        else
          out->dropped++;
        return rtcp_read_reports (b + 24, blen - 24, count, si.ssrc, out);
      }
    case MCU_RTCP_RR:
      if (blen < 4)
        return MCU_RTCP_ERR_FORMAT;
      if (out->n_rrs < MCU_RTCP_MAX_SR)
        out->rr_ssrcs[out->n_rrs++] = rd32 (b);
      else
        out->dropped++;
      return rtcp_read_reports (b + 4, blen - 4, count, rd32 (b), out);
    case MCU_RTCP_SDES:
      return rtcp_read_sdes (b, blen, count, out);
    case MCU_RTCP_BYE:
      if (blen < (gsize)count * 4)
        return MCU_RTCP_ERR_FORMAT;
      for (guint i = 0; i < count; i++)
        {
          if (out->n_byes < MCU_RTCP_MAX_BYE)
            out->byes[out->n_byes++] = rd32 (b + 4 * i);
          else
            out->dropped++;
        }
      return MCU_RTCP_OK;
    case MCU_RTCP_RTPFB:
      return rtcp_read_rtpfb (b, blen, count, out);
    case MCU_RTCP_PSFB:
      return rtcp_read_psfb (b, blen, count, out);
    case MCU_RTCP_XR:
      out->n_xr++;
      return MCU_RTCP_OK;
    case MCU_RTCP_APP:
      out->n_app++;
      return MCU_RTCP_OK;
    default:
      out->n_unknown++;
      return MCU_RTCP_OK;
    }
}

int
mcu_rtcp_parse (const guint8 *data, gsize len, McuRtcpParseFlags flags, McuRtcpInfo *out)
{
  if (out == NULL)
    return MCU_RTCP_ERR_SHORT;
  memset (out, 0, sizeof *out);
  int r = rtcp_validate (data, len, flags);
  if (r != MCU_RTCP_OK)
    return r;
  for (gsize off = 0; off < len;)
    {
      gsize plen = ((gsize)rd16 (data + off + 2) + 1) * 4;
      r = rtcp_read_packet (data + off, plen, out);
      if (r != MCU_RTCP_OK)
        {
          memset (out, 0, sizeof *out);
          return r;
        }
      out->n_packets++;
      off += plen;
    }
  return MCU_RTCP_OK;
}

guint
mcu_rtcp_nack_expand (guint16 pid, guint16 blp, guint16 *seqs)
{
  guint n = 0;
  seqs[n++] = pid;
  for (guint i = 0; i < 16; i++)
    if (blp & (1u << i))
      seqs[n++] = (guint16)(pid + i + 1);
  return n;
}

static void
rtcp_write_header (guint8 *p, guint count, guint8 pt, gsize plen)
{
  p[0] = 0x80 | (count & 0x1f);
  p[1] = pt;
  wr16 (p + 2, (guint16)(plen / 4 - 1));
}

static void
rtcp_write_block (guint8 *p, const McuRtcpReportBlock *b)
{
  gint32 lost = CLAMP (b->cumulative_lost, -0x800000, 0x7fffff);
  guint32 lost24 = (guint32)lost & 0xffffff;
  wr32 (p, b->ssrc);
  p[4] = b->fraction_lost;
  p[5] = (lost24 >> 16) & 0xff;
  p[6] = (lost24 >> 8) & 0xff;
  p[7] = lost24 & 0xff;
  wr32 (p + 8, b->ext_highest_seq);
  wr32 (p + 12, b->jitter);
  wr32 (p + 16, b->lsr);
  wr32 (p + 20, b->dlsr);
}

gsize
mcu_rtcp_write_sr (guint8 *buf, gsize cap, const McuRtcpSenderInfo *si,
                   const McuRtcpReportBlock *blocks, guint n_blocks)
{
  gsize plen = 28 + 24 * (gsize)n_blocks;
  if (buf == NULL || si == NULL || n_blocks > 31 || (n_blocks && !blocks) || cap < plen)
    return 0;
  rtcp_write_header (buf, n_blocks, MCU_RTCP_SR, plen);
  wr32 (buf + 4, si->ssrc);
  wr32 (buf + 8, (guint32)(si->ntp >> 32));
  wr32 (buf + 12, (guint32)si->ntp);
  wr32 (buf + 16, si->rtp_ts);
  wr32 (buf + 20, si->packet_count);
  wr32 (buf + 24, si->octet_count);
  for (guint i = 0; i < n_blocks; i++)
    rtcp_write_block (buf + 28 + 24 * i, &blocks[i]);
  return plen;
}

gsize
mcu_rtcp_write_rr (guint8 *buf, gsize cap, guint32 sender_ssrc,
                   const McuRtcpReportBlock *blocks, guint n_blocks)
{
  gsize plen = 8 + 24 * (gsize)n_blocks;
  if (buf == NULL || n_blocks > 31 || (n_blocks && !blocks) || cap < plen)
    return 0;
  rtcp_write_header (buf, n_blocks, MCU_RTCP_RR, plen);
  wr32 (buf + 4, sender_ssrc);
  for (guint i = 0; i < n_blocks; i++)
    rtcp_write_block (buf + 8 + 24 * i, &blocks[i]);
  return plen;
}

gsize
mcu_rtcp_write_sdes_cname (guint8 *buf, gsize cap, guint32 ssrc, const char *cname)
{
  gsize clen = cname ? strlen (cname) : 0;
  if (buf == NULL || clen == 0 || clen > 255)
    return 0;
  /* SSRC, CNAME item, at least one zero byte ending the item list, then 32-bit
   * alignment. */
  gsize chunk = (4 + 2 + clen + 1 + 3) & ~(gsize)3;
  gsize plen = 4 + chunk;
  if (cap < plen)
    return 0;
  memset (buf, 0, plen);
  rtcp_write_header (buf, 1, MCU_RTCP_SDES, plen);
  wr32 (buf + 4, ssrc);
  buf[8] = 1;
  buf[9] = (guint8)clen;
  memcpy (buf + 10, cname, clen);
  return plen;
}

/* Packs the sequence numbers into pid/blp pairs: a number within 16 after the
 * current pid sets a bit, anything else starts a new pair. Every number given ends
 * up covered whatever the order; ascending order gives the fewest pairs. */
gsize
mcu_rtcp_write_nack (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                     const guint16 *seqs, guint n_seqs)
{
  if (buf == NULL || seqs == NULL || n_seqs == 0 || cap < 16)
    return 0;
  gsize off = 12;
  guint16 pid = seqs[0], blp = 0;
  for (guint i = 1; i <= n_seqs; i++)
    {
      if (i < n_seqs)
        {
          guint16 d = (guint16)(seqs[i] - pid);
          if (d == 0)
            continue;
          if (d <= 16)
            {
              blp |= (guint16)(1u << (d - 1));
              continue;
            }
        }
      if (cap - off < 4 || off + 4 > 4 * 65536)
        return 0;
      wr16 (buf + off, pid);
      wr16 (buf + off + 2, blp);
      off += 4;
      if (i < n_seqs)
        {
          pid = seqs[i];
          blp = 0;
        }
    }
  rtcp_write_header (buf, 1, MCU_RTCP_RTPFB, off);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, media_ssrc);
  return off;
}

gsize
mcu_rtcp_write_pli (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc)
{
  if (buf == NULL || cap < 12)
    return 0;
  rtcp_write_header (buf, 1, MCU_RTCP_PSFB, 12);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, media_ssrc);
  return 12;
}

gsize
mcu_rtcp_write_fir (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                    guint8 seq)
{
  if (buf == NULL || cap < 20)
    return 0;
  memset (buf, 0, 20);
  rtcp_write_header (buf, 4, MCU_RTCP_PSFB, 20);
  wr32 (buf + 4, sender_ssrc);
  /* RFC 5104 4.3.1.2: the media source field is 0; the target is in the FCI. */
  wr32 (buf + 12, media_ssrc);
  buf[16] = seq;
  return 20;
}

/* REMB: the bitrate as an 18-bit mantissa and a 6-bit exponent, rounded down, so
 * what the sender reads is never more than we meant. */
gsize
mcu_rtcp_write_remb (guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate,
                     const guint32 *ssrcs, guint n_ssrcs)
{
  gsize len = 20 + 4 * (gsize)n_ssrcs;
  if (buf == NULL || n_ssrcs > 255 || cap < len || (n_ssrcs > 0 && ssrcs == NULL))
    return 0;
  guint exp = 0;
  while (exp < 63 && (bitrate >> exp) > 0x3ffff)
    exp++;
  guint32 mantissa = (guint32)(bitrate >> exp);
  rtcp_write_header (buf, 15, MCU_RTCP_PSFB, len);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, 0);
  memcpy (buf + 12, "REMB", 4);
  buf[16] = (guint8)n_ssrcs;
  buf[17] = (guint8)(exp << 2 | mantissa >> 16);
  buf[18] = (guint8)(mantissa >> 8);
  buf[19] = (guint8)mantissa;
  for (guint i = 0; i < n_ssrcs; i++)
    wr32 (buf + 20 + 4 * i, ssrcs[i]);
  return len;
}
