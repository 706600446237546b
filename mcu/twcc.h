/* twcc.h: transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01): the RTP header extension carrying a transport-wide sequence
 * number, the RTCP feedback (RTPFB, FMT 15) that reports when each numbered packet
 * arrived, and the two ends of it on a node:
 *
 * - McuTwccRecorder, receive side: records the arrival of each numbered packet a
 *   peer sends us and writes the feedback that lets that peer's own estimator
 *   (Chromium's, webrtcbin's, a parent node's) ramp its sending rate.
 * - McuTwccSender, send side: numbers each packet we send a peer, remembers when it
 *   left and how big it was, and turns the peer's feedback into per-packet results
 *   for mcu/bwe.h.
 *
 * Packet path: no allocation; every length read from the wire is checked. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCU_TWCC_EXT_URI \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define MCU_TWCC_FMT 15

/* Per-packet status in a feedback (section 3.1.1). */
typedef enum
{
  MCU_TWCC_NOT_RECEIVED = 0,
  MCU_TWCC_SMALL_DELTA = 1, /* received, delta 0..63.75 ms */
  MCU_TWCC_LARGE_DELTA = 2, /* received, delta negative or larger (16-bit signed) */
} McuTwccSymbol;

#define MCU_TWCC_MAX_PACKETS 1024 /* packets one parsed or written feedback holds */

/* A parsed feedback, or one to write. Arrival times are in microseconds on the
 * receiver's clock, already summed from the reference time and the deltas (so they
 * are multiples of 250 µs); only differences between them mean anything. */
typedef struct
{
  guint32 sender_ssrc, media_ssrc;
  guint16 base_seq;
  guint16 count;   /* packet status count */
  gint32 ref_time; /* 24-bit signed, in 64 ms units */
  guint8 fb_count;
  guint8 received[MCU_TWCC_MAX_PACKETS]; /* 1 when packet base_seq + i arrived */
  gint64 arrival_us[MCU_TWCC_MAX_PACKETS];
} McuTwccFeedback;

typedef enum
{
  MCU_TWCC_OK = 0,
  MCU_TWCC_ERR_SHORT = -1,    /* shorter than its fixed part, or chunks/deltas run out */
  MCU_TWCC_ERR_HEADER = -2,   /* not version 2, RTPFB, FMT 15, or the length lies */
  MCU_TWCC_ERR_SYMBOL = -3,   /* the reserved status symbol 3 */
  MCU_TWCC_ERR_TOO_MANY = -4, /* more than MCU_TWCC_MAX_PACKETS statuses */
} McuTwccStatus;

/**
 * mcu_twcc_parse:
 * @data: (transfer none): one RTCP packet (header included), not a compound
 * @out: (out caller-allocates): the feedback; meaningful only on MCU_TWCC_OK
 *
 * Returns: MCU_TWCC_OK or a negative McuTwccStatus.
 */
int mcu_twcc_parse (const guint8 *data, gsize len, McuTwccFeedback *out);

/**
 * mcu_twcc_write:
 * @fb: the feedback: base_seq, count (1..MCU_TWCC_MAX_PACKETS), received[],
 *   arrival_us[] of the received ones (nondecreasing not required), fb_count,
 *   SSRCs; ref_time is computed from the first received packet and stored in @fb
 *
 * Returns: the packet's length, or 0 when it does not fit @cap, @fb->count is out
 * of range, no packet was received, or a delta does not fit 16 bits (±8 s).
 */
gsize mcu_twcc_write (guint8 *buf, gsize cap, McuTwccFeedback *fb);

/**
 * mcu_twcc_find_in_compound:
 * @offset: (inout): where to start looking (0 first); set past the packet found
 * @pkt: (out) (transfer none): the transport-cc feedback packet, inside @data
 * @pkt_len: (out): its length
 *
 * Walks a decrypted compound RTCP datagram packet by packet (each length checked).
 * Returns: TRUE when another transport-cc feedback was found.
 */
gboolean mcu_twcc_find_in_compound (const guint8 *data, gsize len, gsize *offset,
                                    const guint8 **pkt, gsize *pkt_len);

/**
 * mcu_twcc_read_ext:
 * @pkt: (transfer none): an RTP packet
 * @id: the negotiated extension ID (1..14 one-byte or 1..255 two-byte)
 * @seq: (out): its transport-wide sequence number
 * Returns: TRUE when @pkt is valid RTP and carries the extension with 2 bytes.
 */
gboolean mcu_twcc_read_ext (const guint8 *pkt, gsize len, guint8 id, guint16 *seq);

/* --- receive side ------------------------------------------------------------- */

typedef struct _McuTwccRecorder McuTwccRecorder;

/* @sender_ssrc: the SSRC our feedback is sent from. */
McuTwccRecorder *mcu_twcc_recorder_new (guint32 sender_ssrc);
void mcu_twcc_recorder_free (McuTwccRecorder *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuTwccRecorder, mcu_twcc_recorder_free)

/* One numbered packet arrived at @now_us. Packet path. */
void mcu_twcc_recorder_on_packet (McuTwccRecorder *rec, guint16 seq, guint32 media_ssrc,
                                  gint64 now_us);

/**
 * mcu_twcc_recorder_write_feedback:
 * Writes the next feedback packet, reporting every packet from the first not yet
 * reported to the highest seen (those that never came as not received), into
 * @buf. Call every 50-100 ms; call again while it returns non-zero to flush a
 * backlog larger than one packet.
 * Returns: its length, or 0 when there is nothing new (or @cap is too small).
 */
gsize mcu_twcc_recorder_write_feedback (McuTwccRecorder *rec, guint8 *buf, gsize cap);

/* --- send side ----------------------------------------------------------------- */

typedef struct _McuTwccSender McuTwccSender;

/* What feedback said about one packet we sent. */
typedef struct
{
  gint64 send_us;
  gint64 arrival_us; /* receiver's clock; meaningful when received */
  guint size;        /* bytes of RTP */
  gboolean received;
} McuTwccResult;

/* @ext_id: the peer's negotiated ID for the extension, 0 = none (packets still get
 * foreign extensions removed, see mcu_twcc_sender_stamp()). Thread-safe. */
McuTwccSender *mcu_twcc_sender_new (guint8 ext_id);
void mcu_twcc_sender_free (McuTwccSender *tx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuTwccSender, mcu_twcc_sender_free)

/**
 * mcu_twcc_sender_stamp:
 * @pkt: (inout): a plain RTP packet in a buffer of @cap bytes
 * @len: (inout): its length, changed when the extension header changes
 *
 * Removes whatever header extension the packet came with (it was numbered for
 * another peer's session, under IDs that mean nothing or something else here) and,
 * when the peer negotiated transport-cc, writes ours with the next transport-wide
 * number and remembers the packet. A packet sent again under an RTP sequence number
 * it already had (an in-stream retransmission) gets the same transport-wide number
 * as the first time: SRTP must never protect different bytes under one index.
 * Any thread; packet path.
 * Returns: FALSE when the packet must not be sent (malformed, no room, or a resend
 * whose first number is forgotten).
 */
gboolean mcu_twcc_sender_stamp (McuTwccSender *tx, guint8 *pkt, gsize *len, gsize cap,
                                gint64 now_us);

/**
 * mcu_twcc_sender_on_feedback:
 * @results: (out caller-allocates) (array length=max): one entry per packet the
 *   feedback reported that we still remember, in sequence order
 * Returns: how many were written.
 */
guint mcu_twcc_sender_on_feedback (McuTwccSender *tx, const McuTwccFeedback *fb,
                                   McuTwccResult *results, guint max);

/* Bytes stamped in the last second, as bits per second: what we send this peer. */
guint64 mcu_twcc_sender_rate (McuTwccSender *tx, gint64 now_us);

/* Packets refused by mcu_twcc_sender_stamp(). */
guint64 mcu_twcc_sender_refused (McuTwccSender *tx);

G_END_DECLS
