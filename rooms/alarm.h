/* alarm.h: durable alarms about link quality, sites and nodes. They are evidence for
 * the after-meeting report, so a raise and its clearing are rows in the store, not
 * only events on a socket. An alarm is open until cleared; at most one alarm is open
 * per (kind, subject). */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* A value record (the fields are the API): one alarm as stored. */
typedef struct
{
  gint64 id;
  char *kind;        /* "leg.very_bad", "site.dropped", "node.down", "uplink.islanded" */
  char *subject;     /* what it is about: "<occurrence>:site:17", a node id, ... */
  gint64 meeting_id; /* 0 when about no meeting (a node) */
  gint64 occurrence_id; /* 0 likewise */
  char *detail;         /* (nullable) a human sentence */
  gint64 raised_at;     /* UTC unix seconds */
  gint64 cleared_at;    /* 0 while open */
} RoomsAlarm;

void rooms_alarm_free (RoomsAlarm *alarm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsAlarm, rooms_alarm_free)

/**
 * rooms_store_raise_alarm:
 * @detail: (nullable)
 * @created: (out) (optional): %TRUE when a new alarm was opened, %FALSE when one of
 *   this kind and subject was open already (it is returned unchanged)
 *
 * Returns: (transfer full) (nullable): the open alarm; ROOMS_ERROR_STORE
 */
RoomsAlarm *rooms_store_raise_alarm (RoomsStore *store, const char *kind,
                                     const char *subject, gint64 meeting_id,
                                     gint64 occurrence_id, const char *detail, gint64 at,
                                     gboolean *created, GError **error);

/**
 * rooms_store_clear_alarm:
 *
 * Clears the open alarm of @kind and @subject at @at.
 * Returns: (transfer full) (nullable): the alarm cleared, or %NULL when none was open
 *   (@error unset) or on a store failure (@error set)
 */
RoomsAlarm *rooms_store_clear_alarm (RoomsStore *store, const char *kind,
                                     const char *subject, gint64 at, GError **error);

/**
 * rooms_store_list_alarms:
 * @open_only: only alarms not cleared
 * @since: only alarms raised or cleared at or after this time (0: all)
 * @meeting_id: only this meeting's (0: all)
 * @limit: at most this many, newest first
 *
 * Returns: (transfer full) (element-type RoomsAlarm): the alarms; ROOMS_ERROR_STORE
 */
GPtrArray *rooms_store_list_alarms (RoomsStore *store, gboolean open_only, gint64 since,
                                    gint64 meeting_id, guint limit, GError **error);

G_END_DECLS
