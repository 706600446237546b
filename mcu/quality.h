/* quality.h: the windowed quality view of one leg direction (a few seconds), the
 * audio MOS estimate of a simplified ITU-T G.107 E-model for Opus, the grade of a
 * leg with Pexip's thresholds, and the compact JSON object a node sends to signald
 * every 2 s.
 *
 * A leg (site <-> node, node <-> node) has two McuQualityWindow: "up", what we
 * receive (fed from our McuRecvStats), and "down", what we send (fed from the
 * peer's report blocks through McuSendStats). Times are monotonic microseconds.
 *
 * Frozen video and concealed audio are measured "up" only: the node sees the
 * frames it receives complete (McuFrameTracker) and what its own audio mixer
 * conceals, but not what a site's browser or another node renders or plays, and
 * RTCP receiver reports do not say. In "down" they stay unknown: concealed -1, and
 * no frame is ever fed there, so it is never reported frozen.
 * Feeding is O(1) and allocates nothing; only _new/_free and the JSON writer do. */
#pragma once

#include <glib.h>

#include "rtp-stats.h"

G_BEGIN_DECLS

/* E-model parameters for Opus (see quality.c for the sources and reasoning). */
#define MCU_QUALITY_R0 93.2            /* G.107 default R with no impairment */
#define MCU_QUALITY_OPUS_IE 0.0        /* equipment impairment factor */
#define MCU_QUALITY_OPUS_BPL 25.1      /* packet-loss robustness factor */
#define MCU_QUALITY_OPUS_CODEC_MS 26.5 /* 20 ms frame + 6.5 ms look-ahead */
#define MCU_QUALITY_FREEZE_MS 500      /* no video frame for longer: frozen */
#define MCU_QUALITY_DEFAULT_WINDOW_MS 5000
#define MCU_QUALITY_BUCKETS 10

typedef enum
{
  MCU_GRADE_GOOD = 0,     /* "good", Tốt: loss < 1% */
  MCU_GRADE_OK = 1,       /* "ok", Khá: loss < 3% */
  MCU_GRADE_BAD = 2,      /* "bad", Kém: loss < 10% */
  MCU_GRADE_VERY_BAD = 3, /* "very_bad", Rất kém */
} McuGrade;

/* Returns: (transfer none): the stable id ("good", "ok", "bad", "very_bad"). */
const char *mcu_grade_id (McuGrade grade);
/* Returns: (transfer none): the Vietnamese name, UTF-8 ("Tốt", "Khá", "Kém", "Rất kém"). */
const char *mcu_grade_name_vi (McuGrade grade);
/* Returns: (transfer none): the English name ("Good", "OK", "Bad", "Very bad"). */
const char *mcu_grade_name_en (McuGrade grade);

/**
 * mcu_quality_grade:
 * @loss_pct: loss in percent
 * @jitter_ms: jitter in ms (negative: unknown)
 * @rtt_ms: round-trip time in ms (negative: unknown)
 *
 * Pexip's thresholds: loss < 1% good, < 3% ok, < 10% bad, else very bad; one grade
 * lower (once) when jitter > 40 ms or RTT > 300 ms.
 */
McuGrade mcu_quality_grade (double loss_pct, double jitter_ms, double rtt_ms);

/**
 * mcu_quality_r_factor:
 * @one_way_delay_ms: mouth-to-ear delay
 * @loss_pct: random packet loss in percent
 *
 * Returns: R = 93.2 - Id(delay) - Ie_eff(loss) for Opus, in [0, 100].
 */
double mcu_quality_r_factor (double one_way_delay_ms, double loss_pct);

/* Returns: the MOS of @r, G.107 Annex B (1.0 .. 4.5). */
double mcu_quality_mos_from_r (double r);

/**
 * mcu_quality_audio_mos:
 * @rtt_ms: round-trip time (negative: unknown, taken as 0)
 * @jitter_ms: interarrival jitter (negative: unknown, taken as 0)
 * @loss_pct: loss in percent
 *
 * The one-way delay is RTT/2 + jitter buffer + Opus's 26.5 ms, with the jitter
 * buffer estimated as 20 ms + 2 x jitter. Returns: the MOS estimate.
 */
double mcu_quality_audio_mos (double rtt_ms, double jitter_ms, double loss_pct);

/* One direction of a leg over the window. Unknown values are -1. */
typedef struct
{
  double window_s;  /* span covered (shorter than the window at the start) */
  gint64 expected;  /* packets expected in the window */
  gint64 lost;      /* lost in the window (negative: duplicates) */
  double loss_pct;  /* lost / expected, clamped to 0..100; 0 when nothing expected */
  double jitter_ms; /* mean of the window's samples */
  double rtt_ms;    /* mean of the window's samples */
  double kbps;      /* bytes in the window over its span */
  guint nacks, plis, firs;
  guint retransmissions;  /* packets resent (RTX) */
  guint freezes;          /* video gaps over 500 ms that ended in the window */
  double frozen_ms;       /* their length plus a gap still going on, at most the window */
  gboolean frozen;        /* no video frame for over 500 ms now */
  gboolean video_unknown; /* freezes cannot be seen in this direction: JSON says -1 */
  double concealed_pct;   /* concealed / played audio */
  double mos;             /* audio MOS estimate */
  McuGrade grade;
} McuQualitySnapshot;

typedef struct _McuQualityWindow McuQualityWindow;

/**
 * mcu_quality_window_new:
 * @window_ms: the window length (0: MCU_QUALITY_DEFAULT_WINDOW_MS); at least 100
 * @now_us: the start of the first window
 *
 * Returns: (transfer full): an empty window, free with mcu_quality_window_free()
 */
McuQualityWindow *mcu_quality_window_new (guint window_ms, gint64 now_us);
void mcu_quality_window_free (McuQualityWindow *w);

/* Direct feeds (deltas since the previous feed of the same kind). */
void mcu_quality_window_add_traffic (McuQualityWindow *w, gint64 now_us, gint64 expected,
                                     gint64 lost, guint64 bytes);
void mcu_quality_window_add_jitter (McuQualityWindow *w, gint64 now_us, double jitter_ms);
void mcu_quality_window_add_rtt (McuQualityWindow *w, gint64 now_us, double rtt_ms);
void mcu_quality_window_add_feedback (McuQualityWindow *w, gint64 now_us, guint nacks,
                                      guint plis, guint firs);
void mcu_quality_window_add_audio (McuQualityWindow *w, gint64 now_us, guint played_ms,
                                   guint concealed_ms);
/* @packets were retransmitted (RFC 4588 RTX) in this direction. */
void mcu_quality_window_add_retransmissions (McuQualityWindow *w, gint64 now_us,
                                             guint packets);
/**
 * mcu_quality_window_add_rtcp_feedback:
 * @info: a parsed compound RTCP packet (mcu_rtcp_parse())
 *
 * Counts its feedback: each sequence number a generic NACK asks for (a pid and
 * each bit of its blp), each PLI and each FIR entry.
 */
void mcu_quality_window_add_rtcp_feedback (McuQualityWindow *w, gint64 now_us,
                                           const McuRtcpInfo *info);
/* A video frame was rendered (or fully received) at @now_us. */
void mcu_quality_window_video_frame (McuQualityWindow *w, gint64 now_us);

/* Marks a direction whose video frames cannot be seen (a node's "down": what the
 * site renders): its snapshots say video_unknown and the JSON -1 for the freezes. */
void mcu_quality_window_set_video_unknown (McuQualityWindow *w);

/**
 * mcu_quality_window_sample_recv:
 * Feeds the "up" direction from @stats: the packets expected and lost and the bytes
 * since the previous sample, and the current jitter. The first sample (and the first
 * after a resync of @stats) only sets the baseline.
 */
void mcu_quality_window_sample_recv (McuQualityWindow *w, const McuRecvStats *stats,
                                     gint64 now_us);

/**
 * mcu_quality_window_sample_send:
 * Feeds the "down" direction from @stats: bytes sent since the previous sample, and,
 * when a report block arrived since, the peer's expected/lost deltas (extended
 * highest sequence and cumulative loss), its jitter and the RTT. The first sample
 * only sets the baseline.
 */
void mcu_quality_window_sample_send (McuQualityWindow *w, const McuSendStats *stats,
                                     gint64 now_us);

/**
 * mcu_quality_window_get:
 * @out: (out caller-allocates): the window ending at @now_us, graded
 */
void mcu_quality_window_get (McuQualityWindow *w, gint64 now_us, McuQualitySnapshot *out);

/**
 * mcu_quality_leg_to_json:
 * @leg: the leg's numeric id
 * @up: (nullable): what we receive
 * @down: (nullable): what we send
 * @out: the object is appended here
 *
 * Appends {"leg":N,"up":{...},"down":{...}} with fixed short keys and numbers only
 * (no strings, so nothing needs escaping; unknown values are -1), e.g.
 * "up":{"win":5,"exp":250,"lost":3,"loss":1.2,"jit":4.5,"rtt":-1,"kbps":48.3,
 * "nack":0,"pli":0,"fir":0,"rtx":0,"frz":0,"frz_ms":0,"frozen":0,"conc":-1,"mos":4.21,
 * "grade":1}. Decimals use '.' whatever the locale.
 */
void mcu_quality_leg_to_json (guint64 leg, const McuQualitySnapshot *up,
                              const McuQualitySnapshot *down, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuQualityWindow, mcu_quality_window_free)

G_END_DECLS
