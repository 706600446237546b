/* leg.c: McuLeg. Members are looked up by name on every asynchronous completion,
 * never held across one, so a member removed while its answer is being made is
 * simply not found when the answer arrives. */
#include "leg.h"
#include "audio-mixer.h"
#include "frame-tracker.h"
#include "leg-recording.h"
#include "mcu-error.h"
#include "peer-cc.h"
#include "peer-setup.h"
#include "quality.h"
#include "rtcp.h"
#include "rtp-stats.h"
#include "rtp.h"
#include "video-mixer.h"

#include <string.h>

#define LEG_AUDIO_SSRC 0x4C540A01u   /* what every member hears the mix from */
#define LEG_VIDEO_SSRC 0x4C540B01u   /* the program video, as the router sends it */
#define LEG_LOW_SSRC 0x4C540B02u     /* the low-resolution program, before the router */
#define LEG_RTX_SSRC 0x4C540B03u     /* RFC 4588 retransmissions of the program */
#define LEG_CONTENT_SSRC 0x4C540C01u /* the content (a presenter's screen) */
#define LEG_CONTENT_RTX_SSRC 0x4C540C03u /* its retransmissions */
/* RFC 4588 retransmissions of the mix, each member's of its own (router.c) */
#define LEG_AUDIO_RTX_SSRC 0x4C540A03u
#define TICK_MS 100
#define REPORT_EVERY 10                  /* ticks: an SR/RR to every member each second */
#define STATS_EVERY 20                   /* ticks: a statistics report every 2 s */
#define LIMITED_US (10 * G_USEC_PER_SEC) /* a limit seen this recently caps the tree */
#define REMB_UNLIMITED 30000000 /* what "no limit" reads as, to a sender we capped */
/* the recorder's router peer and mixer participant: members count up from 1 */
#define LEG_RECORDER_ID 0x7fffffffu
/* what a member at audio only spends on audio (the mix, its FEC and overhead) */
#define AUDIO_ONLY_BPS 64000

typedef struct
{
  McuLeg *leg;
  char *name;
  guint id;
  gboolean is_link, uplink; /* uplink: the link this node dialled, to its parent */
  McuEndpoint *ep;
  McuSdpSession *session;
  char *peer_fp; /* links: the fingerprint signald vouches for */
  McuMediaLevel level;
  gboolean wired; /* in the router and the mixer */
  guint audio_pt; /* its negotiated Opus payload type, 0 = none: set when wired */
  guint video_pt, video_rtx_pt; /* its video and RFC 4588 rtx types, 0 = none */
  McuPeerInfo peer;             /* what the router was told of it, once wired */
  gulong state_id;
  /* link statistics, under leg->stats_lock: the mix is sent from mixer threads */
  McuRecvStats *rx_audio; /* what it sends us, once its first packet came */
  guint32 rx_audio_ssrc;
  McuFrameTracker *rx_frames; /* complete frames of the video it sends us */
  guint32 rx_video_ssrc;
  gboolean have_video_ssrc;
  guint64 played_ms, concealed_ms; /* the mixer's playout of its audio, as last read */
  McuSendStats *tx_audio;          /* the mix we send it */
  guint32 tx_last_ts;              /* RTP time of the last mix packet, for our SRs */
  gint64 tx_last_us;
  /* the program video we send it and the video it sends us, for SR/RR on video */
  McuSendStats *tx_video;
  guint32 tx_video_ts;
  gint64 tx_video_us;
  McuRecvStats *rx_video;      /* its video's original packets (not retransmissions) */
  McuQualityWindow *up, *down; /* what we receive from it / what it receives */
  McuPeerCc *cc;      /* congestion control, once wired; used by any sending thread */
  gboolean cc_low;    /* its downlink estimate moved it from full to low */
  gboolean no_stills; /* at audio only, a still of the content does not fit */
  gboolean remb_sent; /* we told it what the tree takes: keep telling it */
} Member;

struct _McuLeg
{
  GMainContext *context;
  McuCert *cert;
  char *id;
  McuEndpointConfig config;
  GStrv addresses;
  char *stun, *turn, *turn_user, *turn_pass;
  McuLegCallbacks callbacks;
  gpointer user_data;
  McuRouter *router;
  gboolean no_retransmission; /* no rtx, no NACKs either way: comparison runs */
  McuAudioMixer *mixer;
  GHashTable *members; /* name -> Member* (owned) */
  guint next_id;
  GSource *tick;
  guint speaker, ticks;
  GMutex stats_lock;
  char *floor_via;   /* the member the program comes from, once it is wired */
  char *content_via; /* the member the content comes from, once it is wired */
  /* the program at low resolution, for members stepped down to "low": made only
   * while one of them exists */
  McuVideoMixer *low;
  guint low_output;
  /* the member decoded into the low program; written on the leg's context, read by
   * the low mixer's streaming thread (on_low_keyframe): atomic */
  guint low_src;
  GMutex low_lock;            /* guards low_ids, read by the mixer's thread */
  GArray *low_ids;            /* guint ids of members at level low */
  guint64 full_need;          /* bits per second a member at full is sent */
  McuLegRecording *recording; /* (nullable) */
};

/* The level a member gets: what it was given (mcu_leg_set_level(), the grade's
 * step-down), or low where that says full and its downlink estimate says low. */
static McuMediaLevel
member_level (const Member *m)
{
  return m->level == MCU_LEVEL_FULL && m->cc_low ? MCU_LEVEL_LOW : m->level;
}

static Member *
member_by_id (McuLeg *leg, guint id)
{
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (((Member *)value)->id == id)
      return value;
  return NULL;
}

/* --- packet plumbing ---------------------------------------------------------- */

/* Called by the router on any thread (see McuPeerOps); counts the mix we send for
 * the sender reports that let the member measure it and us measure the round trip. */
static gboolean
member_send_rtp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  Member *m = peer;
  McuRtpHeader h;
  gint64 now = g_get_monotonic_time ();
  if (m->cc && !mcu_peer_cc_on_send (m->cc, pkt, &len, cap, now))
    return FALSE;
  if (mcu_endpoint_send_rtp (m->ep, pkt, len) != 0)
    return FALSE;
  if (m->cc)
    mcu_peer_cc_on_sent (m->cc, pkt, len, now);
  if (mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK)
    return TRUE;
  if (h.ssrc == LEG_AUDIO_SSRC)
    {
      g_mutex_lock (&m->leg->stats_lock);
      mcu_send_stats_on_sent (m->tx_audio, len, h.payload_len);
      m->tx_last_ts = h.timestamp;
      m->tx_last_us = g_get_monotonic_time ();
      g_mutex_unlock (&m->leg->stats_lock);
    }
  else if (h.ssrc == LEG_VIDEO_SSRC)
    {
      g_mutex_lock (&m->leg->stats_lock);
      mcu_send_stats_on_sent (m->tx_video, len, h.payload_len);
      /* a late packet (one recovered upstream) must not take the SR's clock back */
      if (m->tx_video_us == 0 || (gint32)(h.timestamp - m->tx_video_ts) > 0)
        {
          m->tx_video_ts = h.timestamp;
          m->tx_video_us = g_get_monotonic_time ();
        }
      g_mutex_unlock (&m->leg->stats_lock);
    }
  return TRUE;
}

static gboolean
member_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  Member *m = peer;
  return mcu_endpoint_send_rtcp (m->ep, pkt, len) == 0;
}

static const McuPeerOps member_ops = { member_send_rtp, member_send_rtcp };

static void
on_router_audio (guint peer, const guint8 *pkt, gsize len, gpointer data)
{
  McuLeg *leg = data;
  mcu_audio_mixer_push_rtp (leg->mixer, peer, pkt, len);
}

/* The program's video, when some members take it at low resolution. */
static void
on_router_video (guint peer, const guint8 *pkt, gsize len, gpointer data)
{
  McuLeg *leg = data;
  if (leg->low && peer == (guint)g_atomic_int_get (&leg->low_src))
    mcu_video_mixer_push_rtp (leg->low, 1, pkt, len);
}

/* Mixer thread: the low-resolution program goes to every member stepped down to it,
 * from the one video SSRC they were told of. */
static void
on_low_output (guint output, const guint8 *rtp, gsize len, gpointer data)
{
  McuLeg *leg = data;
  guint8 buf[1500];
  guint ids[64];
  guint n = 0;
  if (len > sizeof buf)
    return;
  memcpy (buf, rtp, len);
  /* a stream of its own: the router maps it onto the program's SSRC per member */
  mcu_rtp_set_ssrc (buf, len, LEG_LOW_SSRC);
  g_mutex_lock (&leg->low_lock);
  for (guint i = 0; i < leg->low_ids->len && n < G_N_ELEMENTS (ids); i++)
    ids[n++] = g_array_index (leg->low_ids, guint, i);
  g_mutex_unlock (&leg->low_lock);
  for (guint i = 0; i < n; i++)
    mcu_router_send_video (leg->router, ids[i], buf, len);
}

static void
on_low_keyframe (guint participant, gpointer data)
{
  McuLeg *leg = data;
  guint src = (guint)g_atomic_int_get (&leg->low_src);
  if (src)
    mcu_router_request_keyframe (leg->router, src, g_get_monotonic_time ());
}

/* Mixer thread: every member hears the mix from one announced SSRC. */
static void
on_mixed (guint participant, const guint8 *rtp, gsize len, gpointer data)
{
  McuLeg *leg = data;
  guint8 buf[1500];
  if (len > sizeof buf)
    return;
  memcpy (buf, rtp, len);
  mcu_rtp_set_ssrc (buf, len, LEG_AUDIO_SSRC);
  mcu_router_send_audio (leg->router, participant, buf, len);
}

static guint32
ntp32_now (void)
{
  return mcu_ntp_middle32 (mcu_ntp_from_unix_us (g_get_real_time ()));
}

/* Called with stats_lock held: a video packet, or an RFC 4588 retransmission of one
 * (its payload starts with the original sequence number; its timestamp and marker
 * are the original's), goes to the frame tracker, and every frame it completes
 * tells the "up" window that video is flowing (quality.c turns gaps into freezes). */
static void
member_measure_video (Member *m, const McuRtpHeader *h, gint64 now)
{
  guint16 seq = h->seq;
  if (h->pt == m->video_pt)
    {
      if (!m->have_video_ssrc || h->ssrc != m->rx_video_ssrc)
        {
          mcu_frame_tracker_reset (m->rx_frames); /* a new source: new numbers */
          m->rx_video_ssrc = h->ssrc;
          m->have_video_ssrc = TRUE;
          g_clear_pointer (&m->rx_video, mcu_recv_stats_free);
          m->rx_video = mcu_recv_stats_new (h->ssrc, 90000);
        }
      mcu_recv_stats_update_rtp (m->rx_video, h,
                                 h->header_len + h->payload_len + h->padding_len, now);
    }
  else if (m->have_video_ssrc && h->payload_len >= 2)
    seq = (guint16)(h->payload[0] << 8 | h->payload[1]);
  else
    return;
  guint frames = mcu_frame_tracker_push (m->rx_frames, seq, h->timestamp, h->marker);
  for (guint i = 0; i < frames; i++)
    mcu_quality_window_video_frame (m->up, now);
}

/* Measures what a member sends (its audio and video) and what it reports about our
 * mix. */
static void
member_measure (Member *m, gboolean is_rtcp, const guint8 *buf, gsize len, gint64 now)
{
  McuLeg *leg = m->leg;
  if (!is_rtcp)
    {
      McuRtpHeader h;
      if (mcu_rtp_parse (buf, len, &h) != MCU_RTP_OK)
        return;
      if (mcu_peer_info_stream (&m->peer, h.ssrc, h.pt) == MCU_STREAM_CONTENT)
        return; /* the router counts it; the link's measures are the program's */
      if (m->video_pt != 0
          && (h.pt == m->video_pt || (m->video_rtx_pt != 0 && h.pt == m->video_rtx_pt)))
        {
          g_mutex_lock (&leg->stats_lock);
          member_measure_video (m, &h, now);
          g_mutex_unlock (&leg->stats_lock);
          return;
        }
      if (m->audio_pt == 0 || h.pt != m->audio_pt)
        return;
      g_mutex_lock (&leg->stats_lock);
      if (m->rx_audio == NULL)
        {
          m->rx_audio = mcu_recv_stats_new (h.ssrc, 48000);
          m->rx_audio_ssrc = h.ssrc;
        }
      mcu_recv_stats_update_rtp (m->rx_audio, &h, len, now);
      g_mutex_unlock (&leg->stats_lock);
      return;
    }
  McuRtcpInfo info;
  if (mcu_rtcp_parse (buf, len, MCU_RTCP_PARSE_REDUCED_SIZE, &info) != MCU_RTCP_OK)
    return;
  gint loss = -1; /* percent of our mix it lost, from its receiver report */
  g_mutex_lock (&leg->stats_lock);
  for (guint i = 0; i < info.n_srs; i++)
    {
      if (m->rx_audio && info.srs[i].ssrc == m->rx_audio_ssrc)
        mcu_recv_stats_on_sr (m->rx_audio, &info.srs[i], now);
      if (m->rx_video && info.srs[i].ssrc == m->rx_video_ssrc)
        mcu_recv_stats_on_sr (m->rx_video, &info.srs[i], now);
    }
  for (guint i = 0; i < info.n_reports; i++)
    if (info.reports[i].ssrc == LEG_AUDIO_SSRC)
      {
        mcu_send_stats_on_report_block (m->tx_audio, &info.reports[i], ntp32_now ());
        loss = info.reports[i].fraction_lost * 100 / 256;
      }
    else if (info.reports[i].ssrc == LEG_VIDEO_SSRC)
      mcu_send_stats_on_report_block (m->tx_video, &info.reports[i], ntp32_now ());
  mcu_quality_window_add_rtcp_feedback (m->down, now, &info);
  g_mutex_unlock (&leg->stats_lock);
  /* outside stats_lock: the mixer's lock is taken by its streaming threads */
  if (loss >= 0 && m->wired && m->audio_pt != 0)
    mcu_audio_mixer_set_loss (leg->mixer, m->id, (guint)loss);
}

static void
on_member_packet (McuEndpoint *ep, gboolean is_rtcp, guint8 *buf, gsize len,
                  gpointer data)
{
  Member *m = data;
  gint64 now = g_get_monotonic_time ();
  member_measure (m, is_rtcp, buf, len, now);
  if (m->cc && !is_rtcp)
    mcu_peer_cc_on_rtp (m->cc, buf, len, now);
  else if (m->cc)
    {
      McuRtcpInfo info;
      gboolean ok
          = mcu_rtcp_parse (buf, len, MCU_RTCP_PARSE_REDUCED_SIZE, &info) == MCU_RTCP_OK;
      mcu_peer_cc_on_rtcp (m->cc, buf, len, ok ? &info : NULL, now);
    }
  if (is_rtcp)
    mcu_router_receive_rtcp (m->leg->router, m->id, buf, len, now);
  else
    mcu_router_receive_rtp (m->leg->router, m->id, buf, len, now);
}

/* Puts a member whose session is negotiated into the router and the mixer. */
static gboolean
member_wire (Member *m, GError **error)
{
  const McuSdpMedia *a = mcu_sdp_session_find_media (m->session, "audio");
  const McuSdpMedia *v = mcu_sdp_session_find_media (m->session, "video");
  m->audio_pt = a ? a->pt : 0; /* read on every packet: not looked up each time */
  m->video_pt = v ? v->pt : 0;
  m->video_rtx_pt = v ? v->rtx_pt : 0;
  McuPeerInfo info = {
    .kind = !m->is_link ? MCU_PEER_SITE
            : m->uplink ? MCU_PEER_PARENT
                        : MCU_PEER_CHILD,
    .audio_pt = a ? (guint8)a->pt : 0,
    .video_pt = v ? (guint8)v->pt : 0,
    .video_codec
    = v && g_strcmp0 (v->codec, "H264") == 0 ? MCU_VIDEO_CODEC_H264 : MCU_VIDEO_CODEC_VP8,
    .video_rtx_pt = (guint8)m->video_rtx_pt,
    .nack = v && v->nack,
    /* the SDP took audio rtx only together with NACK (sdp.c) */
    .audio_rtx_pt = a && a->nack ? (guint8)a->rtx_pt : 0,
  };
  const McuSdpMedia *c = mcu_sdp_session_find_media (m->session, "content");
  if (c)
    {
      info.content_pt = (guint8)c->pt;
      info.content_rtx_pt = (guint8)c->rtx_pt;
      info.content_codec = g_strcmp0 (c->codec, "H264") == 0 ? MCU_VIDEO_CODEC_H264
                                                             : MCU_VIDEO_CODEC_VP8;
      info.content_nack = c->nack;
      info.n_content_ssrcs = MIN (c->n_remote_ssrcs, MCU_MAX_CONTENT_SSRCS);
      memcpy (info.content_ssrcs, c->remote_ssrcs,
              info.n_content_ssrcs * sizeof (guint32));
    }
  m->peer = info;
  if (m->cc == NULL)
    m->cc = mcu_peer_cc_new (m->session, LEG_AUDIO_SSRC, g_get_monotonic_time ());
  if (!mcu_router_add_peer (m->leg->router, m->id, &info, &member_ops, m))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "%s is already routed", m->name);
      return FALSE;
    }
  mcu_router_set_level (m->leg->router, m->id, member_level (m));
  gboolean fec = a && a->fmtp && strstr (a->fmtp, "useinbandfec=1");
  if (a && !mcu_audio_mixer_add (m->leg->mixer, m->id, (guint8)a->pt, fec, error))
    {
      mcu_router_remove_peer (m->leg->router, m->id);
      return FALSE;
    }
  if (a)
    mcu_audio_mixer_set_level_ext (m->leg->mixer, m->id, a->audio_level_ext_id);
  mcu_endpoint_set_packet_func (m->ep, on_member_packet, m, NULL);
  m->wired = TRUE;
  if (g_strcmp0 (m->leg->floor_via, m->name) == 0)
    mcu_router_set_program (m->leg->router, m->id, g_get_monotonic_time ());
  if (g_strcmp0 (m->leg->content_via, m->name) == 0)
    mcu_router_set_content (m->leg->router, m->id, g_get_monotonic_time ());
  return TRUE;
}

static gboolean
close_endpoint_later (gpointer ep)
{
  mcu_endpoint_close (ep);
  return G_SOURCE_REMOVE;
}

static void
member_free (gpointer data)
{
  Member *m = data;
  if (m->wired)
    {
      /* after these return, no thread sends to or through this member */
      mcu_router_remove_peer (m->leg->router, m->id);
      mcu_audio_mixer_remove (m->leg->mixer, m->id);
    }
  if (m->ep)
    {
      mcu_endpoint_set_packet_func (m->ep, NULL, NULL, NULL);
      if (m->state_id)
        g_signal_handler_disconnect (m->ep, m->state_id);
      /* closed from an idle callback, holding the last reference: members are
       * removed from endpoint signal handlers too */
      GSource *idle = g_idle_source_new ();
      g_source_set_callback (idle, close_endpoint_later, m->ep, g_object_unref);
      g_source_attach (idle, m->leg->context);
      g_source_unref (idle);
    }
  g_clear_pointer (&m->session, mcu_sdp_session_free);
  g_clear_pointer (&m->rx_audio, mcu_recv_stats_free);
  g_clear_pointer (&m->rx_frames, mcu_frame_tracker_free);
  g_clear_pointer (&m->tx_audio, mcu_send_stats_free);
  g_clear_pointer (&m->tx_video, mcu_send_stats_free);
  g_clear_pointer (&m->rx_video, mcu_recv_stats_free);
  g_clear_pointer (&m->up, mcu_quality_window_free);
  g_clear_pointer (&m->down, mcu_quality_window_free);
  g_clear_pointer (&m->cc, mcu_peer_cc_free); /* out of the router: nobody sends */
  g_free (m->peer_fp);
  g_free (m->name);
  g_free (m);
}

static void
on_member_state (McuEndpoint *ep, int state, gpointer data)
{
  Member *m = data;
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_INFO, "LT_LEG", m->leg->id,
                    "LT_ENDPOINT", m->name, "MESSAGE", "leg %s: %s is %s", m->leg->id,
                    m->name, mcu_endpoint_state_name (state));
  if (m->leg->callbacks.endpoint_state)
    m->leg->callbacks.endpoint_state (m->name, state, m->leg->user_data);
}

static Member *
member_new (McuLeg *leg, const char *name, gboolean is_link, McuMediaLevel level)
{
  g_hash_table_remove (leg->members, name); /* joining again replaces */
  Member *m = g_new0 (Member, 1);
  m->leg = leg;
  m->name = g_strdup (name);
  m->id = ++leg->next_id;
  m->is_link = is_link;
  m->level = level;
  gint64 now = g_get_monotonic_time ();
  m->tx_audio = mcu_send_stats_new (LEG_AUDIO_SSRC, 48000);
  m->tx_video = mcu_send_stats_new (LEG_VIDEO_SSRC, 90000);
  m->rx_frames = mcu_frame_tracker_new ();
  m->up = mcu_quality_window_new (0, now);
  m->down = mcu_quality_window_new (0, now);
  mcu_quality_window_set_video_unknown (m->down); /* we cannot see what it renders */
  g_hash_table_insert (leg->members, g_strdup (name), m);
  return m;
}

/* Attaches a negotiated endpoint to a member: owned from here on. */
static gboolean
member_attach (Member *m, McuEndpoint *ep, McuSdpSession *session, GError **error)
{
  m->ep = ep;
  m->session = session;
  m->state_id = g_signal_connect (ep, "state-changed", G_CALLBACK (on_member_state), m);
  return member_wire (m, error);
}

/* --- joining ------------------------------------------------------------------- */

typedef struct
{
  McuLeg *leg;
  char *name;
  guint id; /* the member this request was for */
  McuLegSdpFunc callback;
  gpointer user_data;
} Request;

static Request *
request_new (McuLeg *leg, Member *m, McuLegSdpFunc callback, gpointer user_data)
{
  Request *r = g_new0 (Request, 1);
  r->leg = leg;
  r->name = g_strdup (m->name);
  r->id = m->id;
  r->callback = callback;
  r->user_data = user_data;
  return r;
}

static void
request_finish (Request *r, const char *sdp, const GError *error)
{
  r->callback (sdp, error, r->user_data);
  g_free (r->name);
  g_free (r);
}

/* The member this request was made for, if it is still there and still the same. */
static Member *
request_member (Request *r)
{
  Member *m = g_hash_table_lookup (r->leg->members, r->name);
  return m && m->id == r->id ? m : NULL;
}

static void
on_answered (McuEndpoint *ep, McuSdpSession *session, const char *answer,
             const GError *error, gpointer data)
{
  Request *r = data;
  Member *m = request_member (r);
  g_autoptr (GError) local = NULL;
  if (ep == NULL || m == NULL)
    {
      if (m)
        g_hash_table_remove (r->leg->members, r->name);
      g_set_error (&local, MCU_ERROR, MCU_ERROR_INVALID, "%s: %s", r->name,
                   error ? error->message : "left before its answer was ready");
      if (ep)
        {
          mcu_endpoint_close (ep);
          g_object_unref (ep);
          mcu_sdp_session_free (session);
        }
      request_finish (r, NULL, local);
      return;
    }
  /* a peer node must present the certificate signald vouched for */
  const char *fp = mcu_sdp_session_remote_fingerprint (session);
  if (m->peer_fp && !mcu_cert_fingerprint_equal (fp, m->peer_fp))
    {
      g_set_error (&local, MCU_ERROR, MCU_ERROR_DTLS,
                   "%s offered fingerprint %s, signald vouches for %s", r->name, fp,
                   m->peer_fp);
      mcu_endpoint_close (ep);
      g_object_unref (ep);
      mcu_sdp_session_free (session);
      g_hash_table_remove (r->leg->members, r->name);
      request_finish (r, NULL, local);
      return;
    }
  if (!member_attach (m, ep, session, &local))
    {
      g_hash_table_remove (r->leg->members, r->name);
      request_finish (r, NULL, local);
      return;
    }
  request_finish (r, answer, NULL);
}

static void
leg_answer (McuLeg *leg, Member *m, const char *offer, McuLegSdpFunc callback,
            gpointer user_data)
{
  McuEndpointConfig cfg = leg->config;
  cfg.name = m->name;
  cfg.ice.controlling = FALSE; /* sites and dialling child nodes control */
  McuPeerStreams ours = { .audio_ssrc = LEG_AUDIO_SSRC,
                          .video_ssrc = LEG_VIDEO_SSRC,
                          .video_rtx_ssrc = LEG_RTX_SSRC,
                          .audio_rtx_ssrc = LEG_AUDIO_RTX_SSRC,
                          .content_ssrc = LEG_CONTENT_SSRC,
                          .content_rtx_ssrc = LEG_CONTENT_RTX_SSRC,
                          .no_retransmission = leg->no_retransmission,
                          .cname = leg->id };
  mcu_peer_answer_async (leg->context, leg->cert, &cfg, offer, &ours, on_answered,
                         request_new (leg, m, callback, user_data));
}

void
mcu_leg_add_site_async (McuLeg *leg, const char *endpoint, const char *offer,
                        McuMediaLevel level, McuLegSdpFunc callback, gpointer user_data)
{
  g_return_if_fail (leg != NULL && endpoint != NULL && offer != NULL && callback != NULL);
  leg_answer (leg, member_new (leg, endpoint, FALSE, level), offer, callback, user_data);
}

void
mcu_leg_accept_link_async (McuLeg *leg, const char *endpoint, const char *offer,
                           const char *peer_fingerprint, McuLegSdpFunc callback,
                           gpointer user_data)
{
  g_return_if_fail (leg != NULL && endpoint != NULL && offer != NULL && callback != NULL);
  Member *m = member_new (leg, endpoint, TRUE, MCU_LEVEL_FULL);
  m->peer_fp = g_strdup (peer_fingerprint);
  leg_answer (leg, m, offer, callback, user_data);
}

/* --- the uplink: this node dials its parent ------------------------------------ */

typedef struct
{
  Request *req;
  McuEndpoint *ep;
  gulong gathered_id;
} Dial;

static void
on_uplink_gathered (McuEndpoint *ep, gpointer data)
{
  Dial *d = data;
  g_signal_handler_disconnect (ep, d->gathered_id);
  Member *m = request_member (d->req);
  if (m == NULL)
    {
      g_autoptr (GError) e = g_error_new (MCU_ERROR, MCU_ERROR_INVALID,
                                          "%s closed while dialling", d->req->name);
      mcu_endpoint_close (ep);
      g_object_unref (ep);
      request_finish (d->req, NULL, e);
      g_free (d);
      return;
    }
  McuSdpLocal local = {
    .ice_ufrag = mcu_endpoint_get_local_ufrag (ep),
    .ice_pwd = mcu_endpoint_get_local_pwd (ep),
    .fingerprint = mcu_endpoint_get_local_fingerprint (ep),
    .setup = "actpass",
    .audio_ssrc = LEG_AUDIO_SSRC,
    .video_ssrc = LEG_VIDEO_SSRC,
    .video_rtx_ssrc = LEG_RTX_SSRC,
    .content_ssrc = LEG_CONTENT_SSRC,
    .content_rtx_ssrc = LEG_CONTENT_RTX_SSRC,
    .no_retransmission = m->leg->no_retransmission,
    .cname = m->leg->id,
    .msid_stream = m->leg->id,
    .candidates = mcu_endpoint_get_local_candidates (ep),
  };
  g_autofree char *offer = mcu_sdp_create_offer (&local);
  m->ep = ep; /* owned by the member; wired when the answer comes */
  m->state_id = g_signal_connect (ep, "state-changed", G_CALLBACK (on_member_state), m);
  request_finish (d->req, offer, NULL);
  g_free (d);
}

void
mcu_leg_open_uplink_async (McuLeg *leg, const char *endpoint,
                           const char *peer_fingerprint, McuLegSdpFunc callback,
                           gpointer user_data)
{
  g_return_if_fail (leg != NULL && endpoint != NULL && callback != NULL);
  Member *m = member_new (leg, endpoint, TRUE, MCU_LEVEL_FULL);
  m->uplink = TRUE;
  m->peer_fp = g_strdup (peer_fingerprint);
  McuEndpointConfig cfg = leg->config;
  cfg.name = m->name;
  cfg.ice.controlling = TRUE; /* the dialling node nominates */
  g_autoptr (GError) error = NULL;
  McuEndpoint *ep = mcu_endpoint_new (leg->context, leg->cert, &cfg, &error);
  if (ep == NULL)
    {
      g_hash_table_remove (leg->members, endpoint);
      callback (NULL, error, user_data);
      return;
    }
  Dial *d = g_new0 (Dial, 1);
  d->req = request_new (leg, m, callback, user_data);
  d->ep = ep;
  d->gathered_id
      = g_signal_connect (ep, "gathering-done", G_CALLBACK (on_uplink_gathered), d);
  if (!mcu_endpoint_start (ep, &error))
    {
      g_signal_handler_disconnect (ep, d->gathered_id);
      g_object_unref (ep);
      g_hash_table_remove (leg->members, endpoint);
      request_finish (d->req, NULL, error);
      g_free (d);
    }
}

gboolean
mcu_leg_set_uplink_answer (McuLeg *leg, const char *endpoint, const char *answer,
                           GError **error)
{
  g_return_val_if_fail (leg != NULL && endpoint != NULL && answer != NULL, FALSE);
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  if (m == NULL || m->ep == NULL || m->session != NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "no uplink %s waits for an answer", endpoint);
      return FALSE;
    }
  McuSdpSession *session = mcu_sdp_accept_answer (answer, strlen (answer), error);
  if (session == NULL)
    return FALSE;
  const char *fp = mcu_sdp_session_remote_fingerprint (session);
  if (m->peer_fp && !mcu_cert_fingerprint_equal (fp, m->peer_fp))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_DTLS,
                   "%s answered with fingerprint %s, signald vouches for %s", endpoint,
                   fp, m->peer_fp);
      mcu_sdp_session_free (session);
      return FALSE;
    }
  if (!mcu_endpoint_set_remote_sdp (m->ep, session, error))
    {
      mcu_sdp_session_free (session);
      return FALSE;
    }
  m->session = session;
  return member_wire (m, error);
}

/* --- control ------------------------------------------------------------------- */

gboolean
mcu_leg_add_candidate (McuLeg *leg, const char *endpoint, const char *candidate,
                       GError **error)
{
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  if (m == NULL || m->ep == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "no endpoint %s in leg %s",
                   endpoint, leg->id);
      return FALSE;
    }
  if (candidate == NULL || *candidate == '\0')
    return TRUE; /* end of candidates: nothing to do for full ICE */
  const char *c = g_str_has_prefix (candidate, "a=") ? candidate + 2 : candidate;
  return mcu_endpoint_add_remote_candidate (m->ep, c, error);
}

void
mcu_leg_remove (McuLeg *leg, const char *endpoint)
{
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  if (m && m->id == leg->speaker)
    leg->speaker = 0;
  g_hash_table_remove (leg->members, endpoint);
}

gboolean
mcu_leg_has (McuLeg *leg, const char *endpoint)
{
  return g_hash_table_contains (leg->members, endpoint);
}

guint
mcu_leg_n_members (McuLeg *leg)
{
  return g_hash_table_size (leg->members);
}

/* The floor is kept by name: the member it names may join (or dial in) only later,
 * and is made the program as soon as it is wired. */
void
mcu_leg_set_floor (McuLeg *leg, const char *via)
{
  g_free (leg->floor_via);
  leg->floor_via = g_strdup (via);
  Member *m = via ? g_hash_table_lookup (leg->members, via) : NULL;
  mcu_router_set_program (leg->router, m && m->wired ? m->id : 0,
                          g_get_monotonic_time ());
}

void
mcu_leg_set_content (McuLeg *leg, const char *via)
{
  g_free (leg->content_via);
  leg->content_via = g_strdup (via);
  Member *m = via ? g_hash_table_lookup (leg->members, via) : NULL;
  mcu_router_set_content (leg->router, m && m->wired ? m->id : 0,
                          g_get_monotonic_time ());
}

void
mcu_leg_set_muted (McuLeg *leg, const char *endpoint, gboolean muted)
{
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  if (m && m->wired)
    mcu_audio_mixer_set_muted (leg->mixer, m->id, muted);
}

/* Keeps the low-resolution program running exactly while a member wants it. */
static void
low_update (McuLeg *leg)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (member_level (value) == MCU_LEVEL_LOW && ((Member *)value)->wired)
      g_array_append_val (ids, ((Member *)value)->id);
  g_mutex_lock (&leg->low_lock);
  g_array_set_size (leg->low_ids, 0);
  g_array_append_vals (leg->low_ids, ids->data, ids->len);
  g_mutex_unlock (&leg->low_lock);
  if (ids->len > 0 && leg->low == NULL)
    {
      McuVideoMixerConfig cfg = { .framerate = 10, .keyframe_needed = on_low_keyframe };
      g_autoptr (GError) error = NULL;
      leg->low = mcu_video_mixer_new (&cfg, on_low_output, leg, &error);
      if (leg->low)
        leg->low_output = mcu_video_mixer_add_output (leg->low, MCU_LAYOUT_GRID, 320, 180,
                                                      96, &error);
      if (error)
        g_log_structured ("lienthong-mcu", G_LOG_LEVEL_WARNING, "LT_LEG", leg->id,
                          "MESSAGE", "leg %s: no low-resolution program: %s", leg->id,
                          error->message);
      g_atomic_int_set (&leg->low_src, 0); /* the tick feeds it the program */
    }
  else if (ids->len == 0 && leg->low)
    {
      g_clear_pointer (&leg->low, mcu_video_mixer_free);
      g_atomic_int_set (&leg->low_src, 0);
    }
  else if (leg->low)
    mcu_video_mixer_request_keyframe (leg->low, leg->low_output);
}

/* Feeds the low-resolution program from whoever holds the program now. */
static void
low_follow_program (McuLeg *leg)
{
  guint program = mcu_router_program (leg->router);
  guint src = (guint)g_atomic_int_get (&leg->low_src);
  if (leg->low == NULL || program == src)
    return;
  if (src)
    mcu_video_mixer_remove (leg->low, 1);
  g_atomic_int_set (&leg->low_src, 0);
  Member *m = program ? member_by_id (leg, program) : NULL;
  const McuSdpMedia *v
      = m && m->session ? mcu_sdp_session_find_media (m->session, "video") : NULL;
  if (v
      && mcu_video_mixer_add (leg->low, 1, NULL, (guint8)v->pt,
                              g_strcmp0 (v->codec, "H264") == 0 ? MCU_VIDEO_CODEC_H264
                                                                : MCU_VIDEO_CODEC_VP8,
                              NULL))
    {
      g_atomic_int_set (&leg->low_src, program);
      mcu_router_request_keyframe (leg->router, program, g_get_monotonic_time ());
    }
}

void
mcu_leg_set_level (McuLeg *leg, const char *endpoint, McuMediaLevel level)
{
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  if (m == NULL)
    return;
  m->level = level;
  if (m->wired)
    mcu_router_set_level (leg->router, m->id, member_level (m));
  low_update (leg);
}

gboolean
mcu_leg_get_counters (McuLeg *leg, const char *endpoint, McuPeerCounters *out)
{
  Member *m = g_hash_table_lookup (leg->members, endpoint);
  return m && m->wired && mcu_router_peer_counters (leg->router, m->id, out);
}

const char *
mcu_leg_get_id (McuLeg *leg)
{
  return leg->id;
}

/* Once a second per member: a sender report on our mix with report blocks on its
 * audio and video (RFC 3550: it measures its reception and lets both sides compute
 * the round trip; it also keeps ICE consent fresh on links that carry nothing
 * else), a sender report on the program video we send it (browsers use it for
 * lip sync and their own round trip), and a sample of each direction into its
 * quality window, with how much of its audio our mixer played and concealed since
 * the last one. The round trip also tells the router how soon to NACK again. */
static void
member_report (Member *m, gint64 now)
{
  if (m->ep == NULL || mcu_endpoint_get_state (m->ep) != MCU_ENDPOINT_STATE_CONNECTED)
    return;
  McuRtcpSenderInfo si, vsi;
  McuRtcpReportBlock rb[2] = { { 0 } };
  guint nb = 0;
  /* read before stats_lock: the mixer's lock is taken by its streaming threads */
  guint64 played = 0, concealed = 0;
  gboolean playout
      = m->wired && m->audio_pt != 0
        && mcu_audio_mixer_get_playout (m->leg->mixer, m->id, &played, &concealed);
  g_mutex_lock (&m->leg->stats_lock);
  if (playout && played >= m->played_ms && concealed >= m->concealed_ms)
    mcu_quality_window_add_audio (m->up, now, (guint)(played - m->played_ms),
                                  (guint)(concealed - m->concealed_ms));
  if (playout)
    {
      m->played_ms = played;
      m->concealed_ms = concealed;
    }
  gboolean sent = m->tx_last_us != 0, heard = m->rx_audio != NULL;
  gboolean sent_video = m->tx_video_us != 0;
  guint64 ntp = mcu_ntp_from_unix_us (g_get_real_time ());
  guint32 rtp_ts = m->tx_last_ts + (guint32)((now - m->tx_last_us) * 48 / 1000);
  mcu_send_stats_fill_sr (m->tx_audio, ntp, rtp_ts, &si);
  if (sent_video)
    mcu_send_stats_fill_sr (
        m->tx_video, ntp, m->tx_video_ts + (guint32)((now - m->tx_video_us) * 90 / 1000),
        &vsi);
  if (heard)
    {
      mcu_recv_stats_report_block (m->rx_audio, now, &rb[nb++]);
      mcu_quality_window_sample_recv (m->up, m->rx_audio, now);
    }
  if (m->rx_video)
    mcu_recv_stats_report_block (m->rx_video, now, &rb[nb++]);
  mcu_quality_window_sample_send (m->down, m->tx_audio, now);
  McuSendCounters sc;
  mcu_send_stats_get (m->tx_audio, &sc);
  if (!sc.has_rtt)
    mcu_send_stats_get (m->tx_video, &sc);
  g_mutex_unlock (&m->leg->stats_lock);
  if (m->wired && sc.has_rtt)
    mcu_router_set_rtt (m->leg->router, m->id, (gint64)(sc.rtt_ms * 1000));
  guint8 buf[256];
  gsize n = sent ? mcu_rtcp_write_sr (buf, sizeof buf, &si, rb, nb)
                 : mcu_rtcp_write_rr (buf, sizeof buf, LEG_AUDIO_SSRC, rb, nb);
  if (n && sent_video)
    n += mcu_rtcp_write_sr (buf + n, sizeof buf - n, &vsi, NULL, 0);
  if (n)
    mcu_endpoint_send_rtcp (m->ep, buf, n);
}

/* What a member gets of the content: "full" (the whole stream, at full and low),
 * "stills" (at audio only, a keyframe every few seconds) or "none" (no content
 * m-line, or a still does not fit its line). */
static const char *
member_content (const Member *m)
{
  if (m->peer.content_pt == 0)
    return "none";
  if (member_level (m) != MCU_LEVEL_AUDIO)
    return "full";
  return m->no_stills ? "none" : "stills";
}

/* How retransmission fares on one member, both ways: ,"retransmission":{
 * "nacks_in": NACK entries it sent us, "retransmitted": packets we answered with,
 * "nack_misses": numbers we no longer (or never) had, "rtx_held": numbers not
 * answered at once (asked again within a round trip, or over the answer budget),
 * "nacks_out": NACK packets we sent it for its lost program video, "nacked":
 * numbers in them, "lost": its packets found missing, "rtx_in": retransmissions
 * it sent, "recovered": those that filled a gap, "rtx_dropped": unwanted or
 * malformed, "given_up": numbers too old to ask for, "audio_nacks_in",
 * "audio_retransmitted", "audio_nack_misses": the same three for the mix we send
 * it}. An IT board reads recovered / lost as the uplink's repair. */
static void
retransmission_json (const McuPeerCounters *c, GString *out)
{
  g_string_append_printf (
      out,
      ",\"retransmission\":{\"nacks_in\":%" G_GUINT64_FORMAT
      ",\"retransmitted\":%" G_GUINT64_FORMAT ",\"nack_misses\":%" G_GUINT64_FORMAT
      ",\"rtx_held\":%" G_GUINT64_FORMAT ",\"nacks_out\":%" G_GUINT64_FORMAT
      ",\"nacked\":%" G_GUINT64_FORMAT ",\"lost\":%" G_GUINT64_FORMAT
      ",\"rtx_in\":%" G_GUINT64_FORMAT ",\"recovered\":%" G_GUINT64_FORMAT
      ",\"rtx_dropped\":%" G_GUINT64_FORMAT ",\"given_up\":%" G_GUINT64_FORMAT
      ",\"audio_nacks_in\":%" G_GUINT64_FORMAT
      ",\"audio_retransmitted\":%" G_GUINT64_FORMAT
      ",\"audio_nack_misses\":%" G_GUINT64_FORMAT "}",
      c->nacks_in, c->retransmitted, c->nack_misses, c->rtx_held, c->nacks_out,
      c->nack_seqs_out, c->loss_missing, c->rtx_in, c->rtx_recovered, c->rtx_dropped,
      c->loss_given_up, c->audio_nacks_in, c->audio_retransmitted, c->audio_nack_misses);
}

/* The statistics report: [{"endpoint":"site:17","srtp":"AEAD_AES_128_GCM",
 * "pair":{"local":"host","remote":"relay"},"quality":{"leg":..,"up":..,"down":..},
 * "retransmission":{..}, "content":{"gets":"full|stills|none","forwarded":N,
 * "dropped":N} (content packets sent to it, and those it sent while not the
 * content's source),
 * "cc":{"level":"full","estimate":..,"sent":..,"acked":..,"limited":..,"twcc":..}},
 * ...] with mcu/quality.h's measures of each direction; the pair's types are ""
 * until ICE selected one; "cc" (once wired) is the level it gets, its downlink
 * estimate, what we send it and what its feedback says it received, in bit/s over
 * the last second (mcu/bwe.h). */
static char *
leg_stats_json (McuLeg *leg, gint64 now)
{
  GString *out = g_string_new ("[");
  GHashTableIter it;
  gpointer key, value;
  gboolean first = TRUE;
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Member *m = value;
      McuQualitySnapshot up, down;
      g_mutex_lock (&leg->stats_lock);
      mcu_quality_window_get (m->up, now, &up);
      mcu_quality_window_get (m->down, now, &down);
      g_mutex_unlock (&leg->stats_lock);
      const char *local = "", *remote = "";
      if (m->ep)
        mcu_endpoint_get_pair_types (m->ep, &local, &remote);
      g_string_append_printf (
          out,
          "%s{\"endpoint\":\"%s\",\"srtp\":\"%s\",\"pair\":{\"local\":\"%s\","
          "\"remote\":\"%s\"},\"quality\":",
          first ? "" : ",", m->name,
          m->ep ? mcu_srtp_profile_name (mcu_endpoint_get_srtp_profile (m->ep)) : "",
          local, remote);
      mcu_quality_leg_to_json (m->id, &up, &down, out);
      McuPeerCounters c;
      if (m->wired && mcu_router_peer_counters (leg->router, m->id, &c))
        {
          retransmission_json (&c, out);
          g_string_append_printf (
              out,
              ",\"content\":{\"gets\":\"%s\",\"forwarded\":%" G_GUINT64_FORMAT
              ",\"dropped\":%" G_GUINT64_FORMAT "}",
              member_content (m), c.content_forwarded, c.content_dropped);
        }
      if (m->cc)
        {
          McuBweSnapshot cc;
          mcu_bwe_get (mcu_peer_cc_bwe (m->cc), now, &cc);
          g_string_append_printf (
              out,
              ",\"cc\":{\"level\":\"%s\",\"estimate\":%" G_GUINT64_FORMAT
              ",\"sent\":%" G_GUINT64_FORMAT ",\"acked\":%" G_GUINT64_FORMAT
              ",\"limited\":%s,\"twcc\":%s}",
              mcu_media_level_name (member_level (m)), cc.estimate_bps,
              mcu_peer_cc_send_rate (m->cc, now), cc.acked_bps,
              cc.congested ? "true" : "false",
              mcu_peer_cc_has_twcc (m->cc) ? "true" : "false");
        }
      g_string_append_c (out, '}');
      first = FALSE;
    }
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

/* Tells the program's source what the tree takes (REMB): @cap, the lowest estimate
 * among members at full whose line limits what they receive (leg_congestion());
 * "no limit" once the limits are gone. Nothing is sent before a first limit, so a
 * browser's own transport-cc estimate ramps freely. */
static void
leg_send_remb (McuLeg *leg, guint program, guint64 cap)
{
  Member *src = program ? member_by_id (leg, program) : NULL;
  if (src == NULL || src->cc == NULL || src->ep == NULL
      || !(mcu_peer_cc_has_remb (src->cc) || src->is_link)
      || (cap == G_MAXUINT64 && !src->remb_sent))
    return;
  g_mutex_lock (&leg->stats_lock);
  guint32 ssrc = src->rx_video_ssrc;
  gboolean known = src->have_video_ssrc;
  g_mutex_unlock (&leg->stats_lock);
  if (!known)
    return;
  guint64 bps = cap == G_MAXUINT64 ? REMB_UNLIMITED : MAX (cap, MCU_BWE_FULL_MIN_BPS);
  guint8 buf[64];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, LEG_AUDIO_SSRC, NULL, 0);
  n += mcu_rtcp_write_remb (buf + n, sizeof buf - n, LEG_AUDIO_SSRC, bps, &ssrc, 1);
  if (mcu_endpoint_send_rtcp (src->ep, buf, n) == 0)
    src->remb_sent = TRUE;
}

/* Every tick: transport-cc feedback to each member on what it sent us; each site's
 * move between full and low from its downlink estimate (mcu/bwe.h), ahead of the
 * grade's step-down; and once a second, REMB to the program's source. */
static void
leg_congestion (McuLeg *leg, gint64 now)
{
  guint program = mcu_router_program (leg->router);
  guint64 need = 0, cap = G_MAXUINT64;
  gboolean moved = FALSE;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Member *m = value;
      guint8 buf[1500];
      gsize n;
      if (!m->wired || m->cc == NULL || m->ep == NULL)
        continue;
      while ((n = mcu_peer_cc_write_feedback (m->cc, buf, sizeof buf)) > 0)
        mcu_endpoint_send_rtcp (m->ep, buf, n);
      if (m->id != program && m->video_pt && member_level (m) == MCU_LEVEL_FULL)
        need = MAX (need, mcu_peer_cc_send_rate (m->cc, now));
    }
  if (need > 0)
    leg->full_need = need; /* kept while nobody is at full */
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Member *m = value;
      if (!m->wired || m->cc == NULL || m->id == program || m->video_pt == 0
          || m->level != MCU_LEVEL_FULL)
        continue;
      McuBwe *bwe = mcu_peer_cc_bwe (m->cc);
      /* sites only: a link carries a whole subtree, whose own sites move (and whose
       * node tells us its capacity by REMB); and only on a measure of the line
       * (transport-cc feedback or receiver reports), not on a REMB alone */
      gboolean low = !m->is_link && mcu_bwe_has_feedback (bwe)
                     && mcu_bwe_suggest_low (bwe, leg->full_need, now);
      if (low != m->cc_low)
        {
          m->cc_low = low;
          mcu_router_set_level (leg->router, m->id, member_level (m));
          moved = TRUE;
          g_log_structured ("lienthong-mcu", G_LOG_LEVEL_INFO, "LT_LEG", leg->id,
                            "LT_ENDPOINT", m->name, "MESSAGE",
                            "leg %s: %s to %s: downlink estimate %" G_GUINT64_FORMAT
                            " bit/s, full needs %" G_GUINT64_FORMAT,
                            leg->id, m->name, low ? "low" : "full",
                            mcu_bwe_estimate (bwe, now), leg->full_need);
        }
      /* a limit caps the tree where it costs throughput (it receives less than we
       * send it: a member that gets everything late is a busy host, not a weak
       * line) and where the member can take full at all (one that cannot, or
       * whose estimate is under the 70% of full that moves it, is on its way to
       * low: capping the program's encoder for the 2 s it takes would pull it
       * below what the rest of the tree takes); and only from transport-cc
       * feedback: an estimate from receiver reports and NACKs alone (2-6 s apart)
       * follows what we send it, so
       * at the program's start it held the chair at its first 600 kbit/s for 12 s
       * (weak-link clean-ramp); such a member moves to low instead */
      McuBweSnapshot bs;
      mcu_bwe_get (bwe, now, &bs);
      guint64 sent = mcu_peer_cc_send_rate (m->cc, now);
      if (!low && (m->is_link || mcu_peer_cc_has_twcc (m->cc))
          && mcu_bwe_limited (bwe, now, LIMITED_US) && bs.acked_bps < 0.85 * sent
          && bs.estimate_bps >= MCU_BWE_FULL_MIN_BPS
          && bs.estimate_bps >= 0.7 * leg->full_need)
        cap = MIN (cap, bs.estimate_bps);
    }
  if (moved)
    low_update (leg);
  if (leg->ticks % REPORT_EVERY == 0)
    leg_send_remb (leg, program, cap);
}

/* Whether each member at audio only gets stills of the content: where its downlink
 * estimate (when there is one) leaves room, beside its audio, for one keyframe of
 * the content every MCU_STILL_EVERY_S; else nothing, and its statistics say so. */
static void
leg_content_stills (McuLeg *leg, gint64 now)
{
  guint64 still_bps
      = (guint64)mcu_router_content_key_bytes (leg->router) * 8 / MCU_STILL_EVERY_S;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, leg->members);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Member *m = value;
      if (!m->wired || m->peer.content_pt == 0 || member_level (m) != MCU_LEVEL_AUDIO)
        continue;
      guint64 est = m->cc ? mcu_bwe_estimate (mcu_peer_cc_bwe (m->cc), now) : 0;
      gboolean fits = still_bps == 0 || est == 0 || est >= AUDIO_ONLY_BPS + still_bps;
      if (fits == m->no_stills)
        {
          m->no_stills = !fits;
          mcu_router_set_stills (leg->router, m->id, fits);
        }
    }
}

/* Keyframe retries of a pending floor switch, the active speaker, and statistics. */
static gboolean
on_tick (gpointer data)
{
  McuLeg *leg = data;
  gint64 now = g_get_monotonic_time ();
  mcu_router_tick (leg->router, now);
  if (leg->recording)
    mcu_leg_recording_tick (leg->recording, now);
  low_follow_program (leg);
  leg->ticks++;
  leg_congestion (leg, now);
  if (leg->ticks % REPORT_EVERY == 0)
    {
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init (&it, leg->members);
      while (g_hash_table_iter_next (&it, &key, &value))
        member_report (value, now);
      leg_content_stills (leg, now);
    }
  if (leg->ticks % STATS_EVERY == 0 && leg->callbacks.stats
      && g_hash_table_size (leg->members) > 0)
    {
      g_autofree char *json = leg_stats_json (leg, now);
      leg->callbacks.stats (json, leg->user_data);
    }
  guint speaker = mcu_audio_mixer_active_speaker (leg->mixer);
  if (speaker != leg->speaker)
    {
      leg->speaker = speaker;
      Member *m = speaker ? member_by_id (leg, speaker) : NULL;
      if (leg->callbacks.speaker && (m == NULL || !m->is_link))
        leg->callbacks.speaker (m ? m->name : NULL, leg->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static McuRouter *
leg_router_new (McuLeg *leg)
{
  McuRouterConfig rc = { .program_ssrc = LEG_VIDEO_SSRC,
                         .rtx_ssrc = LEG_RTX_SSRC,
                         .content_ssrc = LEG_CONTENT_SSRC,
                         .content_rtx_ssrc = LEG_CONTENT_RTX_SSRC,
                         .audio_rtx_ssrc = LEG_AUDIO_RTX_SSRC,
                         .no_retransmission = leg->no_retransmission,
                         .audio = on_router_audio,
                         .video = on_router_video,
                         .user_data = leg };
  return mcu_router_new (&rc);
}

McuLeg *
mcu_leg_new (GMainContext *context, McuCert *cert, const char *id,
             const McuEndpointConfig *config, const McuAudioMixerConfig *audio,
             const McuLegCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_return_val_if_fail (cert != NULL && id != NULL && config != NULL, NULL);
  McuLeg *leg = g_new0 (McuLeg, 1);
  leg->context
      = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  leg->cert = mcu_cert_ref (cert);
  leg->id = g_strdup (id);
  g_mutex_init (&leg->stats_lock);
  g_mutex_init (&leg->low_lock);
  leg->low_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  leg->config = *config;
  /* the configuration's strings belong to the caller: keep copies */
  leg->addresses = g_strdupv ((char **)config->ice.local_addresses);
  leg->config.ice.local_addresses = (const char *const *)leg->addresses;
  leg->config.ice.stun_server = leg->stun = g_strdup (config->ice.stun_server);
  leg->config.ice.turn_server = leg->turn = g_strdup (config->ice.turn_server);
  leg->config.ice.turn_username = leg->turn_user = g_strdup (config->ice.turn_username);
  leg->config.ice.turn_password = leg->turn_pass = g_strdup (config->ice.turn_password);
  leg->config.srtp_profiles = NULL; /* default preference: GCM first */
  leg->config.n_srtp_profiles = 0;
  if (callbacks)
    leg->callbacks = *callbacks;
  leg->user_data = user_data;
  leg->router = leg_router_new (leg);
  leg->members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, member_free);
  leg->mixer = mcu_audio_mixer_new (audio, on_mixed, leg, error);
  if (leg->mixer == NULL)
    {
      mcu_leg_free (leg);
      return NULL;
    }
  leg->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (leg->tick, on_tick, leg, NULL);
  g_source_attach (leg->tick, leg->context);
  return leg;
}

void
mcu_leg_free (McuLeg *leg)
{
  if (leg == NULL)
    return;
  if (leg->tick)
    {
      g_source_destroy (leg->tick);
      g_source_unref (leg->tick);
    }
  /* first: it is a peer of the router and a participant of the mixer */
  g_clear_pointer (&leg->recording, mcu_leg_recording_free);
  g_clear_pointer (&leg->low, mcu_video_mixer_free);
  g_hash_table_destroy (leg->members);
  mcu_audio_mixer_free (leg->mixer);
  mcu_router_free (leg->router);
  mcu_cert_unref (leg->cert);
  g_strfreev (leg->addresses);
  g_free (leg->stun);
  g_free (leg->turn);
  g_free (leg->turn_user);
  g_free (leg->turn_pass);
  g_free (leg->id);
  g_free (leg->floor_via);
  g_free (leg->content_via);
  g_mutex_clear (&leg->stats_lock);
  g_mutex_clear (&leg->low_lock);
  g_array_unref (leg->low_ids);
  g_main_context_unref (leg->context);
  g_free (leg);
}

void
mcu_leg_set_retransmission (McuLeg *leg, gboolean on)
{
  g_return_if_fail (leg != NULL);
  g_return_if_fail (g_hash_table_size (leg->members) == 0 && leg->recording == NULL);
  if (leg->no_retransmission == !on)
    return;
  leg->no_retransmission = !on;
  /* the router's setting is fixed at its creation; it has no peers yet */
  mcu_router_free (leg->router);
  leg->router = leg_router_new (leg);
}

/* The recording stopped by itself: an idle of its own, so the recorder's callback
 * has returned before it is freed. */
static gboolean
on_recording_over (gpointer data)
{
  McuLeg *leg = data;
  McuLegRecording *r = g_steal_pointer (&leg->recording);
  if (r)
    mcu_leg_recording_free_stopped (r);
  return G_SOURCE_REMOVE;
}

gboolean
mcu_leg_start_recording (McuLeg *leg, const McuRecorderConfig *config,
                         const McuLegRecordingCallbacks *callbacks, gpointer user_data,
                         GError **error)
{
  g_return_val_if_fail (leg != NULL && config != NULL, FALSE);
  if (leg->recording)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "leg %s records already",
                   leg->id);
      return FALSE;
    }
  McuLegRecordingSetup setup = { .context = leg->context,
                                 .router = leg->router,
                                 .mixer = leg->mixer,
                                 .leg_id = leg->id,
                                 .id = LEG_RECORDER_ID,
                                 .program_ssrc = LEG_VIDEO_SSRC,
                                 .content_ssrc = LEG_CONTENT_SSRC,
                                 .over = on_recording_over,
                                 .over_data = leg };
  leg->recording = mcu_leg_recording_new (&setup, config, callbacks, user_data, error);
  return leg->recording != NULL;
}

void
mcu_leg_pause_recording (McuLeg *leg, gboolean paused)
{
  g_return_if_fail (leg != NULL);
  if (leg->recording)
    mcu_leg_recording_set_paused (leg->recording, paused);
}

void
mcu_leg_stop_recording (McuLeg *leg)
{
  g_return_if_fail (leg != NULL);
  g_clear_pointer (&leg->recording, mcu_leg_recording_free);
}

gboolean
mcu_leg_is_recording (McuLeg *leg)
{
  g_return_val_if_fail (leg != NULL, FALSE);
  return leg->recording != NULL;
}

gboolean
mcu_leg_recording_paused (McuLeg *leg)
{
  g_return_val_if_fail (leg != NULL, FALSE);
  return leg->recording && mcu_leg_recording_is_paused (leg->recording);
}
