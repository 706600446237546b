/* sig-runtime-private.h: what the runtime's files (sig-runtime.c, sig-cascade.c,
 * sig-links.c, sig-alarms.c) share. Transports include sig-runtime.h only. */
#pragma once

#include "sig-links.h"
#include "sig-runtime.h"

G_BEGIN_DECLS

typedef struct
{
  char *id;
  gint64 last_heartbeat_us;
  gboolean up;
  char *fingerprint; /* as registered: signald vouches for it to the node's peers */
} SigNode;

struct _SigRuntime
{
  RoomsStore *store;
  const SigConfig *config;
  SigSinkFuncs sink;
  gpointer sink_data;
  GHashTable *nodes; /* node id -> SigNode* */
  GHashTable *legs;  /* occurrence id (gint64*) -> leg (sig-cascade.c) */
  SigLinks *links;
  GHashTable *recordings; /* occurrence id -> what records it (sig-recording.c) */
  guint heartbeat_source;
};

/* Returns: (nullable) (transfer none): node @node_id when it is up. */
SigNode *sig_runtime_node_up (SigRuntime *rt, const char *node_id);

/* sig-cascade.c */
void sig_cascade_init (SigRuntime *rt);
void sig_cascade_clear (SigRuntime *rt);
/* A node registered: legs without a plan yet are opened, its legs given again, its
 * children told to redial it, and a leg it is new to takes it when that only adds. */
void sig_cascade_node_up (SigRuntime *rt, const char *node_id);
/* A node went down: the floor and the content are told again (their ways may change
 * with re-homing). */
void sig_cascade_node_down (SigRuntime *rt, const char *node_id);
/* Ends @b (an event of @occurrence_id) with its meeting_id and sends it to the
 * meeting's subscribers and every site of the occurrence. */
void sig_cascade_publish_all (SigRuntime *rt, gint64 occurrence_id, JsonBuilder *b);
/* Tells child node @child to dial its parent in the leg of @occurrence_id. */
void sig_cascade_dial (SigRuntime *rt, gint64 occurrence_id, const char *child);
/* The node hosting @site_id in an open leg: planned, or re-homed above it. */
const char *sig_cascade_node_for_site (SigRuntime *rt, gint64 occurrence_id,
                                       gint64 site_id);
/* The node carrying @site_id's media now: the one its last offer went to while up,
 * else the one a join would go to. */
const char *sig_cascade_site_node (SigRuntime *rt, gint64 occurrence_id, gint64 site_id);

G_END_DECLS
