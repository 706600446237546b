#include "sig-error.h"

#include "rooms.h"

G_DEFINE_QUARK (lienthong - signaling - error - quark, sig_error)

typedef struct
{
  int code;
  guint status;
  const char *name;
} SigErrorMap;

static const SigErrorMap sig_map[] = {
  { SIG_ERROR_BAD_REQUEST, 400, "bad_request" },
  { SIG_ERROR_UNAUTHORIZED, 401, "unauthorized" },
  { SIG_ERROR_FORBIDDEN, 403, "forbidden" },
  { SIG_ERROR_NOT_FOUND, 404, "not_found" },
  { SIG_ERROR_TOO_LARGE, 413, "too_large" },
  { SIG_ERROR_TOO_MANY, 429, "too_many_requests" },
  { SIG_ERROR_UNAVAILABLE, 503, "unavailable" },
  { SIG_ERROR_INTERNAL, 500, "internal" },
  { SIG_ERROR_METHOD, 405, "method_not_allowed" },
  { SIG_ERROR_UNSUPPORTED, 415, "unsupported_media_type" },
  { SIG_ERROR_NOT_ACCEPTABLE, 406, "not_acceptable" },
  { SIG_ERROR_LENGTH_REQUIRED, 411, "length_required" },
  { SIG_ERROR_RANGE, 416, "range_not_satisfiable" },
};

static const SigErrorMap rooms_map[] = {
  { ROOMS_ERROR_INVALID, 400, "invalid" },
  { ROOMS_ERROR_NOT_FOUND, 404, "not_found" },
  { ROOMS_ERROR_CONFLICT, 409, "conflict" },
  { ROOMS_ERROR_CAPACITY, 409, "capacity" },
  { ROOMS_ERROR_PERMISSION, 403, "forbidden" },
  { ROOMS_ERROR_ILLEGAL_STATE, 409, "illegal_state" },
  { ROOMS_ERROR_IN_USE, 409, "in_use" },
  { ROOMS_ERROR_STORE, 500, "store" },
};

static const SigErrorMap *
sig_error_lookup (const GError *error)
{
  const SigErrorMap *map = NULL;
  gsize n = 0;

  if (error->domain == SIG_ERROR)
    map = sig_map, n = G_N_ELEMENTS (sig_map);
  else if (error->domain == ROOMS_ERROR)
    map = rooms_map, n = G_N_ELEMENTS (rooms_map);

  for (gsize i = 0; i < n; i++)
    if (map[i].code == error->code)
      return &map[i];
  return NULL;
}

guint
sig_error_http_status (const GError *error)
{
  g_return_val_if_fail (error != NULL, 500);
  const SigErrorMap *m = sig_error_lookup (error);
  return m ? m->status : 500;
}

const char *
sig_error_code_name (const GError *error)
{
  g_return_val_if_fail (error != NULL, "internal");
  const SigErrorMap *m = sig_error_lookup (error);
  return m ? m->name : "internal";
}

char *
sig_error_to_json (const GError *error, const char *field, JsonNode *extra)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) extra_owned = extra;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, sig_error_code_name (error));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, error->message ? error->message : "");
  if (field != NULL)
    {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, field);
    }
  if (extra_owned != NULL && JSON_NODE_HOLDS_OBJECT (extra_owned))
    {
      JsonObject *o = json_node_get_object (extra_owned);
      JsonObjectIter it;
      const char *name;
      JsonNode *value;
      json_object_iter_init (&it, o);
      while (json_object_iter_next (&it, &name, &value))
        {
          json_builder_set_member_name (b, name);
          json_builder_add_value (b, json_node_copy (value));
        }
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
