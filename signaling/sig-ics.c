/* sig-ics.c: iCalendar (RFC 5545/5546) views of meetings, written with libical:
 * one invitation per meeting (METHOD:REQUEST, or CANCEL once cancelled) and a
 * subscription feed per unit (METHOD:PUBLISH). */
#include "sig-server-private.h"

#include <libical/ical.h>
#include <stdlib.h>

static struct icaltimetype
utc_time (gint64 t)
{
  return icaltime_from_timet_with_zone ((time_t)t, 0, icaltimezone_get_utc_timezone ());
}

static char *
meeting_uid (gint64 id)
{
  return g_strdup_printf ("meeting-%" G_GINT64_FORMAT "@lienthong", id);
}

static icalcomponent *
new_event (SigServer *srv, RoomsMeeting *m, gint64 start, gint64 end)
{
  g_autofree char *uid = meeting_uid (rooms_meeting_get_id (m));
  icalcomponent *ev = icalcomponent_new_vevent ();
  icalcomponent_add_property (ev, icalproperty_new_uid (uid));
  icalcomponent_add_property (
      ev, icalproperty_new_sequence ((int)rooms_meeting_get_sequence (m)));
  icalcomponent_add_property (ev,
                              icalproperty_new_dtstamp (utc_time (sig_server_now (srv))));
  icalcomponent_add_property (ev, icalproperty_new_dtstart (utc_time (start)));
  icalcomponent_add_property (ev, icalproperty_new_dtend (utc_time (end)));
  icalcomponent_add_property (ev, icalproperty_new_summary (rooms_meeting_get_title (m)));
  if (rooms_meeting_get_agenda (m) && *rooms_meeting_get_agenda (m))
    icalcomponent_add_property (
        ev, icalproperty_new_description (rooms_meeting_get_agenda (m)));
  RoomsUnit *chair = rooms_store_get_unit (srv->store, rooms_meeting_get_chair_code (m));
  if (chair != NULL)
    icalcomponent_add_property (ev,
                                icalproperty_new_location (rooms_unit_get_name (chair)));
  icalcomponent_add_property (ev, icalproperty_new_status (rooms_meeting_get_cancelled (m)
                                                               ? ICAL_STATUS_CANCELLED
                                                               : ICAL_STATUS_CONFIRMED));
  return ev;
}

/* Adds the VEVENTs of one meeting: the series (with its RRULE, and EXDATEs for
 * occurrences cancelled one by one) and one overriding VEVENT with RECURRENCE-ID per
 * occurrence moved away from the time the rule gave it. */
static void
add_meeting_events (SigServer *srv, icalcomponent *cal, RoomsMeeting *m)
{
  icalcomponent *ev
      = new_event (srv, m, rooms_meeting_get_start (m), rooms_meeting_get_end (m));
  const char *rrule = rooms_meeting_get_rrule (m);
  if (rrule != NULL)
    {
      struct icalrecurrencetype r = icalrecurrencetype_from_string (rrule);
      if (r.freq != ICAL_NO_RECURRENCE)
        icalcomponent_add_property (ev, icalproperty_new_rrule (r));
    }
  icalcomponent_add_component (cal, ev);

  g_autoptr (GPtrArray) occs
      = rooms_store_list_occurrences (srv->store, rooms_meeting_get_id (m), NULL);
  gboolean series_cancelled = rooms_meeting_get_cancelled (m);
  for (guint i = 0; occs && i < occs->len; i++)
    {
      RoomsOccurrence *o = occs->pdata[i];
      gint64 orig = rooms_occurrence_get_original_start (o);
      if (!series_cancelled
          && rooms_occurrence_get_state (o) == ROOMS_OCCURRENCE_CANCELLED)
        icalcomponent_add_property (ev, icalproperty_new_exdate (utc_time (orig)));
      else if (rooms_occurrence_get_start (o) != orig)
        {
          icalcomponent *moved = new_event (srv, m, rooms_occurrence_get_start (o),
                                            rooms_occurrence_get_end (o));
          icalcomponent_add_property (moved,
                                      icalproperty_new_recurrenceid (utc_time (orig)));
          icalcomponent_add_component (cal, moved);
        }
    }
}

static icalcomponent *
new_calendar (icalproperty_method method, const char *name)
{
  icalcomponent *cal = icalcomponent_new_vcalendar ();
  icalcomponent_add_property (cal, icalproperty_new_prodid ("-//lienthong//signald//VI"));
  icalcomponent_add_property (cal, icalproperty_new_version ("2.0"));
  icalcomponent_add_property (cal, icalproperty_new_method (method));
  if (name != NULL)
    {
      icalproperty *p = icalproperty_new_x (name);
      icalproperty_set_x_name (p, "X-WR-CALNAME");
      icalcomponent_add_property (cal, p);
    }
  return cal;
}

static void
reply_calendar (SigRequest *req, icalcomponent *cal, const char *filename)
{
  char *text = icalcomponent_as_ical_string_r (cal);
  icalcomponent_free (cal);
  g_autofree char *disp = g_strdup_printf ("inline; filename=\"%s\"", filename);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Content-Disposition", disp);
  sig_reply_text (req, 200, "text/calendar; charset=utf-8", g_strdup (text));
  icalmemory_free_buffer (text);
}

gboolean
sig_route_meetings_ics (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 id;
  if (!sig_request_id (req, "id", &id, error))
    return FALSE;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, id, error);
  if (m == NULL)
    return FALSE;
  if (!sig_policy_may_read_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "no meeting %" G_GINT64_FORMAT, id);
      return FALSE;
    }
  icalcomponent *cal = new_calendar (
      rooms_meeting_get_cancelled (m) ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST, NULL);
  add_meeting_events (srv, cal, m);
  g_autofree char *fname = g_strdup_printf ("meeting-%" G_GINT64_FORMAT ".ics", id);
  reply_calendar (req, cal, fname);
  return TRUE;
}

gboolean
sig_route_units_calendar (SigServer *srv, SigRequest *req, GError **error)
{
  const char *code = sig_request_param (req, "code");
  RoomsUnit *u = rooms_store_get_unit (srv->store, code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no unit '%s'", code);
      return FALSE;
    }
  /* the dispatcher checked the unit (SIG_ACCESS_UNIT_CALENDAR); asked again here so
   * the handler is safe on its own */
  if (!sig_policy_may_read_unit_calendar (srv->store, req->principal, code))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "unit %s is outside this token's scope", code);
      return FALSE;
    }
  gint64 now = sig_server_now (srv);
  g_autoptr (GPtrArray) meetings = rooms_store_list_meetings (
      srv->store, now - 30 * 86400, now + 366 * 86400, code, error);
  if (meetings == NULL)
    return FALSE;
  icalcomponent *cal = new_calendar (ICAL_METHOD_PUBLISH, rooms_unit_get_name (u));
  /* a unit's feed lists the meetings touching its subtree, but each caller sees only
   * those it may read: a commune hall's token must not read another province's
   * titles and agendas through the calendar of a unit above it */
  for (guint i = 0; i < meetings->len; i++)
    if (sig_policy_may_read_meeting (srv->store, req->principal, meetings->pdata[i]))
      add_meeting_events (srv, cal, meetings->pdata[i]);
  g_autofree char *fname = g_strdup_printf ("unit-%s.ics", code);
  reply_calendar (req, cal, fname);
  return TRUE;
}
