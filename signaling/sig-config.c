/* sig-config.c: GKeyFile configuration with a drop-in folder. */
#include "sig-config.h"

#include <gio/gio.h>

#include <stdlib.h>
#include <string.h>

void
sig_config_free (SigConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->state_dir);
  g_free (config->recordings_dir);
  g_strfreev (config->allowed_origins);
  g_strfreev (config->trusted_proxies);
  g_strfreev (config->tiers);
  g_free (config->trusted_header);
  g_free (config->now_file);
  g_clear_pointer (&config->keyfile, g_key_file_unref);
  g_free (config);
}

/* Copies every key of @from into @into: a drop-in overrides key by key, it does not
 * replace whole groups. */
static void
merge_keyfile (GKeyFile *into, GKeyFile *from)
{
  g_auto (GStrv) groups = g_key_file_get_groups (from, NULL);
  for (char **g = groups; *g; g++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (from, *g, NULL, NULL);
      for (char **k = keys; k && *k; k++)
        {
          g_autofree char *v = g_key_file_get_value (from, *g, *k, NULL);
          if (v != NULL)
            g_key_file_set_value (into, *g, *k, v);
        }
    }
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static gboolean
load_dropins (GKeyFile *kf, const char *main_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (main_path);
  g_autofree char *dropin_dir = g_build_filename (dir, "signald.conf.d", NULL);
  g_autoptr (GDir) d = g_dir_open (dropin_dir, 0, NULL);
  if (d == NULL)
    return TRUE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_str);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *p = g_build_filename (dropin_dir, names->pdata[i], NULL);
      g_autoptr (GKeyFile) drop = g_key_file_new ();
      g_autoptr (GError) local = NULL;
      if (!g_key_file_load_from_file (drop, p, G_KEY_FILE_NONE, &local))
        {
          g_set_error (error, local->domain, local->code, "%s: %s", p, local->message);
          return FALSE;
        }
      merge_keyfile (kf, drop);
    }
  return TRUE;
}

static gboolean
get_int (GKeyFile *kf, const char *group, const char *key, gint64 min, gint64 max,
         gint64 *out, GError **error)
{
  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  g_autoptr (GError) local = NULL;
  gint64 v = g_key_file_get_int64 (kf, group, key, &local);
  if (local != NULL || v < min || v > max)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s must be an integer from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT,
                   group, key, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* An HTTP header name, and not one that carries something else already. */
static gboolean
header_name_ok (const char *name)
{
  static const char *const reserved[] = {
    "authorization", "cookie", "host", "origin", "x-forwarded-for", "x-csrf-token"
  };
  if (*name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-')
      return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (g_ascii_strcasecmp (name, reserved[i]) == 0)
      return FALSE;
  return TRUE;
}

/* Set only by the test build's main (lienthong-signald-test): a production daemon
 * whose clock a configuration line could pin would accept expired tokens and open
 * meetings at the wrong time. */
static gboolean testing_allowed;

void
sig_config_allow_testing (void)
{
  testing_allowed = TRUE;
}

SigConfig *
sig_config_load (const char *path, gboolean required, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (SigConfig) c = g_new0 (SigConfig, 1);

  if (path != NULL)
    {
      g_autoptr (GError) local = NULL;
      if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
        {
          if (required || !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            {
              g_set_error (error, local->domain, local->code, "%s: %s", path,
                           local->message);
              return NULL;
            }
        }
      if (!load_dropins (kf, path, error))
        return NULL;
    }

  if (!testing_allowed && g_key_file_has_group (kf, "testing"))
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           "[testing] is read only by the test build "
                           "(lienthong-signald-test); remove it from this configuration");
      return NULL;
    }
  c->listen = g_key_file_get_string (kf, "server", "listen", NULL);
  if (c->listen == NULL)
    c->listen = g_strdup ("127.0.0.1:8480");
  c->state_dir = g_key_file_get_string (kf, "server", "state-dir", NULL);
  if (c->state_dir == NULL)
    c->state_dir = g_strdup ("/var/lib/lienthong");
  c->allowed_origins
      = g_key_file_get_string_list (kf, "server", "allowed-origins", NULL, NULL);
  c->tiers = g_key_file_get_string_list (kf, "units", "tiers", NULL, NULL);
  c->trusted_proxies
      = g_key_file_get_string_list (kf, "server", "trusted-proxies", NULL, NULL);
  for (char **p = c->trusted_proxies; p && *p; p++)
    {
      g_strstrip (*p);
      g_autoptr (GInetAddress) a = g_inet_address_new_from_string (*p);
      if (a == NULL)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "[server] trusted-proxies: %s is not an IP address", *p);
          return NULL;
        }
    }

  gint64 grace = 30, retry = 30, hb = 5, misses = 3, lobby = 900, agrace = 300, now = -1;
  gint64 redial_base = 1000, redial_max = 30000;
  gint64 idle = 14400, lifetime = 43200, lock_n = 5, retention = 365;
  gint64 backoff_first = 5, backoff_max = 900, scrypt_log_n = 0;
  gint64 segment_s = 60, keep_days = 0;
  if (!get_int (kf, "server", "drain-grace", 0, 3600, &grace, error)
      || !get_int (kf, "server", "retry-after", 0, 3600, &retry, error)
      || !get_int (kf, "nodes", "heartbeat-interval", 1, 3600, &hb, error)
      || !get_int (kf, "nodes", "heartbeat-misses", 1, 100, &misses, error)
      || !get_int (kf, "nodes", "redial-base-ms", 1, 600000, &redial_base, error)
      || !get_int (kf, "nodes", "redial-max-ms", 1, 3600000, &redial_max, error)
      || !get_int (kf, "meetings", "lobby-window", 0, 86400, &lobby, error)
      || !get_int (kf, "meetings", "attendance-grace", 0, 86400, &agrace, error)
      || !get_int (kf, "auth", "session-idle", 60, 7 * 86400, &idle, error)
      || !get_int (kf, "auth", "session-lifetime", 60, 30 * 86400, &lifetime, error)
      || !get_int (kf, "auth", "lockout-failures", 1, 1000, &lock_n, error)
      || !get_int (kf, "auth", "backoff-first", 1, 3600, &backoff_first, error)
      || !get_int (kf, "auth", "backoff-max", 1, 86400, &backoff_max, error)
      || !get_int (kf, "testing", "scrypt-log-n", 10, 20, &scrypt_log_n, error)
      || !get_int (kf, "audit", "retention-days", 1, 36500, &retention, error)
      || !get_int (kf, "recordings", "segment-seconds", 2, 3600, &segment_s, error)
      || !get_int (kf, "recordings", "keep-days", 0, 36500, &keep_days, error)
      || !get_int (kf, "testing", "now", 0, G_MAXINT64, &now, error))
    return NULL;
  c->drain_grace = (int)grace;
  c->retry_after = (int)retry;
  c->heartbeat_interval = (int)hb;
  c->heartbeat_misses = (int)misses;
  c->redial_base_ms = redial_base;
  c->redial_max_ms = MAX (redial_max, redial_base);
  c->lobby_window = lobby;
  c->attendance_grace = agrace;
  c->session_idle = idle;
  c->session_lifetime = MAX (lifetime, idle);
  c->lockout_failures = (int)lock_n;
  c->backoff_first = backoff_first;
  c->backoff_max = MAX (backoff_max, backoff_first);
  c->test_scrypt_log_n = (int)scrypt_log_n;
  c->now_file = g_key_file_get_string (kf, "testing", "now-file", NULL);
  c->trusted_header = g_key_file_get_string (kf, "auth", "trusted-header", NULL);
  if (c->trusted_header != NULL && !header_name_ok (g_strstrip (c->trusted_header)))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[auth] trusted-header: '%s' is not a header name one may trust "
                   "(letters, digits and '-'; not Authorization, Cookie or Host)",
                   c->trusted_header);
      return NULL;
    }
  c->audit_retention = retention;
  c->recording_segment_s = (int)segment_s;
  c->recording_keep_days = keep_days;
  /* NULL: <state-dir>/recordings, decided by the server once --state-dir is known */
  c->recordings_dir = g_key_file_get_string (kf, "recordings", "dir", NULL);
  c->fake_now = now;
  c->fake_running = g_key_file_get_boolean (kf, "testing", "running", NULL);
  c->loaded_us = g_get_monotonic_time ();
  c->keyfile = g_key_file_ref (kf);

  g_autofree char *host = NULL;
  guint16 port;
  if (!sig_config_parse_listen (c->listen, &host, &port))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[server] listen must be ADDR:PORT, not '%s'", c->listen);
      return NULL;
    }
  return g_steal_pointer (&c);
}

gboolean
sig_config_parse_listen (const char *listen, char **host, guint16 *port)
{
  const char *colon = strrchr (listen, ':');
  if (colon == NULL || colon == listen || colon[1] == '\0')
    return FALSE;
  char *end = NULL;
  guint64 p = g_ascii_strtoull (colon + 1, &end, 10);
  if (*end != '\0' || p > 65535)
    return FALSE;
  const char *h = listen;
  gsize hlen = (gsize)(colon - listen);
  if (h[0] == '[')
    {
      if (hlen < 3 || h[hlen - 1] != ']')
        return FALSE;
      h++;
      hlen -= 2;
    }
  g_autofree char *hs = g_strndup (h, hlen);
  if (!g_hostname_is_ip_address (hs))
    return FALSE;
  *host = g_steal_pointer (&hs);
  *port = (guint16)p;
  return TRUE;
}

gint64
sig_config_now (const SigConfig *c)
{
  if (c->now_file != NULL)
    {
      g_autofree char *text = NULL;
      guint64 v = 0;
      if (g_file_get_contents (c->now_file, &text, NULL, NULL)
          && g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXINT64, &v, NULL))
        return (gint64)v;
    }
  if (c->fake_now >= 0 && c->fake_running)
    return c->fake_now + (g_get_monotonic_time () - c->loaded_us) / G_USEC_PER_SEC;
  if (c->fake_now >= 0)
    return c->fake_now;
  return g_get_real_time () / G_USEC_PER_SEC;
}
