/* endpoint.c: McuEndpoint, ICE + DTLS + SRTP for one peer. */
#include "endpoint.h"
#include "demux.h"
#include "dtls.h"
#include "mcu-error.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_endpoint_debug);
#define GST_CAT_DEFAULT mcu_endpoint_debug

/* The largest datagram we accept or send (DESIGN.md): anything bigger would be
 * fragmented on a real path and is not something a WebRTC peer sends. */
#define MAX_DATAGRAM 1500

struct _McuEndpoint
{
  GObject parent;
  GMainContext *context;
  McuCert *cert;
  char *name;
  McuSrtpProfile *profiles;
  guint n_profiles;
  McuIce *ice;
  McuDtls *dtls;
  /* The one send path (ep_send) runs on any thread: the mixers' streaming threads
   * send the mixes, the main loop its reports and the receive path retransmissions
   * and keyframe requests. libsrtp's outbound session is not thread-safe (its
   * streams' rollover counters and replay lists change on every protect) and tx is
   * one buffer, so send_lock serialises protect + send. It also guards what the
   * send path reads: srtp and state are written only on the endpoint's context and
   * only under send_lock (readers on that context need no lock), and the send
   * counters. */
  GMutex send_lock;
  McuSrtp *srtp;
  McuEndpointState state;
  McuDtlsRole role;
  gboolean have_remote;
  GError *error;
  McuEndpointCounters counters;
  GPtrArray *local_candidates; /* NULL-terminated */
  guint connect_timeout_ms;
  GSource *connect_timer;
  McuEndpointPacketFunc packet_func;
  gpointer packet_data;
  GDestroyNotify packet_destroy;
  guint8 rx[MAX_DATAGRAM];
  guint8 tx[MAX_DATAGRAM];
};

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_LOCAL_CANDIDATE,
  SIGNAL_GATHERING_DONE,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (McuEndpoint, mcu_endpoint, G_TYPE_OBJECT)

const char *
mcu_endpoint_state_name (McuEndpointState state)
{
  static const char *const names[]
      = { "new", "connecting", "connected", "disconnected", "failed", "closed" };
  return (guint)state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

static gboolean
state_is_final (McuEndpointState s)
{
  return s == MCU_ENDPOINT_STATE_FAILED || s == MCU_ENDPOINT_STATE_CLOSED;
}

static void
connect_timer_stop (McuEndpoint *ep)
{
  if (ep->connect_timer != NULL)
    {
      g_source_destroy (ep->connect_timer);
      g_clear_pointer (&ep->connect_timer, g_source_unref);
    }
}

/* A signal handler must not drop the last reference to @ep. */
static void
ep_set_state (McuEndpoint *ep, McuEndpointState state)
{
  if (ep->state == state || state_is_final (ep->state))
    return;
  if (state != MCU_ENDPOINT_STATE_CONNECTING)
    connect_timer_stop (ep);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "endpoint %s: %s -> %s",
                    ep->name, mcu_endpoint_state_name (ep->state),
                    mcu_endpoint_state_name (state));
  g_mutex_lock (&ep->send_lock);
  ep->state = state;
  g_mutex_unlock (&ep->send_lock);
  g_signal_emit (ep, signals[SIGNAL_STATE_CHANGED], 0, (int)state);
}

static void
ep_fail (McuEndpoint *ep, GError *error)
{
  if (state_is_final (ep->state))
    {
      g_error_free (error);
      return;
    }
  g_clear_error (&ep->error);
  ep->error = error;
  g_message ("endpoint %s failed: %s", ep->name, error->message);
  ep_set_state (ep, MCU_ENDPOINT_STATE_FAILED);
}

/* Replaces (or with NULL, ends) the SRTP session once no send is under way. */
static void
ep_set_srtp (McuEndpoint *ep, McuSrtp *srtp)
{
  g_mutex_lock (&ep->send_lock);
  McuSrtp *old = ep->srtp;
  ep->srtp = srtp;
  g_mutex_unlock (&ep->send_lock);
  mcu_srtp_free (old);
}

/* ---- DTLS callbacks ---- */

static gboolean
on_dtls_send (McuDtls *dtls, const guint8 *buf, gsize len, gpointer data)
{
  McuEndpoint *ep = data;
  ep->counters.dtls_out++;
  return mcu_ice_send (ep->ice, buf, len);
}

static void
on_dtls_connected (McuDtls *dtls, McuSrtp *srtp, gpointer data)
{
  McuEndpoint *ep = data;
  ep_set_srtp (ep, srtp);
  mcu_ice_consent_refresh (ep->ice); /* its Finished message just verified */
  McuIceState ice_state = mcu_ice_get_state (ep->ice);
  ep_set_state (ep, ice_state == MCU_ICE_STATE_DISCONNECTED
                        ? MCU_ENDPOINT_STATE_DISCONNECTED
                        : MCU_ENDPOINT_STATE_CONNECTED);
}

static void
on_dtls_ended (McuDtls *dtls, const GError *error, gpointer data)
{
  McuEndpoint *ep = data;
  if (error != NULL)
    ep_fail (ep, g_error_copy (error));
  else
    ep_set_state (ep, MCU_ENDPOINT_STATE_CLOSED);
}

/* ---- ICE callbacks ---- */

static void
on_ice_candidate (McuIce *ice, const char *candidate, gpointer data)
{
  McuEndpoint *ep = data;
  /* keep the array NULL-terminated for mcu_endpoint_get_local_candidates() */
  g_ptr_array_index (ep->local_candidates, ep->local_candidates->len - 1)
      = g_strdup (candidate);
  g_ptr_array_add (ep->local_candidates, NULL);
  g_signal_emit (ep, signals[SIGNAL_LOCAL_CANDIDATE], 0, candidate);
}

static void
on_ice_gathering_done (McuIce *ice, gpointer data)
{
  g_signal_emit (data, signals[SIGNAL_GATHERING_DONE], 0);
}

static void
on_ice_state (McuIce *ice, McuIceState state, gpointer data)
{
  McuEndpoint *ep = data;
  switch (state)
    {
    case MCU_ICE_STATE_CONNECTED:
      if (ep->srtp != NULL)
        ep_set_state (ep, MCU_ENDPOINT_STATE_CONNECTED);
      else if (ep->dtls != NULL && mcu_dtls_get_state (ep->dtls) == MCU_DTLS_STATE_NEW)
        mcu_dtls_start (ep->dtls);
      break;
    case MCU_ICE_STATE_DISCONNECTED:
      if (ep->state == MCU_ENDPOINT_STATE_CONNECTED)
        ep_set_state (ep, MCU_ENDPOINT_STATE_DISCONNECTED);
      break;
    case MCU_ICE_STATE_FAILED:
      ep_fail (ep, g_error_new (MCU_ERROR, MCU_ERROR_ICE, "%s",
                                mcu_ice_get_consent_expired (ice)
                                    ? "ICE consent expired: the peer went silent"
                                    : "ICE failed: no candidate pair works"));
      break;
    default:
      break;
    }
}

/* The receive path, once per datagram: classify (RFC 7983), then DTLS to the
 * handshake, SRTP/SRTCP through libsrtp into the packet callback. Every exit that
 * does not deliver counts one drop reason. No allocation. */
static void
on_ice_receive (McuIce *ice, guint8 *buf, gsize len, gpointer data)
{
  McuEndpoint *ep = data;
  McuEndpointCounters *c = &ep->counters;
  if (len > MAX_DATAGRAM)
    {
      c->dropped_oversize++;
      return;
    }
  McuPacketKind kind = mcu_demux_classify (buf, len);
  if (kind == MCU_PACKET_DTLS)
    {
      c->dtls_in++;
      if (ep->dtls == NULL)
        c->dropped_unknown++; /* no remote fingerprint yet: cannot check it */
      else if (mcu_dtls_receive (ep->dtls, buf, len)
               && mcu_dtls_get_state (ep->dtls) != MCU_DTLS_STATE_FAILED)
        /* OpenSSL accepted it as part of our association (mcu_dtls_receive): bytes
         * that merely look like DTLS keep nothing alive */
        mcu_ice_consent_refresh (ep->ice);
      return;
    }
  if (kind != MCU_PACKET_RTP && kind != MCU_PACKET_RTCP)
    {
      c->dropped_unknown++;
      return;
    }
  if (ep->srtp == NULL || state_is_final (ep->state))
    {
      c->dropped_plain++;
      return;
    }
  memcpy (ep->rx, buf, len);
  gsize plain_len = len;
  gboolean is_rtcp = kind == MCU_PACKET_RTCP;
  int st = is_rtcp ? mcu_srtp_unprotect_rtcp (ep->srtp, ep->rx, &plain_len)
                   : mcu_srtp_unprotect_rtp (ep->srtp, ep->rx, &plain_len);
  switch (st)
    {
    case MCU_SRTP_OK:
      break;
    case MCU_SRTP_ERR_REPLAY:
      c->dropped_replay++;
      return;
    case MCU_SRTP_ERR_AUTH:
      c->dropped_auth++;
      return;
    default:
      c->dropped_unknown++;
      return;
    }
  mcu_ice_consent_refresh (ep->ice);
  if (is_rtcp)
    c->rtcp_in++;
  else
    c->rtp_in++;
  c->bytes_in += plain_len;
  if (ep->packet_func)
    ep->packet_func (ep, is_rtcp, ep->rx, plain_len, ep->packet_data);
}

/* ---- GObject ---- */

static void
mcu_endpoint_finalize (GObject *object)
{
  McuEndpoint *ep = MCU_ENDPOINT (object);
  connect_timer_stop (ep);
  g_clear_pointer (&ep->dtls, mcu_dtls_free);
  g_clear_pointer (&ep->ice, mcu_ice_free);
  ep_set_srtp (ep, NULL);
  if (ep->packet_destroy)
    ep->packet_destroy (ep->packet_data);
  mcu_cert_unref (ep->cert);
  g_clear_error (&ep->error);
  g_ptr_array_unref (ep->local_candidates);
  g_free (ep->profiles);
  g_free (ep->name);
  g_main_context_unref (ep->context);
  g_mutex_clear (&ep->send_lock);
  G_OBJECT_CLASS (mcu_endpoint_parent_class)->finalize (object);
}

static void
mcu_endpoint_class_init (McuEndpointClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mcu_endpoint_finalize;
  /**
   * McuEndpoint::state-changed:
   * @state: the new McuEndpointState (as int)
   */
  signals[SIGNAL_STATE_CHANGED]
      = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /**
   * McuEndpoint::local-candidate:
   * @candidate: "candidate:..." to signal to the peer (trickle)
   */
  signals[SIGNAL_LOCAL_CANDIDATE]
      = g_signal_new ("local-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /** McuEndpoint::gathering-done: all local candidates were signalled. */
  signals[SIGNAL_GATHERING_DONE]
      = g_signal_new ("gathering-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 0);
  GST_DEBUG_CATEGORY_INIT (mcu_endpoint_debug, "mcu-endpoint", 0, "peer endpoint");
}

static void
mcu_endpoint_init (McuEndpoint *ep)
{
  g_mutex_init (&ep->send_lock);
  ep->local_candidates = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (ep->local_candidates, NULL);
}

McuEndpoint *
mcu_endpoint_new (GMainContext *context, McuCert *cert, const McuEndpointConfig *config,
                  GError **error)
{
  g_return_val_if_fail (cert != NULL && config != NULL, NULL);
  g_autoptr (McuEndpoint) ep = g_object_new (MCU_TYPE_ENDPOINT, NULL);
  ep->context = g_main_context_ref (context ? context : g_main_context_default ());
  ep->cert = mcu_cert_ref (cert);
  ep->connect_timeout_ms
      = config->connect_timeout_ms ? config->connect_timeout_ms : 30000;
  static guint serial = 0;
  ep->name = config->name ? g_strdup (config->name)
                          : g_strdup_printf ("ep%u", g_atomic_int_add (&serial, 1));
  if (config->srtp_profiles && config->n_srtp_profiles)
    {
      ep->profiles = g_memdup2 (config->srtp_profiles,
                                config->n_srtp_profiles * sizeof (McuSrtpProfile));
      ep->n_profiles = config->n_srtp_profiles;
    }
  static const McuIceCallbacks ice_cb = {
    .local_candidate = on_ice_candidate,
    .gathering_done = on_ice_gathering_done,
    .state_changed = on_ice_state,
    .receive = on_ice_receive,
  };
  ep->ice = mcu_ice_new (ep->context, &config->ice, &ice_cb, ep, error);
  if (ep->ice == NULL)
    return NULL;
  return g_steal_pointer (&ep);
}

const char *
mcu_endpoint_get_local_ufrag (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return mcu_ice_get_local_ufrag (ep->ice);
}

const char *
mcu_endpoint_get_local_pwd (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return mcu_ice_get_local_pwd (ep->ice);
}

const char *
mcu_endpoint_get_local_fingerprint (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return mcu_cert_get_fingerprint (ep->cert);
}

const char *
mcu_endpoint_get_local_setup (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  if (!ep->have_remote)
    return "actpass";
  return ep->role == MCU_DTLS_ROLE_CLIENT ? "active" : "passive";
}

static gboolean
connect_timed_out (gpointer data)
{
  McuEndpoint *ep = data;
  g_clear_pointer (&ep->connect_timer, g_source_unref);
  ep_fail (ep, g_error_new (MCU_ERROR, MCU_ERROR_ICE,
                            "not connected after %u ms (ICE %s, DTLS %s)",
                            ep->connect_timeout_ms,
                            mcu_ice_state_name (mcu_ice_get_state (ep->ice)),
                            ep->dtls ? "started" : "waiting for remote parameters"));
  return G_SOURCE_REMOVE;
}

gboolean
mcu_endpoint_start (McuEndpoint *ep, GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  if (ep->state != MCU_ENDPOINT_STATE_NEW)
    return TRUE;
  if (!mcu_ice_gather (ep->ice, error))
    return FALSE;
  ep_set_state (ep, MCU_ENDPOINT_STATE_CONNECTING);
  ep->connect_timer = g_timeout_source_new (ep->connect_timeout_ms);
  g_source_set_callback (ep->connect_timer, connect_timed_out, ep, NULL);
  g_source_attach (ep->connect_timer, ep->context);
  return TRUE;
}

gboolean
mcu_endpoint_set_remote (McuEndpoint *ep, const char *ufrag, const char *pwd,
                         const char *fingerprint, const char *setup,
                         const char *const *candidates, GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  if (ep->have_remote)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "remote parameters are already set (an ICE restart uses "
                   "mcu_endpoint_set_remote_ice())");
      return FALSE;
    }
  McuDtlsRole role;
  if (g_strcmp0 (setup, "active") == 0)
    role = MCU_DTLS_ROLE_SERVER;
  else if (g_strcmp0 (setup, "passive") == 0 || g_strcmp0 (setup, "actpass") == 0)
    role = MCU_DTLS_ROLE_CLIENT;
  else
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "unusable a=setup: %s",
                   setup ? setup : "none");
      return FALSE;
    }
  static const McuDtlsCallbacks dtls_cb = {
    .send = on_dtls_send,
    .connected = on_dtls_connected,
    .ended = on_dtls_ended,
  };
  /* Build the DTLS side first: it validates the fingerprint and profiles, so a
   * refusal leaves the ICE agent untouched. */
  g_autoptr (McuDtls) dtls
      = mcu_dtls_new (ep->context, ep->cert, role, fingerprint, ep->profiles,
                      ep->n_profiles, &dtls_cb, ep, error);
  if (dtls == NULL || !mcu_ice_set_remote_credentials (ep->ice, ufrag, pwd, error))
    return FALSE;
  ep->dtls = g_steal_pointer (&dtls);
  ep->role = role;
  ep->have_remote = TRUE;
  for (guint i = 0; candidates && candidates[i]; i++)
    {
      g_autoptr (GError) local_error = NULL;
      if (!mcu_ice_add_remote_candidate (ep->ice, candidates[i], &local_error))
        GST_INFO ("endpoint %s: skipping remote candidate: %s", ep->name,
                  local_error->message);
    }
  McuIceState s = mcu_ice_get_state (ep->ice);
  if (s == MCU_ICE_STATE_CONNECTED || s == MCU_ICE_STATE_DISCONNECTED)
    mcu_dtls_start (ep->dtls);
  return TRUE;
}

gboolean
mcu_endpoint_set_remote_sdp (McuEndpoint *ep, const McuSdpSession *session,
                             GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep) && session != NULL, FALSE);
  /* the role the exchange settled on: to an "actpass" offer our answer may have
   * taken either role, so the peer's is the opposite of ours, not its own word */
  const char *local = mcu_sdp_session_local_setup (session);
  const char *remote = local == NULL ? mcu_sdp_session_remote_setup (session)
                       : g_str_equal (local, "passive") ? "active"
                                                        : "passive";
  return mcu_endpoint_set_remote (ep, mcu_sdp_session_remote_ufrag (session),
                                  mcu_sdp_session_remote_pwd (session),
                                  mcu_sdp_session_remote_fingerprint (session), remote,
                                  mcu_sdp_session_remote_candidates (session), error);
}

gboolean
mcu_endpoint_add_remote_candidate (McuEndpoint *ep, const char *candidate, GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  return mcu_ice_add_remote_candidate (ep->ice, candidate, error);
}

const char *const *
mcu_endpoint_get_local_candidates (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return (const char *const *)ep->local_candidates->pdata;
}

gboolean
mcu_endpoint_restart_ice (McuEndpoint *ep, GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  if (state_is_final (ep->state) || !ep->have_remote)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "ICE restart needs a live endpoint with remote parameters (state %s)",
                   mcu_endpoint_state_name (ep->state));
      return FALSE;
    }
  if (!mcu_ice_restart (ep->ice, error))
    return FALSE;
  if (ep->state == MCU_ENDPOINT_STATE_CONNECTED)
    ep_set_state (ep, MCU_ENDPOINT_STATE_DISCONNECTED);
  return TRUE;
}

gboolean
mcu_endpoint_set_remote_ice (McuEndpoint *ep, const char *ufrag, const char *pwd,
                             const char *const *candidates, GError **error)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  if (!ep->have_remote)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "use mcu_endpoint_set_remote() for the first remote parameters");
      return FALSE;
    }
  /* The peer restarted without us: restart our side too so both use fresh
   * credentials (RFC 8445 section 9). */
  if (mcu_ice_get_state (ep->ice) != MCU_ICE_STATE_CHECKING
      && !mcu_endpoint_restart_ice (ep, error))
    return FALSE;
  if (!mcu_ice_set_remote_credentials (ep->ice, ufrag, pwd, error))
    return FALSE;
  for (guint i = 0; candidates && candidates[i]; i++)
    {
      g_autoptr (GError) local_error = NULL;
      if (!mcu_ice_add_remote_candidate (ep->ice, candidates[i], &local_error))
        GST_INFO ("endpoint %s: skipping remote candidate: %s", ep->name,
                  local_error->message);
    }
  return TRUE;
}

void
mcu_endpoint_set_packet_func (McuEndpoint *ep, McuEndpointPacketFunc func,
                              gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (MCU_IS_ENDPOINT (ep));
  if (ep->packet_destroy)
    ep->packet_destroy (ep->packet_data);
  ep->packet_func = func;
  ep->packet_data = user_data;
  ep->packet_destroy = destroy;
}

/* The endpoint's one send path: every RTP and RTCP packet we protect (the mixes,
 * the relayed program, retransmissions, keyframe requests, reports, node links)
 * comes through here, from any thread. Protects a copy (the caller's packet may go
 * to several receivers) and sends it under send_lock, so one SRTP session never
 * protects two packets at once and packets leave in the order they were protected
 * (a receiver's replay window would drop one that overtook many others). */
static int
ep_send (McuEndpoint *ep, const guint8 *buf, gsize len, gboolean is_rtcp)
{
  int st = MCU_SRTP_OK;
  g_mutex_lock (&ep->send_lock);
  if (ep->srtp == NULL
      || (ep->state != MCU_ENDPOINT_STATE_CONNECTED
          && ep->state != MCU_ENDPOINT_STATE_DISCONNECTED))
    st = MCU_SRTP_ERR_INVALID;
  else if (buf == NULL || len == 0 || len > MAX_DATAGRAM)
    st = len > MAX_DATAGRAM ? MCU_SRTP_ERR_TOO_BIG : MCU_SRTP_ERR_INVALID;
  else
    {
      memcpy (ep->tx, buf, len);
      gsize out = len;
      st = is_rtcp ? mcu_srtp_protect_rtcp (ep->srtp, ep->tx, &out, sizeof ep->tx)
                   : mcu_srtp_protect_rtp (ep->srtp, ep->tx, &out, sizeof ep->tx);
      if (st == MCU_SRTP_OK && !mcu_ice_send (ep->ice, ep->tx, out))
        st = MCU_SRTP_ERR_INVALID;
    }
  if (st != MCU_SRTP_OK)
    ep->counters.send_failed++;
  else
    {
      if (is_rtcp)
        ep->counters.rtcp_out++;
      else
        ep->counters.rtp_out++;
      ep->counters.bytes_out += len;
    }
  g_mutex_unlock (&ep->send_lock);
  return st;
}

int
mcu_endpoint_send_rtp (McuEndpoint *ep, const guint8 *buf, gsize len)
{
  return ep_send (ep, buf, len, FALSE);
}

int
mcu_endpoint_send_rtcp (McuEndpoint *ep, const guint8 *buf, gsize len)
{
  return ep_send (ep, buf, len, TRUE);
}

void
mcu_endpoint_close (McuEndpoint *ep)
{
  g_return_if_fail (MCU_IS_ENDPOINT (ep));
  if (ep->dtls != NULL)
    mcu_dtls_close (ep->dtls);
  ep_set_srtp (ep, NULL);
  ep_set_state (ep, MCU_ENDPOINT_STATE_CLOSED);
}

McuEndpointState
mcu_endpoint_get_state (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), MCU_ENDPOINT_STATE_FAILED);
  return ep->state;
}

void
mcu_endpoint_get_counters (McuEndpoint *ep, McuEndpointCounters *out)
{
  g_return_if_fail (MCU_IS_ENDPOINT (ep) && out != NULL);
  g_mutex_lock (&ep->send_lock); /* the send counters change on any thread */
  *out = ep->counters;
  g_mutex_unlock (&ep->send_lock);
}

McuSrtpProfile
mcu_endpoint_get_srtp_profile (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), 0);
  return ep->dtls ? mcu_dtls_get_profile (ep->dtls) : 0;
}

const GError *
mcu_endpoint_get_error (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return ep->error;
}

McuIce *
mcu_endpoint_get_ice (McuEndpoint *ep)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), NULL);
  return ep->ice;
}

gboolean
mcu_endpoint_get_pair_types (McuEndpoint *ep, const char **local_type,
                             const char **remote_type)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep), FALSE);
  if (ep->ice == NULL)
    {
      if (local_type)
        *local_type = "";
      if (remote_type)
        *remote_type = "";
      return FALSE;
    }
  return mcu_ice_get_pair_types (ep->ice, local_type, remote_type);
}
