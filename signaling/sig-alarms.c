/* sig-alarms.c: recording alarms durably and telling the staff watching. */
#include "sig-alarms.h"

#include "sig-runtime-private.h"

JsonNode *
sig_alarm_to_json (const RoomsAlarm *a, const char *type)
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
sig_alarm_publish_staff (SigRuntime *rt, gint64 meeting_id, JsonNode *event)
{
  json_object_set_int_member (json_node_get_object (event), "v", 1);
  rt->sink.publish_staff (rt->sink_data, meeting_id, event);
}

void
sig_alarm_raise (SigRuntime *srv, const char *kind, const char *subject,
                 gint64 meeting_id, gint64 occurrence_id, const char *detail, gint64 at)
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
  g_autoptr (JsonNode) ev = sig_alarm_to_json (a, "alarm.raised");
  sig_alarm_publish_staff (srv, meeting_id, ev);
}

void
sig_alarm_clear (SigRuntime *srv, const char *kind, const char *subject, gint64 at)
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
  g_autoptr (JsonNode) ev = sig_alarm_to_json (a, "alarm.cleared");
  sig_alarm_publish_staff (srv, a->meeting_id, ev);
}
