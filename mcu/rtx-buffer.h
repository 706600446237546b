/* rtx-buffer.h: the last packets of one outgoing stream, to answer NACKs locally.
 *
 * Every receiver of a node's program gets the same rewritten packets, so one buffer
 * per outgoing stream answers the NACKs of all of them: a NACK is answered at the
 * node that sees it and never travels up the tree.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCU_RTX_MAX_PACKET 1500

typedef struct _McuRtxBuffer McuRtxBuffer;

/**
 * mcu_rtx_buffer_new:
 * @slots: how many packets to keep (a power of two is not required), e.g. 512:
 *   about a second of 2 Mbit/s video
 *
 * Returns: (transfer full): an empty buffer; memory is allocated once, here.
 */
McuRtxBuffer *mcu_rtx_buffer_new (guint slots);
void mcu_rtx_buffer_free (McuRtxBuffer *buf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuRtxBuffer, mcu_rtx_buffer_free)

/* Keeps a copy of a plaintext RTP packet (after rewriting) under its sequence
 * number. Packets over MCU_RTX_MAX_PACKET or under 12 bytes are not kept. */
void mcu_rtx_buffer_store (McuRtxBuffer *buf, const guint8 *pkt, gsize len);

/**
 * mcu_rtx_buffer_lookup:
 * @seq: a sequence number a receiver reported lost
 * @len: (out): the stored packet's length
 *
 * Returns: (transfer none) (nullable): the stored packet, valid until the next
 * store, or %NULL when it is no longer (or never was) held.
 */
const guint8 *mcu_rtx_buffer_lookup (McuRtxBuffer *buf, guint16 seq, gsize *len);

G_END_DECLS
