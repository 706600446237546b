/* audio-level.h: what an Opus RTP packet says about its loudness before decoding.
 *
 * Two signals, both read from untrusted bytes with bounds checks and no allocation:
 * the RFC 6464 client-to-mixer audio level header extension
 * (MCU_AUDIO_LEVEL_EXT_URI, one-byte or two-byte RFC 8285 form; browsers send it
 * when it is negotiated), and Opus DTX (RFC 7587 section 3.3: while silent, a sender
 * in DTX sends payloads of one or two bytes, a TOC alone). A packet that carries
 * neither, or a level element that is malformed, tells nothing: the caller decodes
 * it, as it would without this. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCU_AUDIO_LEVEL_EXT_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

typedef enum
{
  MCU_AUDIO_LEVEL_UNKNOWN = 0, /* no usable signal (absent, malformed): decode it */
  MCU_AUDIO_LEVEL_EXT,         /* the RFC 6464 element gave the level */
  MCU_AUDIO_LEVEL_DTX,         /* no element, but an Opus DTX payload: silence */
} McuAudioLevelSource;

typedef struct
{
  McuAudioLevelSource source;
  /* the level in dBov, 0 (loudest) .. -127 (digital silence); -127 for DTX */
  gint db;
  gboolean voice; /* the element's V flag; FALSE for DTX and when unknown */
  /* the Opus payload's duration in 48 kHz samples (RFC 6716 section 3.1), 0 when
   * the packet is not a well-formed RTP packet with an Opus TOC */
  guint samples;
} McuAudioLevel;

/**
 * mcu_audio_level_read:
 * @rtp: (transfer none): one plaintext RTP packet, as received
 * @len: its length
 * @ext_id: the negotiated ID of the audio level extension (1..255), 0 when none was
 *   negotiated (then only DTX is recognised)
 * @out: (out caller-allocates): what the packet says
 *
 * An element with @ext_id whose data is not exactly one byte, an extension block
 * that runs past the packet, or one whose elements run past the block, gives
 * MCU_AUDIO_LEVEL_UNKNOWN (never a level read from outside the element).
 *
 * Returns: @out->source.
 */
McuAudioLevelSource mcu_audio_level_read (const guint8 *rtp, gsize len, guint8 ext_id,
                                          McuAudioLevel *out);

/**
 * mcu_audio_level_opus_samples:
 * @payload: (transfer none): an Opus payload
 * @len: its length
 *
 * Returns: its duration in 48 kHz samples from the TOC byte (and the frame count
 * byte of a code 3 packet), 0 for an empty or malformed payload, at most 5760
 * (120 ms, RFC 6716's limit).
 */
guint mcu_audio_level_opus_samples (const guint8 *payload, gsize len);

G_END_DECLS
