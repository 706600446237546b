/* sig-audit.c: the audit log's entries for requests, its pruning, and
 * GET /api/v1/audit (issue 15). */
#include "sig-server-private.h"

#include <string.h>

/* Fills who made @req: the account or token of its principal, else what the handler
 * named (a sign-in, a sign-out), else nobody in particular. */
static void
fill_actor (SigRequest *req, RoomsAuditEntry *e)
{
  SigPrincipal *p = req->principal;
  if (p != NULL && p->account != NULL)
    {
      e->actor_kind = g_strdup ("account");
      e->actor_id = g_strdup (p->account);
      e->actor_label = g_strdup (p->full_name);
    }
  else if (p != NULL)
    {
      e->actor_kind = g_strdup ("token");
      e->actor_id = g_strdup (p->token_id);
      e->actor_label = g_strdup (sig_role_to_string (p->role));
    }
  else if (req->audit_actor != NULL)
    {
      e->actor_kind = g_strdup ("account");
      e->actor_id = g_strdup (req->audit_actor);
      e->actor_label = g_strdup (req->audit_label);
    }
  else
    {
      e->actor_kind = g_strdup ("anonymous");
      e->actor_id = g_strdup ("-");
    }
}

/* The meeting a request acted on: its {id} (a meeting's, or an occurrence's
 * meeting), or the id a booking answered with. */
static gint64
meeting_of (SigServer *srv, SigRequest *req)
{
  SigAccess a = req->route->access;
  gint64 id = 0;
  if (a == SIG_ACCESS_MEETING_EDIT || a == SIG_ACCESS_MEETING_READ)
    sig_request_id (req, "id", &id, NULL);
  else if (a == SIG_ACCESS_OCCURRENCE_CONTROL || a == SIG_ACCESS_OCCURRENCE_READ)
    {
      gint64 occ = 0;
      g_autoptr (RoomsOccurrence) o = NULL;
      if (sig_request_id (req, "id", &occ, NULL))
        o = rooms_store_get_occurrence (srv->store, occ, NULL);
      id = o ? rooms_occurrence_get_meeting_id (o) : 0;
    }
  else if (a == SIG_ACCESS_BOOKING)
    {
      SoupMessageBody *b = soup_server_message_get_response_body (req->msg);
      g_autoptr (GBytes) bytes = soup_message_body_flatten (b);
      gsize n;
      const guint8 *data = g_bytes_get_data (bytes, &n);
      g_autoptr (JsonNode) root = sig_json_parse_object (data, n, NULL);
      id = root ? sig_json_int (json_node_get_object (root), "id") : 0;
    }
  return id > 0 ? id : -1;
}

gboolean
sig_audit_request (SigServer *srv, SigRequest *req, GError **error)
{
  g_autoptr (RoomsAuditEntry) e = g_new0 (RoomsAuditEntry, 1);
  fill_actor (req, e);
  e->at = sig_server_now (srv);
  e->action = g_strdup (req->route->audit);
  e->meeting_id = meeting_of (srv, req);
  const char *site = sig_request_param (req, "site");
  guint64 sid = 0;
  if (site != NULL && g_ascii_string_to_unsigned (site, 10, 1, G_MAXINT64, &sid, NULL))
    e->site_id = (gint64)sid;
  else if (req->body != NULL && sig_json_int (req->body, "site_id") > 0)
    e->site_id = sig_json_int (req->body, "site_id");
  else if (req->body != NULL && sig_json_int (req->body, "site") > 0)
    e->site_id = sig_json_int (req->body, "site"); /* the presenter right's site */
  else
    e->site_id = -1;
  e->target = g_strdup (g_uri_get_path (soup_server_message_get_uri (req->msg)));
  e->address = sig_server_client_address (srv, req->msg);
  e->detail = g_strdup (req->audit_detail);
  return rooms_store_add_audit (srv->store, e, error);
}

void
sig_audit_failed_sign_in (SigServer *srv, SigRequest *req)
{
  g_autoptr (RoomsAuditEntry) e = g_new0 (RoomsAuditEntry, 1);
  e->actor_kind = g_strdup ("account");
  e->actor_id = g_strdup (req->audit_actor ? req->audit_actor : "(not a user name)");
  e->at = sig_server_now (srv);
  e->action = g_strdup ("session.sign-in-failed");
  e->meeting_id = e->site_id = -1;
  e->target = g_strdup (g_uri_get_path (soup_server_message_get_uri (req->msg)));
  e->address = sig_server_client_address (srv, req->msg);
  e->detail = g_strdup (req->audit_detail ? req->audit_detail
                        : soup_server_message_get_status (req->msg) == 429
                            ? "refused: waiting after wrong sign-ins"
                            : "wrong user name or password");
  g_autoptr (GError) error = NULL;
  if (!rooms_store_add_audit (srv->store, e, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "a failed sign-in could not be audited: %s", error->message);
}

/* Why pruning audits itself: an entry that disappears must leave a trace of who
 * removed it and why; here it is the retention rule, at a known time. */
void
sig_audit_prune (SigServer *srv)
{
  gint64 days = srv->config->audit_retention;
  g_autoptr (GError) error = NULL;
  gint64 n
      = rooms_store_prune_audit (srv->store, sig_server_now (srv) - days * 86400, &error);
  if (n <= 0)
    {
      if (n < 0)
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                          "pruning the audit log failed: %s", error->message);
      return;
    }
  g_autofree char *detail
      = g_strdup_printf ("%" G_GINT64_FORMAT " entries older than %" G_GINT64_FORMAT
                         " days removed ([audit] retention-days)",
                         n, days);
  sig_audit_system (srv, "audit.prune", NULL, detail);
}

void
sig_audit_system (SigServer *srv, const char *action, const char *target,
                  const char *detail)
{
  g_autoptr (RoomsAuditEntry) e = g_new0 (RoomsAuditEntry, 1);
  e->actor_kind = g_strdup ("system");
  e->actor_id = g_strdup ("signald");
  e->action = g_strdup (action);
  e->at = sig_server_now (srv);
  e->meeting_id = e->site_id = -1;
  e->target = g_strdup (target);
  e->detail = g_strdup (detail);
  g_autoptr (GError) error = NULL;
  if (!rooms_store_add_audit (srv->store, e, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "%s could not be audited: %s", action, error->message);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%s", detail);
}

/* Reads a query parameter as a time or an id; FALSE (400, naming it) when present
 * and malformed. */
static gboolean
query_int (SigRequest *req, const char *name, gboolean time, gint64 *out, GError **error)
{
  const char *v = sig_request_query (req, name);
  guint64 u;
  if (v == NULL)
    return TRUE;
  if (time ? sig_parse_time (v, out)
           : g_ascii_string_to_unsigned (v, 10, 1, G_MAXINT64, &u, NULL))
    {
      if (!time)
        *out = (gint64)u;
      return TRUE;
    }
  req->error_field = g_strdup (name);
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "%s must be %s", name,
               time ? "an RFC 3339 time" : "a positive integer");
  return FALSE;
}

static void
csv_field (GString *out, const char *v, gboolean last)
{
  /* quoted always; a leading = + - @ is defused so a spreadsheet runs no formula */
  g_string_append_c (out, '"');
  if (v != NULL && strchr ("=+-@", v[0]) != NULL && v[0] != '\0')
    g_string_append_c (out, '\'');
  for (const char *c = v ? v : ""; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append (out, last ? "\"\r\n" : "\",");
}

static char *
id_text (gint64 v)
{
  return v > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, v) : NULL;
}

/* GET /api/v1/audit?meeting=&actor=&since=&until=&before=&limit=&format=csv: newest
 * first, a page of @limit (100, at most 1000); "next" is the before= of the next
 * page (JSON), or the X-Next-Before header (CSV). */
gboolean
sig_route_audit (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 meeting = -1, since = -1, until = -1, before = -1, limit = 100;
  const char *actor = sig_request_query (req, "actor");
  const char *format = sig_request_query (req, "format");
  if (!query_int (req, "meeting", FALSE, &meeting, error)
      || !query_int (req, "since", TRUE, &since, error)
      || !query_int (req, "until", TRUE, &until, error)
      || !query_int (req, "before", FALSE, &before, error)
      || !query_int (req, "limit", FALSE, &limit, error))
    return FALSE;
  if (limit > 1000
      || (format != NULL && strcmp (format, "csv") != 0 && strcmp (format, "json") != 0))
    {
      req->error_field = g_strdup (limit > 1000 ? "limit" : "format");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           limit > 1000 ? "limit is at most 1000"
                                        : "format is json or csv");
      return FALSE;
    }
  g_autoptr (GPtrArray) rows = rooms_store_list_audit (
      srv->store, meeting, actor, since, until, before, (guint)limit, error);
  if (rows == NULL)
    return FALSE;
  gint64 next = rows->len == (guint)limit && rows->len > 0
                    ? ((RoomsAuditEntry *)rows->pdata[rows->len - 1])->id
                    : -1;
  if (format != NULL && strcmp (format, "csv") == 0)
    {
      GString *out = g_string_new ("id,at,actor_kind,actor_id,actor_label,action,"
                                   "meeting_id,site_id,target,address,detail\r\n");
      for (guint i = 0; i < rows->len; i++)
        {
          RoomsAuditEntry *e = rows->pdata[i];
          g_autofree char *id = id_text (e->id), *at = sig_format_time (e->at);
          g_autofree char *m = id_text (e->meeting_id), *s = id_text (e->site_id);
          const char *f[]
              = { id, at, e->actor_kind, e->actor_id, e->actor_label, e->action,
                  m,  s,  e->target,     e->address,  e->detail };
          for (gsize k = 0; k < G_N_ELEMENTS (f); k++)
            csv_field (out, f[k], k == G_N_ELEMENTS (f) - 1);
        }
      if (next > 0)
        {
          g_autofree char *nx = id_text (next);
          soup_message_headers_replace (
              soup_server_message_get_response_headers (req->msg), "X-Next-Before", nx);
        }
      sig_reply_text (req, 200, "text/csv; charset=utf-8", g_string_free (out, FALSE));
      return TRUE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "entries");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      RoomsAuditEntry *e = rows->pdata[i];
      g_autofree char *at = sig_format_time (e->at);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, e->id);
      json_builder_set_member_name (b, "at");
      json_builder_add_string_value (b, at);
      json_builder_set_member_name (b, "actor");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, e->actor_kind);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, e->actor_id);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, e->actor_label);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "action");
      json_builder_add_string_value (b, e->action);
      json_builder_set_member_name (b, "meeting_id");
      if (e->meeting_id > 0)
        json_builder_add_int_value (b, e->meeting_id);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "site_id");
      if (e->site_id > 0)
        json_builder_add_int_value (b, e->site_id);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "target");
      json_builder_add_string_value (b, e->target);
      json_builder_set_member_name (b, "address");
      json_builder_add_string_value (b, e->address);
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, e->detail);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "next");
  if (next > 0)
    json_builder_add_int_value (b, next);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}
