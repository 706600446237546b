#include "keyframe.h"

static gboolean
vp8_is_keyframe (const guint8 *p, gsize len)
{
  gsize off = 1;

  if (len < 1)
    return FALSE;
  gboolean x = (p[0] & 0x80) != 0, s = (p[0] & 0x10) != 0;
  guint pid = p[0] & 0x07;
  if (x)
    {
      if (len < 2)
        return FALSE;
      guint8 ext = p[1];
      off = 2;
      if (ext & 0x80) /* I: picture id, 7 or 15 bits */
        {
          if (off >= len)
            return FALSE;
          off += (p[off] & 0x80) ? 2 : 1;
        }
      if (ext & 0x40) /* L: TL0PICIDX */
        off += 1;
      if (ext & 0x30) /* T or K: TID/Y/KEYIDX */
        off += 1;
    }
  if (!s || pid != 0 || off >= len)
    return FALSE;
  return (p[off] & 0x01) == 0; /* P bit of the VP8 frame tag: 0 = key frame */
}

static gboolean
h264_nal_is_key (guint8 type)
{
  return type == 5 || type == 7; /* IDR slice, SPS */
}

static gboolean
h264_is_keyframe (const guint8 *p, gsize len)
{
  if (len < 1)
    return FALSE;
  guint8 type = p[0] & 0x1f;
  if (type >= 1 && type <= 23)
    return h264_nal_is_key (type);
  if (type == 24) /* STAP-A: 16-bit size, NAL unit, repeated */
    {
      gsize off = 1;
      while (off + 2 < len)
        {
          gsize size = ((gsize)p[off] << 8) | p[off + 1];
          off += 2;
          if (size == 0 || off + size > len)
            return FALSE;
          if (h264_nal_is_key (p[off] & 0x1f))
            return TRUE;
          off += size;
        }
      return FALSE;
    }
  if (type == 28) /* FU-A: the start fragment carries the NAL type */
    return len >= 2 && (p[1] & 0x80) && h264_nal_is_key (p[1] & 0x1f);
  return FALSE;
}

gboolean
mcu_payload_is_keyframe (McuVideoCodec codec, const guint8 *payload, gsize len)
{
  if (payload == NULL)
    return FALSE;
  switch (codec)
    {
    case MCU_VIDEO_CODEC_VP8:
      return vp8_is_keyframe (payload, len);
    case MCU_VIDEO_CODEC_H264:
      return h264_is_keyframe (payload, len);
    default:
      return FALSE;
    }
}
