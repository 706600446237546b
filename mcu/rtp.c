/* rtp.c: the bounds-checked RTP reader and in-place writers (see rtp.h). */
#include "rtp.h"

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

/* Each step below subtracts what it consumed from `left` before the next reads, so
 * every length field is checked against the bytes really present, never trusted. */
int
mcu_rtp_parse (const guint8 *data, gsize len, McuRtpHeader *out)
{
  if (out == NULL)
    return MCU_RTP_ERR_SHORT;
  memset (out, 0, sizeof *out);
  if (data == NULL || len < 12)
    return MCU_RTP_ERR_SHORT;
  if ((data[0] >> 6) != 2)
    return MCU_RTP_ERR_VERSION;

  McuRtpHeader h = { 0 };
  h.padding = (data[0] & 0x20) != 0;
  h.extension = (data[0] & 0x10) != 0;
  h.csrc_count = data[0] & 0x0f;
  h.marker = (data[1] & 0x80) != 0;
  h.pt = data[1] & 0x7f;
  h.seq = rd16 (data + 2);
  h.timestamp = rd32 (data + 4);
  h.ssrc = rd32 (data + 8);

  gsize off = 12;
  gsize csrc_bytes = (gsize)h.csrc_count * 4;
  if (len - off < csrc_bytes)
    return MCU_RTP_ERR_CSRC;
  h.csrcs = data + off;
  off += csrc_bytes;

  if (h.extension)
    {
      if (len - off < 4)
        return MCU_RTP_ERR_EXTENSION;
      h.ext_profile = rd16 (data + off);
      gsize ext_bytes = (gsize)rd16 (data + off + 2) * 4;
      off += 4;
      if (len - off < ext_bytes)
        return MCU_RTP_ERR_EXTENSION;
      h.ext = data + off;
      h.ext_len = ext_bytes;
      off += ext_bytes;
    }
  h.header_len = off;

  gsize end = len;
  if (h.padding)
    {
      /* The count is the last byte and includes itself; it may not reach into the
       * header (RFC 3550 section 5.1). */
      guint8 pad = data[len - 1];
      if (pad == 0 || pad > len - off)
        return MCU_RTP_ERR_PADDING;
      h.padding_len = pad;
      end = len - pad;
    }
  h.payload = data + off;
  h.payload_len = end - off;
  *out = h;
  return MCU_RTP_OK;
}

guint32
mcu_rtp_csrc (const McuRtpHeader *h, guint i)
{
  if (h == NULL || i >= h->csrc_count || h->csrcs == NULL)
    return 0;
  return rd32 (h->csrcs + 4 * i);
}

gboolean
mcu_rtp_ext_iter_init (McuRtpExtIter *it, const McuRtpHeader *h)
{
  memset (it, 0, sizeof *it);
  if (h == NULL || !h->extension || h->ext == NULL)
    return FALSE;
  if (h->ext_profile == MCU_RTP_EXT_ONE_BYTE)
    it->two_byte = FALSE;
  else if ((h->ext_profile & MCU_RTP_EXT_TWO_BYTE_MASK) == MCU_RTP_EXT_TWO_BYTE)
    it->two_byte = TRUE;
  else
    return FALSE;
  it->p = h->ext;
  it->end = h->ext + h->ext_len;
  return TRUE;
}

/* RFC 8285: one-byte elements are ID(4) L(4) with L+1 data bytes, ID 0 a padding
 * byte and ID 15 a stop; two-byte elements are ID(8) L(8) with L data bytes, ID 0
 * a padding byte. */
int
mcu_rtp_ext_iter_next (McuRtpExtIter *it, guint8 *id, const guint8 **data, gsize *len)
{
  if (it == NULL || it->p == NULL)
    return 0;
  while (it->p < it->end)
    {
      gsize left = (gsize)(it->end - it->p);
      guint8 b = it->p[0];
      if (b == 0)
        {
          it->p++; /* padding */
          continue;
        }
      guint8 eid;
      gsize elen, hdr;
      if (!it->two_byte)
        {
          eid = b >> 4;
          if (eid == 15)
            {
              it->p = it->end;
              return 0;
            }
          elen = (gsize)(b & 0x0f) + 1;
          hdr = 1;
        }
      else
        {
          if (left < 2)
            {
              it->p = it->end;
              return -1;
            }
          eid = b;
          elen = it->p[1];
          hdr = 2;
        }
      if (left - hdr < elen)
        {
          it->p = it->end;
          return -1;
        }
      if (id)
        *id = eid;
      if (data)
        *data = it->p + hdr;
      if (len)
        *len = elen;
      it->p += hdr + elen;
      return 1;
    }
  return 0;
}

gboolean
mcu_rtp_find_ext (const McuRtpHeader *h, guint8 id, const guint8 **data, gsize *len)
{
  McuRtpExtIter it;
  if (!mcu_rtp_ext_iter_init (&it, h))
    return FALSE;
  guint8 eid;
  const guint8 *d;
  gsize l;
  while (mcu_rtp_ext_iter_next (&it, &eid, &d, &l) == 1)
    if (eid == id)
      {
        if (data)
          *data = d;
        if (len)
          *len = l;
        return TRUE;
      }
  return FALSE;
}

static inline gboolean
rtp_writable (const guint8 *buf, gsize len)
{
  return buf != NULL && len >= 12 && (buf[0] >> 6) == 2;
}

gboolean
mcu_rtp_set_ssrc (guint8 *buf, gsize len, guint32 ssrc)
{
  if (!rtp_writable (buf, len))
    return FALSE;
  wr32 (buf + 8, ssrc);
  return TRUE;
}

gboolean
mcu_rtp_set_seq (guint8 *buf, gsize len, guint16 seq)
{
  if (!rtp_writable (buf, len))
    return FALSE;
  wr16 (buf + 2, seq);
  return TRUE;
}

gboolean
mcu_rtp_set_timestamp (guint8 *buf, gsize len, guint32 ts)
{
  if (!rtp_writable (buf, len))
    return FALSE;
  wr32 (buf + 4, ts);
  return TRUE;
}

gboolean
mcu_rtp_set_pt (guint8 *buf, gsize len, guint8 pt)
{
  if (!rtp_writable (buf, len) || pt > 127)
    return FALSE;
  buf[1] = (buf[1] & 0x80) | pt;
  return TRUE;
}

gboolean
mcu_rtp_set_marker (guint8 *buf, gsize len, gboolean marker)
{
  if (!rtp_writable (buf, len))
    return FALSE;
  buf[1] = (buf[1] & 0x7f) | (marker ? 0x80 : 0);
  return TRUE;
}

gsize
mcu_rtp_write_header (guint8 *buf, gsize cap, guint8 pt, gboolean marker, guint16 seq,
                      guint32 ts, guint32 ssrc)
{
  if (buf == NULL || cap < 12)
    return 0;
  buf[0] = 0x80;
  buf[1] = (pt & 0x7f) | (marker ? 0x80 : 0);
  wr16 (buf + 2, seq);
  wr32 (buf + 4, ts);
  wr32 (buf + 8, ssrc);
  return 12;
}

gboolean
mcu_rtp_seq_newer (guint16 a, guint16 b)
{
  return a != b && (guint16)(a - b) < 0x8000;
}
