#include "rtx-buffer.h"

#include <string.h>

typedef struct
{
  guint16 seq;
  guint16 len; /* 0 = empty */
  guint8 data[MCU_RTX_MAX_PACKET];
} Slot;

struct _McuRtxBuffer
{
  guint n;
  Slot *slots;
};

McuRtxBuffer *
mcu_rtx_buffer_new (guint slots)
{
  g_return_val_if_fail (slots > 0 && slots <= 65536, NULL);
  McuRtxBuffer *buf = g_new0 (McuRtxBuffer, 1);
  buf->n = slots;
  buf->slots = g_new0 (Slot, slots);
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
  if (len < 12 || len > MCU_RTX_MAX_PACKET)
    return;
  guint16 seq = (guint16)((pkt[2] << 8) | pkt[3]);
  Slot *s = &buf->slots[seq % buf->n];
  s->seq = seq;
  s->len = (guint16)len;
  memcpy (s->data, pkt, len);
}

const guint8 *
mcu_rtx_buffer_lookup (McuRtxBuffer *buf, guint16 seq, gsize *len)
{
  Slot *s = &buf->slots[seq % buf->n];
  /* a slot reused by a newer packet holds another sequence number */
  if (s->len == 0 || s->seq != seq)
    return NULL;
  *len = s->len;
  return s->data;
}
