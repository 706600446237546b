/* libFuzzer target: the JSON of HTTP request bodies and WebSocket messages. Any bytes
 * go through sig_json_parse_object() (the strict scanner, then json-glib), and every
 * object it accepts is validated against the parameter table of every route that
 * takes a JSON body (sig_routes_get()), as the dispatcher would. Nothing may crash or
 * read out of bounds; and what the scanner accepts must be JSON json-glib parses too
 * (the scanner's language is a subset of the parser's), else this aborts. */
#include "sig-server-private.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (sig_json_check (data, size, NULL, NULL))
    {
      g_autoptr (JsonParser) p = json_parser_new_immutable ();
      if (!json_parser_load_from_data (p, (const char *)data, (gssize)size, NULL))
        abort (); /* accepted by the scanner, refused by json-glib */
    }

  g_autoptr (JsonNode) root = sig_json_parse_object (data, size, NULL);
  if (root == NULL)
    return 0;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    abort ();

  guint n;
  const SigRoute *routes = sig_routes_get (&n);
  for (guint i = 0; i < n; i++)
    {
      if (!(routes[i].flags & SIG_ROUTE_JSON_BODY))
        continue;
      if (routes[i].params == NULL)
        abort (); /* a JSON route without a table would take anything */
      g_autofree char *field = NULL;
      g_autoptr (GError) error = NULL;
      gboolean ok = sig_validate_object (json_node_get_object (root), routes[i].params,
                                         &field, &error);
      /* a refusal always names its field and carries the one error domain */
      if (!ok
          && (field == NULL
              || !g_error_matches (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST)))
        abort ();
    }
  return 0;
}
