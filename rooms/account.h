/* account.h: people's accounts and their sign-in sessions, stored for signaling.
 *
 * librooms keeps what signaling hands it: a folded user name, a role and scope string
 * of signaling's vocabulary, a password hash in a self-describing text (the KDF and
 * its parameters inside), and sessions by the hash of their secret. It never sees a
 * password or a session secret. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* The longest user name, in bytes (ASCII letters, digits, '.', '_', '-'). */
#define ROOMS_ACCOUNT_NAME_MAX 64

typedef struct _RoomsAccount RoomsAccount;
/* The folded (lower-case) user name. */
const char *rooms_account_get_name (const RoomsAccount *account);
const char *rooms_account_get_full_name (const RoomsAccount *account);
const char *rooms_account_get_role (const RoomsAccount *account);
/* (nullable) */
const char *rooms_account_get_scope (const RoomsAccount *account);
gboolean rooms_account_get_disabled (const RoomsAccount *account);
gboolean rooms_account_get_must_change (const RoomsAccount *account);
/* The stored password hash (KDF, parameters, salt and hash in one text). */
const char *rooms_account_get_password_hash (const RoomsAccount *account);
gint64 rooms_account_get_created_at (const RoomsAccount *account);
gint64 rooms_account_get_updated_at (const RoomsAccount *account);
void rooms_account_free (RoomsAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsAccount, rooms_account_free)

/**
 * rooms_account_fold_name:
 * @name: (transfer none): a user name as typed
 *
 * Returns: (transfer full) (nullable): the folded name (ASCII lower case), or %NULL
 *   when @name is empty, too long or holds a character other than ASCII letters,
 *   digits, '.', '_' and '-'
 */
char *rooms_account_fold_name (const char *name);

/* Stores a new account (created_at = updated_at = rooms_store_now()).
 * ROOMS_ERROR_INVALID (bad name, empty full name, role or hash),
 * ROOMS_ERROR_CONFLICT (the folded name is taken). */
gboolean rooms_store_add_account (RoomsStore *store, const char *name,
                                  const char *full_name, const char *role,
                                  const char *scope, const char *password_hash,
                                  gboolean must_change, GError **error);
/* Returns: (transfer full) (nullable): the account of @name (folded here);
 * ROOMS_ERROR_NOT_FOUND */
RoomsAccount *rooms_store_get_account (RoomsStore *store, const char *name,
                                       GError **error);
/* Returns: (transfer full) (element-type RoomsAccount): all accounts by name. */
GPtrArray *rooms_store_list_accounts (RoomsStore *store);
/* Disables or enables an account; disabling deletes its sessions in the same
 * transaction. @ended: (out) (optional) (transfer full) (element-type utf8): the ids of
 * the sessions ended. ROOMS_ERROR_NOT_FOUND */
gboolean rooms_store_set_account_disabled (RoomsStore *store, const char *name,
                                           gboolean disabled, GPtrArray **ended,
                                           GError **error);
/* Replaces the password hash and the must-change flag, and deletes every session of
 * the account but @keep_session (nullable: all), in one transaction.
 * @ended: as for rooms_store_set_account_disabled(). ROOMS_ERROR_NOT_FOUND */
gboolean rooms_store_set_account_password (RoomsStore *store, const char *name,
                                           const char *password_hash,
                                           gboolean must_change, const char *keep_session,
                                           GPtrArray **ended, GError **error);

typedef struct _RoomsSession RoomsSession;
/* The public id of a session ("ses_" and hex), never its secret. */
const char *rooms_session_get_id (const RoomsSession *session);
const char *rooms_session_get_account (const RoomsSession *session);
/* Lower-case hex SHA-256 of the session's CSRF token. */
const char *rooms_session_get_csrf_hash (const RoomsSession *session);
const char *rooms_session_get_hash (const RoomsSession *session);
gint64 rooms_session_get_created_at (const RoomsSession *session);
gint64 rooms_session_get_last_seen (const RoomsSession *session);
void rooms_session_free (RoomsSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsSession, rooms_session_free)

/* Stores a session of @account (created_at = last_seen = rooms_store_now()).
 * @hash_hex, @csrf_hash_hex: 64 lower-case hex digits. ROOMS_ERROR_INVALID,
 * ROOMS_ERROR_NOT_FOUND (no such account). */
gboolean rooms_store_add_session (RoomsStore *store, const char *id, const char *hash_hex,
                                  const char *account, const char *csrf_hash_hex,
                                  GError **error);
/* Returns: (transfer full) (nullable): the session with this hash; NOT_FOUND */
RoomsSession *rooms_store_find_session_by_hash (RoomsStore *store, const char *hash_hex,
                                                GError **error);
/* Notes activity on session @id at @now (the idle timeout counts from it). */
gboolean rooms_store_touch_session (RoomsStore *store, const char *id, gint64 now,
                                    GError **error);
/* Ends session @id. ROOMS_ERROR_NOT_FOUND */
gboolean rooms_store_delete_session (RoomsStore *store, const char *id, GError **error);

G_END_DECLS
