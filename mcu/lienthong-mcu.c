/* lienthong-mcu: the media node daemon. */
#include "lt-config.h"
#include "node.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* sd_notify's protocol: one datagram per state to $NOTIFY_SOCKET. signald has the
 * same dozen lines; neither module may include the other's code, and a shared
 * library for one function is not worth its build rules. */
static void
notify (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (path == NULL || (path[0] != '/' && path[0] != '@')
      || strlen (path) >= sizeof sa.sun_path)
    return;
  memcpy (sa.sun_path, path, strlen (path));
  if (path[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
          (socklen_t)(offsetof (struct sockaddr_un, sun_path) + strlen (path)));
  close (fd);
}

static gboolean
on_watchdog (gpointer data)
{
  notify ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* Reads [node] of a configuration file (keys as the long options, see
 * lienthong.conf(5)); options given on the command line win. */
static gboolean
load_config (const char *path, char **signald, char **node_id, char **unit,
             char **token_file, GStrv *addresses, char **stun, int *stun_port,
             int *consent_ms, int *complexity, gboolean *no_retransmission,
             char **state_dir, char **http, char **recordings_dir, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  /* literal keys, one call each: tests/deploy checks every key read is documented */
  if (*signald == NULL)
    *signald = g_key_file_get_string (kf, "node", "signald", NULL);
  if (*node_id == NULL)
    *node_id = g_key_file_get_string (kf, "node", "node-id", NULL);
  if (*unit == NULL)
    *unit = g_key_file_get_string (kf, "node", "unit", NULL);
  if (*token_file == NULL)
    *token_file = g_key_file_get_string (kf, "node", "token-file", NULL);
  if (*stun == NULL)
    *stun = g_key_file_get_string (kf, "node", "stun", NULL);
  if (*state_dir == NULL)
    *state_dir = g_key_file_get_string (kf, "node", "state-dir", NULL);
  if (*http == NULL)
    *http = g_key_file_get_string (kf, "node", "http", NULL);
  if (*recordings_dir == NULL)
    *recordings_dir = g_key_file_get_string (kf, "node", "recordings-dir", NULL);
  if (*addresses == NULL)
    *addresses = g_key_file_get_string_list (kf, "node", "address", NULL, NULL);
  g_autoptr (GError) e = NULL;
  int v = g_key_file_get_integer (kf, "node", "stun-port", &e);
  if (*stun_port == 0 && e == NULL)
    *stun_port = v;
  g_clear_error (&e);
  v = g_key_file_get_integer (kf, "node", "consent-timeout-ms", &e);
  if (*consent_ms == 0 && e == NULL)
    *consent_ms = v;
  g_clear_error (&e);
  v = g_key_file_get_integer (kf, "node", "opus-complexity", &e);
  if (*complexity == 0 && e == NULL)
    *complexity = v;
  g_clear_error (&e);
  gboolean off = g_key_file_get_boolean (kf, "node", "no-retransmission", &e);
  if (!*no_retransmission && e == NULL)
    *no_retransmission = off;
  return TRUE;
}

static gboolean
on_signal (gpointer loop)
{
  notify ("STOPPING=1");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Writes where the HTTP endpoint listens, for scripts and tests that asked for port 0. */
static gboolean
write_addr_file (const char *state_dir, const char *bound, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "mcu-http.addr", NULL);
  g_autofree char *line = g_strdup_printf ("%s\n", bound);
  return g_file_set_contents (path, line, -1, error);
}

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  g_autofree char *state_dir = NULL, *http = NULL, *node_id = NULL, *unit = NULL;
  g_autofree char *stun = NULL, *signald = NULL, *token_file = NULL, *config = NULL;
  g_autofree char *recordings_dir = NULL;
  g_auto (GStrv) addresses = NULL;
  int consent_ms = 0, stun_port = 0, complexity = 0;
  gboolean no_retransmission = FALSE;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
      NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
      "Read [node] of this file (keys as the long options)", "FILE" },
    { "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Keep the DTLS certificate here (default: a new one each start)", "DIR" },
    { "http", 0, 0, G_OPTION_ARG_STRING, &http,
      "Serve POST /api/v1/echo on this loopback address (port 0: any)", "ADDR:PORT" },
    { "address", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      "Gather ICE host candidates on this IP (repeat; default: every interface)", "IP" },
    { "stun", 0, 0, G_OPTION_ARG_STRING, &stun, "STUN server IP address", "IP" },
    { "stun-port", 0, 0, G_OPTION_ARG_INT, &stun_port, "STUN server port", "PORT" },
    { "consent-timeout-ms", 0, 0, G_OPTION_ARG_INT, &consent_ms,
      "End a session after this long without consent (default 30000)", "MS" },
    { "opus-complexity", 0, 0, G_OPTION_ARG_INT, &complexity,
      "Opus encoder complexity of the audio mixes, 1-10 (default 5)", "N" },
    { "no-retransmission", 0, 0, G_OPTION_ARG_NONE, &no_retransmission,
      "Negotiate no RTX and send or answer no NACKs (loss is left to keyframes; "
      "for comparisons)",
      NULL },
    { "node-id", 0, 0, G_OPTION_ARG_STRING, &node_id, "This node's id", "ID" },
    { "unit", 0, 0, G_OPTION_ARG_STRING, &unit, "The unit whose subtree it serves",
      "CODE" },
    { "signald", 0, 0, G_OPTION_ARG_STRING, &signald,
      "Register with this signald and serve its meetings", "URL" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "The node token for signald (or $LIENTHONG_NODE_TOKEN)", "FILE" },
    { "recordings-dir", 0, 0, G_OPTION_ARG_FILENAME, &recordings_dir,
      "Record meetings here when signald asks, one folder per recording "
      "(default: no recording)",
      "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- lienthong media node (MCU)");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_option_context_set_description (
      ctx, "Relays and mixes the media of meetings. With --http it answers echo tests\n"
           "(\"test my line\") on loopback without signald.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("lienthong-mcu: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("lienthong-mcu %s (GStreamer %s)\n", LT_VERSION, gst_version_string ());
      return 0;
    }
  if (config
      && !load_config (config, &signald, &node_id, &unit, &token_file, &addresses, &stun,
                       &stun_port, &consent_ms, &complexity, &no_retransmission,
                       &state_dir, &http, &recordings_dir, &error))
    {
      g_printerr ("lienthong-mcu: %s: %s\n", config, error->message);
      return 2;
    }
  if (complexity < 0 || complexity > 10)
    {
      g_printerr ("lienthong-mcu: opus-complexity must be 1 to 10, not %d\n", complexity);
      return 2;
    }
  if (http == NULL && signald == NULL)
    {
      g_printerr ("lienthong-mcu: nothing to serve: give --signald URL (with --node-id, "
                  "--unit and a node token) and/or --http ADDR:PORT\n");
      return 2;
    }
  g_autofree char *token = NULL;
  if (signald)
    {
      if (token_file && !g_file_get_contents (token_file, &token, NULL, &error))
        {
          g_printerr ("lienthong-mcu: %s\n", error->message);
          return 1;
        }
      if (token == NULL)
        token = g_strdup (g_getenv ("LIENTHONG_NODE_TOKEN"));
      if (token == NULL || node_id == NULL || unit == NULL)
        {
          g_printerr ("lienthong-mcu: --signald needs --node-id, --unit and a node token "
                      "(--token-file or $LIENTHONG_NODE_TOKEN)\n");
          return 2;
        }
    }
  if (state_dir && g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      g_printerr ("lienthong-mcu: cannot create %s\n", state_dir);
      return 1;
    }
  McuNodeConfig cfg = {
    .state_dir = state_dir,
    .node_id = node_id,
    .unit = unit,
    .addresses = (const char *const *)addresses,
    .stun_server = stun,
    .stun_port = (guint)MAX (stun_port, 0),
    .consent_timeout_ms = (guint)MAX (consent_ms, 0),
    .opus_complexity = (guint)complexity,
    .no_retransmission = no_retransmission,
    .recordings_dir = recordings_dir,
  };
  g_autoptr (McuNode) node = mcu_node_new (NULL, &cfg, &error);
  if (node == NULL)
    {
      g_printerr ("lienthong-mcu: %s\n", error->message);
      return 1;
    }
  g_autofree char *bound = NULL;
  if (http
      && (!mcu_node_listen_http (node, http, &bound, &error)
          || (state_dir && !write_addr_file (state_dir, bound, &error))))
    {
      g_printerr ("lienthong-mcu: %s\n", error->message);
      return 1;
    }
  if (signald && !mcu_node_connect_signald (node, signald, token, &error))
    {
      g_printerr ("lienthong-mcu: %s\n", error->message);
      return 1;
    }
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_MESSAGE, "MESSAGE",
                    "node %s serving%s%s%s%s, fingerprint %s",
                    node_id ? node_id : "(echo)", bound ? " echo on http://" : "",
                    bound ? bound : "", signald ? " for " : "", signald ? signald : "",
                    mcu_node_get_fingerprint (node));
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  notify ("READY=1");
  const char *wd = g_getenv ("WATCHDOG_USEC");
  guint64 wd_usec = wd ? g_ascii_strtoull (wd, NULL, 10) : 0;
  if (wd_usec > 0)
    g_timeout_add ((guint)MAX (wd_usec / 2000, 100), on_watchdog, NULL);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);
  return 0;
}
