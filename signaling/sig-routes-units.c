/* sig-routes-units.c: the unit tree over HTTP: list, get, search, CSV import. */
#include "sig-server-private.h"

static void
add_unit (JsonBuilder *b, RoomsUnit *u)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, rooms_unit_get_code (u));
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, rooms_unit_get_name (u));
  json_builder_set_member_name (b, "tier");
  json_builder_add_string_value (b, rooms_unit_get_tier (u));
  json_builder_set_member_name (b, "parent");
  if (rooms_unit_get_parent_code (u))
    json_builder_add_string_value (b, rooms_unit_get_parent_code (u));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "children");
  json_builder_add_int_value (b, rooms_unit_get_n_children (u));
  json_builder_end_object (b);
}

static JsonNode *
unit_list (const char *member, GPtrArray *units)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; units && i < units->len; i++)
    add_unit (b, units->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
sig_route_units_list (SigServer *srv, SigRequest *req, GError **error)
{
  const char *parent = sig_request_query (req, "parent");
  g_autoptr (GPtrArray) units = NULL;
  if (parent == NULL || *parent == '\0')
    {
      /* no parent: the root, so a client can walk the tree from the top */
      units = g_ptr_array_new ();
      RoomsUnit *root = rooms_store_get_root (srv->store);
      if (root != NULL)
        g_ptr_array_add (units, root);
    }
  else
    {
      units = rooms_store_get_children (srv->store, parent, error);
      if (units == NULL)
        {
          req->error_field = g_strdup ("parent");
          return FALSE;
        }
    }
  sig_reply_json (req, 200, unit_list ("units", units));
  return TRUE;
}

gboolean
sig_route_units_get (SigServer *srv, SigRequest *req, GError **error)
{
  const char *code = sig_request_param (req, "code");
  RoomsUnit *u = rooms_store_get_unit (srv->store, code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no unit '%s'", code);
      return FALSE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  add_unit (b, u);
  g_autoptr (JsonNode) node = json_builder_get_root (b);
  JsonObject *o = json_node_get_object (node);

  g_autoptr (GPtrArray) anc = rooms_store_get_ancestors (srv->store, code, NULL);
  JsonArray *path = json_array_new ();
  for (guint i = 0; anc && i < anc->len; i++)
    json_array_add_string_element (path, rooms_unit_get_code (anc->pdata[i]));
  json_object_set_array_member (o, "ancestors", path);

  g_autoptr (GPtrArray) sites = rooms_store_list_sites (srv->store, code, NULL);
  JsonArray *sa = json_array_new ();
  for (guint i = 0; sites && i < sites->len; i++)
    {
      RoomsSite *s = sites->pdata[i];
      JsonObject *so = json_object_new ();
      json_object_set_int_member (so, "id", rooms_site_get_id (s));
      json_object_set_string_member (so, "name", rooms_site_get_name (s));
      json_object_set_boolean_member (so, "enabled", rooms_site_get_enabled (s));
      json_array_add_object_element (sa, so);
    }
  json_object_set_array_member (o, "sites", sa);
  sig_reply_json (req, 200, g_steal_pointer (&node));
  return TRUE;
}

gboolean
sig_route_units_search (SigServer *srv, SigRequest *req, GError **error)
{
  const char *q = sig_request_query (req, "q");
  const char *limit_s = sig_request_query (req, "limit");
  guint64 limit = 20;
  if (q == NULL || *q == '\0' || strlen (q) > 200 || !g_utf8_validate (q, -1, NULL))
    {
      req->error_field = g_strdup ("q");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "q must be 1 to 200 bytes of UTF-8");
      return FALSE;
    }
  if (limit_s != NULL && !g_ascii_string_to_unsigned (limit_s, 10, 1, 200, &limit, NULL))
    {
      req->error_field = g_strdup ("limit");
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "limit must be 1 to 200");
      return FALSE;
    }
  g_autoptr (GPtrArray) units = rooms_store_search_units (srv->store, q, (guint)limit);
  sig_reply_json (req, 200, unit_list ("units", units));
  return TRUE;
}

gboolean
sig_route_units_import (SigServer *srv, SigRequest *req, GError **error)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req->msg);
  const char *ct = soup_message_headers_get_content_type (h, NULL);
  if (ct != NULL && g_ascii_strcasecmp (ct, "text/csv") != 0)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_UNSUPPORTED,
                   "the import takes text/csv, not %s", ct);
      return FALSE;
    }
  g_autoptr (RoomsImportReport) report = NULL;
  if (!rooms_store_import_csv (srv->store, (const char *)req->raw, req->raw_len, &report,
                               error))
    {
      req->error_field = g_strdup ("body");
      return FALSE;
    }
  g_log_structured (
      G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
      "imported %u units (%u added, %u removed)", rooms_import_report_get_total (report),
      rooms_import_report_get_added (report), rooms_import_report_get_removed (report));

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "imported");
  json_builder_add_int_value (b, rooms_import_report_get_total (report));
  json_builder_set_member_name (b, "by_tier");
  json_builder_begin_object (b);
  for (const char *const *t = rooms_store_get_tiers (srv->store); *t; t++)
    {
      json_builder_set_member_name (b, *t);
      json_builder_add_int_value (b, rooms_store_count_tier (srv->store, *t));
    }
  json_builder_end_object (b);
  static const struct
  {
    const char *name;
    guint (*get) (const RoomsImportReport *);
  } counts[] = {
    { "added", rooms_import_report_get_added },
    { "renamed", rooms_import_report_get_renamed },
    { "moved", rooms_import_report_get_moved },
    { "removed", rooms_import_report_get_removed },
    { "unchanged", rooms_import_report_get_unchanged },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      json_builder_set_member_name (b, counts[i].name);
      json_builder_add_int_value (b, counts[i].get (report));
    }
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}
