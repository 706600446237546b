#include "rtx-buffer.h"
#include "rtp.h"

#include <string.h>

/* A slot is its header, then max_packet bytes of packet: one allocation for all. */
typedef struct
{
  guint16 seq;
  guint16 len; /* 0 = empty */
} Slot;

struct _McuRtxBuffer
{
  guint n;
  gsize max_packet, stride;
  guint8 *slots;
};

static inline Slot *
slot_at (McuRtxBuffer *buf, guint16 seq)
{
  return (Slot *)(void *)(buf->slots + (gsize)(seq % buf->n) * buf->stride);
}

McuRtxBuffer *
mcu_rtx_buffer_new (guint slots)
{
  return mcu_rtx_buffer_new_full (slots, MCU_RTX_MAX_PACKET);
}

McuRtxBuffer *
mcu_rtx_buffer_new_full (guint slots, gsize max_packet)
{
  g_return_val_if_fail (slots > 0 && slots <= 65536, NULL);
  g_return_val_if_fail (max_packet >= 12 && max_packet <= MCU_RTX_MAX_PACKET, NULL);
  McuRtxBuffer *buf = g_new0 (McuRtxBuffer, 1);
  buf->n = slots;
  buf->max_packet = max_packet;
  /* each slot's header stays aligned for its guint16 fields */
  buf->stride = (sizeof (Slot) + max_packet + 7) & ~(gsize)7;
  buf->slots = g_malloc0 (buf->stride * slots);
  return buf;
}

void
mcu_rtx_buffer_free (McuRtxBuffer *buf)
{
  if (buf == NULL)
    return;
  g_free (buf->slots);
  g_free (buf);
}

void
mcu_rtx_buffer_store (McuRtxBuffer *buf, const guint8 *pkt, gsize len)
{
  if (len < 12)
    return;
  guint16 seq = (guint16)((pkt[2] << 8) | pkt[3]);
  Slot *s = slot_at (buf, seq);
  if (len > buf->max_packet)
    {
      s->len = 0; /* not kept: nor is whatever held this slot before, under seq */
      return;
    }
  s->seq = seq;
  s->len = (guint16)len;
  memcpy ((guint8 *)(s + 1), pkt, len);
}

void
mcu_rtx_buffer_clear (McuRtxBuffer *buf)
{
  for (guint i = 0; i < buf->n; i++)
    ((Slot *)(void *)(buf->slots + (gsize)i * buf->stride))->len = 0;
}

const guint8 *
mcu_rtx_buffer_lookup (McuRtxBuffer *buf, guint16 seq, gsize *len)
{
  Slot *s = slot_at (buf, seq);
  /* a slot reused by a newer packet holds another sequence number */
  if (s->len == 0 || s->seq != seq)
    return NULL;
  *len = s->len;
  return (const guint8 *)(s + 1);
}

gsize
mcu_rtx_wrap (guint8 *out, gsize cap, const guint8 *orig, gsize len, guint16 osn,
              guint8 rtx_pt, guint16 rtx_seq, guint32 rtx_ssrc)
{
  McuRtpHeader h;
  if (mcu_rtp_parse (orig, len, &h) != MCU_RTP_OK || len + 2 > cap)
    return 0;
  gsize hl = h.header_len;
  memcpy (out, orig, hl);
  out[hl] = (guint8)(osn >> 8);
  out[hl + 1] = (guint8)osn;
  memcpy (out + hl + 2, orig + hl, len - hl); /* the payload, then any padding */
  out[1] = (guint8)((out[1] & 0x80) | (rtx_pt & 0x7f));
  out[2] = (guint8)(rtx_seq >> 8);
  out[3] = (guint8)rtx_seq;
  out[8] = (guint8)(rtx_ssrc >> 24);
  out[9] = (guint8)(rtx_ssrc >> 16);
  out[10] = (guint8)(rtx_ssrc >> 8);
  out[11] = (guint8)rtx_ssrc;
  return len + 2;
}

McuRtxStatus
mcu_rtx_unwrap (guint8 *pkt, gsize *len, guint8 pt, guint32 ssrc)
{
  McuRtpHeader h;
  if (mcu_rtp_parse (pkt, *len, &h) != MCU_RTP_OK)
    return MCU_RTX_ERR_MALFORMED;
  if (h.payload_len == 0)
    return MCU_RTX_PADDING;
  if (h.payload_len < 2)
    return MCU_RTX_ERR_NO_OSN;
  gsize hl = h.header_len;
  guint16 osn = (guint16)(pkt[hl] << 8 | pkt[hl + 1]);
  memmove (pkt + hl, pkt + hl + 2, *len - hl - 2);
  *len -= 2;
  pkt[1] = (guint8)((pkt[1] & 0x80) | (pt & 0x7f));
  pkt[2] = (guint8)(osn >> 8);
  pkt[3] = (guint8)osn;
  pkt[8] = (guint8)(ssrc >> 24);
  pkt[9] = (guint8)(ssrc >> 16);
  pkt[10] = (guint8)(ssrc >> 8);
  pkt[11] = (guint8)ssrc;
  return MCU_RTX_OK;
}
