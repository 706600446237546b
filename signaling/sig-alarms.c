/* sig-alarms.c: recording and telling alarms, and GET /api/v1/alarms. */
#include "sig-alarms.h"

#include "sig-ws-private.h"

static JsonNode *
alarm_to_json (const RoomsAlarm *a, const char *type)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (type)
    {
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, type);
    }
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, a->id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, a->kind);
  json_builder_set_member_name (b, "subject");
  json_builder_add_string_value (b, a->subject);
  json_builder_set_member_name (b, "meeting_id");
  if (a->meeting_id > 0)
    json_builder_add_int_value (b, a->meeting_id);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "occurrence_id");
  if (a->occurrence_id > 0)
    json_builder_add_int_value (b, a->occurrence_id);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, a->detail);
  json_builder_set_member_name (b, "raised_at");
  json_builder_add_int_value (b, a->raised_at);
  json_builder_set_member_name (b, "cleared_at");
  if (a->cleared_at > 0)
    json_builder_add_int_value (b, a->cleared_at);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "open");
  json_builder_add_boolean_value (b, a->cleared_at == 0);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
sig_links_publish_staff (SigServer *srv, gint64 meeting_id, JsonNode *event)
{
  SigWs *ws = srv->ws;
  if (ws == NULL)
    return;
  json_object_set_int_member (json_node_get_object (event), "v", 1);
  GPtrArray *to
      = meeting_id > 0 ? g_hash_table_lookup (ws->subscribers, &meeting_id) : ws->clients;
  for (guint i = 0; to && i < to->len; i++)
    {
      WsClient *c = to->pdata[i];
      if (c->principal->role & (SIG_ROLE_ADMIN | SIG_ROLE_IT | SIG_ROLE_SECRETARY))
        sig_ws_send_json (c, event);
    }
}

void
sig_alarm_raise (SigServer *srv, const char *kind, const char *subject, gint64 meeting_id,
                 gint64 occurrence_id, const char *detail, gint64 at)
{
  g_autoptr (GError) error = NULL;
  gboolean created = FALSE;
  g_autoptr (RoomsAlarm) a = rooms_store_raise_alarm (
      srv->store, kind, subject, meeting_id, occurrence_id, detail, at, &created, &error);
  if (a == NULL)
    {
      g_warning ("alarm %s %s not stored: %s", kind, subject, error->message);
      return;
    }
  if (!created)
    return;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ALARM", kind, "MESSAGE",
                    "alarm raised: %s %s%s%s", kind, subject, detail ? ": " : "",
                    detail ? detail : "");
  g_autoptr (JsonNode) ev = alarm_to_json (a, "alarm.raised");
  sig_links_publish_staff (srv, meeting_id, ev);
}

void
sig_alarm_clear (SigServer *srv, const char *kind, const char *subject, gint64 at)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsAlarm) a
      = rooms_store_clear_alarm (srv->store, kind, subject, at, &error);
  if (a == NULL)
    {
      if (error)
        g_warning ("alarm %s %s not cleared: %s", kind, subject, error->message);
      return;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_ALARM", kind, "MESSAGE",
                    "alarm cleared: %s %s", kind, subject);
  g_autoptr (JsonNode) ev = alarm_to_json (a, "alarm.cleared");
  sig_links_publish_staff (srv, a->meeting_id, ev);
}

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
      json_builder_add_value (b, alarm_to_json (a, NULL));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}
