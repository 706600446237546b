/* peer-cc.h: McuPeerCc, congestion control for one peer of a leg, as negotiated in
 * its SDP: transport-cc both ways (we feed back on what it sends us, it on what we
 * send it) and goog-remb; and, whatever it negotiated, the loss its receiver reports
 * and NACKs count on what we send it (the only downlink measure of a peer without
 * transport-cc). It puts mcu/twcc.h and mcu/bwe.h behind the few calls a leg's
 * packet plumbing makes, so the leg and the router stay unaware of the format.
 *
 * Threads: mcu_peer_cc_on_send() and mcu_peer_cc_on_sent() may run on any thread
 * (wherever the router sends to the peer); everything else runs on the leg's
 * context. */
#pragma once

#include "bwe.h"
#include "rtcp.h"
#include "sdp.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _McuPeerCc McuPeerCc;

/**
 * mcu_peer_cc_new:
 * @session: (transfer none): the peer's negotiated session (read once)
 * @our_ssrc: the SSRC our feedback is sent from
 *
 * Returns: (transfer full): the peer's state; without transport-cc it removes
 * foreign header extensions from what we send, keeps REMB caps and estimates from
 * receiver reports alone.
 */
McuPeerCc *mcu_peer_cc_new (const McuSdpSession *session, guint32 our_ssrc,
                            gint64 now_us);
void mcu_peer_cc_free (McuPeerCc *cc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuPeerCc, mcu_peer_cc_free)

/* Whether the peer negotiated transport-cc, goog-remb. */
gboolean mcu_peer_cc_has_twcc (McuPeerCc *cc);
gboolean mcu_peer_cc_has_remb (McuPeerCc *cc);

/* A plain RTP packet about to be protected for the peer: see
 * mcu_twcc_sender_stamp(). Returns: FALSE when it must not be sent. */
gboolean mcu_peer_cc_on_send (McuPeerCc *cc, guint8 *pkt, gsize *len, gsize cap,
                              gint64 now_us);

/* A plain RTP packet that went out to the peer at @now_us (after
 * mcu_peer_cc_on_send() and a successful send): what its receiver reports and NACKs
 * are checked against, and what a NACK's delay is measured from. Any thread. */
void mcu_peer_cc_on_sent (McuPeerCc *cc, const guint8 *pkt, gsize len, gint64 now_us);

/* A decrypted RTP packet from the peer: its arrival, when numbered. */
void mcu_peer_cc_on_rtp (McuPeerCc *cc, const guint8 *pkt, gsize len, gint64 now_us);

/* A decrypted RTCP compound from the peer, and what mcu_rtcp_parse() read from it
 * (@info may be NULL when it did not parse): its transport-cc feedback, REMB and
 * report blocks on what we send it. */
void mcu_peer_cc_on_rtcp (McuPeerCc *cc, const guint8 *pkt, gsize len,
                          const McuRtcpInfo *info, gint64 now_us);

/**
 * mcu_peer_cc_write_feedback:
 * An RTCP compound (an empty RR, then transport-cc feedback) for what the peer
 * sent since the last one. Call every 100 ms, and again while it returns non-zero.
 * Returns: its length, 0 when there is nothing to say.
 */
gsize mcu_peer_cc_write_feedback (McuPeerCc *cc, guint8 *buf, gsize cap);

/* What we send the peer, in bits per second over the last second. */
guint64 mcu_peer_cc_send_rate (McuPeerCc *cc, gint64 now_us);

/* The downlink estimate (mcu/bwe.h); the estimator itself for the rest. */
McuBwe *mcu_peer_cc_bwe (McuPeerCc *cc);

/* Malformed transport-cc feedback, counted and dropped. */
guint64 mcu_peer_cc_malformed (McuPeerCc *cc);

/* Report blocks not believed: about an SSRC we do not send the peer, a packet we
 * never sent, or nothing new since the last one (the first block of each SSRC
 * only sets where counting starts, and counts here too). */
guint64 mcu_peer_cc_reports_ignored (McuPeerCc *cc);

G_END_DECLS
