/* demux.h: RFC 7983 demultiplexing of the packets that share one ICE transport. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_PACKET_UNKNOWN = 0, /* drop and count */
  MCU_PACKET_STUN,
  MCU_PACKET_DTLS,
  MCU_PACKET_RTP,
  MCU_PACKET_RTCP,
} McuPacketKind;

/**
 * mcu_demux_classify:
 * @data: (transfer none): the datagram
 * @len: its length in bytes
 *
 * Classifies a datagram by its first byte (RFC 7983 section 7) and, for RTP/RTCP,
 * by the payload-type octet (RFC 5761 section 4: 192..223 is RTCP). Packet path:
 * no allocation, any input is safe.
 */
McuPacketKind mcu_demux_classify (const guint8 *data, gsize len);

const char *mcu_packet_kind_name (McuPacketKind kind);

G_END_DECLS
