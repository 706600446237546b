/* sig-ws.h: the two WebSocket endpoints of signald: /api/v1/ws for sites and
 * dashboards, /api/v1/nodes/ws for media nodes (signaling/PROTOCOL.md). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sig-server.h"

G_BEGIN_DECLS

typedef struct _SigWs SigWs;

/* One WebSocket message type signald takes: who may send it (SigRole bits) and its
 * handler (a SigWsHandler, private to sig-ws.c). */
typedef struct
{
  const char *type;
  guint roles;
  gpointer handler;
} SigWsMessage;

/* Returns: (transfer none): every message type, for the abuse suite's matrix. */
const SigWsMessage *sig_ws_messages_get (guint *n);

/* Returns: (transfer full): the WebSocket side of @server, its handlers installed. */
SigWs *sig_ws_new (SigServer *server);
void sig_ws_free (SigWs *ws);

/**
 * sig_ws_publish:
 * @meeting_id: the meeting the event is about
 * @event: (transfer none): the event object (its "type" set)
 *
 * Sends @event to every socket subscribed to @meeting_id.
 */
void sig_ws_publish (SigWs *ws, gint64 meeting_id, JsonNode *event);

/* Returns: the number of nodes currently up, and of sites joined. */
guint sig_ws_count_nodes_up (SigWs *ws);
guint sig_ws_count_sites_connected (SigWs *ws);

/* Returns: %TRUE when a socket of @site_id is open now (its hall page is open, joined
 * or not): the hall is there, ready to join. */
gboolean sig_ws_site_online (SigWs *ws, gint64 site_id);

/* A token was deleted: every socket opened with it is closed (1008) at once and
 * nothing it still sends is acted on. Returns: the number of sockets closed. */
guint sig_ws_revoke_token (SigWs *ws, const char *token_id);

/* A node was retired (its tokens deleted, its registration removed): its socket is
 * closed, its sites re-homed, and it is forgotten. */
void sig_ws_retire_node (SigWs *ws, const char *node_id);

/* Returns: %TRUE when node @node_id is connected with fresh heartbeats. */
gboolean sig_ws_node_is_up (SigWs *ws, const char *node_id);

/* Meeting legs (sig-cascade.c): an occurrence opened or live is given to every node
 * of its cascade plan; an ended or cancelled one is closed on them. */
void sig_cascade_open (SigWs *ws, gint64 meeting_id, gint64 occurrence_id);
void sig_cascade_close (SigWs *ws, gint64 occurrence_id);
gboolean sig_cascade_is_open (SigWs *ws, gint64 occurrence_id);
/* Gives the floor to @site_id (<= 0: back to the chair) on every node of the leg.
 * Returns: FALSE when the occurrence has no open leg. */
gboolean sig_cascade_set_floor (SigWs *ws, gint64 occurrence_id, gint64 site_id);
/* Closes the legs of @meeting_id whose occurrence is no longer open or live (after a
 * cancellation). */
void sig_cascade_close_meeting (SigWs *ws, gint64 meeting_id);
/* Returns: the chair's site of an open leg, or 0. */
gint64 sig_cascade_chair_site (SigWs *ws, gint64 occurrence_id);
/* Mutes or unmutes @site_id at the node hosting it (remembered for its reconnects)
 * and publishes a mute event. Returns: FALSE when the occurrence has no open leg. */
gboolean sig_cascade_set_muted (SigWs *ws, gint64 occurrence_id, gint64 site_id,
                                gboolean muted);
/* Sets what @site_id receives (@level: "full", "low", "audio") at its node, kept for
 * its next offer, and publishes a level event. FALSE without an open leg. */
gboolean sig_cascade_set_level (SigWs *ws, gint64 occurrence_id, gint64 site_id,
                                const char *level);
/* Returns: (transfer full) (nullable): the running leg of @occurrence_id as JSON
 * (chair and floor sites, plan nodes with parent, up and sites, muted sites, pinned
 * levels, the endpoint states the nodes reported); NULL without an open leg. */
JsonNode *sig_cascade_describe (SigWs *ws, gint64 occurrence_id);
/* (nullable) (transfer none): the last state @node_id reported for @endpoint. */
const char *sig_cascade_endpoint_get_state (SigWs *ws, gint64 occurrence_id,
                                            const char *node_id, const char *endpoint);

G_END_DECLS
