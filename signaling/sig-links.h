/* sig-links.h: link quality in signald (issue 7): the last 15 minutes of every leg's
 * statistics, the alarms they raise, automatic step-down of very bad sites, and the
 * Prometheus view of it all. Fed by the nodes' `stats` and `endpoint.state` messages
 * and by node up/down (signaling/PROTOCOL.md). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sig-runtime.h"

G_BEGIN_DECLS

/* 2 s samples over 15 minutes: the ring of one direction of one leg. */
#define SIG_LINKS_HISTORY 450

/**
 * sig_links_new:
 * Reads the [quality] section of the configuration (raise-after, clear-after,
 * stepdown-after, stepup-after: seconds). G_KEY_FILE_ERROR on a bad value.
 * Returns: (transfer full) (nullable)
 */
SigLinks *sig_links_new (SigRuntime *rt, GError **error);
void sig_links_free (SigLinks *links);

/* A node's `stats` message. SIG_ERROR_BAD_REQUEST when malformed (nothing kept). */
gboolean sig_links_ingest (SigLinks *links, const char *node_id, JsonObject *msg,
                           GError **error);
/* A node's `endpoint.state` message (already checked by sig-cascade.c). */
void sig_links_endpoint_state (SigLinks *links, const char *node_id, JsonObject *msg);
/* A node went up or down. */
void sig_links_node (SigLinks *links, const char *node_id, gboolean up);
/* An occurrence's leg closed: its history is dropped. */
void sig_links_forget (SigLinks *links, gint64 occurrence_id);
/* Appends the link metrics in Prometheus text format to @out. */
void sig_links_metrics (SigLinks *links, GString *out);

/* Returns: (transfer full): {"meeting_id", "links": [...]}: every leg of the
 * meeting's running occurrences, worst first (grade, then loss). */
JsonNode *sig_links_meeting_json (SigLinks *links, gint64 meeting_id);
/* Returns: (transfer full) (nullable): leg @leg_id's samples since @since, both ways,
 * oldest first; @meeting_id (out) its meeting. NULL for a leg nobody reports. */
JsonNode *sig_links_history_json (SigLinks *links, const char *leg_id, gint64 since,
                                  gint64 *meeting_id);
/* Pins @site_id's @level ("full", "low", "audio") by hand, or hands it back to the
 * automatic steps ("auto"). SIG_ERROR_BAD_REQUEST when the occurrence is not
 * running (pins only). */
gboolean sig_links_pin (SigLinks *links, gint64 occurrence_id, gint64 site_id,
                        const char *level, GError **error);

/* Returns: the bytes one leg (both directions, 15 minutes) takes in memory. */
gsize sig_links_leg_bytes (void);

G_END_DECLS
