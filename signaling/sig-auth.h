/* sig-auth.h: bearer tokens, roles and scopes, and the failed-authentication limiter.
 *
 * A token is 32 random bytes shown once, in hex, to whoever created it; the store
 * keeps only its SHA-256 (librooms' token table). A request presents it as
 * `Authorization: Bearer TOKEN`; signald hashes it, finds the stored row by hash and
 * compares the hashes in constant time before trusting the row's role and scope. */
#pragma once

#include <glib.h>

#include "rooms.h"

G_BEGIN_DECLS

/* Roles as bits, so a route states the set it admits in one word. */
typedef enum
{
  SIG_ROLE_NONE = 0,
  SIG_ROLE_ADMIN = 1 << 0,
  SIG_ROLE_SECRETARY = 1 << 1,
  SIG_ROLE_SITE = 1 << 2,
  SIG_ROLE_IT = 1 << 3,
  SIG_ROLE_NODE = 1 << 4,
  SIG_ROLE_PUBLIC = 1 << 5, /* no token needed */
} SigRole;

#define SIG_ROLES_PEOPLE \
  (SIG_ROLE_ADMIN | SIG_ROLE_SECRETARY | SIG_ROLE_SITE | SIG_ROLE_IT)

/* Returns: the role named @name ("admin", ...), or SIG_ROLE_NONE. */
SigRole sig_role_from_string (const char *name);
/* Returns: (transfer none): the name of a single role. */
const char *sig_role_to_string (SigRole role);

/* Who made a request. The scope means, by role: secretary = a unit code (subtree),
 * site = a site id, node = a node id; admin and it have none (everything). */
typedef struct
{
  SigRole role;
  char *scope;
  char *token_id;
  char *unit;        /* (nullable) nodes: the unit their token names */
  gint64 expires_at; /* UTC unix seconds, -1: never; checked on open sockets too */
  /* a person signed in with a session cookie (token_id is then the session's id, so
   * ending the session closes its sockets like revoking a token): */
  char *account;        /* (nullable) the folded user name */
  char *full_name;      /* (nullable) */
  char *csrf_hash;      /* (nullable) SHA-256 hex of the session's CSRF token */
  gboolean must_change; /* the password must be changed before anything else */
} SigPrincipal;

/* The name of the session cookie. */
#define SIG_SESSION_COOKIE "lt_session"
/* The id prefix of sessions opened by single sign-on (their password did not sign
 * them in, so a must-change flag does not hold them). */
#define SIG_SSO_SESSION_PREFIX "sso_"

/* Returns: %TRUE when @id is a well-formed node id: 1 to 64 of ASCII letters, digits,
 * '-', '_' and '.'. Node ids name log fields, legs and metrics labels. */
gboolean sig_node_id_valid (const char *id);

void sig_principal_free (SigPrincipal *principal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigPrincipal, sig_principal_free)

/**
 * sig_token_hash:
 * @secret: (transfer none): the token as presented
 *
 * Returns: (transfer full): lower-case hex SHA-256 of @secret
 */
char *sig_token_hash (const char *secret);

/**
 * sig_token_generate:
 * @id: (out) (transfer full): a fresh public token id ("tok_" + 16 hex digits)
 *
 * Returns: (transfer full): a fresh secret, 64 hex digits from the kernel's CSPRNG
 */
char *sig_token_generate (char **id);

/**
 * sig_hash_equal:
 *
 * Compares two strings in time that depends only on their lengths.
 *
 * Returns: %TRUE when equal
 */
gboolean sig_hash_equal (const char *a, const char *b);

/**
 * sig_authenticate:
 * @header: (transfer none) (nullable): the Authorization header
 * @now: UTC unix seconds (token expiry)
 * @error: SIG_ERROR_UNAUTHORIZED (missing, malformed, unknown or expired token)
 *
 * Returns: (transfer full) (nullable): the principal
 */
SigPrincipal *sig_authenticate (RoomsStore *store, const char *header, gint64 now,
                                GError **error);

/**
 * sig_session_from_cookie:
 * @header: (transfer none) (nullable): the Cookie header
 *
 * Returns: (transfer full) (nullable): the session secret the header carries (64 hex
 *   digits), or %NULL when it carries none or a malformed one
 */
char *sig_session_from_cookie (const char *header);

/**
 * sig_authenticate_session:
 * @secret: (transfer none): the session secret from the cookie
 * @now: UTC unix seconds
 * @idle: seconds without a request after which the session is over
 * @lifetime: seconds from sign-in after which the session is over
 * @error: SIG_ERROR_UNAUTHORIZED (unknown or ended session, disabled account)
 *
 * Finds the session by the hash of @secret and the account it belongs to; a session
 * past its timeouts is deleted on the way.
 *
 * Returns: (transfer full) (nullable): the principal, with the account's role and
 *   scope
 */
SigPrincipal *sig_authenticate_session (RoomsStore *store, const char *secret, gint64 now,
                                        gint64 idle, gint64 lifetime, GError **error);

/* Counts failed authentications per client address over a sliding minute. */
typedef struct _SigAuthLimiter SigAuthLimiter;

/**
 * sig_auth_limiter_new:
 * @max_failures: failures allowed per address within @window_us
 * @window_us: the window, in monotonic microseconds
 *
 * Returns: (transfer full): a limiter
 */
SigAuthLimiter *sig_auth_limiter_new (guint max_failures, gint64 window_us);
void sig_auth_limiter_free (SigAuthLimiter *limiter);
/* Returns: %TRUE when @address has used up its failures in the window ending @now_us. */
gboolean sig_auth_limiter_blocked (SigAuthLimiter *limiter, const char *address,
                                   gint64 now_us);
/* Notes one failed authentication from @address at @now_us. */
void sig_auth_limiter_fail (SigAuthLimiter *limiter, const char *address, gint64 now_us);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigAuthLimiter, sig_auth_limiter_free)

/* A growing back-off on wrong passwords, per key (a user name, a client address):
 * the first @free_failures - 1 failures cost nothing, the next one makes the key wait
 * @first_wait seconds, and each further one doubles the wait up to @max_wait. Times
 * are seconds of one clock that never goes back in production (monotonic). */
typedef struct _SigBackoff SigBackoff;

/* Returns: (transfer full): a back-off with no key failing yet */
SigBackoff *sig_backoff_new (guint free_failures, gint64 first_wait, gint64 max_wait);
void sig_backoff_free (SigBackoff *backoff);
/* Returns: the seconds @key must still wait at @now; 0 when it may try. */
gint64 sig_backoff_wait (SigBackoff *backoff, const char *key, gint64 now);
/* Notes a failure of @key at @now. Returns: the wait it now has (0: none yet). */
gint64 sig_backoff_fail (SigBackoff *backoff, const char *key, gint64 now);
/* Forgets @key's failures (a success). */
void sig_backoff_reset (SigBackoff *backoff, const char *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigBackoff, sig_backoff_free)

G_END_DECLS
