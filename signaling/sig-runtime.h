/* sig-runtime.h: what signald knows of meetings while they run (DESIGN.md, "signald
 * inside"): the node registry, one session per running occurrence (its cascade plan,
 * floor, presenter and content, mutes, the level of each site, which node hosts each
 * site, re-homing, link quality, step-down and alarms), and the clock they all read.
 *
 * The runtime takes commands (a node registered, a site's offer went to a node, the
 * floor moved, a node reported statistics) and says what follows through one sink
 * that the transports implement: messages to nodes, events to the sockets watching
 * a meeting. It knows nothing of HTTP or WebSockets; the transports (sig-server.c,
 * sig-routes*.c, sig-ws.c) call down into it and never the reverse. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rooms.h"
#include "sig-config.h"

G_BEGIN_DECLS

typedef struct _SigRuntime SigRuntime;
typedef struct _SigLinks SigLinks;

/* How the runtime speaks. Each function gets the sink's own pointer first; the event
 * and message nodes are (transfer none). */
typedef struct
{
  /* Sends @msg to the control channel of node @node_id. Returns: FALSE when that
   * node has no open channel. */
  gboolean (*to_node) (gpointer sink, const char *node_id, JsonNode *msg);
  /* Sends @event to the people's sockets subscribed to @meeting_id. */
  void (*publish) (gpointer sink, gint64 meeting_id, JsonNode *event);
  /* Sends @event to the staff (admin, IT, secretaries) subscribed to @meeting_id, or
   * to every staff socket when @meeting_id is 0; never to sites or nodes. */
  void (*publish_staff) (gpointer sink, gint64 meeting_id, JsonNode *event);
  /* Sends @event to every people's socket (node up and down). */
  void (*broadcast) (gpointer sink, JsonNode *event);
  /* Sends @event to the sockets of @site_id joined to @occurrence_id that are not
   * subscribed to @meeting_id (those had it published). */
  void (*to_site) (gpointer sink, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
                   JsonNode *event);
  /* Node @node_id went down: the sites whose media it carried must join again. */
  void (*node_down) (gpointer sink, const char *node_id);
} SigSinkFuncs;

/**
 * sig_runtime_new:
 * @store: (transfer none): the store, outliving the runtime
 * @config: (transfer none): the configuration, outliving the runtime ([quality] and
 *   [nodes] are read from it)
 * @error: G_KEY_FILE_ERROR for a bad [quality] value
 *
 * Returns: (transfer full) (nullable): a runtime with no sink yet
 */
SigRuntime *sig_runtime_new (RoomsStore *store, const SigConfig *config, GError **error);
void sig_runtime_free (SigRuntime *rt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigRuntime, sig_runtime_free)

/* Sets where the runtime's messages and events go (@funcs is copied). */
void sig_runtime_set_sink (SigRuntime *rt, const SigSinkFuncs *funcs, gpointer sink);

/* Returns: the current time (UTC unix seconds), pinned in tests by [testing] now. */
gint64 sig_runtime_now (SigRuntime *rt);
/* Returns: (transfer none): the link-quality part of the runtime (sig-links.h). */
SigLinks *sig_runtime_get_links (SigRuntime *rt);

/* ---- the node registry ---- */

/**
 * sig_runtime_node_register:
 * A node asked to register: it is stored (unit, capacity) and its fingerprint kept
 * for its peers. The caller has checked the node may serve @unit, and calls
 * sig_runtime_node_ready() once the node's channel can take messages.
 * Returns: %FALSE with ROOMS_ERROR when the store refuses it
 */
gboolean sig_runtime_node_register (SigRuntime *rt, const char *node_id, const char *unit,
                                    guint capacity, const char *fingerprint,
                                    GError **error);
/* A registered node's channel is open: it is up, and given its part of every leg that
 * should run. */
void sig_runtime_node_ready (SigRuntime *rt, const char *node_id);
/* Returns: %TRUE when @node_id is registered in this run of signald. */
gboolean sig_runtime_node_known (SigRuntime *rt, const char *node_id);
/* A registered node's heartbeat: it stays (or comes back) up. */
void sig_runtime_node_heartbeat (SigRuntime *rt, const char *node_id);
/* A node's channel closed (or its credential went): it is down now. */
void sig_runtime_node_lost (SigRuntime *rt, const char *node_id);
/* A node was retired: down, and forgotten. */
void sig_runtime_node_forget (SigRuntime *rt, const char *node_id);
/* Returns: %TRUE when @node_id is up (registered, with fresh heartbeats). */
gboolean sig_runtime_node_is_up (SigRuntime *rt, const char *node_id);
guint sig_runtime_count_nodes_up (SigRuntime *rt);

/* ---- routing a site's media ---- */

/* Returns: (transfer none) (nullable): the node that should take @site_id's offer in
 * @occurrence_id (its planned node, or the nearest one above that is up);
 * SIG_ERROR_UNAVAILABLE when none is up. */
const char *sig_runtime_route_site (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                                    GError **error);
/* Returns: (transfer none) (nullable): the node for @site_id's line test: that of its
 * nearest ancestor-or-self unit with a node that is up; SIG_ERROR_UNAVAILABLE. */
const char *sig_runtime_echo_node (SigRuntime *rt, gint64 site_id, GError **error);

/* Meeting legs (sig-cascade.c): an occurrence opened or live is given to every node
 * of its cascade plan; an ended or cancelled one is closed on them. */
void sig_cascade_open (SigRuntime *rt, gint64 meeting_id, gint64 occurrence_id);
void sig_cascade_close (SigRuntime *rt, gint64 occurrence_id);
gboolean sig_cascade_is_open (SigRuntime *rt, gint64 occurrence_id);
/* Closes the legs of @meeting_id whose occurrence is no longer open or live. */
void sig_cascade_close_meeting (SigRuntime *rt, gint64 meeting_id);
/* Gives the floor to @site_id (<= 0: back to the chair) on every node of the leg.
 * Returns: FALSE when the occurrence has no open leg. */
gboolean sig_cascade_set_floor (SigRuntime *rt, gint64 occurrence_id, gint64 site_id);
/* Gives the presenter right to @site_id (<= 0: back to the chair's site). Content
 * by any other site stops first (nodes told, content event); a presenter event
 * follows when the right moved. Both events go to the meeting's subscribers and to
 * every site joined to the occurrence. Returns: FALSE when the occurrence has no
 * open leg. */
gboolean sig_cascade_set_presenter (SigRuntime *rt, gint64 occurrence_id, gint64 site_id);
/* @site_id starts showing its screen: every node of the leg is told where it enters
 * (content), and a content event follows; nothing new when it presents already.
 * ROOMS_ERROR_ILLEGAL_STATE without an open leg, SIG_ERROR_FORBIDDEN when @site_id
 * does not hold the presenter right. */
gboolean sig_cascade_start_content (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                                    GError **error);
/* Stops @site_id's content (it stopped sharing, or left the occurrence). Returns:
 * %TRUE when it was presenting. */
gboolean sig_cascade_stop_content (SigRuntime *rt, gint64 occurrence_id, gint64 site_id);
/* Returns: the site holding the presenter right in an open leg, or 0. */
gint64 sig_cascade_presenter_site (SigRuntime *rt, gint64 occurrence_id);
/* Returns: the site presenting now in an open leg, or 0. */
gint64 sig_cascade_content_site (SigRuntime *rt, gint64 occurrence_id);
/* Returns: the chair's site of an open leg, or 0. */
gint64 sig_cascade_chair_site (SigRuntime *rt, gint64 occurrence_id);
/* Mutes or unmutes @site_id at the node hosting it (remembered for its reconnects)
 * and publishes a mute event. Returns: FALSE when the occurrence has no open leg. */
gboolean sig_cascade_set_muted (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                                gboolean muted);
/* Sets what @site_id receives (@level: "full", "low", "audio"): the one level the
 * session keeps for that site, told to its node, riding on its next offer, and
 * published. @pinned: set by a person (the automatic steps leave it alone) or not.
 * FALSE without an open leg. */
gboolean sig_cascade_set_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                                const char *level, gboolean pinned);
/* Hands @site_id's level back to the automatic steps. FALSE without an open leg. */
gboolean sig_cascade_unpin_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id);
/* Returns: (transfer none) (nullable): the level of @site_id in the session (NULL:
 * never set, full); @pinned (optional) whether a person set it. */
const char *sig_cascade_site_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                                    gboolean *pinned);
/* A site's offer went to @node_id: that node hosts the site in the leg from now on
 * (until another offer goes elsewhere), and the floor (the content) is told again
 * when it is the floor's (presenting). */
void sig_cascade_site_routed (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                              const char *node_id);
/* Returns: %TRUE when the last offer of @site_id in the running leg of
 * @occurrence_id went to @node_id: the one node that may speak for that site. */
gboolean sig_cascade_node_hosts_site (SigRuntime *rt, gint64 occurrence_id,
                                      const char *node_id, gint64 site_id);
/* Returns: %TRUE when @node_id may report on @endpoint in the running leg of
 * @occurrence_id: "site:<id>" of a site it hosts, or "node:<id>" of its parent or
 * child in the leg's plan. */
gboolean sig_cascade_node_speaks_for (SigRuntime *rt, gint64 occurrence_id,
                                      const char *node_id, const char *endpoint);
/* Returns: (transfer none) (nullable): @node_id's parent in the plan of the running
 * leg of @occurrence_id; @found (optional): whether @node_id is in that plan. */
const char *sig_cascade_plan_parent (SigRuntime *rt, gint64 occurrence_id,
                                     const char *node_id, gboolean *found);
/* A node's endpoint.state: kept (only for what the node hosts), published, a failed
 * uplink redialled, a reconnected site's mute given again. SIG_ERROR_BAD_REQUEST
 * when malformed, SIG_ERROR_FORBIDDEN about what the node does not host. */
gboolean sig_cascade_endpoint_state (SigRuntime *rt, const char *node_id, JsonObject *o,
                                     GError **error);
/* Relays a link message from node @from to its parent or child in a running leg,
 * naming the sender as the peer (SIG_ERROR_FORBIDDEN otherwise). */
gboolean sig_cascade_relay_link (SigRuntime *rt, const char *from, JsonObject *o,
                                 GError **error);
/* Publishes {type, occurrence_id, site_id[, bool_name: value], meeting_id} to the
 * subscribers of the leg's meeting (hand, speaker); nothing without a leg. */
void sig_cascade_event (SigRuntime *rt, gint64 occurrence_id, const char *type,
                        gint64 site_id, const char *bool_name, gboolean value);
/* Returns: (transfer full) (nullable): the running leg of @occurrence_id as JSON
 * (chair, floor, presenter and content sites, plan nodes with parent, up and sites, muted sites, levels,
 * the endpoint states the nodes reported); NULL without an open leg. */
JsonNode *sig_cascade_describe (SigRuntime *rt, gint64 occurrence_id);
/* (nullable) (transfer none): the last state @node_id reported for @endpoint. */
const char *sig_cascade_endpoint_get_state (SigRuntime *rt, gint64 occurrence_id,
                                            const char *node_id, const char *endpoint);

G_END_DECLS
