/* sig-routes-meetings.c: meetings over HTTP (book, list, get, patch, cancel),
 * attendance, and the lifecycle timers that open, start and end occurrences. */
#include "sig-server-private.h"

#include "sig-links.h"
#include "sig-ws.h"

#include <string.h>

static const SigParam participant_params[] = {
  { "unit", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { "down_to", SIG_PARAM_STRING, FALSE, 1, 32, TRUE, NULL },
  { NULL },
};

const SigParam sig_params_book[] = {
  { "title", SIG_PARAM_STRING, TRUE, 1, 300, FALSE, NULL },
  { "agenda", SIG_PARAM_STRING, FALSE, 0, 20000, TRUE, NULL },
  { "chair", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { "record", SIG_PARAM_BOOLEAN, FALSE, 0, 0, FALSE, NULL },
  { "starts_at", SIG_PARAM_TIME, TRUE, 0, 0, FALSE, NULL },
  { "ends_at", SIG_PARAM_TIME, TRUE, 0, 0, FALSE, NULL },
  { "participants", SIG_PARAM_OBJECTS, TRUE, 1, 2000, FALSE, participant_params },
  { "recurrence", SIG_PARAM_STRING, FALSE, 1, 500, TRUE, NULL },
  { "exdates", SIG_PARAM_TIMES, FALSE, 0, ROOMS_MAX_OCCURRENCES, TRUE, NULL },
  { NULL },
};

const SigParam sig_params_patch[] = {
  { "title", SIG_PARAM_STRING, FALSE, 1, 300, FALSE, NULL },
  { "agenda", SIG_PARAM_STRING, FALSE, 0, 20000, TRUE, NULL },
  { "chair", SIG_PARAM_STRING, FALSE, 1, 16, FALSE, NULL },
  { "record", SIG_PARAM_BOOLEAN, FALSE, 0, 0, FALSE, NULL },
  { "starts_at", SIG_PARAM_TIME, FALSE, 0, 0, FALSE, NULL },
  { "ends_at", SIG_PARAM_TIME, FALSE, 0, 0, FALSE, NULL },
  { "participants", SIG_PARAM_OBJECTS, FALSE, 1, 2000, FALSE, participant_params },
  { NULL },
};

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  return json_node_get_string (n);
}

static gint64
member_time (JsonObject *o, const char *name)
{
  const char *s = member_string (o, name);
  gint64 t = -1;
  if (s != NULL && !sig_parse_time (s, &t))
    t = -1;
  return t;
}

static void
add_time (JsonBuilder *b, const char *name, gint64 t)
{
  g_autofree char *s = sig_format_time (t);
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, s);
}

/* ---- scope ---- */

/* Refuses (403) a change of @m by @p; the rule is sig_policy_may_edit_meeting(). */
static gboolean
may_write (SigServer *srv, const SigPrincipal *p, const RoomsMeeting *m, GError **error)
{
  if (sig_policy_may_edit_meeting (srv->store, p, m))
    return TRUE;
  g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
               "meeting %" G_GINT64_FORMAT " is outside this token's scope",
               rooms_meeting_get_id (m));
  return FALSE;
}

/* Loads the meeting of the {id} parameter that the caller may read; an unreadable one
 * is a 404, so ids outside the scope do not leak. */
static RoomsMeeting *
load_meeting (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 id;
  if (!sig_request_id (req, "id", &id, error))
    return NULL;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, id, error);
  if (m == NULL)
    return NULL;
  if (!sig_policy_may_read_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "no meeting %" G_GINT64_FORMAT, id);
      return NULL;
    }
  return g_steal_pointer (&m);
}

/* ---- JSON views ---- */

static void
add_plan (JsonBuilder *b, RoomsCascadePlan *plan)
{
  json_builder_set_member_name (b, "cascade_plan");
  if (plan == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (plan); i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rooms_cascade_plan_get_node_id (plan, i));
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, rooms_cascade_plan_get_node_unit (plan, i));
      json_builder_set_member_name (b, "parent");
      const char *parent = rooms_cascade_plan_get_parent_node_id (plan, i);
      if (parent)
        json_builder_add_string_value (b, parent);
      else
        json_builder_add_null_value (b);
      GArray *sites = rooms_cascade_plan_get_node_sites (plan, i);
      json_builder_set_member_name (b, "site_count");
      json_builder_add_int_value (b, sites ? sites->len : 0);
      json_builder_set_member_name (b, "sites");
      json_builder_begin_array (b);
      for (guint j = 0; sites && j < sites->len; j++)
        json_builder_add_int_value (b, g_array_index (sites, gint64, j));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms_cascade_plan_get_n_links (plan); i++)
    {
      const char *parent, *child;
      rooms_cascade_plan_get_link (plan, i, &parent, &child);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "parent");
      json_builder_add_string_value (b, parent);
      json_builder_set_member_name (b, "child");
      json_builder_add_string_value (b, child);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static JsonNode *
booking_to_json (RoomsBooking *booking)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, rooms_booking_get_meeting_id (booking));
  GArray *sites = rooms_booking_get_site_ids (booking);
  json_builder_set_member_name (b, "site_count");
  json_builder_add_int_value (b, sites ? sites->len : 0);
  json_builder_set_member_name (b, "occurrences");
  json_builder_begin_array (b);
  GArray *occ = rooms_booking_get_occurrence_ids (booking);
  for (guint i = 0; occ && i < occ->len; i++)
    json_builder_add_int_value (b, g_array_index (occ, gint64, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "replayed");
  json_builder_add_boolean_value (b, rooms_booking_get_replayed (booking));
  add_plan (b, rooms_booking_get_plan (booking));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_meeting (SigServer *srv, JsonBuilder *b, RoomsMeeting *m)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, rooms_meeting_get_id (m));
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, rooms_meeting_get_title (m));
  json_builder_set_member_name (b, "agenda");
  if (rooms_meeting_get_agenda (m))
    json_builder_add_string_value (b, rooms_meeting_get_agenda (m));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "chair");
  json_builder_add_string_value (b, rooms_meeting_get_chair_code (m));
  json_builder_set_member_name (b, "record");
  json_builder_add_boolean_value (b, rooms_meeting_get_record (m));
  add_time (b, "starts_at", rooms_meeting_get_start (m));
  add_time (b, "ends_at", rooms_meeting_get_end (m));
  json_builder_set_member_name (b, "recurrence");
  if (rooms_meeting_get_rrule (m))
    json_builder_add_string_value (b, rooms_meeting_get_rrule (m));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "cancelled");
  json_builder_add_boolean_value (b, rooms_meeting_get_cancelled (m));
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms_meeting_get_n_selections (m); i++)
    {
      const RoomsSelection *sel = rooms_meeting_get_selection (m, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, sel->unit_code);
      json_builder_set_member_name (b, "down_to");
      if (sel->down_to)
        json_builder_add_string_value (b, sel->down_to);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  GArray *sites = rooms_meeting_get_site_ids (m);
  json_builder_set_member_name (b, "site_count");
  json_builder_add_int_value (b, sites ? sites->len : 0);
  json_builder_set_member_name (b, "sequence");
  json_builder_add_int_value (b, rooms_meeting_get_sequence (m));
  json_builder_set_member_name (b, "occurrences");
  json_builder_begin_array (b);
  g_autoptr (GPtrArray) occs
      = rooms_store_list_occurrences (srv->store, rooms_meeting_get_id (m), NULL);
  for (guint i = 0; occs && i < occs->len; i++)
    {
      RoomsOccurrence *o = occs->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, rooms_occurrence_get_id (o));
      add_time (b, "starts_at", rooms_occurrence_get_start (o));
      add_time (b, "ends_at", rooms_occurrence_get_end (o));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (
          b, rooms_occurrence_state_to_string (rooms_occurrence_get_state (o)));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static JsonNode *
conflicts_to_json (RoomsConflictList *list)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "conflicts");
  json_builder_begin_array (b);
  for (guint i = 0; list && i < rooms_conflict_list_get_length (list); i++)
    {
      const RoomsConflict *c = rooms_conflict_list_get (list, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "site_id");
      json_builder_add_int_value (b, c->site_id);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, c->unit_code);
      json_builder_set_member_name (b, "meeting_id");
      json_builder_add_int_value (b, c->meeting_id);
      json_builder_set_member_name (b, "meeting_title");
      json_builder_add_string_value (b, c->meeting_title);
      json_builder_set_member_name (b, "occurrence_id");
      json_builder_add_int_value (b, c->occurrence_id);
      add_time (b, "occurrence_starts_at", c->occurrence_start);
      add_time (b, "occurrence_ends_at", c->occurrence_end);
      add_time (b, "starts_at", c->new_start);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
publish_meeting (SigServer *srv, gint64 meeting_id, const char *type)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, meeting_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  sig_ws_publish (srv->ws, meeting_id, ev);
}

/* ---- routes ---- */

static gboolean
query_time (SigRequest *req, const char *name, gint64 dflt, gint64 *out, GError **error)
{
  const char *s = sig_request_query (req, name);
  if (s == NULL)
    {
      *out = dflt;
      return TRUE;
    }
  if (!sig_parse_time (s, out))
    {
      req->error_field = g_strdup (name);
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "%s must be an RFC 3339 time with offset", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
sig_route_meetings_list (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 now = sig_server_now (srv), from, to;
  if (!query_time (req, "from", now - 86400, &from, error)
      || !query_time (req, "to", from + 90 * 86400, &to, error))
    return FALSE;
  if (to <= from)
    {
      req->error_field = g_strdup ("to");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "to must be after from");
      return FALSE;
    }
  const char *scope = NULL;
  g_autoptr (RoomsSite) site = NULL;
  if (req->principal->role == SIG_ROLE_SECRETARY)
    scope = req->principal->scope;
  else if (req->principal->role == SIG_ROLE_SITE)
    {
      site = rooms_store_get_site (
          srv->store, g_ascii_strtoll (req->principal->scope, NULL, 10), error);
      if (site == NULL)
        return FALSE;
      scope = rooms_site_get_unit_code (site);
    }
  g_autoptr (GPtrArray) meetings
      = rooms_store_list_meetings (srv->store, from, to, scope, error);
  if (meetings == NULL)
    return FALSE;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meetings");
  json_builder_begin_array (b);
  for (guint i = 0; i < meetings->len; i++)
    if (req->principal->role != SIG_ROLE_SITE
        || sig_policy_site_invited (req->principal, meetings->pdata[i]))
      add_meeting (srv, b, meetings->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

static void
add_selections_from_json (JsonObject *body, gpointer target, gboolean is_patch)
{
  JsonArray *a = json_object_get_array_member (body, "participants");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *p = json_array_get_object_element (a, i);
      const char *unit = member_string (p, "unit");
      const char *down_to = member_string (p, "down_to");
      if (is_patch)
        rooms_meeting_patch_add_selection (target, unit, down_to);
      else
        rooms_meeting_spec_add_selection (target, unit, down_to);
    }
}

/* Why the field is guessed from the message: librooms reports an unknown unit or tier
 * as a GError without a structured field; the API promises one, so the usual suspects
 * are named when the message mentions them. */
static void
guess_field (SigRequest *req, const GError *error, const char *chair)
{
  if (req->error_field != NULL || error == NULL || error->domain != ROOMS_ERROR)
    return;
  if (error->code == ROOMS_ERROR_NOT_FOUND || error->code == ROOMS_ERROR_INVALID)
    {
      if (chair != NULL && strstr (error->message, "chair") != NULL)
        req->error_field = g_strdup ("chair");
      else if (strstr (error->message, "RRULE") || strstr (error->message, "rrule")
               || strstr (error->message, "recurrence"))
        req->error_field = g_strdup ("recurrence");
      else if (strstr (error->message, "tier") || strstr (error->message, "unit"))
        req->error_field = g_strdup ("participants");
    }
}

/* A refused booking or change: every conflict goes into the error body (409) and
 * the field at fault is named. Returns: %FALSE, for the handler to return. */
static gboolean
refuse_booking (SigRequest *req, RoomsConflictList *conflicts, const GError *error,
                const char *chair)
{
  if (conflicts != NULL)
    req->error_extra = conflicts_to_json (conflicts);
  guess_field (req, error, chair);
  return FALSE;
}

/* The meeting a POST /meetings body describes, once the secretary's scope allows it.
 * @chair: (out): the chair code, for guess_field(). */
static RoomsMeetingSpec *
spec_from_body (SigServer *srv, SigRequest *req, const char **chair, GError **error)
{
  JsonObject *body = req->body;
  gint64 start = member_time (body, "starts_at"), end = member_time (body, "ends_at");
  *chair = member_string (body, "chair");
  if (end <= start)
    {
      req->error_field = g_strdup ("ends_at");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "ends_at must be after starts_at");
      return NULL;
    }
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new (member_string (body, "title"), *chair, start, end);
  if (member_string (body, "agenda"))
    rooms_meeting_spec_set_agenda (spec, member_string (body, "agenda"));
  if (json_object_has_member (body, "record"))
    rooms_meeting_spec_set_record (spec, json_object_get_boolean_member (body, "record"));
  add_selections_from_json (body, spec, FALSE);
  if (member_string (body, "recurrence"))
    rooms_meeting_spec_set_rrule (spec, member_string (body, "recurrence"));
  JsonNode *ex = json_object_get_member (body, "exdates");
  if (ex != NULL && JSON_NODE_HOLDS_ARRAY (ex))
    {
      JsonArray *a = json_node_get_array (ex);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          gint64 t;
          sig_parse_time (json_array_get_string_element (a, i), &t);
          rooms_meeting_spec_add_exdate (spec, t);
        }
    }
  if (req->principal->role == SIG_ROLE_SECRETARY
      && !rooms_scope_may_book (srv->store, req->principal->scope, spec, error))
    {
      guess_field (req, error ? *error : NULL, *chair);
      return NULL;
    }
  return g_steal_pointer (&spec);
}

gboolean
sig_route_meetings_book (SigServer *srv, SigRequest *req, GError **error)
{
  const char *chair;
  g_autoptr (RoomsMeetingSpec) spec = spec_from_body (srv, req, &chair, error);
  if (spec == NULL)
    return FALSE;
  const char *key = soup_message_headers_get_one (
      soup_server_message_get_request_headers (req->msg), "Idempotency-Key");
  if (key != NULL)
    {
      if (*key == '\0' || strlen (key) > 200 || !g_utf8_validate (key, -1, NULL))
        {
          req->error_field = g_strdup ("Idempotency-Key");
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "Idempotency-Key must be 1 to 200 bytes");
          return FALSE;
        }
      /* keys are per token, so two clients picking the same key never collide */
      g_autofree char *scoped = g_strconcat (req->principal->token_id, ":", key, NULL);
      rooms_meeting_spec_set_idempotency_key (spec, scoped);
    }

  g_autoptr (RoomsBooking) booking = NULL;
  g_autoptr (RoomsConflictList) conflicts = NULL;
  if (!rooms_store_book (srv->store, spec, &booking, &conflicts, error))
    return refuse_booking (req, conflicts, error ? *error : NULL, chair);
  gint64 id = rooms_booking_get_meeting_id (booking);
  if (!rooms_booking_get_replayed (booking))
    {
      /* a new meeting's invitation has SEQUENCE 0 (RFC 5546); changes bump it */
      g_autofree char *mid = g_strdup_printf ("%" G_GINT64_FORMAT, id);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "LT_MEETING_ID", mid, "MESSAGE",
                        "meeting %" G_GINT64_FORMAT " booked with %u sites", id,
                        rooms_booking_get_site_ids (booking)->len);
      sig_lifecycle_run (srv);
    }
  g_autofree char *loc = g_strdup_printf ("/api/v1/meetings/%" G_GINT64_FORMAT, id);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Location", loc);
  sig_reply_json (req, 201, booking_to_json (booking));
  return TRUE;
}

/* POST /api/v1/meetings/check: the booking form asks this as the secretary fills it
 * in, so conflicts show before saving. Same body, same checks and the same errors as
 * POST /meetings (409 with every conflict), and nothing is stored. */
gboolean
sig_route_meetings_check (SigServer *srv, SigRequest *req, GError **error)
{
  const char *chair;
  g_autoptr (RoomsMeetingSpec) spec = spec_from_body (srv, req, &chair, error);
  if (spec == NULL)
    return FALSE;
  guint n_sites = 0, n_occurrences = 0;
  g_autoptr (RoomsConflictList) conflicts = NULL;
  if (!rooms_store_check_booking (srv->store, spec, &n_sites, &n_occurrences, &conflicts,
                                  error))
    return refuse_booking (req, conflicts, error ? *error : NULL, chair);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "site_count");
  json_builder_add_int_value (b, n_sites);
  json_builder_set_member_name (b, "occurrence_count");
  json_builder_add_int_value (b, n_occurrences);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_meetings_get (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (RoomsMeeting) m = load_meeting (srv, req, error);
  if (m == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  add_meeting (srv, b, m);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_meetings_patch (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (RoomsMeeting) m = load_meeting (srv, req, error);
  if (m == NULL || !may_write (srv, req->principal, m, error))
    return FALSE;
  JsonObject *body = req->body;
  g_autoptr (RoomsMeetingPatch) patch = rooms_meeting_patch_new ();
  if (json_object_has_member (body, "title"))
    rooms_meeting_patch_set_title (patch, member_string (body, "title"));
  if (json_object_has_member (body, "agenda"))
    rooms_meeting_patch_set_agenda (patch, member_string (body, "agenda"));
  if (json_object_has_member (body, "record"))
    rooms_meeting_patch_set_record (patch,
                                    json_object_get_boolean_member (body, "record"));
  const char *chair = member_string (body, "chair");
  if (chair != NULL)
    rooms_meeting_patch_set_chair (patch, chair);
  gboolean has_s = json_object_has_member (body, "starts_at");
  gboolean has_e = json_object_has_member (body, "ends_at");
  if (has_s || has_e)
    {
      gint64 start
          = has_s ? member_time (body, "starts_at") : rooms_meeting_get_start (m);
      gint64 end = has_e ? member_time (body, "ends_at") : rooms_meeting_get_end (m);
      if (end <= start)
        {
          req->error_field = g_strdup ("ends_at");
          g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "ends_at must be after starts_at");
          return FALSE;
        }
      rooms_meeting_patch_set_times (patch, start, end);
    }
  if (json_object_has_member (body, "participants"))
    add_selections_from_json (body, patch, TRUE);

  /* a secretary may not move a meeting out of their scope either */
  if (req->principal->role == SIG_ROLE_SECRETARY)
    {
      const char *scope = req->principal->scope;
      if (chair != NULL && !rooms_scope_contains (srv->store, scope, chair))
        {
          req->error_field = g_strdup ("chair");
          g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                       "chair %s is outside this token's scope", chair);
          return FALSE;
        }
      JsonNode *pn = json_object_get_member (body, "participants");
      JsonArray *a = pn ? json_node_get_array (pn) : NULL;
      for (guint i = 0; a && i < json_array_get_length (a); i++)
        {
          const char *unit = member_string (json_array_get_object_element (a, i), "unit");
          if (!rooms_scope_contains (srv->store, scope, unit))
            {
              req->error_field = g_strdup_printf ("participants[%u].unit", i);
              g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                           "unit %s is outside this token's scope", unit);
              return FALSE;
            }
        }
    }

  g_autoptr (RoomsConflictList) conflicts = NULL;
  g_autoptr (RoomsBooking) booking = rooms_store_update_meeting (
      srv->store, rooms_meeting_get_id (m), patch, &conflicts, error);
  if (booking == NULL)
    return refuse_booking (req, conflicts, error ? *error : NULL, chair);
  publish_meeting (srv, rooms_meeting_get_id (m), "meeting.updated");
  sig_lifecycle_run (srv);
  g_autoptr (RoomsMeeting) updated
      = rooms_store_get_meeting (srv->store, rooms_meeting_get_id (m), error);
  if (updated == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  add_meeting (srv, b, updated);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_meetings_delete (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (RoomsMeeting) m = load_meeting (srv, req, error);
  if (m == NULL || !may_write (srv, req->principal, m, error))
    return FALSE;
  gint64 id = rooms_meeting_get_id (m);
  if (!rooms_store_cancel_meeting (srv->store, id, error))
    return FALSE;
  publish_meeting (srv, id, "meeting.cancelled");
  sig_cascade_close_meeting (srv->rt, id);
  g_autoptr (RoomsMeeting) cancelled = rooms_store_get_meeting (srv->store, id, error);
  if (cancelled == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  add_meeting (srv, b, cancelled);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

/* Picks the occurrence an attendance request means: the ?occurrence= one, else the
 * latest that has started, else the first. */
static gint64
pick_occurrence (SigServer *srv, SigRequest *req, gint64 meeting_id, GError **error)
{
  g_autoptr (GPtrArray) occs
      = rooms_store_list_occurrences (srv->store, meeting_id, error);
  if (occs == NULL)
    return -1;
  const char *want = sig_request_query (req, "occurrence");
  gint64 now = sig_server_now (srv), pick = -1;
  for (guint i = 0; i < occs->len; i++)
    {
      RoomsOccurrence *o = occs->pdata[i];
      if (want != NULL)
        {
          if (g_ascii_strtoll (want, NULL, 10) == rooms_occurrence_get_id (o))
            return rooms_occurrence_get_id (o);
          continue;
        }
      if (pick < 0 || rooms_occurrence_get_start (o) <= now)
        pick = rooms_occurrence_get_id (o);
    }
  if (pick < 0)
    {
      req->error_field = g_strdup ("occurrence");
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "meeting %" G_GINT64_FORMAT " has no such occurrence", meeting_id);
    }
  return pick;
}

gboolean
sig_route_meetings_attendance (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (RoomsMeeting) m = load_meeting (srv, req, error);
  if (m == NULL)
    return FALSE;
  gint64 occ = pick_occurrence (srv, req, rooms_meeting_get_id (m), error);
  if (occ < 0)
    return FALSE;
  g_autoptr (RoomsAttendanceReport) rep = rooms_store_attendance_report (
      srv->store, occ, srv->config->attendance_grace, error);
  if (rep == NULL)
    return FALSE;

  const char *accept = soup_message_headers_get_one (
      soup_server_message_get_request_headers (req->msg), "Accept");
  if (accept != NULL && strstr (accept, "text/csv") != NULL)
    {
      g_autofree char *fname
          = g_strdup_printf ("attachment; filename=\"attendance-%" G_GINT64_FORMAT
                             "-%" G_GINT64_FORMAT ".csv\"",
                             rooms_meeting_get_id (m), occ);
      soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                    "Content-Disposition", fname);
      sig_reply_text (req, 200, "text/csv; charset=utf-8",
                      rooms_attendance_report_to_csv (rep));
      return TRUE;
    }

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, rooms_meeting_get_id (m));
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ);
  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  for (int c = ROOMS_ATTENDANCE_PRESENT; c <= ROOMS_ATTENDANCE_ABSENT; c++)
    {
      json_builder_set_member_name (b, rooms_attendance_class_to_string (c));
      json_builder_add_int_value (b, rooms_attendance_report_count (rep, c));
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "sites");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms_attendance_report_get_length (rep); i++)
    {
      const RoomsAttendanceEntry *e = rooms_attendance_report_get (rep, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "site_id");
      json_builder_add_int_value (b, e->site_id);
      json_builder_set_member_name (b, "site_name");
      json_builder_add_string_value (b, e->site_name);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, e->unit_code);
      json_builder_set_member_name (b, "unit_name");
      json_builder_add_string_value (b, e->unit_name);
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, rooms_attendance_class_to_string (e->cls));
      json_builder_set_member_name (b, "first_join");
      if (e->first_join >= 0)
        {
          g_autofree char *t = sig_format_time (e->first_join);
          json_builder_add_string_value (b, t);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "seconds_present");
      json_builder_add_int_value (b, e->seconds_present);
      json_builder_set_member_name (b, "online");
      json_builder_add_boolean_value (b, sig_ws_site_online (srv->ws, e->site_id));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

/* ---- lifecycle timers ---- */

static gboolean lifecycle_cb (gpointer user_data);

static gboolean
apply_transition (SigServer *srv, const RoomsDueTransition *t, GError **error)
{
  switch (t->to)
    {
    case ROOMS_OCCURRENCE_OPEN:
      return rooms_store_open_occurrence (srv->store, t->occurrence_id, error);
    case ROOMS_OCCURRENCE_LIVE:
      return rooms_store_start_occurrence (srv->store, t->occurrence_id, error);
    case ROOMS_OCCURRENCE_ENDED:
      return rooms_store_end_occurrence (srv->store, t->occurrence_id, error);
    default:
      g_set_error (error, SIG_ERROR, SIG_ERROR_INTERNAL, "unexpected due state %d",
                   t->to);
      return FALSE;
    }
}

/* Why a loop: librooms gives one step per occurrence per call; after a restart an
 * occurrence that should be live takes two (open, then start), each applied once and
 * published once. Then one timer is armed for the next due time. */
void
sig_lifecycle_run (SigServer *srv)
{
  gint64 now = sig_server_now (srv);
  g_clear_handle_id (&srv->lifecycle_source, g_source_remove);
  for (int round = 0; round < 4; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) due = rooms_store_due_transitions (srv->store, now, &error);
      if (due == NULL || due->len == 0)
        {
          if (error != NULL)
            g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                              "lifecycle query failed: %s", error->message);
          break;
        }
      for (guint i = 0; i < due->len; i++)
        {
          const RoomsDueTransition *t = &g_array_index (due, RoomsDueTransition, i);
          g_autoptr (GError) e = NULL;
          const char *to = rooms_occurrence_state_to_string (t->to);
          g_autofree char *mid = g_strdup_printf ("%" G_GINT64_FORMAT, t->meeting_id);
          if (!apply_transition (srv, t, &e))
            {
              g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_MEETING_ID", mid,
                                "MESSAGE", "occurrence %" G_GINT64_FORMAT " -> %s: %s",
                                t->occurrence_id, to, e->message);
              continue;
            }
          guint64 *n = g_hash_table_lookup (srv->transitions, to);
          if (n == NULL)
            {
              n = g_new0 (guint64, 1);
              g_hash_table_insert (srv->transitions, g_strdup (to), n);
            }
          (*n)++;
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_MEETING_ID", mid,
                            "MESSAGE", "meeting %s occurrence %" G_GINT64_FORMAT " is %s",
                            mid, t->occurrence_id, to);
          if (t->to == ROOMS_OCCURRENCE_OPEN || t->to == ROOMS_OCCURRENCE_LIVE)
            sig_cascade_open (srv->rt, t->meeting_id, t->occurrence_id);
          else if (t->to == ROOMS_OCCURRENCE_ENDED || t->to == ROOMS_OCCURRENCE_CANCELLED)
            sig_cascade_close (srv->rt, t->occurrence_id);
          g_autofree char *type = g_strconcat ("occurrence.", to, NULL);
          g_autoptr (JsonBuilder) b = json_builder_new ();
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "type");
          json_builder_add_string_value (b, type);
          json_builder_set_member_name (b, "meeting_id");
          json_builder_add_int_value (b, t->meeting_id);
          json_builder_set_member_name (b, "occurrence_id");
          json_builder_add_int_value (b, t->occurrence_id);
          json_builder_end_object (b);
          g_autoptr (JsonNode) ev = json_builder_get_root (b);
          sig_ws_publish (srv->ws, t->meeting_id, ev);
        }
    }
  gint64 next = rooms_store_next_due_time (srv->store, now);
  if (next >= 0)
    {
      gint64 wait = MAX (next - now, 1);
      srv->lifecycle_source = g_timeout_add_seconds_full (
          G_PRIORITY_DEFAULT, (guint)MIN (wait, 3600), lifecycle_cb, srv, NULL);
    }
}

static gboolean
lifecycle_cb (gpointer user_data)
{
  SigServer *srv = user_data;
  srv->lifecycle_source = 0;
  sig_lifecycle_run (srv);
  return G_SOURCE_REMOVE;
}

/* ---- floor and control ---- */

/* Loads the meeting of occurrence {id} for a control request: an unreadable one is
 * a 404 (ids outside the scope do not leak), one the caller may read but not control
 * a 403 (sig_policy_may_control_meeting(): admins and the chair's secretary), and an
 * occurrence without media running a 409. */
static RoomsMeeting *
load_controlled (SigServer *srv, SigRequest *req, gint64 *occ_id, GError **error)
{
  if (!sig_request_id (req, "id", occ_id, error))
    return NULL;
  g_autoptr (RoomsOccurrence) occ
      = rooms_store_get_occurrence (srv->store, *occ_id, error);
  if (occ == NULL)
    return NULL;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (
      srv->store, rooms_occurrence_get_meeting_id (occ), error);
  if (m == NULL)
    return NULL;
  const SigPrincipal *p = req->principal;
  if (!sig_policy_may_read_meeting (srv->store, p, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "no occurrence %" G_GINT64_FORMAT, *occ_id);
      return NULL;
    }
  if (!sig_policy_may_control_meeting (srv->store, p, m))
    {
      g_set_error (
          error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
          "only an admin or the chair's secretary controls meeting %" G_GINT64_FORMAT,
          rooms_meeting_get_id (m));
      return NULL;
    }
  if (!sig_cascade_is_open (srv->rt, *occ_id))
    {
      g_set_error_literal (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                           "the occurrence is not open: no media runs yet");
      return NULL;
    }
  return g_steal_pointer (&m);
}

/* Refuses (400 on @field) a site that is not invited to @m. */
static gboolean
check_invited (SigRequest *req, const RoomsMeeting *m, gint64 site_id, const char *field,
               GError **error)
{
  GArray *sites = rooms_meeting_get_site_ids (m);
  for (guint i = 0; i < sites->len; i++)
    if (g_array_index (sites, gint64, i) == site_id)
      return TRUE;
  req->error_field = g_strdup (field);
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
               "site %" G_GINT64_FORMAT " is not invited to this meeting", site_id);
  return FALSE;
}

const SigParam sig_params_floor[] = {
  { "site_id", SIG_PARAM_INT, FALSE, 1, G_MAXINT32, TRUE,
    NULL }, /* absent or null: the chair */
  { NULL },
};

/* The floor goes to every node of the leg at once, each told where the floor
 * holder's video enters it; subscribers of the meeting see a floor event. */
gboolean
sig_route_occurrence_floor (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL)
    return FALSE;
  JsonNode *site = json_object_get_member (req->body, "site_id");
  gint64 site_id = site && !JSON_NODE_HOLDS_NULL (site) ? json_node_get_int (site) : 0;
  if (site_id > 0 && !check_invited (req, m, site_id, "site_id", error))
    return FALSE;
  sig_cascade_set_floor (srv->rt, occ_id, site_id);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "floor");
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, rooms_meeting_get_id (m));
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ_id);
  json_builder_set_member_name (b, "site_id");
  if (site_id > 0)
    json_builder_add_int_value (b, site_id);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  sig_ws_publish (srv->ws, rooms_meeting_get_id (m), ev);
  sig_reply_json (req, 200, json_node_copy (ev));
  return TRUE;
}

/* ---- the presenter right (issue 16) ---- */

const SigParam sig_params_content[] = {
  { "site", SIG_PARAM_INT, TRUE, 1, G_MAXINT32, FALSE, NULL },
  { NULL },
};

/* Answers who holds the presenter right and who presents in occurrence @occ_id. */
static void
reply_presenting (SigServer *srv, SigRequest *req, const RoomsMeeting *m, gint64 occ_id)
{
  gint64 content = sig_cascade_content_site (srv->rt, occ_id);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, rooms_meeting_get_id (m));
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ_id);
  json_builder_set_member_name (b, "presenter_site_id");
  json_builder_add_int_value (b, sig_cascade_presenter_site (srv->rt, occ_id));
  json_builder_set_member_name (b, "content_site_id");
  if (content > 0)
    json_builder_add_int_value (b, content);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
}

/* POST {"site": N}: the presenter right goes to a site of the meeting; whoever else
 * was showing a screen stops (the runtime tells the nodes and the halls). The audit
 * entry names the site and the former holder. */
gboolean
sig_route_occurrence_content_give (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL)
    return FALSE;
  gint64 site_id = json_object_get_int_member (req->body, "site");
  if (!check_invited (req, m, site_id, "site", error))
    return FALSE;
  gint64 was = sig_cascade_presenter_site (srv->rt, occ_id);
  sig_cascade_set_presenter (srv->rt, occ_id, site_id);
  req->audit_detail = g_strdup_printf ("presenter: site %" G_GINT64_FORMAT
                                       " (was site %" G_GINT64_FORMAT ")",
                                       site_id, was);
  reply_presenting (srv, req, m, occ_id);
  return TRUE;
}

/* DELETE: the presenter right goes back to the chair's site, and any other site's
 * content stops. */
gboolean
sig_route_occurrence_content_take (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL)
    return FALSE;
  gint64 was = sig_cascade_presenter_site (srv->rt, occ_id);
  sig_cascade_set_presenter (srv->rt, occ_id, 0);
  req->audit_detail
      = g_strdup_printf ("presenter: back to the chair's site %" G_GINT64_FORMAT
                         " (was site %" G_GINT64_FORMAT ")",
                         sig_cascade_presenter_site (srv->rt, occ_id), was);
  reply_presenting (srv, req, m, occ_id);
  return TRUE;
}

const SigParam sig_params_mute[] = {
  { "site_id", SIG_PARAM_INT, FALSE, 1, G_MAXINT32, FALSE, NULL },
  { "muted", SIG_PARAM_BOOLEAN, FALSE, 0, 0, FALSE, NULL },
  { "all_but_chair", SIG_PARAM_BOOLEAN, FALSE, 0, 0, FALSE, NULL },
  { NULL },
};

/* Mutes one site ({"site_id", "muted"}) or every site but the chair's
 * ({"all_but_chair": true}, "muted" defaulting to true) at the nodes hosting them. */
gboolean
sig_route_occurrence_mute (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL)
    return FALSE;
  JsonObject *o = req->body;
  gboolean all = json_object_get_boolean_member_with_default (o, "all_but_chair", FALSE);
  gboolean has_site = json_object_has_member (o, "site_id");
  if (all == has_site)
    {
      req->error_field = g_strdup (has_site ? "all_but_chair" : "site_id");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "give either site_id and muted, or all_but_chair: true");
      return FALSE;
    }
  if (has_site && !json_object_has_member (o, "muted"))
    {
      req->error_field = g_strdup ("muted");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "muted is required");
      return FALSE;
    }
  gboolean muted = json_object_get_boolean_member_with_default (o, "muted", TRUE);
  guint count = 0;
  if (has_site)
    {
      gint64 site_id = json_object_get_int_member (o, "site_id");
      if (!check_invited (req, m, site_id, "site_id", error))
        return FALSE;
      sig_cascade_set_muted (srv->rt, occ_id, site_id, muted);
      count = 1;
    }
  else
    {
      gint64 chair = sig_cascade_chair_site (srv->rt, occ_id);
      GArray *sites = rooms_meeting_get_site_ids (m);
      for (guint i = 0; i < sites->len; i++)
        if (g_array_index (sites, gint64, i) != chair)
          count += sig_cascade_set_muted (srv->rt, occ_id,
                                          g_array_index (sites, gint64, i), muted);
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ_id);
  json_builder_set_member_name (b, "muted");
  json_builder_add_boolean_value (b, muted);
  json_builder_set_member_name (b, "sites");
  json_builder_add_int_value (b, count);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

const SigParam sig_params_level[] = {
  { "site_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT32, FALSE, NULL },
  { "level", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { NULL },
};

/* Pins what a site receives: the whole program, the low-resolution one, or audio
 * ("auto" hands it back to the automatic steps); the same as
 * /occurrences/{id}/sites/{site}/level, kept for the meeting's controllers. */
gboolean
sig_route_occurrence_level (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL)
    return FALSE;
  gint64 site_id = json_object_get_int_member (req->body, "site_id");
  if (!check_invited (req, m, site_id, "site_id", error))
    return FALSE;
  return sig_links_pin_level (srv, req, occ_id, site_id, error);
}

/* POST /api/v1/occurrences/{id}/sites/{site}/level {"level": full|low|audio|auto}:
 * the same pin with the site in the path. Control, like the route above: a district
 * secretary who may read the meeting must not put the chair's hall on audio. */
gboolean
sig_route_occurrence_site_level (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id, site_id;
  g_autoptr (RoomsMeeting) m = load_controlled (srv, req, &occ_id, error);
  if (m == NULL || !sig_request_id (req, "site", &site_id, error))
    return FALSE;
  if (!check_invited (req, m, site_id, "site", error))
    return FALSE;
  return sig_links_pin_level (srv, req, occ_id, site_id, error);
}

/* What runs for an occurrence now: its state and, once open, its leg (plan nodes and
 * whether they are up, floor, presenter and content, mutes, levels, and the states the
 * nodes reported). */
gboolean
sig_route_occurrence_media (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ_id;
  if (!sig_request_id (req, "id", &occ_id, error))
    return FALSE;
  g_autoptr (RoomsOccurrence) occ
      = rooms_store_get_occurrence (srv->store, occ_id, error);
  if (occ == NULL)
    return FALSE;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (
      srv->store, rooms_occurrence_get_meeting_id (occ), error);
  if (m == NULL)
    return FALSE;
  if (!sig_policy_may_read_meeting (srv->store, req->principal, m))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "no occurrence %" G_GINT64_FORMAT, occ_id);
      return FALSE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occ_id);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, rooms_meeting_get_id (m));
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (
      b, rooms_occurrence_state_to_string (rooms_occurrence_get_state (occ)));
  json_builder_set_member_name (b, "leg");
  JsonNode *leg = sig_cascade_describe (srv->rt, occ_id);
  if (leg)
    json_builder_add_value (b, leg);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}
