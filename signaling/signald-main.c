/* lienthong-signald: the signaling daemon. */
#include "lt-config.h"

#include "rooms.h"
#include "sig-config.h"
#include "sig-notify.h"
#include "sig-password.h"
#include "sig-prompt.h"
#include "sig-server.h"

#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct
{
  GMainLoop *loop;
  SigServer *server;
  guint watchdog;
} Daemon;

static void
drained_cb (gpointer user_data)
{
  Daemon *d = user_data;
  g_main_loop_quit (d->loop);
}

/* SIGTERM starts draining instead of quitting: bookings and joins in flight finish,
 * new ones are told to retry elsewhere, and the loop ends after the grace time. A
 * second SIGTERM or a SIGINT quits at once. */
static gboolean
sigterm_cb (gpointer user_data)
{
  Daemon *d = user_data;
  if (sig_server_is_draining (d->server))
    {
      g_main_loop_quit (d->loop);
      return G_SOURCE_CONTINUE;
    }
  sig_notify ("STOPPING=1");
  sig_server_drain (d->server, G_CALLBACK (drained_cb), d);
  return G_SOURCE_CONTINUE;
}

static gboolean
sigint_cb (gpointer user_data)
{
  Daemon *d = user_data;
  sig_notify ("STOPPING=1");
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
watchdog_cb (gpointer user_data)
{
  sig_notify ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* Why: every site of a national meeting keeps a WebSocket open (about 10,000
 * communes), far above the usual soft limit of 1024 descriptors; the hard limit is
 * what the administrator (or systemd's LimitNOFILE=) allows, so take all of it. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

/* Why from the command line: the first admin account cannot be made over the API
 * by anyone but an admin. Whoever runs this on the server (root or the service user,
 * who can read the store anyway) names the account and types its password, which is
 * never an argument (it would show in ps and the shell's history). */
static int
create_admin (SigConfig *config, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *folded = rooms_account_fold_name (name);
  if (folded == NULL)
    {
      g_printerr ("lienthong-signald: a user name is 1 to 64 ASCII letters, digits, "
                  "'.', '_' or '-'\n");
      return 2;
    }
  g_autofree char *pw = sig_prompt_secret ("Password: ");
  if (pw != NULL && sig_prompt_is_terminal ())
    {
      g_autofree char *again = sig_prompt_secret ("Password (again): ");
      gboolean same = again != NULL && strcmp (pw, again) == 0;
      if (again != NULL)
        explicit_bzero (again, strlen (again));
      if (!same)
        {
          g_printerr ("lienthong-signald: the passwords differ\n");
          return 2;
        }
    }
  if (pw == NULL || !sig_password_check_new (pw, folded, &error))
    {
      g_printerr ("lienthong-signald: %s\n",
                  error ? error->message : "no password on standard input");
      return 2;
    }
  if (g_mkdir_with_parents (config->state_dir, 0750) != 0)
    {
      g_printerr ("lienthong-signald: %s: %s\n", config->state_dir, g_strerror (errno));
      return 1;
    }
  g_autofree char *db = g_build_filename (config->state_dir, "lienthong.db", NULL);
  g_autoptr (RoomsStore) store
      = rooms_store_open (db, (const char *const *)config->tiers, &error);
  g_autofree char *hash = store ? sig_password_hash (pw, &error) : NULL;
  explicit_bzero (pw, strlen (pw));
  if (hash == NULL
      || !rooms_store_add_account (store, folded, folded, "admin", NULL, hash, FALSE,
                                   &error))
    {
      g_printerr ("lienthong-signald: %s\n", error->message);
      return 1;
    }
  g_print ("created the admin account %s\n", folded);
  return 0;
}

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  g_autofree char *config_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *create_admin_name = NULL;
  GOptionEntry entries[] = {
    { "create-admin", 0, 0, G_OPTION_ARG_STRING, &create_admin_name,
      "Create an admin account NAME (password from standard input, typed without "
      "echo on a terminal) in the store, and exit",
      "NAME" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default /etc/lienthong/signald.conf, plus signald.conf.d/)",
      "FILE" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "Address to listen on (default 127.0.0.1:8480; port 0 picks a free port)",
      "ADDR:PORT" },
    { "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &state_dir,
      "State directory: lienthong.db, admin.token, signald.addr", "DIR" },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
      NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- lienthong signaling daemon");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "Serves the lienthong HTTP/WebSocket API (see signaling/PROTOCOL.md and\n"
           "GET /api/v1/openapi.json). It binds to loopback by default: put a TLS\n"
           "reverse proxy in front of it before exposing it to a network.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("lienthong-signald: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("lienthong-signald %s\n", LT_VERSION);
      return 0;
    }

  gboolean required = config_path != NULL;
  raise_fd_limit ();
#ifdef SIG_TEST_BUILD
  sig_config_allow_testing ();
#endif
  g_autoptr (SigConfig) config = sig_config_load (
      config_path ? config_path : "/etc/lienthong/signald.conf", required, &error);
  if (config == NULL)
    {
      g_printerr ("lienthong-signald: %s\n", error->message);
      return 2;
    }
  /* only the test build reads [testing]: production always hashes at full cost */
  if (config->test_scrypt_log_n > 0)
    sig_password_set_test_cost ((guint)config->test_scrypt_log_n);
  if (listen != NULL)
    {
      g_free (config->listen);
      config->listen = g_strdup (listen);
    }
  if (state_dir != NULL)
    {
      g_free (config->state_dir);
      config->state_dir = g_strdup (state_dir);
    }

  if (create_admin_name != NULL)
    return create_admin (config, create_admin_name);

  Daemon d = { 0 };
  d.loop = g_main_loop_new (NULL, FALSE);
  d.server = sig_server_new (config, &error);
  if (d.server == NULL)
    {
      g_printerr ("lienthong-signald: %s\n", error->message);
      g_main_loop_unref (d.loop);
      return 1;
    }
  guint term = g_unix_signal_add (SIGTERM, sigterm_cb, &d);
  guint intr = g_unix_signal_add (SIGINT, sigint_cb, &d);
  guint64 wd = sig_notify_watchdog_usec ();
  if (wd > 0)
    d.watchdog = g_timeout_add ((guint)MAX (wd / 2000, 1), watchdog_cb, NULL);
  sig_notify ("READY=1");

  g_main_loop_run (d.loop);

  g_source_remove (term);
  g_source_remove (intr);
  g_clear_handle_id (&d.watchdog, g_source_remove);
  sig_server_free (d.server);
  /* libsoup finishes closing client connections from idle callbacks; let them run so
   * nothing is left half-closed (and LeakSanitizer sees no live sockets) at exit */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (d.loop);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "stopped");
  return 0;
}
