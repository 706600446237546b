/* rtp.h: a bounds-checked RTP header reader (RFC 3550 section 5.1, header
 * extensions per RFC 8285) and in-place writers for the fields the router rewrites.
 *
 * Packet path: no allocation; the parsed view points into the caller's buffer and
 * is valid while that buffer is. No length field is trusted: every one is checked
 * against the datagram's real length before anything is read through it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_RTP_OK = 0,
  MCU_RTP_ERR_SHORT = -1,     /* shorter than the fixed 12-byte header */
  MCU_RTP_ERR_VERSION = -2,   /* version is not 2 */
  MCU_RTP_ERR_CSRC = -3,      /* the CSRC list runs past the end */
  MCU_RTP_ERR_EXTENSION = -4, /* the extension header or its length runs past the end */
  MCU_RTP_ERR_PADDING = -5,   /* padding count 0 or larger than the payload */
} McuRtpStatus;

/* RFC 8285 profiles of the extension header. */
#define MCU_RTP_EXT_ONE_BYTE 0xBEDE
#define MCU_RTP_EXT_TWO_BYTE_MASK 0xFFF0
#define MCU_RTP_EXT_TWO_BYTE 0x1000

/* A parsed view of one RTP packet; pointers point into the parsed buffer. */
typedef struct
{
  gboolean padding, extension, marker;
  guint8 csrc_count;
  guint8 pt;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  const guint8 *csrcs;   /* csrc_count big-endian 32-bit values */
  guint16 ext_profile;   /* 0xBEDE, 0x100x or another; valid when extension */
  const guint8 *ext;     /* the extension data after its 4-byte header */
  gsize ext_len;         /* in bytes (the header's length field times 4) */
  gsize header_len;      /* fixed header + CSRCs + extension */
  const guint8 *payload; /* after the header, before the padding */
  gsize payload_len;
  guint8 padding_len; /* 0 when no padding */
} McuRtpHeader;

/**
 * mcu_rtp_parse:
 * @data: (transfer none): the datagram
 * @len: its length
 * @out: (out caller-allocates): the parsed view; zeroed on failure
 *
 * Validates version 2, the CSRC list, the extension length and the padding count
 * against @len. Extension elements are not validated here; see
 * mcu_rtp_ext_iter_next(). Returns: MCU_RTP_OK or a negative McuRtpStatus.
 */
int mcu_rtp_parse (const guint8 *data, gsize len, McuRtpHeader *out);

/**
 * mcu_rtp_csrc:
 * Returns: CSRC @i of @h (0 when @i is out of range).
 */
guint32 mcu_rtp_csrc (const McuRtpHeader *h, guint i);

/* Iterates over the RFC 8285 elements of one header extension. */
typedef struct
{
  const guint8 *p, *end;
  gboolean two_byte;
} McuRtpExtIter;

/**
 * mcu_rtp_ext_iter_init:
 * Starts iterating over @h's extension elements.
 * Returns: FALSE when @h has no extension in the one-byte or two-byte format (the
 * iterator then yields nothing).
 */
gboolean mcu_rtp_ext_iter_init (McuRtpExtIter *it, const McuRtpHeader *h);

/**
 * mcu_rtp_ext_iter_next:
 * @id: (out): the element's ID (1..14 one-byte, 1..255 two-byte)
 * @data: (out) (transfer none): its data, inside the packet
 * @len: (out): its length (1..16 one-byte, 0..255 two-byte)
 *
 * Skips padding bytes; stops at one-byte ID 15 (RFC 8285 section 4.2).
 * Returns: 1 for an element, 0 at the end, -1 when an element runs past the end of
 * the extension (the packet's extension is malformed; stop reading it).
 */
int mcu_rtp_ext_iter_next (McuRtpExtIter *it, guint8 *id, const guint8 **data,
                           gsize *len);

/**
 * mcu_rtp_find_ext:
 * Finds the first element with @id. Returns: TRUE when found.
 */
gboolean mcu_rtp_find_ext (const McuRtpHeader *h, guint8 id, const guint8 **data,
                           gsize *len);

/* In-place writers for the router. Each checks that @len holds a fixed RTP header
 * of version 2 and returns FALSE (writing nothing) otherwise. */
gboolean mcu_rtp_set_ssrc (guint8 *buf, gsize len, guint32 ssrc);
gboolean mcu_rtp_set_seq (guint8 *buf, gsize len, guint16 seq);
gboolean mcu_rtp_set_timestamp (guint8 *buf, gsize len, guint32 ts);
gboolean mcu_rtp_set_pt (guint8 *buf, gsize len, guint8 pt);
gboolean mcu_rtp_set_marker (guint8 *buf, gsize len, gboolean marker);

/**
 * mcu_rtp_write_header:
 * Writes a 12-byte version-2 header (no CSRC, no extension, no padding) into @buf.
 * Returns: 12, or 0 when @cap < 12.
 */
gsize mcu_rtp_write_header (guint8 *buf, gsize cap, guint8 pt, gboolean marker,
                            guint16 seq, guint32 ts, guint32 ssrc);

/**
 * mcu_rtp_seq_newer:
 * Returns: TRUE when @a comes after @b in 16-bit serial arithmetic (RFC 1982).
 */
gboolean mcu_rtp_seq_newer (guint16 a, guint16 b);

G_END_DECLS
