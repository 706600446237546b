/* sig-routes-links.c: the HTTP side of link quality and alarms: GET
 * /api/v1/meetings/{id}/links, /api/v1/links/{leg}/history, /api/v1/alarms, and the
 * level pins of both level routes. The runtime (sig-links.c, sig-alarms.c) keeps the
 * data; these handlers decide who may see it and answer. */
#include "sig-server-private.h"

#include "sig-alarms.h"
#include "sig-policy.h"

static RoomsMeeting *
readable_meeting (SigServer *srv, SigRequest *req, gint64 meeting_id, GError **error)
{
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, meeting_id, error);
  if (m == NULL)
    return NULL;
  if (!sig_policy_may_read_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND, "no meeting %" G_GINT64_FORMAT,
                   meeting_id);
      return NULL;
    }
  return g_steal_pointer (&m);
}

/* GET /api/v1/meetings/{id}/links: every leg of the meeting's occurrences that
 * report statistics now, worst first (grade, then loss). */
gboolean
sig_route_meeting_links (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 id;
  if (!sig_request_id (req, "id", &id, error))
    return FALSE;
  g_autoptr (RoomsMeeting) m = readable_meeting (srv, req, id, error);
  if (m == NULL)
    return FALSE;
  sig_reply_json (req, 200, sig_links_meeting_json (sig_runtime_get_links (srv->rt), id));
  return TRUE;
}

/* GET /api/v1/links/{leg}/history[?since=T]: both directions' samples, oldest first;
 * a leg of a meeting the caller may not read is as unknown as one nobody reports. */
gboolean
sig_route_link_history (SigServer *srv, SigRequest *req, GError **error)
{
  const char *id = sig_request_param (req, "leg");
  const char *since_s = sig_request_query (req, "since");
  gint64 since = since_s ? g_ascii_strtoll (since_s, NULL, 10) : 0;
  gint64 meeting = 0;
  g_autoptr (JsonNode) view
      = sig_links_history_json (sig_runtime_get_links (srv->rt), id, since, &meeting);
  g_autoptr (RoomsMeeting) m = view ? readable_meeting (srv, req, meeting, NULL) : NULL;
  if (m == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND, "no leg %s", id ? id : "");
      return FALSE;
    }
  sig_reply_json (req, 200, g_steal_pointer (&view));
  return TRUE;
}

/* Pins a site's level by hand ({"level": full|low|audio}), or hands it back to the
 * automatic steps ("auto"), and answers the request. Both level routes come here,
 * so a level set by a person always holds. */
gboolean
sig_links_pin_level (SigServer *srv, SigRequest *req, gint64 occ_id, gint64 site_id,
                     GError **error)
{
  const char *level = json_object_get_string_member (req->body, "level");
  static const char *const levels[] = { "full", "low", "audio", "auto", NULL };
  if (!g_strv_contains (levels, level))
    {
      req->error_field = g_strdup ("level");
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "level must be full, low, audio or auto, not %s", level);
      return FALSE;
    }
  if (!sig_links_pin (sig_runtime_get_links (srv->rt), occ_id, site_id, level, error))
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, level);
  json_builder_set_member_name (b, "pinned");
  json_builder_add_boolean_value (b, !g_str_equal (level, "auto"));
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

const SigParam sig_params_site_level[] = {
  { "level", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { NULL },
};

static gboolean
query_int (SigRequest *req, const char *name, gint64 *out, GError **error)
{
  const char *v = sig_request_query (req, name);
  guint64 n;
  *out = 0;
  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (v, 10, 0, G_MAXINT64, &n, NULL))
    {
      req->error_field = g_strdup (name);
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "%s must be a non-negative integer", name);
      return FALSE;
    }
  *out = (gint64)n;
  return TRUE;
}

/* GET /api/v1/alarms?open=1&since=T&meeting=ID: newest first, at most 500. A
 * secretary sees the alarms of meetings they may read. */
gboolean
sig_route_alarms (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 since, meeting;
  const char *open = sig_request_query (req, "open");
  if (!query_int (req, "since", &since, error)
      || !query_int (req, "meeting", &meeting, error))
    return FALSE;
  gboolean open_only = open && (g_str_equal (open, "1") || g_str_equal (open, "true"));
  g_autoptr (GPtrArray) list
      = rooms_store_list_alarms (srv->store, open_only, since, meeting, 500, error);
  if (list == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "alarms");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      RoomsAlarm *a = list->pdata[i];
      if (req->principal->role == SIG_ROLE_SECRETARY)
        {
          if (a->meeting_id <= 0)
            continue;
          g_autoptr (RoomsMeeting) m
              = rooms_store_get_meeting (srv->store, a->meeting_id, NULL);
          if (m == NULL || !sig_policy_may_read_meeting (srv->store, req->principal, m))
            continue;
        }
      json_builder_add_value (b, sig_alarm_to_json (a, NULL));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}
