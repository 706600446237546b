/* audio-level.c: the loudness an Opus RTP packet declares (see audio-level.h). */
#include "audio-level.h"
#include "rtp.h"

#include <string.h>

#define OPUS_MAX_SAMPLES 5760 /* 120 ms at 48 kHz */

guint
mcu_audio_level_opus_samples (const guint8 *payload, gsize len)
{
  if (payload == NULL || len < 1)
    return 0;
  guint config = payload[0] >> 3, frame;
  if (config < 12) /* SILK: 10, 20, 40, 60 ms */
    {
      static const guint silk[4] = { 480, 960, 1920, 2880 };
      frame = silk[config & 3];
    }
  else if (config < 16) /* hybrid: 10, 20 ms */
    frame = config & 1 ? 960 : 480;
  else /* CELT: 2.5, 5, 10, 20 ms */
    frame = 120u << (config & 3);
  switch (payload[0] & 3)
    {
    case 0:
      return frame;
    case 1:
    case 2:
      return 2 * frame;
    default:
      {
        /* code 3: the frame count is the low 6 bits of the next byte */
        if (len < 2)
          return 0;
        guint n = payload[1] & 0x3f;
        if (n == 0 || n * frame > OPUS_MAX_SAMPLES)
          return 0;
        return n * frame;
      }
    }
}

McuAudioLevelSource
mcu_audio_level_read (const guint8 *rtp, gsize len, guint8 ext_id, McuAudioLevel *out)
{
  memset (out, 0, sizeof *out);
  McuRtpHeader h;
  if (rtp == NULL || mcu_rtp_parse (rtp, len, &h) != MCU_RTP_OK)
    return out->source;
  out->samples = mcu_audio_level_opus_samples (h.payload, h.payload_len);
  if (ext_id != 0 && h.extension)
    {
      McuRtpExtIter it;
      guint8 id;
      const guint8 *d;
      gsize l;
      int r = 0;
      if (mcu_rtp_ext_iter_init (&it, &h))
        while ((r = mcu_rtp_ext_iter_next (&it, &id, &d, &l)) == 1)
          if (id == ext_id)
            break;
      /* RFC 6464 section 3: one byte, V(1) level(7). An element of another length
       * under our ID, or a block that ends inside an element, is not believed: a
       * level from it could say silence of a peer that speaks. */
      if (r == 1 && l == 1)
        {
          out->source = MCU_AUDIO_LEVEL_EXT;
          out->voice = (d[0] & 0x80) != 0;
          out->db = -(gint)(d[0] & 0x7f);
          return out->source;
        }
      if (r == 1 || r < 0)
        return out->source; /* ours but malformed: decode, even if it looks DTX */
    }
  /* RFC 7587 3.3 / what browsers send in DTX: a TOC and at most one more byte */
  if (h.payload_len >= 1 && h.payload_len <= 2)
    {
      out->source = MCU_AUDIO_LEVEL_DTX;
      out->db = -127;
    }
  return out->source;
}
