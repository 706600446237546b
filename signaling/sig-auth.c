/* sig-auth.c: tokens, roles and the failed-authentication limiter. */
#include "sig-auth.h"

#include "sig-error.h"

#include <string.h>
#include <sys/random.h>

static const struct
{
  SigRole role;
  const char *name;
} role_names[] = {
  { SIG_ROLE_ADMIN, "admin" }, { SIG_ROLE_SECRETARY, "secretary" },
  { SIG_ROLE_SITE, "site" },   { SIG_ROLE_IT, "it" },
  { SIG_ROLE_NODE, "node" },
};

SigRole
sig_role_from_string (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (role_names); i++)
    if (g_strcmp0 (name, role_names[i].name) == 0)
      return role_names[i].role;
  return SIG_ROLE_NONE;
}

const char *
sig_role_to_string (SigRole role)
{
  for (gsize i = 0; i < G_N_ELEMENTS (role_names); i++)
    if (role_names[i].role == role)
      return role_names[i].name;
  return "none";
}

void
sig_principal_free (SigPrincipal *principal)
{
  if (principal == NULL)
    return;
  g_free (principal->scope);
  g_free (principal->token_id);
  g_free (principal->unit);
  g_free (principal->account);
  g_free (principal->full_name);
  g_free (principal->csrf_hash);
  g_free (principal);
}

gboolean
sig_node_id_valid (const char *id)
{
  gsize n = 0;
  for (const char *p = id; p && *p; p++, n++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return n >= 1 && n <= 64;
}

char *
sig_token_hash (const char *secret)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1);
}

static void
random_hex (char *out, gsize n_bytes)
{
  guint8 buf[64];
  g_assert (n_bytes <= sizeof buf);
  gsize got = 0;
  while (got < n_bytes)
    {
      ssize_t r = getrandom (buf + got, n_bytes - got, 0);
      if (r < 0)
        g_error ("getrandom failed: %s", g_strerror (errno));
      got += (gsize)r;
    }
  for (gsize i = 0; i < n_bytes; i++)
    g_snprintf (out + 2 * i, 3, "%02x", buf[i]);
}

char *
sig_token_generate (char **id)
{
  char secret[65], tid[17];
  random_hex (secret, 32);
  random_hex (tid, 8);
  if (id != NULL)
    *id = g_strconcat ("tok_", tid, NULL);
  return g_strdup (secret);
}

gboolean
sig_hash_equal (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guint8 diff = la != lb;
  gsize n = MIN (la, lb);
  for (gsize i = 0; i < n; i++)
    diff |= (guint8)a[i] ^ (guint8)b[i];
  return diff == 0;
}

SigPrincipal *
sig_authenticate (RoomsStore *store, const char *header, gint64 now, GError **error)
{
  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                           "missing bearer token");
      return NULL;
    }
  const char *secret = header + 7;
  while (*secret == ' ')
    secret++;
  if (*secret == '\0' || strlen (secret) > 256)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED, "malformed token");
      return NULL;
    }
  g_autofree char *hash = sig_token_hash (secret);
  g_autoptr (RoomsToken) token = rooms_store_find_token_by_hash (store, hash, NULL);
  if (token == NULL || !sig_hash_equal (rooms_token_get_hash (token), hash))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED, "unknown token");
      return NULL;
    }
  gint64 expires = rooms_token_get_expires_at (token);
  if (expires >= 0 && expires <= now)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED, "expired token");
      return NULL;
    }
  SigRole role = sig_role_from_string (rooms_token_get_role (token));
  if (role == SIG_ROLE_NONE)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                           "token with an unknown role");
      return NULL;
    }
  SigPrincipal *p = g_new0 (SigPrincipal, 1);
  p->role = role;
  p->scope = g_strdup (rooms_token_get_scope (token));
  p->token_id = g_strdup (rooms_token_get_id (token));
  p->unit = g_strdup (rooms_token_get_unit (token));
  p->expires_at = expires;
  return p;
}

char *
sig_session_from_cookie (const char *header)
{
  if (header == NULL || strlen (header) > 8192)
    return NULL;
  g_auto (GStrv) items = g_strsplit (header, ";", 64);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      if (!g_str_has_prefix (item, SIG_SESSION_COOKIE "="))
        continue;
      const char *v = item + strlen (SIG_SESSION_COOKIE "=");
      if (strlen (v) != 64)
        return NULL;
      for (const char *c = v; *c; c++)
        if (!g_ascii_isxdigit (*c))
          return NULL;
      return g_ascii_strdown (v, -1);
    }
  return NULL;
}

SigPrincipal *
sig_authenticate_session (RoomsStore *store, const char *secret, gint64 now, gint64 idle,
                          gint64 lifetime, GError **error)
{
  g_autofree char *hash = sig_token_hash (secret);
  g_autoptr (RoomsSession) s = rooms_store_find_session_by_hash (store, hash, NULL);
  if (s == NULL || !sig_hash_equal (rooms_session_get_hash (s), hash))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                           "not signed in (or the session has ended)");
      return NULL;
    }
  if (now - rooms_session_get_last_seen (s) >= idle
      || now - rooms_session_get_created_at (s) >= lifetime)
    {
      rooms_store_delete_session (store, rooms_session_get_id (s), NULL);
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                           "the session has timed out; sign in again");
      return NULL;
    }
  g_autoptr (RoomsAccount) a
      = rooms_store_get_account (store, rooms_session_get_account (s), NULL);
  SigRole role = a ? sig_role_from_string (rooms_account_get_role (a)) : SIG_ROLE_NONE;
  if (a == NULL || rooms_account_get_disabled (a) || role == SIG_ROLE_NONE)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_UNAUTHORIZED,
                           "not signed in (or the session has ended)");
      return NULL;
    }
  /* the idle clock moves in minutes: one write a minute per session, not per request */
  if (now - rooms_session_get_last_seen (s) >= 60)
    rooms_store_touch_session (store, rooms_session_get_id (s), now, NULL);
  SigPrincipal *p = g_new0 (SigPrincipal, 1);
  p->role = role;
  p->scope = g_strdup (rooms_account_get_scope (a));
  p->token_id = g_strdup (rooms_session_get_id (s));
  p->expires_at = rooms_session_get_created_at (s) + lifetime;
  p->account = g_strdup (rooms_account_get_name (a));
  p->full_name = g_strdup (rooms_account_get_full_name (a));
  p->csrf_hash = g_strdup (rooms_session_get_csrf_hash (s));
  p->must_change
      = rooms_account_get_must_change (a)
        && !g_str_has_prefix (rooms_session_get_id (s), SIG_SSO_SESSION_PREFIX);
  return p;
}

/* Why a ring per address: the limiter needs only the time of the oldest of the last
 * N failures; if that is inside the window, the address is blocked. Memory per
 * address is fixed, and entries whose newest failure left the window are pruned. */
typedef struct
{
  gint64 *times; /* ring of max_failures entries */
  guint next;
  guint count;
  gint64 newest;
} FailRing;

struct _SigAuthLimiter
{
  guint max;
  gint64 window;
  GHashTable *by_addr; /* char* -> FailRing* */
  guint ops;
};

static void
fail_ring_free (gpointer data)
{
  FailRing *r = data;
  g_free (r->times);
  g_free (r);
}

SigAuthLimiter *
sig_auth_limiter_new (guint max_failures, gint64 window_us)
{
  SigAuthLimiter *l = g_new0 (SigAuthLimiter, 1);
  l->max = MAX (max_failures, 1);
  l->window = window_us;
  l->by_addr = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fail_ring_free);
  return l;
}

void
sig_auth_limiter_free (SigAuthLimiter *limiter)
{
  if (limiter == NULL)
    return;
  g_hash_table_unref (limiter->by_addr);
  g_free (limiter);
}

gboolean
sig_auth_limiter_blocked (SigAuthLimiter *limiter, const char *address, gint64 now_us)
{
  FailRing *r = g_hash_table_lookup (limiter->by_addr, address ? address : "");
  if (r == NULL || r->count < limiter->max)
    return FALSE;
  /* the ring is full: its oldest entry sits at next */
  return now_us - r->times[r->next] < limiter->window;
}

void
sig_auth_limiter_fail (SigAuthLimiter *limiter, const char *address, gint64 now_us)
{
  const char *key = address ? address : "";
  FailRing *r = g_hash_table_lookup (limiter->by_addr, key);
  if (r == NULL)
    {
      r = g_new0 (FailRing, 1);
      r->times = g_new0 (gint64, limiter->max);
      g_hash_table_insert (limiter->by_addr, g_strdup (key), r);
    }
  r->times[r->next] = now_us;
  r->next = (r->next + 1) % limiter->max;
  r->count = MIN (r->count + 1, limiter->max);
  r->newest = now_us;

  if (++limiter->ops % 256 == 0)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, limiter->by_addr);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (now_us - ((FailRing *)v)->newest >= limiter->window)
          g_hash_table_iter_remove (&it);
    }
}

/* Why a doubling wait rather than a fixed window: a window lets a guesser try
 * lockout-failures passwords per window forever, and locks the real person out for
 * the whole window after one typo too many; a wait that starts short and doubles
 * costs the person seconds and the guesser hours (5 s doubling to the cap is 9 tries
 * in the first half hour, then 4 an hour). A key's count is forgotten once it has
 * been quiet for the cap after its wait ended, so memory stays bounded by the keys
 * that failed recently. */
typedef struct
{
  guint failures;
  gint64 last;          /* the newest failure */
  gint64 blocked_until; /* >= last */
} BackoffEntry;

struct _SigBackoff
{
  guint free_failures;
  gint64 first, max;
  GHashTable *by_key; /* char* -> BackoffEntry* */
  guint ops;
};

SigBackoff *
sig_backoff_new (guint free_failures, gint64 first_wait, gint64 max_wait)
{
  SigBackoff *b = g_new0 (SigBackoff, 1);
  b->free_failures = MAX (free_failures, 1);
  b->first = MAX (first_wait, 1);
  b->max = MAX (max_wait, b->first);
  b->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return b;
}

void
sig_backoff_free (SigBackoff *backoff)
{
  if (backoff == NULL)
    return;
  g_hash_table_unref (backoff->by_key);
  g_free (backoff);
}

static gboolean
backoff_forgotten (SigBackoff *b, const BackoffEntry *e, gint64 now)
{
  return now >= e->blocked_until + b->max;
}

static BackoffEntry *
backoff_lookup (SigBackoff *b, const char *key, gint64 now)
{
  BackoffEntry *e = g_hash_table_lookup (b->by_key, key ? key : "");
  if (e != NULL && backoff_forgotten (b, e, now))
    {
      g_hash_table_remove (b->by_key, key ? key : "");
      return NULL;
    }
  return e;
}

gint64
sig_backoff_wait (SigBackoff *backoff, const char *key, gint64 now)
{
  BackoffEntry *e = backoff_lookup (backoff, key, now);
  if (e == NULL || e->blocked_until <= now)
    return 0;
  /* a clock set back must not stretch a wait past the cap */
  return MIN (e->blocked_until - now, backoff->max);
}

gint64
sig_backoff_fail (SigBackoff *backoff, const char *key, gint64 now)
{
  const char *k = key ? key : "";
  BackoffEntry *e = backoff_lookup (backoff, k, now);
  if (e == NULL)
    {
      e = g_new0 (BackoffEntry, 1);
      g_hash_table_insert (backoff->by_key, g_strdup (k), e);
    }
  if (e->failures < G_MAXUINT)
    e->failures++;
  e->last = now;
  gint64 wait = 0;
  if (e->failures >= backoff->free_failures)
    {
      guint doublings = MIN (e->failures - backoff->free_failures, 30);
      wait = MIN (backoff->first << doublings, backoff->max);
    }
  e->blocked_until = now + wait;

  if (++backoff->ops % 256 == 0)
    {
      GHashTableIter it;
      gpointer hk, v;
      g_hash_table_iter_init (&it, backoff->by_key);
      while (g_hash_table_iter_next (&it, &hk, &v))
        if (backoff_forgotten (backoff, v, now))
          g_hash_table_iter_remove (&it);
    }
  return wait;
}

void
sig_backoff_reset (SigBackoff *backoff, const char *key)
{
  g_hash_table_remove (backoff->by_key, key ? key : "");
}
