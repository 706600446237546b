/* sig-alarms.h: alarms of signald, stored durably in the rooms store (alarm.h) and
 * published as `alarm.raised` / `alarm.cleared` to the staff watching (sig-links.c
 * decides when; this file records and tells). Part of the runtime. */
#pragma once

#include "rooms.h"
#include "sig-runtime.h"

G_BEGIN_DECLS

/* Opens an alarm of @kind about @subject unless one is open; publishes alarm.raised
 * when it opened. @meeting_id 0: about no meeting (published to every staff socket). */
void sig_alarm_raise (SigRuntime *rt, const char *kind, const char *subject,
                      gint64 meeting_id, gint64 occurrence_id, const char *detail,
                      gint64 at);
/* Clears the open alarm of @kind about @subject, if any, and publishes alarm.cleared. */
void sig_alarm_clear (SigRuntime *rt, const char *kind, const char *subject, gint64 at);

/* Sends @event to the admin, IT and secretary sockets subscribed to @meeting_id
 * (every such socket when 0): never to sites or nodes. */
void sig_alarm_publish_staff (SigRuntime *rt, gint64 meeting_id, JsonNode *event);

/* Returns: (transfer full): @a as JSON, with "type": @type when not NULL. */
JsonNode *sig_alarm_to_json (const RoomsAlarm *a, const char *type);

G_END_DECLS
