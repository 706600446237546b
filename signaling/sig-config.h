/* sig-config.h: the configuration of lienthong-signald.
 *
 * One GKeyFile (by default /etc/lienthong/signald.conf) merged with the drop-ins of a
 * `signald.conf.d/` folder beside it, in name order, later keys overriding earlier
 * ones; then the command-line overrides. Every key has a default, so signald runs
 * with no file at all. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *listen;            /* [server] listen = ADDR:PORT (127.0.0.1:8480) */
  char *state_dir;         /* [server] state-dir (/var/lib/lienthong) */
  int drain_grace;         /* [server] drain-grace seconds after SIGTERM (30) */
  int retry_after;         /* [server] retry-after seconds sent while draining (30) */
  char **allowed_origins;  /* [server] allowed-origins, for browsers' WebSockets */
  char **trusted_proxies;  /* [server] trusted-proxies: addresses whose X-Forwarded-For
                              is believed (none) */
  int heartbeat_interval;  /* [nodes] heartbeat-interval seconds (5) */
  int heartbeat_misses;    /* [nodes] heartbeat-misses before a node is down (3) */
  gint64 redial_base_ms;   /* [nodes] redial-base-ms: first uplink redial delay (1000) */
  gint64 redial_max_ms;    /* [nodes] redial-max-ms: the longest delay (30000) */
  gint64 lobby_window;     /* [meetings] lobby-window seconds (900) */
  gint64 attendance_grace; /* [meetings] attendance-grace seconds (300) */
  char **tiers;            /* [units] tiers, top first (NULL: the store's) */
  gint64 session_idle;     /* [auth] session-idle seconds without a request (14400) */
  gint64 session_lifetime; /* [auth] session-lifetime seconds from sign-in (43200) */
  int lockout_failures;    /* [auth] lockout-failures: wrong sign-ins of one user name
                              before the back-off starts (5) */
  gint64 backoff_first;    /* [auth] backoff-first: the first wait, seconds (5) */
  gint64 backoff_max;      /* [auth] backoff-max: the longest wait, seconds (900) */
  char *trusted_header;    /* [auth] trusted-header: the user name a trusted proxy
                              vouches for (NULL: single sign-on off) */
  gint64 audit_retention;  /* [audit] retention-days, in days (365) */
  char *recordings_dir;    /* [recordings] dir: where the nodes' recordings are read
                              from, the folder every node's --recordings-dir shares
                              (<state-dir>/recordings) */
  int recording_segment_s; /* [recordings] segment-seconds: each file's length (60) */
  gint64 recording_keep_days; /* [recordings] keep-days, 0 keeps them forever (0) */
  gint64 fake_now;       /* [testing] now = UTC unix seconds pinned (-1: real clock) */
  gboolean fake_running; /* [testing] running: the pinned clock runs from @fake_now */
  char *now_file;        /* [testing] now-file: a file whose number, when there, is
                              the pinned clock (tests move time forward by writing it) */
  int test_scrypt_log_n; /* [testing] scrypt-log-n: a cheaper KDF for tests (0: not) */
  gint64 loaded_us;      /* monotonic time the configuration was read */
  GKeyFile *keyfile;     /* the merged file, for sections read by their module */
} SigConfig;

/**
 * sig_config_load:
 * @path: (transfer none) (nullable): the main file; %NULL for the defaults only.
 *   A missing main file is an error only when @required.
 * @error: G_KEY_FILE_ERROR or G_FILE_ERROR naming the file at fault
 *
 * Returns: (transfer full) (nullable): the configuration
 */
SigConfig *sig_config_load (const char *path, gboolean required, GError **error);

/**
 * sig_config_parse_listen:
 * @listen: (transfer none): "ADDR:PORT", "[V6]:PORT"
 * @host: (out) (transfer full)
 * @port: (out)
 *
 * Returns: %TRUE when well formed
 */
gboolean sig_config_parse_listen (const char *listen, char **host, guint16 *port);

/* Returns: the current time (UTC unix seconds): the real clock, or the one [testing]
 * pins (standing, or running from the pinned second). */
gint64 sig_config_now (const SigConfig *config);

/* Lets sig_config_load() read the [testing] section; called by the test build's
 * main only, so that no production configuration can pin the clock. */
void sig_config_allow_testing (void);

void sig_config_free (SigConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigConfig, sig_config_free)

G_END_DECLS
