/* rtcp.h: a compound RTCP reader (RFC 3550, RFC 4585, RFC 5104, REMB) into a fixed,
 * caller-provided struct, and writers for the reports and feedback we send.
 *
 * Packet path: no allocation. Items that do not fit the fixed arrays are counted in
 * `dropped` rather than stored. Pointers (SDES CNAME) point into the parsed buffer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum
{
  MCU_RTCP_SR = 200,
  MCU_RTCP_RR = 201,
  MCU_RTCP_SDES = 202,
  MCU_RTCP_BYE = 203,
  MCU_RTCP_APP = 204,
  MCU_RTCP_RTPFB = 205,
  MCU_RTCP_PSFB = 206,
  MCU_RTCP_XR = 207,
};

typedef enum
{
  MCU_RTCP_OK = 0,
  MCU_RTCP_ERR_SHORT = -1,   /* less than one 4-byte header */
  MCU_RTCP_ERR_VERSION = -2, /* a packet's version is not 2 */
  MCU_RTCP_ERR_FIRST = -3,   /* first packet not SR/RR, or padded (RFC 3550 A.2) */
  MCU_RTCP_ERR_LENGTH = -4,  /* lengths do not add up to the datagram */
  MCU_RTCP_ERR_PADDING = -5, /* padding outside the last packet, or a bad count */
  MCU_RTCP_ERR_FORMAT = -6,  /* a known packet type whose body contradicts its count */
} McuRtcpStatus;

/* Flags of mcu_rtcp_parse(). */
typedef enum
{
  MCU_RTCP_PARSE_STRICT = 0,
  /* RFC 5506 reduced-size RTCP (a=rtcp-rsize): a lone feedback packet is valid, so
   * the first packet need not be SR/RR. */
  MCU_RTCP_PARSE_REDUCED_SIZE = 1 << 0,
} McuRtcpParseFlags;

#define MCU_RTCP_MAX_SR 4
#define MCU_RTCP_MAX_REPORTS 32
#define MCU_RTCP_MAX_SDES 16
#define MCU_RTCP_MAX_BYE 16
#define MCU_RTCP_MAX_NACK 64
#define MCU_RTCP_MAX_PLI 16
#define MCU_RTCP_MAX_FIR 16
#define MCU_RTCP_MAX_REMB_SSRCS 16

typedef struct
{
  guint32 ssrc;
  guint64 ntp; /* NTP timestamp, 32.32 fixed point */
  guint32 rtp_ts;
  guint32 packet_count;
  guint32 octet_count;
} McuRtcpSenderInfo;

typedef struct
{
  guint32 reporter_ssrc; /* the SR/RR sender this block came from (not on the wire) */
  guint32 ssrc;          /* the source reported on */
  guint8 fraction_lost;
  gint32 cumulative_lost; /* signed 24-bit */
  guint32 ext_highest_seq;
  guint32 jitter;
  guint32 lsr;
  guint32 dlsr;
} McuRtcpReportBlock;

typedef struct
{
  guint32 sender_ssrc, media_ssrc;
  guint16 pid, blp; /* RFC 4585 6.2.1: pid and the bitmask of the 16 following */
} McuRtcpNack;

typedef struct
{
  guint32 sender_ssrc, media_ssrc;
} McuRtcpPli;

typedef struct
{
  guint32 sender_ssrc, media_ssrc; /* media_ssrc from the FCI entry */
  guint8 seq;
} McuRtcpFir;

typedef struct
{
  guint32 ssrc;
  const guint8 *cname; /* not NUL-terminated, inside the parsed buffer */
  gsize cname_len;
} McuRtcpSdes;

/* Everything one compound packet said. Zeroed by mcu_rtcp_parse(). */
typedef struct
{
  guint n_packets;
  McuRtcpSenderInfo srs[MCU_RTCP_MAX_SR];
  guint n_srs;
  guint32 rr_ssrcs[MCU_RTCP_MAX_SR]; /* senders of RR packets */
  guint n_rrs;
  McuRtcpReportBlock reports[MCU_RTCP_MAX_REPORTS];
  guint n_reports;
  McuRtcpSdes sdes[MCU_RTCP_MAX_SDES];
  guint n_sdes;
  guint32 byes[MCU_RTCP_MAX_BYE];
  guint n_byes;
  McuRtcpNack nacks[MCU_RTCP_MAX_NACK];
  guint n_nacks;
  McuRtcpPli plis[MCU_RTCP_MAX_PLI];
  guint n_plis;
  McuRtcpFir firs[MCU_RTCP_MAX_FIR];
  guint n_firs;
  gboolean has_remb;
  guint32 remb_sender_ssrc;
  guint64 remb_bitrate; /* bits per second, mantissa << exponent */
  guint32 remb_ssrcs[MCU_RTCP_MAX_REMB_SSRCS];
  guint n_remb_ssrcs;
  guint n_xr;      /* XR packets, skipped */
  guint n_app;     /* APP packets, skipped */
  guint n_unknown; /* unknown packet types or feedback formats, skipped */
  guint dropped;   /* items that did not fit the arrays above */
} McuRtcpInfo;

/**
 * mcu_rtcp_parse:
 * @data: (transfer none): a decrypted (compound) RTCP datagram
 * @len: its length
 * @flags: MCU_RTCP_PARSE_STRICT, or MCU_RTCP_PARSE_REDUCED_SIZE where rtcp-rsize
 *   was negotiated
 * @out: (out caller-allocates): what the packet said
 *
 * Validates the compound as RFC 3550 appendix A.2 says (version 2 everywhere; first
 * packet SR or RR without padding unless reduced-size; padding only in the last
 * packet; the lengths add up to @len exactly) before storing anything, then reads
 * each packet. Returns: MCU_RTCP_OK or a negative McuRtcpStatus; on error @out holds
 * nothing (zeroed).
 */
int mcu_rtcp_parse (const guint8 *data, gsize len, McuRtcpParseFlags flags,
                    McuRtcpInfo *out);

/**
 * mcu_rtcp_nack_expand:
 * @seqs: (out caller-allocates) (array fixed-size=17): the lost sequence numbers
 * Returns: how many were written (1..17): @pid and each bit of @blp.
 */
guint mcu_rtcp_nack_expand (guint16 pid, guint16 blp, guint16 *seqs);

/* Writers. Each writes one RTCP packet at @buf and returns its length in bytes, or
 * 0 when @cap is too small or an argument is out of range (nothing useful written).
 * Concatenate them for a compound packet (an SR or RR first). */

/* SR with up to 31 report blocks (reporter_ssrc of the blocks is ignored). */
gsize mcu_rtcp_write_sr (guint8 *buf, gsize cap, const McuRtcpSenderInfo *si,
                         const McuRtcpReportBlock *blocks, guint n_blocks);
/* RR with up to 31 report blocks. */
gsize mcu_rtcp_write_rr (guint8 *buf, gsize cap, guint32 sender_ssrc,
                         const McuRtcpReportBlock *blocks, guint n_blocks);
/* SDES with one chunk holding a CNAME (1..255 bytes). */
gsize mcu_rtcp_write_sdes_cname (guint8 *buf, gsize cap, guint32 ssrc, const char *cname);
/* Generic NACK (RFC 4585 6.2.1) for @n_seqs lost sequence numbers, packed into as
 * few pid/blp pairs as their order allows (give them ascending, wrap allowed). */
gsize mcu_rtcp_write_nack (guint8 *buf, gsize cap, guint32 sender_ssrc,
                           guint32 media_ssrc, const guint16 *seqs, guint n_seqs);
/* PLI (RFC 4585 6.3.1). */
gsize mcu_rtcp_write_pli (guint8 *buf, gsize cap, guint32 sender_ssrc,
                          guint32 media_ssrc);
/* FIR (RFC 5104 4.3.1) with one FCI entry; @seq increments per new request. */
gsize mcu_rtcp_write_fir (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                          guint8 seq);
/* REMB (draft-alvestrand-rmcat-remb) of @bitrate bits per second (rounded down to
 * what 18 bits of mantissa say) for up to 255 media SSRCs. */
gsize mcu_rtcp_write_remb (guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate,
                           const guint32 *ssrcs, guint n_ssrcs);

G_END_DECLS
