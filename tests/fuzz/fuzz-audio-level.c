/* libFuzzer target: what a packet says about its loudness before it is decoded
 * (mcu/audio-level.h), read from any bytes. The first input byte is the extension ID
 * the peer negotiated, the rest the packet, copied to a buffer of exactly its size
 * so that a read past it is a sanitizer report. A level comes only from a one-byte
 * element under that ID, in -127..0 dBov; DTX only from a payload of one or two
 * bytes; a duration never exceeds Opus's 120 ms. */
#include "audio-level.h"
#include "rtp.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  guint8 ext_id = data[0];
  gsize len = size - 1;
  guint8 *pkt = malloc (len ? len : 1);
  memcpy (pkt, data + 1, len);
  McuAudioLevel lv;
  McuAudioLevelSource src = mcu_audio_level_read (pkt, len, ext_id, &lv);
  if (src != lv.source || lv.samples > 5760 || lv.db > 0 || lv.db < -127)
    abort ();
  McuRtpHeader h;
  gboolean rtp = mcu_rtp_parse (pkt, len, &h) == MCU_RTP_OK;
  if (src != MCU_AUDIO_LEVEL_UNKNOWN && !rtp)
    abort ();
  if (src == MCU_AUDIO_LEVEL_EXT)
    {
      const guint8 *d;
      gsize l;
      if (ext_id == 0 || !mcu_rtp_find_ext (&h, ext_id, &d, &l) || l != 1
          || lv.db != -(gint)(d[0] & 0x7f) || lv.voice != ((d[0] & 0x80) != 0))
        abort ();
    }
  if (src == MCU_AUDIO_LEVEL_DTX
      && (h.payload_len < 1 || h.payload_len > 2 || lv.db != -127 || lv.voice))
    abort ();
  if (rtp && lv.samples != mcu_audio_level_opus_samples (h.payload, h.payload_len))
    abort ();
  (void)mcu_audio_level_opus_samples (pkt, len);
  free (pkt);
  return 0;
}
