/* libFuzzer target: keyframe detection must judge any payload, VP8 or H.264 (the
 * first byte picks the codec), without reading past it. */
#include "keyframe.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  McuVideoCodec codec = (data[0] & 1) ? MCU_VIDEO_CODEC_H264 : MCU_VIDEO_CODEC_VP8;
  (void)mcu_payload_is_keyframe (codec, data + 1, size - 1);
  return 0;
}
