/* keyframe.h: does this RTP payload start a keyframe? The router switches the
 * program to a new source only on one, so receivers never decode from a delta frame. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_VIDEO_CODEC_VP8,
  MCU_VIDEO_CODEC_H264,
} McuVideoCodec;

/**
 * mcu_payload_is_keyframe:
 * @payload: (transfer none): the RTP payload (after header, CSRCs and extensions)
 * @len: its length
 *
 * VP8 (RFC 7741): the first packet of a partition-0 whose frame header says key
 * frame. H.264 (RFC 6184): an IDR or SPS NAL unit, alone, in a STAP-A, or at the
 * start of a FU-A. Packet path: no allocation; any input is safe.
 */
gboolean mcu_payload_is_keyframe (McuVideoCodec codec, const guint8 *payload, gsize len);

G_END_DECLS
