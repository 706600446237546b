/* meeting-private.h: meeting internals shared by meeting.c, occurrence.c and
 * attendance.c. */
#pragma once

#include "store-private.h"

struct _RoomsMeetingSpec
{
  char *title, *agenda, *chair, *rrule, *idem_key;
  gint64 start, end;
  GPtrArray *selections; /* RoomsSelection* */
  GPtrArray *groups;     /* char* */
  GArray *exdates;       /* gint64 */
  int record;            /* 1 records, 0 not, -1 as the chair unit's default */
};

struct _RoomsConflictList
{
  GArray *items; /* RoomsConflict */
  GStringChunk *strings;
};

struct _RoomsBooking
{
  gint64 meeting_id;
  GArray *site_ids;
  GArray *occurrence_ids;
  RoomsCascadePlan *plan;
  gboolean replayed;
};

struct _RoomsMeeting
{
  gint64 id;
  RoomsMeetingSpec *spec;
  gboolean cancelled;
  gint64 sequence;
  GArray *site_ids;
};

struct _RoomsMeetingPatch
{
  char *title, *agenda, *chair;
  gboolean has_times;
  gint64 start, end;
  GPtrArray *selections;
  int record; /* -1 unchanged */
};

typedef struct
{
  gint64 start, end;
} RoomsSpan;

RoomsConflictList *rooms_conflict_list_new (void);
GArray *rooms_meeting_resolve_sites (RoomsStore *store, const char *chair,
                                     GPtrArray *selections, GError **error);
GArray *rooms_meeting_expand (const RoomsMeetingSpec *spec, GError **error);
gboolean rooms_meeting_find_conflicts (RoomsStore *store, GArray *spans, GArray *sites,
                                       gint64 exclude_meeting, RoomsConflictList *list,
                                       GError **error);
