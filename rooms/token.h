/* token.h: API tokens, stored for signaling. signaling hashes the secret and compares
 * in constant time; librooms only keeps (id, hash, role, scope, expiry). */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct _RoomsToken RoomsToken;
const char *rooms_token_get_id (const RoomsToken *token);
/* Lower-case hex SHA-256 of the secret. */
const char *rooms_token_get_hash (const RoomsToken *token);
const char *rooms_token_get_role (const RoomsToken *token);
/* (nullable): a scope string of signaling's choosing (e.g. a unit code). */
const char *rooms_token_get_scope (const RoomsToken *token);
/* (nullable): the unit a node token's node serves, fixed when the token was made. */
const char *rooms_token_get_unit (const RoomsToken *token);
/* -1: never expires. */
gint64 rooms_token_get_expires_at (const RoomsToken *token);
gint64 rooms_token_get_created_at (const RoomsToken *token);
void rooms_token_free (RoomsToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsToken, rooms_token_free)

/* Stores a token; created_at is rooms_store_now(). @unit: (nullable) the unit of a
 * node token. ROOMS_ERROR_INVALID (empty id or role, hash not 64 hex digits, id or
 * hash already present). */
gboolean rooms_store_add_token (RoomsStore *store, const char *id, const char *hash_hex,
                                const char *role, const char *scope, const char *unit,
                                gint64 expires_at, GError **error);
/* Deletes every token of @role with @scope (a node's tokens when it is retired).
 * Returns: the number deleted, -1 on a store error */
gint64 rooms_store_delete_tokens_of (RoomsStore *store, const char *role,
                                     const char *scope, GError **error);
/* Returns: (transfer full) (nullable): the token with this hash (expired ones too; the
 * caller checks expiry); %NULL with ROOMS_ERROR_NOT_FOUND */
RoomsToken *rooms_store_find_token_by_hash (RoomsStore *store, const char *hash_hex,
                                            GError **error);
/* Returns: (transfer full) (element-type RoomsToken): all tokens by id. */
GPtrArray *rooms_store_list_tokens (RoomsStore *store);
/* ROOMS_ERROR_NOT_FOUND */
gboolean rooms_store_delete_token (RoomsStore *store, const char *id, GError **error);

G_END_DECLS
