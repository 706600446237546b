/* mcu-error.h: the error domain of libmcu (set-up paths only; the packet path
 * returns codes). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCU_ERROR (mcu_error_quark ())

typedef enum
{
  MCU_ERROR_INVALID,     /* malformed SDP, configuration or command */
  MCU_ERROR_UNSUPPORTED, /* a codec, profile or feature we do not offer */
  MCU_ERROR_ICE,         /* ICE failed or consent expired */
  MCU_ERROR_DTLS,        /* handshake failed, fingerprint mismatch */
  MCU_ERROR_SRTP,        /* libsrtp refused a key or policy */
  MCU_ERROR_PIPELINE,    /* a GStreamer pipeline could not be built or started */
  MCU_ERROR_NO_SPACE,    /* a recording's disk has less free than it must keep */
} McuError;

GQuark mcu_error_quark (void);

G_END_DECLS
