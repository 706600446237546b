/* router.c: the relay's packet path.
 *
 * One lock guards the peers, the program's state and every rewriter (audio arrives
 * on the mixer's streaming threads, video on the transport's), but not the sends:
 * protecting and sending a packet to 300 receivers takes milliseconds, and an audio
 * thread must not wait that long for its one packet. So the lock covers only the
 * decisions and the header rewrites; the sends run after it is released, on a
 * snapshot of the receivers (Receivers, copy-on-write: an immutable, refcounted
 * array replaced whenever a peer comes, goes or changes level).
 *
 * Lifetimes: a snapshot holds a reference on each of its peers, so a Peer stays
 * valid while any fan-out still reads it. The caller's peer pointer (the endpoint
 * behind the ops) is another matter: mcu_router_remove_peer() promises that no send
 * reaches it once it returns. Each Peer counts the sends to it under way outside
 * the lock (inflight); a send is only begun under the lock and only while the peer
 * is not removed, and remove waits on a condition for the count to reach zero.
 *
 * Serialising each peer's SRTP session is the peer's own business (McuEndpoint's
 * send lock): the leg sends its reports to the same peers without the router.
 * Nothing here allocates per packet: each send copies into a stack buffer sized
 * for the largest packet plus SRTP trailer.
 *
 * Two video streams are relayed the same way (Stream): the program (the floor
 * holder's camera) and the content (one presenter's screen). Each has its source,
 * its output SSRC and RTX stream, its retransmission buffer and its receivers; each
 * peer has, per stream, its payload types, its rewriter and its loss record
 * (PeerStream). A peer's content is told from its program by the SSRCs it announced
 * on its content m-line (both may share one payload type).
 */
#include "router.h"
#include "loss-tracker.h"
#include "rtcp.h"
#include "rtp-rewriter.h"
#include "rtp.h"
#include "rtx-buffer.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_router_debug);
#define GST_CAT_DEFAULT mcu_router_debug

#define MAX_PACKET 1500
#define SEND_CAP (MAX_PACKET + 64) /* SRTP tag, MKI: room to protect in place */
#define VIDEO_CLOCK 90000
#define PLI_INTERVAL_US (300 * 1000)
#define FIR_AFTER_US (600 * 1000)
#define NACK_MAX_SEQS 64 /* numbers per NACK packet we send */
/* answers to one receiver's NACKs: at most this many per window, and one number
 * not again within a round trip (its first answer is still on the way) */
#define RTX_BUDGET 32
#define RTX_WINDOW_US (100 * 1000)
#define RTX_RECENT 128
#define RTX_MIN_REPEAT_US (40 * 1000)
/* The audio mix each peer that negotiated audio rtx received, for its NACKs:
 * 64 frames of 20 ms (1.28 s, past any jitter buffer's wait), packets up to 600
 * bytes (Opus at the mixer's rates is about 100; a larger one is not kept). */
#define AUDIO_RTX_SLOTS 64
#define AUDIO_RTX_MAX_PACKET 600
/* Receivers whose headers one fan-out rewrites per hold of the lock: bounds both
 * what an audio thread may wait (a few microseconds) and the stack used. */
#define FANOUT_CHUNK 64
/* a peer at audio only that may take stills of the content gets one keyframe
 * this often (we ask the presenter for it; router.h) */
#define STILL_EVERY_US (MCU_STILL_EVERY_S * G_USEC_PER_SEC)

/* The answers one receiver got on one of its streams, for rtx_allowed(). */
typedef struct
{
  gint64 window_us;                 /* start of the current answer window */
  guint in_window;                  /* answers sent in it */
  guint16 answered_seq[RTX_RECENT]; /* by seq % RTX_RECENT: the last answers */
  gint64 answered_us[RTX_RECENT];
} RtxBudget;

/* One video stream as one peer sends and receives it. */
typedef struct
{
  guint8 pt, rtx_pt; /* its payload types for this stream; pt 0: it has none */
  McuVideoCodec codec;
  gboolean nack;   /* it takes generic NACKs for what it sends of this stream */
  guint32 in_ssrc; /* the SSRC it sends this stream with, once seen */
  gboolean have_in;
  /* the stream as it receives it: for the program, the full program and the
   * low-resolution one (mcu_router_send_video) come with SSRCs of their own and
   * are mapped onto the program SSRC here, so that stepping between levels looks
   * to its decoder like one stream with no jump back */
  McuRtpRewriter out;
  guint16 rtx_seq; /* the numbering of the RTX stream it receives */
  RtxBudget budget;
  /* the gaps in what it sends while it is the stream's source, for our NACKs */
  McuLossTracker loss;
  /* content at audio only: it may take stills (keyframes alone; on by default) and
   * the timestamp of the keyframe it is being sent, whose numbering starts anew */
  gboolean no_stills;
  guint32 still_ts;
  gboolean have_still;
} PeerStream;

typedef struct
{
  guint id;
  McuPeerInfo info;
  McuPeerOps ops;
  gpointer peer;
  McuMediaLevel level;
  PeerStream s[MCU_N_STREAMS];
  /* the mix this peer received (its own SSRC and numbers: the mixer makes one
   * stream per peer), kept only where it negotiated audio rtx; the NACKs for it
   * are answered on an RTX stream of its own numbering and budget */
  McuRtxBuffer *audio_sent; /* (nullable) */
  gboolean have_audio;
  guint32 audio_ssrc;
  guint16 audio_highest; /* the highest number sent so far */
  guint16 audio_rtx_seq;
  RtxBudget audio_budget;
  gint64 rtt_us;
  /* under the lock, except rtp_out and send_failures: those two are counted after
   * sends made outside it, in the atomics below, and filled in when read */
  McuPeerCounters c;
  guint64 rtp_out, send_failures; /* atomic only */
  gint inflight;                  /* sends begun under the lock, not yet done; atomic */
  gint removed;                   /* atomic; set once, under the lock */
} Peer;                           /* g_atomic_rc_box: the router's list and snapshots */

/* A stream's receivers at one moment: for the program, peers at full level that
 * take video; for the content, peers that took a content m-line and are not at
 * audio only. Links first. Immutable once made; g_atomic_rc_box, each entry a Peer
 * reference. */
typedef struct
{
  guint n;
  Peer *v[];
} Receivers;

/* One relayed video stream: where it comes from and who gets it. */
typedef struct
{
  guint32 ssrc, rtx_ssrc; /* what receivers see it and its retransmissions as */
  McuRtpRewriter rw;      /* the source's numbering onto the stream's own */
  McuRtxBuffer *rtx;      /* the last packets, in the stream's numbering */
  guint source;           /* peer whose video it is now, 0 = none */
  guint pending;          /* peer we switch to on its next keyframe, 0 = none */
  gint64 pending_since, last_pli_us, last_fir_us;
  /* the content only: the source's frame now passing (its timestamp), whether it
   * is a keyframe, and the size of the last whole keyframe: stills go to peers at
   * audio only */
  guint32 frame_ts;
  gboolean frame_key, have_frame;
  gsize frame_bytes, key_bytes;
  gint64 last_still_us;
  Receivers *receivers; /* the current snapshot, replaced under the lock */
} Stream;

struct _McuRouter
{
  GMutex lock;
  GCond sent; /* a removed peer's last send ended */
  McuRouterConfig config;
  GPtrArray *peers; /* Peer*, a reference each; a handful to a few hundred: scanned
                     * linearly */
  Stream s[MCU_N_STREAMS];
  guint8 fir_seq;
  guint32 router_ssrc; /* sender SSRC of the feedback we originate */
};

const char *
mcu_media_level_name (McuMediaLevel level)
{
  static const char *const names[] = { "full", "low", "audio" };
  return level <= MCU_LEVEL_AUDIO ? names[level] : "unknown";
}

gboolean
mcu_media_level_from_name (const char *name, McuMediaLevel *level)
{
  for (McuMediaLevel l = MCU_LEVEL_FULL; l <= MCU_LEVEL_AUDIO; l++)
    if (g_strcmp0 (name, mcu_media_level_name (l)) == 0)
      {
        *level = l;
        return TRUE;
      }
  return FALSE;
}

static inline void
count (guint64 *counter)
{
  __atomic_fetch_add (counter, 1, __ATOMIC_RELAXED);
}

static void
peer_clear (gpointer data)
{
  Peer *p = data;
  g_clear_pointer (&p->audio_sent, mcu_rtx_buffer_free);
}

static void
peer_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, peer_clear);
}

static void
receivers_clear (gpointer data)
{
  Receivers *rx = data;
  for (guint i = 0; i < rx->n; i++)
    peer_unref (rx->v[i]);
}

static void
receivers_unref (Receivers *rx)
{
  g_atomic_rc_box_release_full (rx, receivers_clear);
}

/* Whether @p receives stream @k now. */
static gboolean
takes (const Peer *p, McuStream k)
{
  if (k == MCU_STREAM_PROGRAM)
    return p->level == MCU_LEVEL_FULL && p->s[k].pt != 0;
  return p->s[k].pt != 0 && (p->level != MCU_LEVEL_AUDIO || !p->s[k].no_stills);
}

/* Makes the snapshots the next fan-outs use; ones under way keep theirs. Called
 * with the lock held whenever the set of receivers may have changed. Node links
 * come first: every site below them waits for the packet, while a local site is
 * the end of its path (with 300 local sites, the last is ~2 ms later). */
static void
receivers_update (McuRouter *r)
{
  for (McuStream k = 0; k < MCU_N_STREAMS; k++)
    {
      Receivers *rx
          = g_atomic_rc_box_alloc0 (sizeof (Receivers) + r->peers->len * sizeof (Peer *));
      for (int links = 1; links >= 0; links--)
        for (guint i = 0; i < r->peers->len; i++)
          {
            Peer *p = g_ptr_array_index (r->peers, i);
            if ((p->info.kind != MCU_PEER_SITE) == links && takes (p, k))
              rx->v[rx->n++] = g_atomic_rc_box_acquire (p);
          }
      g_clear_pointer (&r->s[k].receivers, receivers_unref);
      r->s[k].receivers = rx;
    }
}

/* Ends a send begun under the lock (inflight). A remove waiting for the peer's
 * last send is woken under the lock, so the wake-up cannot fall between its check
 * and its wait. */
static void
send_done (McuRouter *r, Peer *p)
{
  if (g_atomic_int_dec_and_test (&p->inflight) && g_atomic_int_get (&p->removed))
    {
      g_mutex_lock (&r->lock);
      g_cond_broadcast (&r->sent);
      g_mutex_unlock (&r->lock);
    }
}

static void
stream_init (Stream *st, guint32 ssrc, guint32 rtx_ssrc, guint slots)
{
  st->ssrc = ssrc;
  st->rtx_ssrc = rtx_ssrc;
  st->rtx = mcu_rtx_buffer_new (slots);
  st->receivers = g_atomic_rc_box_new0 (Receivers);
  mcu_rtp_rewriter_init (&st->rw, ssrc, VIDEO_CLOCK);
}

McuRouter *
mcu_router_new (const McuRouterConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_router_debug, "mcu-router", 0, "program relay");
      g_once_init_leave (&debug_once, 1);
    }
  McuRouter *r = g_new0 (McuRouter, 1);
  g_mutex_init (&r->lock);
  g_cond_init (&r->sent);
  r->config = *config;
  r->peers = g_ptr_array_new_with_free_func (peer_unref);
  guint slots = config->rtx_slots ? config->rtx_slots : 512;
  r->router_ssrc = config->program_ssrc ^ 0x5a5a5a5a;
  if (r->config.rtx_ssrc == 0)
    r->config.rtx_ssrc = config->program_ssrc ^ 0x80000000u;
  if (r->config.audio_rtx_ssrc == 0)
    r->config.audio_rtx_ssrc = config->program_ssrc ^ 0x40000000u;
  if (r->config.content_ssrc == 0)
    r->config.content_ssrc = config->program_ssrc ^ 0x01000000u;
  if (r->config.content_rtx_ssrc == 0)
    r->config.content_rtx_ssrc = r->config.content_ssrc ^ 0x80000000u;
  stream_init (&r->s[MCU_STREAM_PROGRAM], config->program_ssrc, r->config.rtx_ssrc,
               slots);
  stream_init (&r->s[MCU_STREAM_CONTENT], r->config.content_ssrc,
               r->config.content_rtx_ssrc, slots);
  return r;
}

void
mcu_router_free (McuRouter *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->peers);
  for (McuStream k = 0; k < MCU_N_STREAMS; k++)
    {
      g_clear_pointer (&r->s[k].receivers, receivers_unref);
      mcu_rtx_buffer_free (r->s[k].rtx);
    }
  g_cond_clear (&r->sent);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static Peer *
find_peer (McuRouter *r, guint id)
{
  for (guint i = 0; i < r->peers->len; i++)
    {
      Peer *p = g_ptr_array_index (r->peers, i);
      if (p->id == id)
        return p;
    }
  return NULL;
}

static void
peer_stream_init (PeerStream *ps, guint32 out_ssrc, guint8 pt, guint8 rtx_pt,
                  McuVideoCodec codec, gboolean nack)
{
  ps->pt = pt;
  ps->rtx_pt = pt ? rtx_pt : 0;
  ps->codec = codec;
  ps->nack = nack;
  mcu_rtp_rewriter_init (&ps->out, out_ssrc, VIDEO_CLOCK);
  mcu_loss_tracker_init (&ps->loss);
  ps->rtx_seq = (guint16)g_random_int (); /* RFC 3550: a random first number */
}

gboolean
mcu_router_add_peer (McuRouter *r, guint id, const McuPeerInfo *info,
                     const McuPeerOps *ops, gpointer peer)
{
  g_return_val_if_fail (r != NULL && id != 0 && info != NULL && ops != NULL, FALSE);
  g_return_val_if_fail (info->n_content_ssrcs <= MCU_MAX_CONTENT_SSRCS, FALSE);
  g_mutex_lock (&r->lock);
  gboolean ok = find_peer (r, id) == NULL;
  if (ok)
    {
      Peer *p = g_atomic_rc_box_new0 (Peer);
      p->id = id;
      p->info = *info;
      p->ops = *ops;
      p->peer = peer;
      peer_stream_init (&p->s[MCU_STREAM_PROGRAM], r->s[MCU_STREAM_PROGRAM].ssrc,
                        info->video_pt, info->video_rtx_pt, info->video_codec,
                        info->nack);
      peer_stream_init (&p->s[MCU_STREAM_CONTENT], r->s[MCU_STREAM_CONTENT].ssrc,
                        info->content_pt, info->content_rtx_pt, info->content_codec,
                        info->content_nack);
      p->audio_rtx_seq = (guint16)g_random_int ();
      if (info->audio_pt && info->audio_rtx_pt && !r->config.no_retransmission)
        p->audio_sent = mcu_rtx_buffer_new_full (AUDIO_RTX_SLOTS, AUDIO_RTX_MAX_PACKET);
      g_ptr_array_add (r->peers, p);
      receivers_update (r);
    }
  g_mutex_unlock (&r->lock);
  return ok;
}

/* Once removed, a peer is in no new snapshot and no send to it begins (every send
 * begins under the lock and checks removed); the ones begun before are waited
 * for, so the caller may free what it handed to the router as soon as this
 * returns. The Peer itself lives on in older snapshots until they are dropped. */
void
mcu_router_remove_peer (McuRouter *r, guint id)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    {
      g_atomic_int_set (&p->removed, 1);
      g_atomic_rc_box_acquire (p); /* the list's reference goes, ours stays */
      g_ptr_array_remove_fast (r->peers, p);
      receivers_update (r);
      while (g_atomic_int_get (&p->inflight) > 0)
        g_cond_wait (&r->sent, &r->lock);
    }
  for (McuStream k = 0; k < MCU_N_STREAMS; k++)
    {
      Stream *st = &r->s[k];
      if (st->pending == id)
        st->pending = 0;
      /* the stream's source left: receivers keep their last frame until the next
       * source, which the leg chooses */
      if (st->source == id)
        st->source = 0;
    }
  g_mutex_unlock (&r->lock);
  if (p)
    peer_unref (p);
}

/* Sends one RTCP feedback packet (PLI or FIR) about @src's stream @k to @src. */
static void
request_keyframe (McuRouter *r, Peer *src, McuStream k, gboolean fir)
{
  guint8 buf[SEND_CAP];
  PeerStream *ps = &src->s[k];
  if (!ps->have_in)
    return; /* nothing to name yet; asked again once its first packet arrives */
  gsize len = fir ? mcu_rtcp_write_fir (buf, sizeof buf, r->router_ssrc, ps->in_ssrc,
                                        r->fir_seq++)
                  : mcu_rtcp_write_pli (buf, sizeof buf, r->router_ssrc, ps->in_ssrc);
  if (len == 0)
    return;
  if (src->ops.send_rtcp (src->peer, buf, len, sizeof buf))
    {
      if (fir)
        src->c.firs_out++;
      else
        src->c.plis_out++;
    }
  else
    count (&src->send_failures);
}

void
mcu_router_set_level (McuRouter *r, guint id, McuMediaLevel level)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p && level != p->level)
    {
      /* a new level may bring a new instance of a stream it had before (the low
       * program's encoder is made again): its numbering starts over from here */
      p->s[MCU_STREAM_PROGRAM].out.have_src = FALSE;
      McuMediaLevel was = p->level;
      p->level = level;
      receivers_update (r);
      /* a stream it gets again: its decoder has missed frames and cannot resume
       * before a keyframe, so ask the source now rather than wait for the
       * receiver's PLI or the next periodic keyframe */
      for (McuStream k = 0; k < MCU_N_STREAMS; k++)
        {
          /* the whole stream again: after none, or after the content's stills */
          gboolean had
              = k == MCU_STREAM_PROGRAM ? was == MCU_LEVEL_FULL : was != MCU_LEVEL_AUDIO;
          gboolean has = k == MCU_STREAM_PROGRAM ? level == MCU_LEVEL_FULL
                                                 : level != MCU_LEVEL_AUDIO;
          Stream *st = &r->s[k];
          Peer *src = !had && has && p->s[k].pt && st->source ? find_peer (r, st->source)
                                                              : NULL;
          if (k == MCU_STREAM_CONTENT && had != has)
            p->s[k].out.have_src = FALSE;
          if (src && src != p)
            request_keyframe (r, src, k, FALSE);
        }
    }
  g_mutex_unlock (&r->lock);
}

static void
set_source (McuRouter *r, McuStream k, guint id, gint64 now_us)
{
  Stream *st = &r->s[k];
  g_mutex_lock (&r->lock);
  if (id == 0)
    {
      st->source = st->pending = 0;
    }
  else if (id != st->source || st->pending)
    {
      st->pending = id == st->source ? 0 : id;
      st->pending_since = now_us;
      Peer *src = st->pending ? find_peer (r, st->pending) : NULL;
      if (src)
        {
          request_keyframe (r, src, k, FALSE);
          st->last_pli_us = now_us;
          st->last_fir_us = 0;
        }
    }
  g_mutex_unlock (&r->lock);
}

static guint
get_source (McuRouter *r, McuStream k)
{
  g_mutex_lock (&r->lock);
  guint id = r->s[k].source;
  g_mutex_unlock (&r->lock);
  return id;
}

void
mcu_router_set_program (McuRouter *r, guint id, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  set_source (r, MCU_STREAM_PROGRAM, id, now_us);
}

guint
mcu_router_program (McuRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return get_source (r, MCU_STREAM_PROGRAM);
}

void
mcu_router_set_content (McuRouter *r, guint id, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  set_source (r, MCU_STREAM_CONTENT, id, now_us);
}

guint
mcu_router_content (McuRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return get_source (r, MCU_STREAM_CONTENT);
}

void
mcu_router_tick (McuRouter *r, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  for (McuStream k = 0; k < MCU_N_STREAMS; k++)
    {
      Stream *st = &r->s[k];
      Peer *src = st->pending ? find_peer (r, st->pending) : NULL;
      if (src && now_us - st->last_pli_us >= PLI_INTERVAL_US)
        {
          /* RFC 5104: a source that ignores PLI may still honour FIR */
          gboolean fir = now_us - st->pending_since >= FIR_AFTER_US
                         && now_us - st->last_fir_us >= PLI_INTERVAL_US;
          request_keyframe (r, src, k, fir);
          st->last_pli_us = now_us;
          if (fir)
            st->last_fir_us = now_us;
        }
    }
  /* a still for the content's audio-only receivers every STILL_EVERY_US */
  Stream *st = &r->s[MCU_STREAM_CONTENT];
  Peer *src = st->source ? find_peer (r, st->source) : NULL;
  gboolean stills = FALSE;
  for (guint i = 0; src && i < r->peers->len && !stills; i++)
    {
      Peer *p = g_ptr_array_index (r->peers, i);
      stills = p != src && p->level == MCU_LEVEL_AUDIO && takes (p, MCU_STREAM_CONTENT);
    }
  if (stills && now_us - st->last_still_us >= STILL_EVERY_US)
    {
      request_keyframe (r, src, MCU_STREAM_CONTENT, FALSE);
      st->last_still_us = st->last_pli_us = now_us;
    }
  g_mutex_unlock (&r->lock);
}

void
mcu_router_set_stills (McuRouter *r, guint id, gboolean on)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p && p->s[MCU_STREAM_CONTENT].no_stills == on)
    {
      p->s[MCU_STREAM_CONTENT].no_stills = !on;
      receivers_update (r);
    }
  g_mutex_unlock (&r->lock);
}

gsize
mcu_router_content_key_bytes (McuRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  g_mutex_lock (&r->lock);
  gsize n = r->s[MCU_STREAM_CONTENT].source ? r->s[MCU_STREAM_CONTENT].key_bytes : 0;
  g_mutex_unlock (&r->lock);
  return n;
}

/* Sends a copy of a plaintext packet to one peer with its own payload type. */
static void
send_copy (Peer *to, const guint8 *pkt, gsize len, guint8 pt)
{
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  mcu_rtp_set_pt (buf, len, pt);
  if (to->ops.send_rtp (to->peer, buf, len, sizeof buf))
    count (&to->rtp_out);
  else
    count (&to->send_failures);
}

/* Gives the 12-byte fixed header @hdr (a copy of a video packet's) @to's payload
 * type for stream @k and its own continuous numbering of it (PeerStream.out): a
 * packet of another stream than the last one it got starts that stream there.
 * Only the fixed header changes (SSRC, sequence number, timestamp, payload type),
 * so one fan-out rewrites every receiver's header under the lock and copies the
 * payload outside it. With the lock held. Returns FALSE when the packet is not for
 * @to's stream. */
static gboolean
rewrite_video_header (Peer *to, McuStream k, guint8 *hdr, gint64 now_us)
{
  PeerStream *ps = &to->s[k];
  mcu_rtp_set_pt (hdr, 12, ps->pt);
  guint32 ssrc
      = (guint32)hdr[8] << 24 | (guint32)hdr[9] << 16 | (guint32)hdr[10] << 8 | hdr[11];
  mcu_rtp_rewriter_switch (&ps->out, ssrc);
  return mcu_rtp_rewriter_rewrite (&ps->out, hdr, 12, now_us);
}

/* The path of stream @k, with the lock held: a keyframe of the pending source
 * completes a switch; the source's packets are rewritten once and kept for NACKs.
 * Returns (transfer full) the receivers to send it to (fan_out), or NULL. */
static Receivers *
route_video (McuRouter *r, McuStream k, Peer *from, guint8 *pkt, gsize len,
             const McuRtpHeader *h, gint64 now_us)
{
  Stream *st = &r->s[k];
  gboolean content = k == MCU_STREAM_CONTENT;
  /* only a frame's first packet says it is a keyframe; the rest share its time */
  gboolean key
      = (st->pending == from->id || content)
        && mcu_payload_is_keyframe (from->s[k].codec, h->payload, h->payload_len);
  if (st->pending == from->id && key)
    {
      st->source = from->id;
      st->pending = 0;
      mcu_rtp_rewriter_switch (&st->rw, h->ssrc);
    }
  if (st->source != from->id)
    {
      if (content && st->pending != from->id)
        from->c.content_dropped++; /* not the presenter's: never relayed */
      return NULL;
    }
  if (!mcu_rtp_rewriter_rewrite (&st->rw, pkt, len, now_us))
    return NULL;
  mcu_rtx_buffer_store (st->rtx, pkt, len);
  if (content) /* the content's frames, for stills (the program has none) */
    {
      if (!st->have_frame || h->timestamp != st->frame_ts)
        {
          if (st->have_frame && st->frame_key)
            st->key_bytes = st->frame_bytes;
          st->have_frame = TRUE;
          st->frame_ts = h->timestamp;
          st->frame_key = FALSE;
          st->frame_bytes = 0;
        }
      st->frame_key |= key;
      st->frame_bytes += len;
    }
  return g_atomic_rc_box_acquire (st->receivers);
}

/* Whether @p, at audio only, is sent this packet of the content: the packets of
 * keyframes alone. Each still starts a numbering of its own (at the last number
 * plus one), so the frames left out are not gaps it would NACK, and a NACK from
 * before the still is refused by the mapping. With the lock held. */
static gboolean
still_wanted (PeerStream *ps, gboolean key, guint32 ts)
{
  if (!key)
    return FALSE;
  if (!ps->have_still || ps->still_ts != ts)
    {
      ps->have_still = TRUE;
      ps->still_ts = ts;
      ps->out.have_src = FALSE;
    }
  return TRUE;
}

/* Sends the packet @pkt of stream @k (rewritten by route_video) to every receiver
 * of @rx but its source @from that takes it in the same codec, without the lock:
 * per chunk of receivers, their headers are rewritten under the lock (the
 * rewriters' state is the router's) and each send is begun there (inflight, so a
 * remove waits for it); then the chunk is protected and sent with the lock free,
 * so audio threads and NACK answers go ahead between chunks, not after the whole
 * fan-out. A peer removed or stepped down since the snapshot is skipped. */
static void
fan_out (McuRouter *r, McuStream k, Receivers *rx, guint from, McuVideoCodec codec,
         gboolean key, const guint8 *pkt, gsize len, gint64 now_us)
{
  guint32 ts
      = (guint32)pkt[4] << 24 | (guint32)pkt[5] << 16 | (guint32)pkt[6] << 8 | pkt[7];
  guint8 hdr[FANOUT_CHUNK][12];
  Peer *to[FANOUT_CHUNK];
  for (guint base = 0; base < rx->n; base += FANOUT_CHUNK)
    {
      guint n = 0;
      g_mutex_lock (&r->lock);
      for (guint i = base; i < rx->n && i < base + FANOUT_CHUNK; i++)
        {
          Peer *p = rx->v[i];
          if (p->id == from || p->s[k].codec != codec || !takes (p, k)
              || g_atomic_int_get (&p->removed)
              || (k == MCU_STREAM_CONTENT && p->level == MCU_LEVEL_AUDIO
                  && !still_wanted (&p->s[k], key, ts)))
            continue;
          memcpy (hdr[n], pkt, 12);
          if (k == MCU_STREAM_PROGRAM)
            p->c.video_forwarded++;
          else
            p->c.content_forwarded++;
          if (!rewrite_video_header (p, k, hdr[n], now_us))
            continue;
          g_atomic_int_inc (&p->inflight);
          to[n++] = p;
        }
      g_mutex_unlock (&r->lock);
      for (guint j = 0; j < n; j++)
        {
          guint8 buf[SEND_CAP];
          memcpy (buf, hdr[j], 12);
          memcpy (buf + 12, pkt + 12, len - 12);
          if (to[j]->ops.send_rtp (to[j]->peer, buf, len, sizeof buf))
            count (&to[j]->rtp_out);
          else
            count (&to[j]->send_failures);
          send_done (r, to[j]);
        }
    }
}

/* Asks the source of stream @k for the packets of it that did not reach us
 * (RFC 4585 generic NACK), as the loss tracker schedules them: each number at once,
 * again after a round trip, until it is too old to be played. Without this a
 * commune's uplink loss reaches every receiver below as a frozen picture until
 * the next keyframe. */
static void
send_nacks (McuRouter *r, Peer *src, McuStream k, gint64 now_us)
{
  guint16 seqs[NACK_MAX_SEQS];
  PeerStream *ps = &src->s[k];
  gboolean asks = !r->config.no_retransmission && ps->nack && ps->have_in;
  /* without NACKs the tracker still expires its numbers, so its counters hold */
  guint n = mcu_loss_tracker_due (&ps->loss, now_us, src->rtt_us, seqs,
                                  asks ? G_N_ELEMENTS (seqs) : 0);
  if (n == 0)
    return;
  guint8 buf[SEND_CAP];
  gsize len = mcu_rtcp_write_nack (buf, sizeof buf, r->router_ssrc, ps->in_ssrc, seqs, n);
  if (len == 0)
    return;
  if (src->ops.send_rtcp (src->peer, buf, len, sizeof buf))
    src->c.nacks_out++;
  else
    count (&src->send_failures);
}

/* Loss is tracked on a stream of its source only (the pending one too, so a
 * switch starts with a clean record): nobody else's reaches receivers. */
static McuLossResult
track_loss (McuRouter *r, Peer *from, McuStream k, guint16 seq, gint64 now_us)
{
  if (from->id != r->s[k].source && from->id != r->s[k].pending)
    return MCU_LOSS_DUPLICATE;
  McuLossResult res = mcu_loss_tracker_push (&from->s[k].loss, seq, now_us);
  send_nacks (r, from, k, now_us);
  return res;
}

/* An RFC 4588 retransmission from @from of stream @k, restored in place to the
 * original packet (the OSN back as its sequence number, the stream's SSRC and
 * payload type). Only one that fills a gap we track goes on: a duplicate would be
 * protected a second time under the index the original already took at every
 * receiver. */
static gboolean
take_retransmission (McuRouter *r, Peer *from, McuStream k, guint8 *pkt, gsize *len,
                     McuRtpHeader *h, gint64 now_us)
{
  PeerStream *ps = &from->s[k];
  if (h->payload_len == 0)
    return FALSE; /* padding only: a sender's bandwidth probe */
  from->c.rtx_in++;
  if (r->config.no_retransmission || !ps->have_in
      || mcu_rtx_unwrap (pkt, len, ps->pt, ps->in_ssrc) != MCU_RTX_OK
      || mcu_rtp_parse (pkt, *len, h) != MCU_RTP_OK
      || track_loss (r, from, k, h->seq, now_us) != MCU_LOSS_FILLED)
    {
      from->c.rtx_dropped++;
      return FALSE;
    }
  from->c.rtx_recovered++;
  return TRUE;
}

McuStream
mcu_peer_info_stream (const McuPeerInfo *i, guint32 ssrc, guint8 pt)
{
  if (i->content_pt == 0)
    return MCU_STREAM_PROGRAM;
  for (guint j = 0; j < i->n_content_ssrcs; j++)
    if (i->content_ssrcs[j] == ssrc)
      return MCU_STREAM_CONTENT;
  if (i->content_pt != i->video_pt
      && (pt == i->content_pt || (i->content_rtx_pt && pt == i->content_rtx_pt)))
    return MCU_STREAM_CONTENT;
  return MCU_STREAM_PROGRAM;
}

/* A video packet (or a retransmission, @rtx) of @from's stream @k, with the lock
 * held. Returns the receivers to send it to, or NULL. */
static Receivers *
receive_video (McuRouter *r, Peer *from, McuStream k, gboolean rtx, guint8 *pkt,
               gsize *len, McuRtpHeader *h, gint64 now_us)
{
  PeerStream *ps = &from->s[k];
  if (rtx)
    {
      /* a retransmission we asked for takes the original's path from here */
      if (!take_retransmission (r, from, k, pkt, len, h, now_us))
        return NULL;
    }
  else
    {
      gboolean first = !ps->have_in;
      if (!first && h->ssrc != ps->in_ssrc)
        mcu_loss_tracker_reset (&ps->loss); /* another stream: other numbers */
      ps->in_ssrc = h->ssrc;
      ps->have_in = TRUE;
      track_loss (r, from, k, h->seq, now_us);
      if (first && r->s[k].pending == from->id)
        request_keyframe (r, from, k, FALSE); /* the switch asked before we knew it */
    }
  if (k == MCU_STREAM_PROGRAM && r->config.video)
    r->config.video (from->id, pkt, *len, r->config.user_data);
  return route_video (r, k, from, pkt, *len, h, now_us);
}

void
mcu_router_receive_rtp (McuRouter *r, guint id, guint8 *pkt, gsize len, gint64 now_us)
{
  McuRtpHeader h;
  Receivers *rx = NULL;
  McuVideoCodec codec = 0;
  McuStream k = MCU_STREAM_PROGRAM;
  gboolean key = FALSE;
  if (len > MAX_PACKET)
    return;
  g_mutex_lock (&r->lock);
  Peer *from = find_peer (r, id);
  if (from == NULL)
    goto out;
  if (mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK)
    {
      from->c.malformed++;
      goto out;
    }
  from->c.rtp_in++;
  if (h.pt == from->info.audio_pt)
    {
      from->c.audio_in++;
      if (r->config.audio)
        r->config.audio (id, pkt, len, r->config.user_data);
      goto out;
    }
  k = mcu_peer_info_stream (&from->info, h.ssrc, h.pt);
  PeerStream *ps = &from->s[k];
  if (ps->pt != 0 && (h.pt == ps->pt || (ps->rtx_pt != 0 && h.pt == ps->rtx_pt)))
    {
      codec = ps->codec;
      rx = receive_video (r, from, k, h.pt != ps->pt, pkt, &len, &h, now_us);
      key = r->s[k].frame_key; /* of the frame this packet is in */
    }
out:
  g_mutex_unlock (&r->lock);
  if (rx)
    {
      fan_out (r, k, rx, id, codec, key, pkt, len, now_us);
      receivers_unref (rx);
    }
}

/* Keyframe requests from receivers of stream @k go to its source, at most one
 * per PLI_INTERVAL_US however many receivers ask. */
static void
forward_keyframe_request (McuRouter *r, McuStream k, gint64 now_us)
{
  /* during a switch the keyframe that matters is the new source's: a node further
   * down waits for it to complete its own switch */
  Stream *st = &r->s[k];
  guint id = st->pending ? st->pending : st->source;
  Peer *src = id ? find_peer (r, id) : NULL;
  if (src && now_us - st->last_pli_us >= PLI_INTERVAL_US)
    {
      request_keyframe (r, src, k, FALSE);
      st->last_pli_us = now_us;
    }
}

/* One RFC 4588 retransmission of @orig (in @to's numbering, first sent as @osn)
 * on an RTX stream of the node (@pt, @ssrc, numbered by *@seq): a number of its
 * own each time, so every retransmission is protected under a fresh SRTP index. */
static gboolean
send_rtx (Peer *to, const guint8 *orig, gsize len, guint16 osn, guint8 pt, guint16 *seq,
          guint32 ssrc)
{
  guint8 buf[SEND_CAP];
  gsize n = mcu_rtx_wrap (buf, MAX_PACKET + 2, orig, len, osn, pt, *seq, ssrc);
  if (n == 0)
    return FALSE;
  (*seq)++;
  if (to->ops.send_rtp (to->peer, buf, n, sizeof buf))
    count (&to->rtp_out);
  else
    count (&to->send_failures);
  return TRUE;
}

/* Whether @to may have one more retransmission of @seq now. A lossy receiver asks
 * again for what it has not got yet, and a loaded node drops datagrams when it
 * falls behind: without a budget, answers to repeated and bursty NACKs add to the
 * very load that makes the losses. Refused numbers are asked again later. */
static gboolean
rtx_allowed (RtxBudget *b, gint64 rtt_us, guint16 seq, gint64 now_us)
{
  guint i = seq % RTX_RECENT;
  gint64 repeat = MAX (rtt_us, RTX_MIN_REPEAT_US);
  if (b->answered_us[i] != 0 && b->answered_seq[i] == seq
      && now_us - b->answered_us[i] < repeat)
    return FALSE;
  if (now_us - b->window_us >= RTX_WINDOW_US)
    {
      b->window_us = now_us;
      b->in_window = 0;
    }
  if (b->in_window >= RTX_BUDGET)
    return FALSE;
  b->in_window++;
  b->answered_seq[i] = seq;
  b->answered_us[i] = now_us;
  return TRUE;
}

/* A receiver that negotiated rtx gets an RTX packet (send_rtx). One without it gets
 * a plain resend under its own sequence number, which must be the very bytes first
 * protected under it (same SSRC, number, timestamp, payload type and payload),
 * never anything else: SRTP with AES-CM or GCM must not protect two payloads under
 * one index (keystream and nonce reuse). Either way only numbers the receiver's
 * current mapping made are answered (mcu_rtp_rewriter_source_seq): after a step
 * between levels, a number that carried the low stream or an older mapping of the
 * program is a miss (an RTX of it would carry the wrong picture). */
static void
answer_nack (McuRouter *r, Peer *from, McuStream k, const McuRtcpNack *n, gint64 now_us)
{
  guint16 seqs[17];
  guint count = mcu_rtcp_nack_expand (n->pid, n->blp, seqs);
  Stream *st = &r->s[k];
  PeerStream *ps = &from->s[k];
  /* the buffer keeps the stream in its own numbering; this peer's is shifted by
   * its offsets, and only while it receives that stream (not the low program) */
  McuRtpRewriter *v = &ps->out;
  gboolean mapped = v->have_src && v->src_ssrc == st->ssrc;
  for (guint j = 0; j < count; j++)
    {
      gsize plen = 0;
      guint16 src_seq = 0;
      const guint8 *stored = mapped && mcu_rtp_rewriter_source_seq (v, seqs[j], &src_seq)
                                 ? mcu_rtx_buffer_lookup (st->rtx, src_seq, &plen)
                                 : NULL;
      if (stored == NULL || plen > SEND_CAP)
        {
          from->c.nack_misses++;
          continue;
        }
      if (!rtx_allowed (&ps->budget, from->rtt_us, seqs[j], now_us))
        {
          from->c.rtx_held++;
          continue;
        }
      guint8 buf[SEND_CAP];
      memcpy (buf, stored, plen);
      guint32 ts = ((guint32)buf[4] << 24 | (guint32)buf[5] << 16 | (guint32)buf[6] << 8
                    | buf[7])
                   + v->ts_offset;
      buf[2] = (guint8)(seqs[j] >> 8);
      buf[3] = (guint8)seqs[j];
      buf[4] = (guint8)(ts >> 24);
      buf[5] = (guint8)(ts >> 16);
      buf[6] = (guint8)(ts >> 8);
      buf[7] = (guint8)ts;
      if (ps->rtx_pt != 0)
        {
          if (!send_rtx (from, buf, plen, seqs[j], ps->rtx_pt, &ps->rtx_seq,
                         st->rtx_ssrc))
            {
              from->c.nack_misses++;
              continue;
            }
        }
      else
        send_copy (from, buf, plen, ps->pt);
      from->c.retransmitted++;
    }
}
/* NACKs for the mix @from receives are answered from what was sent to @from
 * alone (audio_sent), on its audio RTX stream: each answer is the very bytes first
 * protected under that number, wrapped under a fresh index. Only a number among
 * the last AUDIO_RTX_SLOTS sent is looked up: the buffer holds nothing older, and a
 * number ahead of the highest was never sent. There is no plain resend for audio
 * (a peer without rtx): the transport-cc stamp added after the router would make
 * a resend other bytes under the original's index. */
static void
answer_audio_nack (McuRouter *r, Peer *from, const McuRtcpNack *n, gint64 now_us)
{
  guint16 seqs[17];
  guint count = mcu_rtcp_nack_expand (n->pid, n->blp, seqs);
  for (guint k = 0; k < count; k++)
    {
      gsize plen = 0;
      gint16 age = (gint16)(guint16)(from->audio_highest - seqs[k]);
      const guint8 *stored
          = from->audio_sent && age >= 0 && age < AUDIO_RTX_SLOTS
                ? mcu_rtx_buffer_lookup (from->audio_sent, seqs[k], &plen)
                : NULL;
      if (stored == NULL)
        {
          from->c.audio_nack_misses++;
          continue;
        }
      if (!rtx_allowed (&from->audio_budget, from->rtt_us, seqs[k], now_us))
        {
          from->c.rtx_held++;
          continue;
        }
      if (!send_rtx (from, stored, plen, seqs[k], from->info.audio_rtx_pt,
                     &from->audio_rtx_seq, r->config.audio_rtx_ssrc))
        {
          from->c.audio_nack_misses++;
          continue;
        }
      from->c.audio_retransmitted++;
    }
}

void
mcu_router_receive_rtcp (McuRouter *r, guint id, const guint8 *pkt, gsize len,
                         gint64 now_us)
{
  McuRtcpInfo info;
  if (mcu_rtcp_parse (pkt, len, MCU_RTCP_PARSE_REDUCED_SIZE, &info) != MCU_RTCP_OK)
    {
      g_mutex_lock (&r->lock);
      Peer *p = find_peer (r, id);
      if (p)
        p->c.malformed++;
      g_mutex_unlock (&r->lock);
      return;
    }
  g_mutex_lock (&r->lock);
  Peer *from = find_peer (r, id);
  if (from == NULL)
    goto out;
  from->c.rtcp_in++;
  for (guint i = 0; i < info.n_nacks; i++)
    {
      guint32 media = info.nacks[i].media_ssrc;
      for (McuStream k = 0; k < MCU_N_STREAMS; k++)
        if (media == r->s[k].ssrc && from->s[k].pt != 0)
          {
            from->c.nacks_in++;
            if (!r->config.no_retransmission)
              answer_nack (r, from, k, &info.nacks[i], now_us);
          }
      if (from->have_audio && media == from->audio_ssrc)
        {
          /* its own mix only: a NACK naming any other SSRC is not for us to answer */
          from->c.audio_nacks_in++;
          if (!r->config.no_retransmission)
            answer_audio_nack (r, from, &info.nacks[i], now_us);
        }
    }
  for (McuStream k = 0; k < MCU_N_STREAMS; k++)
    {
      gboolean wants_key = FALSE;
      for (guint i = 0; i < info.n_plis; i++)
        wants_key |= info.plis[i].media_ssrc == r->s[k].ssrc;
      for (guint i = 0; i < info.n_firs; i++)
        wants_key |= info.firs[i].media_ssrc == r->s[k].ssrc;
      if (wants_key)
        {
          from->c.plis_in++;
          forward_keyframe_request (r, k, now_us);
        }
    }
out:
  g_mutex_unlock (&r->lock);
}
/* With the lock held: notes the mix packet @pkt about to go to @to (its SSRC and
 * highest number) and, where @to negotiated audio rtx, keeps it as it will be
 * protected (with @to's payload type) for answer_audio_nack(). Kept before it is
 * sent: an answer that overtakes the original is still an RTX packet of the same
 * bytes. A new SSRC is another stream: what was kept of the old one is dropped. */
static void
keep_audio (Peer *to, const guint8 *pkt, gsize len)
{
  guint32 ssrc
      = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8 | pkt[11];
  guint16 seq = (guint16)(pkt[2] << 8 | pkt[3]);
  if (to->have_audio && ssrc != to->audio_ssrc && to->audio_sent)
    mcu_rtx_buffer_clear (to->audio_sent);
  if (!to->have_audio || ssrc != to->audio_ssrc
      || (gint16)(guint16)(seq - to->audio_highest) > 0)
    to->audio_highest = seq;
  to->audio_ssrc = ssrc;
  to->have_audio = TRUE;
  if (to->audio_sent == NULL)
    return;
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  mcu_rtp_set_pt (buf, len, to->info.audio_pt);
  mcu_rtx_buffer_store (to->audio_sent, buf, len);
}

void
mcu_router_send_audio (McuRouter *r, guint id, const guint8 *pkt, gsize len)
{
  g_return_if_fail (r != NULL);
  if (pkt == NULL || len < 12 || len > MAX_PACKET)
    return;
  g_mutex_lock (&r->lock);
  Peer *to = find_peer (r, id);
  if (to && to->info.audio_pt)
    {
      g_atomic_int_inc (&to->inflight); /* a remove waits for this send */
      keep_audio (to, pkt, len);
    }
  else
    to = NULL;
  g_mutex_unlock (&r->lock);
  if (to)
    {
      send_copy (to, pkt, len, to->info.audio_pt);
      send_done (r, to);
    }
}

void
mcu_router_send_video (McuRouter *r, guint id, const guint8 *pkt, gsize len)
{
  g_return_if_fail (r != NULL);
  if (pkt == NULL || len < 12 || len > MAX_PACKET)
    return;
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  g_mutex_lock (&r->lock);
  Peer *to = find_peer (r, id);
  if (to && to->s[MCU_STREAM_PROGRAM].pt && to->level != MCU_LEVEL_AUDIO
      && rewrite_video_header (to, MCU_STREAM_PROGRAM, buf, g_get_monotonic_time ()))
    g_atomic_int_inc (&to->inflight); /* a remove waits for this send */
  else
    to = NULL;
  g_mutex_unlock (&r->lock);
  if (to)
    {
      if (to->ops.send_rtp (to->peer, buf, len, sizeof buf))
        count (&to->rtp_out);
      else
        count (&to->send_failures);
      send_done (r, to);
    }
}

void
mcu_router_request_keyframe (McuRouter *r, guint id, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *src = find_peer (r, id);
  Stream *st = &r->s[MCU_STREAM_PROGRAM];
  if (src && now_us - st->last_pli_us >= PLI_INTERVAL_US)
    {
      request_keyframe (r, src, MCU_STREAM_PROGRAM, FALSE);
      st->last_pli_us = now_us;
    }
  g_mutex_unlock (&r->lock);
}

gboolean
mcu_router_peer_counters (McuRouter *r, guint id, McuPeerCounters *out)
{
  g_return_val_if_fail (r != NULL && out != NULL, FALSE);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    {
      *out = p->c;
      out->nack_seqs_out = out->loss_missing = out->loss_given_up = 0;
      for (McuStream k = 0; k < MCU_N_STREAMS; k++)
        {
          McuLossCounters lc;
          mcu_loss_tracker_get (&p->s[k].loss, &lc);
          out->nack_seqs_out += lc.requested;
          out->loss_missing += lc.missing;
          out->loss_given_up += lc.given_up;
        }
      out->rtp_out = __atomic_load_n (&p->rtp_out, __ATOMIC_RELAXED);
      out->send_failures = __atomic_load_n (&p->send_failures, __ATOMIC_RELAXED);
    }
  g_mutex_unlock (&r->lock);
  return p != NULL;
}

void
mcu_router_set_rtt (McuRouter *r, guint id, gint64 rtt_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    p->rtt_us = MAX (rtt_us, 0);
  g_mutex_unlock (&r->lock);
}
