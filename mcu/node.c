/* node.c: McuNode. Echo sessions are kept until their endpoint fails or closes, or
 * until the same key asks again; the HTTP harness is a thin adapter over them. */
#include "node.h"
#include "node-private.h"
#include "cert.h"
#include "echo.h"
#include "leg.h"
#include "mcu-error.h"
#include "peer-setup.h"

#include <libsoup/soup.h>
#include <string.h>

#define MAX_OFFER (64 * 1024)

McuNode *
mcu_node_new (GMainContext *context, const McuNodeConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_autoptr (McuCert) cert = config->state_dir
                                 ? mcu_cert_load_or_generate (config->state_dir, error)
                                 : mcu_cert_generate ("lienthong-mcu", error);
  if (cert == NULL)
    return NULL;
  McuNode *n = g_new0 (McuNode, 1);
  n->context
      = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  n->cert = g_steal_pointer (&cert);
  n->addresses = g_strdupv ((char **)config->addresses);
  n->stun = g_strdup (config->stun_server);
  n->turn = g_strdup (config->turn_server);
  n->turn_user = g_strdup (config->turn_username);
  n->turn_pass = g_strdup (config->turn_password);
  n->node_id = g_strdup (config->node_id ? config->node_id : "node");
  n->unit = g_strdup (config->unit);
  n->recordings_dir = g_strdup (config->recordings_dir);
  n->capacity = config->capacity ? config->capacity : 500;
  McuIceConfig *ice = &n->ep_config.ice;
  ice->controlling = FALSE; /* sites are browsers: they control */
  ice->local_addresses = (const char *const *)n->addresses;
  ice->stun_server = n->stun;
  ice->stun_port = config->stun_port;
  ice->turn_server = n->turn;
  ice->turn_port = config->turn_port;
  ice->turn_username = n->turn_user;
  ice->turn_password = n->turn_pass;
  ice->consent_timeout_ms = config->consent_timeout_ms;
  n->audio_config.complexity = config->opus_complexity;
  n->no_retransmission = config->no_retransmission;
  n->echoes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)mcu_echo_free);
  n->legs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify)mcu_leg_free);
  return n;
}

void
mcu_node_free (McuNode *n)
{
  if (n == NULL)
    return;
  if (n->http)
    {
      soup_server_disconnect (n->http);
      g_object_unref (n->http);
    }
  /* the control channel first: nothing new may arrive while the legs close */
  mcu_node_control_free (n->control);
  g_hash_table_destroy (n->legs);
  g_hash_table_destroy (n->echoes);
  mcu_cert_unref (n->cert);
  g_strfreev (n->addresses);
  g_free (n->stun);
  g_free (n->turn);
  g_free (n->turn_user);
  g_free (n->turn_pass);
  g_free (n->node_id);
  g_free (n->unit);
  g_free (n->recordings_dir);
  g_main_context_unref (n->context);
  g_free (n);
}

const char *
mcu_node_get_fingerprint (McuNode *n)
{
  return mcu_cert_get_fingerprint (n->cert);
}

typedef struct
{
  McuNode *node;
  char *key;
  McuNodeAnswerFunc callback;
  gpointer user_data;
  gint64 offer_us;
} EchoRequest;

typedef struct
{
  McuNode *node;
  McuEndpoint *ep; /* identifies the echo; not a reference */
} EchoReap;

static gboolean
reap_echo (gpointer data)
{
  EchoReap *r = data;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, r->node->echoes);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (mcu_echo_get_endpoint (value) == r->ep)
      {
        g_signal_handlers_disconnect_by_data (r->ep, r->node);
        g_hash_table_iter_remove (&it);
        break;
      }
  return G_SOURCE_REMOVE;
}

/* An echo whose transport is gone is dropped, so a node never accumulates them;
 * later, from an idle callback, since a handler must not drop the endpoint's last
 * reference while it emits. */
static void
on_echo_state (McuEndpoint *ep, int state, gpointer data)
{
  if (state != MCU_ENDPOINT_STATE_FAILED && state != MCU_ENDPOINT_STATE_CLOSED)
    return;
  EchoReap *r = g_new (EchoReap, 1);
  r->node = data;
  r->ep = ep;
  GSource *idle = g_idle_source_new ();
  g_source_set_callback (idle, reap_echo, r, g_free);
  g_source_attach (idle, r->node->context);
  g_source_unref (idle);
}

static void
on_echo_answer (McuEndpoint *ep, McuSdpSession *session, const char *answer,
                const GError *error, gpointer data)
{
  EchoRequest *r = data;
  if (ep)
    {
      McuEcho *echo = mcu_echo_new (ep, session, 0xEC40A0D1, 0xEC40F1D2, r->offer_us);
      g_signal_connect (ep, "state-changed", G_CALLBACK (on_echo_state), r->node);
      g_hash_table_replace (r->node->echoes, g_steal_pointer (&r->key), echo);
    }
  r->callback (answer, error, r->user_data);
  g_free (r->key);
  g_free (r);
}

void
mcu_node_echo_async (McuNode *n, const char *key, const char *offer,
                     McuNodeAnswerFunc callback, gpointer user_data)
{
  g_return_if_fail (n != NULL && offer != NULL && callback != NULL);
  EchoRequest *r = g_new0 (EchoRequest, 1);
  r->node = n;
  r->key = key ? g_strdup (key) : g_strdup_printf ("echo-%u", ++n->next_echo);
  r->callback = callback;
  r->user_data = user_data;
  r->offer_us = g_get_monotonic_time ();
  McuEndpointConfig cfg = n->ep_config;
  cfg.name = r->key;
  McuPeerStreams ours
      = { .audio_ssrc = 0xEC40A0D1, .video_ssrc = 0xEC40F1D2, .cname = n->node_id };
  mcu_peer_answer_async (n->context, n->cert, &cfg, offer, &ours, on_echo_answer, r);
}

guint
mcu_node_n_legs (McuNode *n)
{
  return g_hash_table_size (n->legs);
}

guint
mcu_node_n_echoes (McuNode *n)
{
  return g_hash_table_size (n->echoes);
}

static void
http_error (SoupServerMessage *msg, guint status, const char *message)
{
  g_autofree char *body = g_strdup_printf ("%s\n", message);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY,
                                    body, strlen (body));
}

static void
on_http_answer (const char *answer, const GError *error, gpointer data)
{
  SoupServerMessage *msg = data;
  if (answer)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
      soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY, answer,
                                        strlen (answer));
    }
  else
    http_error (msg,
                g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID)
                        || g_error_matches (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED)
                    ? SOUP_STATUS_BAD_REQUEST
                    : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                error ? error->message : "no answer");
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* The echo sessions alive now and their time to first media, for tests. */
static char *
echo_stats_json (McuNode *n)
{
  GString *out = g_string_new ("{\"sessions\":");
  g_string_append_printf (out, "%u,\"first_media_ms\":[", g_hash_table_size (n->echoes));
  GHashTableIter it;
  gpointer key, value;
  gboolean first = TRUE;
  g_hash_table_iter_init (&it, n->echoes);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      double ms = mcu_echo_get_first_media_ms (value);
      if (ms < 0)
        continue;
      g_string_append_printf (out, "%s%.1f", first ? "" : ",", ms);
      first = FALSE;
    }
  g_string_append (out, "]}\n");
  return g_string_free (out, FALSE);
}

static void
on_http (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  McuNode *n = data;
  const char *method = soup_server_message_get_method (msg);
  if (g_str_equal (path, "/healthz") && g_str_equal (method, "GET"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok\n", 3);
      return;
    }
  if (g_str_equal (path, "/api/v1/echo/stats") && g_str_equal (method, "GET"))
    {
      g_autofree char *body = echo_stats_json (n);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                        strlen (body));
      return;
    }
  if (!g_str_equal (path, "/api/v1/echo"))
    {
      http_error (msg, SOUP_STATUS_NOT_FOUND, "not found");
      return;
    }
  if (!g_str_equal (method, "POST"))
    {
      http_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST with an SDP offer");
      return;
    }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length == 0 || body->length > MAX_OFFER)
    {
      http_error (msg,
                  body->length ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
                               : SOUP_STATUS_BAD_REQUEST,
                  body->length ? "offer over 64 KiB" : "empty offer");
      return;
    }
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autofree char *offer
      = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (strlen (offer) != g_bytes_get_size (bytes) || !g_utf8_validate (offer, -1, NULL))
    {
      http_error (msg, SOUP_STATUS_BAD_REQUEST, "the offer is not UTF-8 text");
      return;
    }
  soup_server_message_pause (msg);
  mcu_node_echo_async (n, NULL, offer, on_http_answer, g_object_ref (msg));
}

gboolean
mcu_node_listen_http (McuNode *n, const char *address, char **bound, GError **error)
{
  g_return_val_if_fail (n != NULL && address != NULL, FALSE);
  g_autoptr (GSocketConnectable) where = g_network_address_parse (address, 0, error);
  if (where == NULL)
    return FALSE;
  GNetworkAddress *na = G_NETWORK_ADDRESS (where);
  g_autoptr (GInetAddress) ip
      = g_inet_address_new_from_string (g_network_address_get_hostname (na));
  if (ip == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "--http wants an IP address and port, not %s", address);
      return FALSE;
    }
  g_autoptr (GSocketAddress) sa
      = g_inet_socket_address_new (ip, g_network_address_get_port (na));
  n->http = soup_server_new ("server-header", "lienthong-mcu", NULL);
  soup_server_add_handler (n->http, NULL, on_http, n, NULL);
  if (!soup_server_listen (n->http, sa, 0, error))
    return FALSE;
  if (bound)
    {
      /* from the listening socket itself: soup_server_get_uris() leaks in 3.2 */
      GSList *listeners = soup_server_get_listeners (n->http);
      g_autoptr (GSocketAddress) local
          = listeners ? g_socket_get_local_address (listeners->data, error) : NULL;
      g_slist_free (listeners);
      if (local == NULL)
        return FALSE;
      g_autofree char *ip = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
      *bound = g_strdup_printf (
          "%s:%u", ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
    }
  return TRUE;
}
