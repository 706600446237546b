/* sig-alarms.h: alarms of signald, stored durably in the rooms store (alarm.h) and
 * published as `alarm.raised` / `alarm.cleared` to the staff watching (sig-links.c
 * decides when; this file records and tells). */
#pragma once

#include "sig-server-private.h"

G_BEGIN_DECLS

/* Opens an alarm of @kind about @subject unless one is open; publishes alarm.raised
 * when it opened. @meeting_id 0: about no meeting (published to every staff socket). */
void sig_alarm_raise (SigServer *srv, const char *kind, const char *subject,
                      gint64 meeting_id, gint64 occurrence_id, const char *detail,
                      gint64 at);
/* Clears the open alarm of @kind about @subject, if any, and publishes alarm.cleared. */
void sig_alarm_clear (SigServer *srv, const char *kind, const char *subject, gint64 at);

/* Sends @event to the admin, IT and secretary sockets subscribed to @meeting_id
 * (every such socket when 0): never to sites or nodes. */
void sig_links_publish_staff (SigServer *srv, gint64 meeting_id, JsonNode *event);

/* Routes (sig-alarms.c, sig-links.c). */
gboolean sig_route_alarms (SigServer *, SigRequest *, GError **);
gboolean sig_route_meeting_links (SigServer *, SigRequest *, GError **);
gboolean sig_route_link_history (SigServer *, SigRequest *, GError **);
extern const SigParam sig_params_site_level[];

G_END_DECLS
