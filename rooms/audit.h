/* audit.h: the durable log of who changed what (issue 15).
 *
 * signaling writes one entry per accepted change, inside the transaction of the
 * change itself (rooms_store_audit_begin() ... rooms_store_audit_commit()): store
 * calls made in between nest as savepoints, so a change and its entry are kept or
 * lost together. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* One entry: a value, its strings owned. */
typedef struct
{
  gint64 id;         /* set by the store */
  gint64 at;         /* UTC unix seconds */
  char *actor_kind;  /* "account", "token" or "system" */
  char *actor_id;    /* the folded user name, the token id, or "signald" */
  char *actor_label; /* (nullable) a full name, a token's role */
  char *action;      /* "meeting.book", "session.sign-in-failed", ... */
  gint64 meeting_id; /* -1: none */
  gint64 site_id;    /* -1: none */
  char *target;      /* (nullable) the request path, or what was acted on */
  char *address;     /* (nullable) the client's address */
  char *detail;      /* (nullable) */
} RoomsAuditEntry;

void rooms_audit_entry_free (RoomsAuditEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsAuditEntry, rooms_audit_entry_free)

/* Starts the transaction of one audited change; store calls until the matching
 * commit or rollback nest inside it. */
gboolean rooms_store_audit_begin (RoomsStore *store, GError **error);
/* Commits it (rolled back on failure). */
gboolean rooms_store_audit_commit (RoomsStore *store, GError **error);
/* Undoes everything since rooms_store_audit_begin(). */
void rooms_store_audit_rollback (RoomsStore *store);

/* Appends @entry (its id and, when 0, its time are set by the store).
 * ROOMS_ERROR_INVALID for a missing actor or action. */
gboolean rooms_store_add_audit (RoomsStore *store, const RoomsAuditEntry *entry,
                                GError **error);

/**
 * rooms_store_list_audit:
 * @meeting_id: only entries of this meeting (-1: all)
 * @actor: (nullable): only entries of this actor id
 * @since: (-1: any) entries at or after; @until: (-1: any) entries before
 * @before_id: (-1: none) only entries older than this id (the next page)
 * @limit: at most this many, newest first
 *
 * Returns: (transfer full) (element-type RoomsAuditEntry)
 */
GPtrArray *rooms_store_list_audit (RoomsStore *store, gint64 meeting_id,
                                   const char *actor, gint64 since, gint64 until,
                                   gint64 before_id, guint limit, GError **error);

/* Deletes entries older than @before (UTC unix seconds). Returns: the number
 * deleted, -1 on a store error. */
gint64 rooms_store_prune_audit (RoomsStore *store, gint64 before, GError **error);

G_END_DECLS
