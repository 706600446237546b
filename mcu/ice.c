/* ice.c: McuIce over libnice 0.1.21.
 *
 * Two libnice behaviours shape this file:
 *
 * Consent freshness. libnice 0.1.21 has an RFC 7675 mode (the "consent-freshness"
 * property), but its expiry is hard-coded to 10 s (NICE_AGENT_TIMER_CONSENT_TIMEOUT
 * in agent-priv.h), which would end a meeting on a 10 s outage that the field
 * (FIELD.md, RFC 7675's 30 s) says must survive, and tests could not shorten it. So
 * we leave that mode off and keep "keepalive-conncheck" on: libnice still sends a
 * STUN Binding request on the selected pair every ~5 s (which also keeps NAT
 * bindings and answers the browser's own consent checks), and gives up by itself
 * only after 50 s without answers. Our own rule ends the session earlier: when no
 * authenticated packet (DTLS record of our handshake, SRTP/SRTCP whose tag verified)
 * came from the peer for consent_timeout_ms (default 30 s). libnice consumes STUN
 * internally and reports no Binding responses, so authenticated media is the
 * evidence we can observe; it is stronger than a STUN response (it proves the peer
 * holds our DTLS-derived keys), and a WebRTC peer always sends some (RTCP reports
 * at least every few seconds even when it sends no media).
 *
 * Foreign sources. nice_agent_attach_recv() hands us the payload without the
 * source address. libnice itself drops data whose source is not a known remote
 * candidate (nice_component_verify_remote_candidate() in agent.c: signalled or
 * peer-reflexive ones learnt through authenticated STUN) before it reaches us, and
 * it does not count them; the alternative reader that reports addresses
 * (nice_agent_recv_messages_nonblocking) cannot coexist with attach_recv and has
 * no readiness source for unreliable agents. So foreign packets are dropped, but
 * by libnice and uncounted; McuEndpoint's "foreign" counter stays 0 until we own
 * the sockets (a NiceSocket of our own, or a libnice with a source-address hook).
 *
 * The send path. nice_agent_send() takes the agent's lock (which the transport
 * thread also holds while it reads and answers checks), then its UDP socket layer
 * takes a lock of its own, refs a GSocketAddress, converts it to a sockaddr, and
 * GSocket checks its state before the sendmsg; a would-block allocates two
 * GErrors. Once ICE selected a pair whose local side is a plain UDP socket (host,
 * server- or peer-reflexive: not a TURN relay), we send on a dup of that socket's
 * descriptor to the pair's remote address ourselves, as libnice would, and fall
 * back to nice_agent_send() otherwise (TURN, or no pair). libnice keeps reading
 * the socket and keeps its keepalive checks (sent whatever we send) and answers;
 * the dup only keeps the socket open while we may send on it, since libnice may
 * close its own descriptor when it drops the candidate. The target is re-read on
 * every new selected pair and dropped when ICE fails, restarts or closes. */
#include "ice.h"
#include "mcu-error.h"

#include <agent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (mcu_ice_debug);
#define GST_CAT_DEFAULT mcu_ice_debug

#define COMPONENT 1
#define DEFAULT_CONSENT_MS 30000

struct _McuIce
{
  GMainContext *context;
  NiceAgent *agent;
  guint stream_id;
  McuIceCallbacks cb;
  gpointer user_data;
  /* McuIceState. Written on the context only, atomically: mcu_ice_send() reads it
   * on whichever thread sends. */
  gint state;
  char *ufrag, *pwd;
  guint consent_timeout_ms;
  gint64 last_consent_us;
  GSource *consent_source;
  gboolean consent_expired;
  gboolean drop_incoming;
  gboolean gathering;
  /* The direct send target (see the top of this file): a dup of the selected
   * pair's socket, -1 for none, and the remote address. Written on the context,
   * read by mcu_ice_send() on any thread; send_lock keeps a send from using a
   * descriptor being closed. */
  GMutex send_lock;
  int send_fd;
  union
  {
    struct sockaddr sa;
    struct sockaddr_storage ss;
  } send_to;
  socklen_t send_to_len;
  McuIceSendCounters send_counters; /* under send_lock */
};

const char *
mcu_ice_state_name (McuIceState state)
{
  switch (state)
    {
    case MCU_ICE_STATE_NEW:
      return "new";
    case MCU_ICE_STATE_CHECKING:
      return "checking";
    case MCU_ICE_STATE_CONNECTED:
      return "connected";
    case MCU_ICE_STATE_FAILED:
      return "failed";
    case MCU_ICE_STATE_CLOSED:
      return "closed";
    case MCU_ICE_STATE_DISCONNECTED:
      return "disconnected";
    }
  return "unknown";
}

static void
ice_set_state (McuIce *ice, McuIceState state)
{
  if (ice->state == (gint)state)
    return;
  GST_INFO ("ice %p: %s -> %s", ice, mcu_ice_state_name (ice->state),
            mcu_ice_state_name (state));
  g_atomic_int_set (&ice->state, (gint)state);
  if (ice->cb.state_changed)
    ice->cb.state_changed (ice, state, ice->user_data);
}

/* Drops the direct send target: sends go through libnice (or fail on state). */
static void
direct_clear (McuIce *ice)
{
  g_mutex_lock (&ice->send_lock);
  int fd = ice->send_fd;
  ice->send_fd = -1;
  g_mutex_unlock (&ice->send_lock);
  if (fd >= 0)
    close (fd);
}

/* Re-reads the selected pair: a UDP pair whose local side is not a relay becomes
 * the direct target; anything else leaves sends to libnice. */
static void
direct_update (McuIce *ice)
{
  NiceCandidate *local = NULL, *remote = NULL;
  g_autoptr (GSocket) sock = NULL;
  int fd = -1;
  if (nice_agent_get_selected_pair (ice->agent, ice->stream_id, COMPONENT, &local,
                                    &remote)
      && local != NULL && remote != NULL
      && remote->transport == NICE_CANDIDATE_TRANSPORT_UDP
      /* NULL for a relayed or TCP local candidate */
      && (sock = nice_agent_get_selected_socket (ice->agent, ice->stream_id, COMPONENT))
             != NULL)
    fd = fcntl (g_socket_get_fd (sock), F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    {
      direct_clear (ice);
      return;
    }
  g_mutex_lock (&ice->send_lock);
  int old = ice->send_fd;
  ice->send_fd = fd;
  memset (&ice->send_to, 0, sizeof ice->send_to);
  nice_address_copy_to_sockaddr (&remote->addr, &ice->send_to.sa);
  ice->send_to_len = ice->send_to.sa.sa_family == AF_INET6 ? sizeof (struct sockaddr_in6)
                                                           : sizeof (struct sockaddr_in);
  g_mutex_unlock (&ice->send_lock);
  if (old >= 0)
    close (old);
  GST_DEBUG ("ice %p: sending directly on the selected %s pair", ice,
             nice_candidate_type_to_string (local->type));
}

static void
consent_stop (McuIce *ice)
{
  if (ice->consent_source != NULL)
    {
      g_source_destroy (ice->consent_source);
      g_clear_pointer (&ice->consent_source, g_source_unref);
    }
}

/* Checks the consent rule a few times per timeout, so expiry is noticed within an
 * eighth of the timeout (bounded to 50 ms .. 1 s) without a timer per packet. */
static gboolean
consent_tick (gpointer data)
{
  McuIce *ice = data;
  gint64 age_us = g_get_monotonic_time () - ice->last_consent_us;
  if (age_us <= (gint64)ice->consent_timeout_ms * 1000)
    {
      if (ice->state == MCU_ICE_STATE_CONNECTED
          && age_us > (gint64)ice->consent_timeout_ms * 1000 / 3)
        ice_set_state (ice, MCU_ICE_STATE_DISCONNECTED);
      return G_SOURCE_CONTINUE;
    }
  GST_WARNING (
      "ice %p: consent expired, nothing authenticated from the peer for %" G_GINT64_FORMAT
      " ms (limit %u ms)",
      ice, age_us / 1000, ice->consent_timeout_ms);
  ice->consent_expired = TRUE;
  g_clear_pointer (&ice->consent_source, g_source_unref);
  direct_clear (ice);
  ice_set_state (ice, MCU_ICE_STATE_FAILED);
  return G_SOURCE_REMOVE;
}

static void
consent_start (McuIce *ice)
{
  consent_stop (ice);
  ice->last_consent_us = g_get_monotonic_time ();
  guint interval = CLAMP (ice->consent_timeout_ms / 8, 50, 1000);
  ice->consent_source = g_timeout_source_new (interval);
  g_source_set_callback (ice->consent_source, consent_tick, ice, NULL);
  g_source_attach (ice->consent_source, ice->context);
}

void
mcu_ice_consent_refresh (McuIce *ice)
{
  ice->last_consent_us = g_get_monotonic_time ();
  if (G_UNLIKELY (ice->state == MCU_ICE_STATE_DISCONNECTED))
    ice_set_state (ice, MCU_ICE_STATE_CONNECTED);
}

gint64
mcu_ice_consent_age_ms (McuIce *ice)
{
  if (ice->last_consent_us == 0)
    return 0;
  return (g_get_monotonic_time () - ice->last_consent_us) / 1000;
}

gboolean
mcu_ice_get_consent_expired (McuIce *ice)
{
  return ice->consent_expired;
}

void
mcu_ice_set_drop_incoming (McuIce *ice, gboolean drop)
{
  ice->drop_incoming = drop;
}

static void
on_selected_pair (NiceAgent *agent, guint stream_id, guint component_id,
                  NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
  McuIce *ice = data;
  if (stream_id == ice->stream_id && component_id == COMPONENT)
    direct_update (ice);
}

static void
on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
         gpointer data)
{
  McuIce *ice = data;
  if (ice->drop_incoming || ice->consent_expired || len == 0)
    return;
  if (ice->cb.receive)
    ice->cb.receive (ice, (guint8 *)buf, len, ice->user_data);
}

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *cand, gpointer data)
{
  McuIce *ice = data;
  if (cand->stream_id != ice->stream_id || ice->cb.local_candidate == NULL)
    return;
  g_autofree char *sdp = nice_agent_generate_local_candidate_sdp (agent, cand);
  if (sdp == NULL)
    return;
  const char *line = g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp;
  GST_DEBUG ("ice %p: local %s", ice, line);
  ice->cb.local_candidate (ice, line, ice->user_data);
}

static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  McuIce *ice = data;
  if (stream_id != ice->stream_id)
    return;
  ice->gathering = FALSE;
  if (ice->cb.gathering_done)
    ice->cb.gathering_done (ice, ice->user_data);
}

/* libnice's component states map onto ours; CONNECTED and READY both mean a pair
 * carries data. Once consent has expired we stay FAILED until a restart, whatever
 * libnice thinks of its pair. */
static void
on_component_state (NiceAgent *agent, guint stream_id, guint component_id, guint state,
                    gpointer data)
{
  McuIce *ice = data;
  if (stream_id != ice->stream_id || ice->consent_expired)
    return;
  GST_DEBUG ("ice %p: libnice component %s", ice, nice_component_state_to_string (state));
  switch (state)
    {
    case NICE_COMPONENT_STATE_GATHERING:
    case NICE_COMPONENT_STATE_CONNECTING:
      ice_set_state (ice, MCU_ICE_STATE_CHECKING);
      break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      if (ice->state != MCU_ICE_STATE_CONNECTED
          && ice->state != MCU_ICE_STATE_DISCONNECTED)
        {
          direct_update (ice);
          consent_start (ice);
          ice_set_state (ice, MCU_ICE_STATE_CONNECTED);
        }
      break;
    case NICE_COMPONENT_STATE_FAILED:
      consent_stop (ice);
      direct_clear (ice);
      ice_set_state (ice, MCU_ICE_STATE_FAILED);
      break;
    default:
      break;
    }
}

static void
ice_refresh_credentials (McuIce *ice)
{
  g_clear_pointer (&ice->ufrag, g_free);
  g_clear_pointer (&ice->pwd, g_free);
  nice_agent_get_local_credentials (ice->agent, ice->stream_id, &ice->ufrag, &ice->pwd);
}

static gboolean
parse_address (const char *text, NiceAddress *addr, GError **error)
{
  nice_address_init (addr);
  if (text == NULL || !nice_address_set_from_string (addr, text))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "not an IP address: %s",
                   text ? text : "(null)");
      return FALSE;
    }
  return TRUE;
}

static void
ice_set_bool_if_exists (NiceAgent *agent, const char *prop, gboolean value)
{
  /* "upnp" exists only when libnice was built with gupnp-igd; setting a missing
   * property would g_warning. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (agent), prop) != NULL)
    g_object_set (agent, prop, value, NULL);
}

McuIce *
mcu_ice_new (GMainContext *context, const McuIceConfig *config,
             const McuIceCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_ice_debug, "mcu-ice", 0, "ICE transport");
      g_once_init_leave (&once, 1);
    }

  g_autoptr (McuIce) ice = g_new0 (McuIce, 1);
  g_mutex_init (&ice->send_lock);
  ice->send_fd = -1;
  ice->context = g_main_context_ref (context ? context : g_main_context_default ());
  if (callbacks)
    ice->cb = *callbacks;
  ice->user_data = user_data;
  ice->consent_timeout_ms
      = config->consent_timeout_ms ? config->consent_timeout_ms : DEFAULT_CONSENT_MS;
  ice->agent = nice_agent_new_full (ice->context, NICE_COMPATIBILITY_RFC5245,
                                    NICE_AGENT_OPTION_ICE_TRICKLE);
  g_object_set (ice->agent, "controlling-mode", config->controlling, "ice-tcp", FALSE,
                "ice-udp", TRUE, "keepalive-conncheck", TRUE, NULL);
  ice_set_bool_if_exists (ice->agent, "upnp", FALSE);
  if (config->relay_only)
    g_object_set (ice->agent, "force-relay", TRUE, NULL);

  if (config->stun_server != NULL && *config->stun_server != '\0')
    {
      NiceAddress check;
      if (!parse_address (config->stun_server, &check, error))
        return NULL;
      g_object_set (ice->agent, "stun-server", config->stun_server, "stun-server-port",
                    config->stun_port ? config->stun_port : 3478, NULL);
    }
  for (guint i = 0; config->local_addresses && config->local_addresses[i]; i++)
    {
      NiceAddress addr;
      if (!parse_address (config->local_addresses[i], &addr, error))
        return NULL;
      nice_agent_add_local_address (ice->agent, &addr);
    }

  ice->stream_id = nice_agent_add_stream (ice->agent, 1);
  if (ice->stream_id == 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_ICE, "libnice refused the stream");
      return NULL;
    }
  if (config->turn_server != NULL && *config->turn_server != '\0')
    {
      NiceAddress check;
      if (!parse_address (config->turn_server, &check, error))
        return NULL;
      if (!nice_agent_set_relay_info (ice->agent, ice->stream_id, COMPONENT,
                                      config->turn_server,
                                      config->turn_port ? config->turn_port : 3478,
                                      config->turn_username ? config->turn_username : "",
                                      config->turn_password ? config->turn_password : "",
                                      NICE_RELAY_TYPE_TURN_UDP))
        {
          g_set_error (error, MCU_ERROR, MCU_ERROR_ICE, "libnice refused TURN server %s",
                       config->turn_server);
          return NULL;
        }
    }

  g_signal_connect (ice->agent, "new-candidate-full", G_CALLBACK (on_new_candidate), ice);
  g_signal_connect (ice->agent, "candidate-gathering-done",
                    G_CALLBACK (on_gathering_done), ice);
  g_signal_connect (ice->agent, "component-state-changed",
                    G_CALLBACK (on_component_state), ice);
  g_signal_connect (ice->agent, "new-selected-pair-full", G_CALLBACK (on_selected_pair),
                    ice);
  nice_agent_attach_recv (ice->agent, ice->stream_id, COMPONENT, ice->context, on_recv,
                          ice);
  ice_refresh_credentials (ice);
  return g_steal_pointer (&ice);
}

static gint pending_closes;

static void
on_agent_closed (GObject *agent, GAsyncResult *res, gpointer data)
{
  g_object_unref (agent); /* the reference mcu_ice_free() handed over */
  g_atomic_int_dec_and_test (&pending_closes);
}

guint
mcu_ice_pending_closes (void)
{
  return (guint)g_atomic_int_get (&pending_closes);
}

void
mcu_ice_free (McuIce *ice)
{
  if (ice == NULL)
    return;
  consent_stop (ice);
  if (ice->agent != NULL)
    {
      g_signal_handlers_disconnect_by_data (ice->agent, ice);
      if (ice->stream_id != 0)
        nice_agent_attach_recv (ice->agent, ice->stream_id, COMPONENT, ice->context, NULL,
                                NULL);
      /* nice_agent_close_async() releases TURN allocations (a refresh with
       * lifetime 0) before the agent goes; its callback, on our context, drops
       * the last reference. */
      g_atomic_int_inc (&pending_closes);
      g_main_context_push_thread_default (ice->context);
      nice_agent_close_async (ice->agent, on_agent_closed, NULL);
      g_main_context_pop_thread_default (ice->context);
    }
  direct_clear (ice);
  g_mutex_clear (&ice->send_lock);
  g_free (ice->ufrag);
  g_free (ice->pwd);
  g_main_context_unref (ice->context);
  g_free (ice);
}

gboolean
mcu_ice_gather (McuIce *ice, GError **error)
{
  g_return_val_if_fail (ice != NULL, FALSE);
  ice->gathering = TRUE;
  if (!nice_agent_gather_candidates (ice->agent, ice->stream_id))
    {
      ice->gathering = FALSE;
      g_set_error (error, MCU_ERROR, MCU_ERROR_ICE,
                   "libnice could not gather candidates (no usable local address?)");
      return FALSE;
    }
  if (ice->state == MCU_ICE_STATE_NEW)
    ice_set_state (ice, MCU_ICE_STATE_CHECKING);
  return TRUE;
}

const char *
mcu_ice_get_local_ufrag (McuIce *ice)
{
  return ice->ufrag;
}

const char *
mcu_ice_get_local_pwd (McuIce *ice)
{
  return ice->pwd;
}

gboolean
mcu_ice_set_remote_credentials (McuIce *ice, const char *ufrag, const char *pwd,
                                GError **error)
{
  g_return_val_if_fail (ice != NULL, FALSE);
  if (ufrag == NULL || pwd == NULL || *ufrag == '\0' || *pwd == '\0'
      || !nice_agent_set_remote_credentials (ice->agent, ice->stream_id, ufrag, pwd))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "unusable remote ICE credentials");
      return FALSE;
    }
  return TRUE;
}

gboolean
mcu_ice_add_remote_candidate (McuIce *ice, const char *candidate, GError **error)
{
  g_return_val_if_fail (ice != NULL && candidate != NULL, FALSE);
  const char *line = candidate;
  if (g_str_has_prefix (line, "a="))
    line += 2;
  if (*line == '\0' || g_str_has_prefix (line, "end-of-candidates"))
    {
      mcu_ice_remote_gathering_done (ice);
      return TRUE;
    }
  if (!g_str_has_prefix (line, "candidate:"))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "not an ICE candidate: %.80s",
                   candidate);
      return FALSE;
    }
  /* libnice wants the attribute form and cannot resolve mDNS (.local) names. */
  g_autofree char *attr = g_strconcat ("a=", line, NULL);
  g_auto (GStrv) fields = g_strsplit (line, " ", 8);
  if (g_strv_length (fields) >= 6 && g_str_has_suffix (fields[4], ".local"))
    {
      GST_DEBUG ("ice %p: ignoring mDNS candidate %s", ice, fields[4]);
      return TRUE;
    }
  if (g_strv_length (fields) >= 3 && g_ascii_strcasecmp (fields[2], "udp") != 0)
    return TRUE; /* TCP candidates: we gather UDP only */
  NiceCandidate *cand
      = nice_agent_parse_remote_candidate_sdp (ice->agent, ice->stream_id, attr);
  if (cand == NULL || cand->component_id != COMPONENT)
    {
      if (cand)
        nice_candidate_free (cand);
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "unusable ICE candidate (component 1, UDP only): %.120s", line);
      return FALSE;
    }
  GSList list = { cand, NULL };
  int added
      = nice_agent_set_remote_candidates (ice->agent, ice->stream_id, COMPONENT, &list);
  nice_candidate_free (cand);
  if (added < 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "libnice refused candidate %.120s", line);
      return FALSE;
    }
  return TRUE;
}

void
mcu_ice_remote_gathering_done (McuIce *ice)
{
  nice_agent_peer_candidate_gathering_done (ice->agent, ice->stream_id);
}

gboolean
mcu_ice_restart (McuIce *ice, GError **error)
{
  g_return_val_if_fail (ice != NULL, FALSE);
  consent_stop (ice);
  if (!nice_agent_restart_stream (ice->agent, ice->stream_id))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_ICE, "libnice could not restart ICE");
      return FALSE;
    }
  ice->consent_expired = FALSE;
  direct_clear (ice); /* the checks select a pair again */
  ice_refresh_credentials (ice);
  ice_set_state (ice, MCU_ICE_STATE_CHECKING);
  return TRUE;
}

McuIceState
mcu_ice_get_state (McuIce *ice)
{
  return (McuIceState)ice->state;
}

gboolean
mcu_ice_send (McuIce *ice, const guint8 *buf, gsize len)
{
  McuIceState state = (McuIceState)g_atomic_int_get (&ice->state);
  if ((state != MCU_ICE_STATE_CONNECTED && state != MCU_ICE_STATE_DISCONNECTED)
      || len == 0 || len > G_MAXUINT)
    {
      g_mutex_lock (&ice->send_lock);
      ice->send_counters.refused++;
      g_mutex_unlock (&ice->send_lock);
      return FALSE;
    }
  g_mutex_lock (&ice->send_lock);
  gboolean ok;
  if (ice->send_fd >= 0)
    {
      ssize_t n = sendto (ice->send_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                          &ice->send_to.sa, ice->send_to_len);
      ok = n == (ssize_t)len;
      if (ok)
        ice->send_counters.direct++;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        ice->send_counters.would_block++;
      else
        ice->send_counters.error++;
      g_mutex_unlock (&ice->send_lock);
      return ok;
    }
  g_mutex_unlock (&ice->send_lock);
  /* TURN or no direct target: libnice's own path */
  ok = nice_agent_send (ice->agent, ice->stream_id, COMPONENT, (guint)len,
                        (const gchar *)buf)
       == (gint)len;
  g_mutex_lock (&ice->send_lock);
  if (ok)
    ice->send_counters.via_agent++;
  else
    ice->send_counters.agent_refused++;
  g_mutex_unlock (&ice->send_lock);
  return ok;
}

void
mcu_ice_get_send_counters (McuIce *ice, McuIceSendCounters *out)
{
  g_return_if_fail (ice != NULL && out != NULL);
  g_mutex_lock (&ice->send_lock);
  *out = ice->send_counters;
  g_mutex_unlock (&ice->send_lock);
}

/* The SDP names (RFC 8839) of libnice's candidate types, in NiceCandidateType order;
 * these strings are what signald and the IT board show, so they never change. */
static const char *
candidate_type_name (NiceCandidateType type)
{
  static const char *const names[] = { "host", "srflx", "prflx", "relay" };
  G_STATIC_ASSERT (NICE_CANDIDATE_TYPE_HOST == 0 && NICE_CANDIDATE_TYPE_RELAYED == 3);
  return (guint)type < G_N_ELEMENTS (names) ? names[type] : "?";
}

static void
describe_candidate (NiceCandidate *c, char *type, gsize type_len, char *addr,
                    gsize addr_len)
{
  g_strlcpy (type, candidate_type_name (c->type), type_len);
  char ip[INET6_ADDRSTRLEN] = "";
  nice_address_to_string (&c->addr, ip);
  guint port = nice_address_get_port (&c->addr);
  if (strchr (ip, ':') != NULL)
    g_snprintf (addr, addr_len, "[%s]:%u", ip, port);
  else
    g_snprintf (addr, addr_len, "%s:%u", ip, port);
}

gboolean
mcu_ice_get_selected_pair (McuIce *ice, McuIcePair *out)
{
  g_return_val_if_fail (ice != NULL && out != NULL, FALSE);
  NiceCandidate *local = NULL, *remote = NULL;
  memset (out, 0, sizeof *out);
  if (!nice_agent_get_selected_pair (ice->agent, ice->stream_id, COMPONENT, &local,
                                     &remote)
      || local == NULL || remote == NULL)
    return FALSE;
  describe_candidate (local, out->local_type, sizeof out->local_type, out->local_address,
                      sizeof out->local_address);
  describe_candidate (remote, out->remote_type, sizeof out->remote_type,
                      out->remote_address, sizeof out->remote_address);
  return TRUE;
}

gboolean
mcu_ice_get_pair_types (McuIce *ice, const char **local_type, const char **remote_type)
{
  g_return_val_if_fail (ice != NULL, FALSE);
  NiceCandidate *local = NULL, *remote = NULL;
  gboolean ok = nice_agent_get_selected_pair (ice->agent, ice->stream_id, COMPONENT,
                                              &local, &remote)
                && local != NULL && remote != NULL;
  if (local_type)
    *local_type = ok ? candidate_type_name (local->type) : "";
  if (remote_type)
    *remote_type = ok ? candidate_type_name (remote->type) : "";
  return ok;
}
