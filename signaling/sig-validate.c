/* sig-validate.c: nesting-depth check and parameter-table validation of requests. */
#include "sig-validate.h"

#include "sig-error.h"

guint
sig_json_depth (const guint8 *data, gsize len, guint limit)
{
  guint depth = 0, deepest = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];
      if (in_string)
        {
          if (c == '\\')
            i++; /* skip the escaped byte; bounds re-checked by the loop */
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          depth++;
          if (depth > deepest)
            deepest = depth;
          if (deepest > limit)
            return limit + 1;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return deepest;
}

JsonNode *
sig_json_parse_object (const guint8 *data, gsize len, GError **error)
{
  if (len == 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the request needs a JSON object body");
      return NULL;
    }
  if (sig_json_depth (data, len, SIG_JSON_MAX_DEPTH) > SIG_JSON_MAX_DEPTH)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "JSON nested deeper than %d levels", SIG_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!g_utf8_validate ((const char *)data, len, NULL))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the body is not valid UTF-8");
      return NULL;
    }

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, (const char *)data, (gssize)len, &local))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "malformed JSON: %s",
                   local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the body must be a JSON object");
      return NULL;
    }
  return json_node_copy (root);
}

gboolean
sig_parse_time (const char *text, gint64 *out)
{
  /* g_date_time_new_from_iso8601 also takes week dates and times without an offset
   * (read in a default zone); the API insists on a full date, a 'T' and an offset so
   * a booking never depends on the server's zone. */
  gsize n = strlen (text);
  if (n < 20 || n > 40 || text[4] != '-' || text[7] != '-' || text[10] != 'T')
    return FALSE;
  char last = text[n - 1];
  if (last != 'Z' && !(n >= 6 && (text[n - 6] == '+' || text[n - 6] == '-')))
    return FALSE;
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

char *
sig_format_time (gint64 t)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_offset (7 * 3600);
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (t);
  if (utc == NULL)
    return g_strdup ("");
  g_autoptr (GDateTime) local = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (local, "%Y-%m-%dT%H:%M:%S%:z");
}

static const SigParam *
find_param (const SigParam *params, const char *name)
{
  for (const SigParam *p = params; p->name != NULL; p++)
    if (g_strcmp0 (p->name, name) == 0)
      return p;
  return NULL;
}

static const char *
param_type_name (SigParamType t)
{
  switch (t)
    {
    case SIG_PARAM_STRING:
      return "a string";
    case SIG_PARAM_INT:
      return "an integer";
    case SIG_PARAM_BOOLEAN:
      return "a boolean";
    case SIG_PARAM_TIME:
      return "an RFC 3339 time with offset";
    case SIG_PARAM_OBJECTS:
      return "an array of objects";
    case SIG_PARAM_TIMES:
      return "an array of RFC 3339 times";
    }
  return "?";
}

static gboolean validate_value (JsonNode *value, const SigParam *p, const char *path,
                                char **field, GError **error);

/* Why a separate function: arrays of objects recurse into sig_validate_object with a
 * path prefix, so the field of an error points at the element ("participants[2].unit"). */
static gboolean
validate_array (JsonNode *value, const SigParam *p, const char *path, char **field,
                GError **error)
{
  JsonArray *a = json_node_get_array (value);
  guint n = json_array_get_length (a);
  if ((gint64)n < p->min || (gint64)n > p->max)
    {
      *field = g_strdup (path);
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "%s must have %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " elements",
                   path, p->min, p->max);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *el = json_array_get_element (a, i);
      g_autofree char *elpath = g_strdup_printf ("%s[%u]", path, i);
      if (p->type == SIG_PARAM_OBJECTS)
        {
          if (!JSON_NODE_HOLDS_OBJECT (el))
            {
              *field = g_steal_pointer (&elpath);
              g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "%s must be an object", *field);
              return FALSE;
            }
          JsonObject *o = json_node_get_object (el);
          JsonObjectIter it;
          const char *name;
          JsonNode *member;
          json_object_iter_init (&it, o);
          while (json_object_iter_next (&it, &name, &member))
            {
              g_autofree char *mpath = g_strdup_printf ("%s.%s", elpath, name);
              const SigParam *ip = find_param (p->items, name);
              if (ip == NULL)
                {
                  *field = g_steal_pointer (&mpath);
                  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "unknown field %s", *field);
                  return FALSE;
                }
              if (!validate_value (member, ip, mpath, field, error))
                return FALSE;
            }
          for (const SigParam *ip = p->items; ip->name != NULL; ip++)
            if (ip->required && !json_object_has_member (o, ip->name))
              {
                *field = g_strdup_printf ("%s.%s", elpath, ip->name);
                g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                             "missing required field %s", *field);
                return FALSE;
              }
        }
      else
        {
          SigParam tp = { p->name, SIG_PARAM_TIME, FALSE, 0, 0, FALSE, NULL };
          if (!validate_value (el, &tp, elpath, field, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
validate_value (JsonNode *value, const SigParam *p, const char *path, char **field,
                GError **error)
{
  if (JSON_NODE_HOLDS_NULL (value))
    {
      if (p->nullable && !p->required)
        return TRUE;
      goto wrong_type;
    }
  switch (p->type)
    {
    case SIG_PARAM_STRING:
      {
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_STRING)
          goto wrong_type;
        gsize n = strlen (json_node_get_string (value));
        if ((gint64)n < p->min || (gint64)n > p->max)
          {
            *field = g_strdup (path);
            g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                         "%s must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                         " bytes long",
                         path, p->min, p->max);
            return FALSE;
          }
        return TRUE;
      }
    case SIG_PARAM_INT:
      {
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_INT64)
          goto wrong_type;
        gint64 v = json_node_get_int (value);
        if (v < p->min || v > p->max)
          {
            *field = g_strdup (path);
            g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                         "%s must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                         path, p->min, p->max);
            return FALSE;
          }
        return TRUE;
      }
    case SIG_PARAM_BOOLEAN:
      if (!JSON_NODE_HOLDS_VALUE (value)
          || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
        goto wrong_type;
      return TRUE;
    case SIG_PARAM_TIME:
      {
        gint64 t;
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_STRING
            || !sig_parse_time (json_node_get_string (value), &t))
          goto wrong_type;
        return TRUE;
      }
    case SIG_PARAM_OBJECTS:
    case SIG_PARAM_TIMES:
      if (!JSON_NODE_HOLDS_ARRAY (value))
        goto wrong_type;
      return validate_array (value, p, path, field, error);
    }
wrong_type:
  *field = g_strdup (path);
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "%s must be %s", path,
               param_type_name (p->type));
  return FALSE;
}

gboolean
sig_validate_object (JsonObject *object, const SigParam *params, char **field,
                     GError **error)
{
  g_autofree char *local_field = NULL;
  JsonObjectIter it;
  const char *name;
  JsonNode *member;

  json_object_iter_init (&it, object);
  while (json_object_iter_next (&it, &name, &member))
    {
      const SigParam *p = find_param (params, name);
      if (p == NULL)
        {
          local_field = g_strdup (name);
          g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "unknown field %s", name);
          goto fail;
        }
      if (!validate_value (member, p, name, &local_field, error))
        goto fail;
    }
  for (const SigParam *p = params; p->name != NULL; p++)
    if (p->required && !json_object_has_member (object, p->name))
      {
        local_field = g_strdup (p->name);
        g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "missing required field %s",
                     p->name);
        goto fail;
      }
  return TRUE;

fail:
  if (field != NULL)
    *field = g_steal_pointer (&local_field);
  return FALSE;
}
