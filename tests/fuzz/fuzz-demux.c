/* libFuzzer target: the RFC 7983 demultiplexer must classify any datagram without
 * reading past it. */
#include "mcu.h"

#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  McuPacketKind kind = mcu_demux_classify (data, size);
  (void)mcu_packet_kind_name (kind);
  return 0;
}
