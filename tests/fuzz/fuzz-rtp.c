/* libFuzzer target: the RTP reader must accept or refuse any datagram without
 * reading past it, and every view it returns (CSRCs, extension elements, payload,
 * padding) must lie inside the datagram. The same bytes as an RFC 4588 RTX packet:
 * unwrapping either refuses them untouched or restores a packet 2 bytes shorter,
 * and wrapping any packet then unwrapping it gives it back byte for byte. */
#include "mcu.h"
#include "rtx-buffer.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 *rtx = malloc (size + 2);
  memcpy (rtx, data, size);
  gsize rlen = size;
  McuRtxStatus st = mcu_rtx_unwrap (rtx, &rlen, 96, 0x1234);
  if ((st == MCU_RTX_OK) != (rlen == size - 2)
      || (st != MCU_RTX_OK && memcmp (rtx, data, size)))
    abort ();
  guint8 *wrapped = malloc (size + 2);
  gsize wlen = mcu_rtx_wrap (wrapped, size + 2, data, size, 7, 97, 9, 0x5678);
  if (wlen != 0)
    {
      McuRtpHeader o;
      if (wlen != size + 2 || mcu_rtp_parse (data, size, &o) != MCU_RTP_OK)
        abort ();
      if (mcu_rtx_unwrap (wrapped, &wlen, o.pt, o.ssrc) != MCU_RTX_OK || wlen != size)
        abort ();
      /* only the sequence number differs: the OSN we wrote */
      if (memcmp (wrapped, data, 2) || memcmp (wrapped + 4, data + 4, size - 4)
          || wrapped[2] != 0 || wrapped[3] != 7)
        abort ();
    }
  free (wrapped);
  free (rtx);
  McuRtpHeader h;
  if (mcu_rtp_parse (data, size, &h) != MCU_RTP_OK)
    return 0;
  const uint8_t *end = data + size;
  if (h.payload < data || h.payload + h.payload_len + h.padding_len != end)
    abort ();
  for (guint i = 0; i < h.csrc_count; i++)
    (void)mcu_rtp_csrc (&h, i);
  McuRtpExtIter it;
  guint8 id;
  const guint8 *d;
  gsize l;
  guint sum = 0;
  if (mcu_rtp_ext_iter_init (&it, &h))
    while (mcu_rtp_ext_iter_next (&it, &id, &d, &l) == 1)
      {
        if (d < data || d + l > end)
          abort ();
        for (gsize i = 0; i < l; i++)
          sum += d[i];
      }
  (void)mcu_rtp_find_ext (&h, 3, &d, &l);
  /* The writers on a copy, as the router uses them. */
  guint8 copy[64];
  gsize n = size < sizeof copy ? size : sizeof copy;
  memcpy (copy, data, n);
  mcu_rtp_set_ssrc (copy, n, sum);
  mcu_rtp_set_seq (copy, n, (guint16)sum);
  mcu_rtp_set_timestamp (copy, n, sum);
  return 0;
}
