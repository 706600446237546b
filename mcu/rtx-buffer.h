/* rtx-buffer.h: the last packets of one outgoing stream, to answer NACKs locally,
 * and the RFC 4588 retransmission format they are answered in.
 *
 * Every receiver of a node's program gets the same rewritten packets, so one buffer
 * per outgoing stream answers the NACKs of all of them: a NACK is answered at the
 * node that sees it and never travels up the tree.
 *
 * An RTX packet (RFC 4588 section 4) is the original packet's header (its
 * timestamp, marker, CSRCs and extension) under the retransmission stream's own
 * SSRC, payload type and sequence number, followed by the original sequence number
 * (OSN, 2 bytes) and the original payload. Its own numbering is what makes it safe
 * under SRTP: every retransmission takes a fresh index.
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

/**
 * mcu_rtx_buffer_new_full:
 * @slots: how many packets to keep
 * @max_packet: the largest packet kept (12 to MCU_RTX_MAX_PACKET bytes): an audio
 *   stream's packets are a tenth of a video MTU, and a buffer per receiver of it
 *   would otherwise hold mostly empty room
 *
 * Returns: (transfer full): an empty buffer, allocated once, here.
 */
McuRtxBuffer *mcu_rtx_buffer_new_full (guint slots, gsize max_packet);
void mcu_rtx_buffer_free (McuRtxBuffer *buf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuRtxBuffer, mcu_rtx_buffer_free)

/* Keeps a copy of a plaintext RTP packet (after rewriting) under its sequence
 * number. Packets over the buffer's largest or under 12 bytes are not kept (an
 * oversize one empties its slot: nothing older is answered under its number). */
void mcu_rtx_buffer_store (McuRtxBuffer *buf, const guint8 *pkt, gsize len);

/* Forgets every packet (the stream started over under another SSRC). */
void mcu_rtx_buffer_clear (McuRtxBuffer *buf);

/**
 * mcu_rtx_buffer_lookup:
 * @seq: a sequence number a receiver reported lost
 * @len: (out): the stored packet's length
 *
 * Returns: (transfer none) (nullable): the stored packet, valid until the next
 * store, or %NULL when it is no longer (or never was) held.
 */
const guint8 *mcu_rtx_buffer_lookup (McuRtxBuffer *buf, guint16 seq, gsize *len);

/* What mcu_rtx_unwrap() made of a packet. */
typedef enum
{
  MCU_RTX_OK = 0,
  MCU_RTX_PADDING = 1, /* no payload at all: a bandwidth probe, nothing to restore */
  MCU_RTX_ERR_MALFORMED = -1, /* not a valid RTP packet */
  MCU_RTX_ERR_NO_OSN = -2,    /* a payload of one byte: no room for the OSN */
} McuRtxStatus;

/**
 * mcu_rtx_wrap:
 * @out: where the RTX packet is written, @cap bytes
 * @orig: (transfer none): the plaintext original packet, as first sent
 * @osn: the sequence number it was first sent with (the receiver's numbering)
 * @rtx_pt: @rtx_ssrc: @rtx_seq: the retransmission stream's fields
 *
 * Writes the RTX packet of @orig: its header with @rtx_pt, @rtx_seq and @rtx_ssrc
 * in place of the original's, then @osn, then the original payload and padding.
 * Returns: the RTX packet's length, or 0 when @orig does not parse or the result
 * does not fit @cap.
 */
gsize mcu_rtx_wrap (guint8 *out, gsize cap, const guint8 *orig, gsize len, guint16 osn,
                    guint8 rtx_pt, guint16 rtx_seq, guint32 rtx_ssrc);

/**
 * mcu_rtx_unwrap:
 * @pkt: (inout): a decrypted RTX packet, restored in place
 * @len: (inout): its length; the restored packet's on success (2 bytes less)
 * @pt: @ssrc: the original stream's payload type and SSRC (the rtx type's apt and
 *   the stream it repairs)
 *
 * Restores the original packet: the OSN becomes its sequence number, @pt and @ssrc
 * its payload type and SSRC, and the OSN is removed from the payload.
 * Returns: MCU_RTX_OK; anything else leaves @pkt and @len as they were.
 */
McuRtxStatus mcu_rtx_unwrap (guint8 *pkt, gsize *len, guint8 pt, guint32 ssrc);

G_END_DECLS
