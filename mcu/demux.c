#include "demux.h"

/* RFC 7983 section 7 ranges of the first byte:
 *   0..3 STUN, 16..19 ZRTP (not ours), 20..63 DTLS, 64..79 TURN channel (libnice
 *   strips these before we see them), 128..191 RTP/RTCP.
 * Within 128..191, RFC 5761 assigns payload types 64..95 (second byte & 0x7f) to
 * RTCP packet types 192..223 so that muxed RTCP is told from RTP. */
McuPacketKind
mcu_demux_classify (const guint8 *data, gsize len)
{
  if (data == NULL || len == 0)
    return MCU_PACKET_UNKNOWN;

  guint8 b = data[0];

  if (b <= 3)
    return len >= 20 ? MCU_PACKET_STUN : MCU_PACKET_UNKNOWN;
  if (b >= 20 && b <= 63)
    return len >= 13 ? MCU_PACKET_DTLS : MCU_PACKET_UNKNOWN;
  if (b >= 128 && b <= 191)
    {
      if (len < 8)
        return MCU_PACKET_UNKNOWN;
      guint8 pt = data[1];
      if (pt >= 192 && pt <= 223)
        return MCU_PACKET_RTCP;
      return len >= 12 ? MCU_PACKET_RTP : MCU_PACKET_UNKNOWN;
    }
  return MCU_PACKET_UNKNOWN;
}

const char *
mcu_packet_kind_name (McuPacketKind kind)
{
  switch (kind)
    {
    case MCU_PACKET_STUN:
      return "stun";
    case MCU_PACKET_DTLS:
      return "dtls";
    case MCU_PACKET_RTP:
      return "rtp";
    case MCU_PACKET_RTCP:
      return "rtcp";
    case MCU_PACKET_UNKNOWN:
    default:
      return "unknown";
    }
}
