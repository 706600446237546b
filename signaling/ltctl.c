/* ltctl: the command-line client of lienthong-signald, for IT staff and secretaries.
 *
 *   ltctl [--server URL] [--token TOKEN] [--json] units search TEXT
 *   ltctl ... units show CODE
 *   ltctl ... meetings list [--from TIME] [--to TIME]
 *   ltctl ... meetings create --title T --chair CODE --start TIME --end TIME
 *                             --participant CODE[:TIER] ...
 *   ltctl ... meetings show ID
 *   ltctl ... nodes
 *   ltctl ... users list | add NAME --full-name F --role R [--scope UNIT]
 *                     | disable NAME | enable NAME | reset NAME
 *             (passwords are read from standard input, without echo on a terminal)
 *
 *   ltctl login [--server URL] [USER] | logout | password
 *
 * The server and token come from the options, else $LTCTL_SERVER / $LTCTL_TOKEN,
 * else the session `ltctl login` keeps in $XDG_CONFIG_HOME/lienthong/session (for the
 * server it signed in to), else ~/.config/lienthong/ltctl.conf ([ltctl] server=,
 * token=). */
#include "lt-config.h"
#include "sig-prompt.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* Exit codes: scripts can tell these apart. */
enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,      /* the server refused for another reason (400, 5xx, ...) */
  EXIT_USAGE = 2,       /* bad command line */
  EXIT_UNREACHABLE = 3, /* no answer from the server */
  EXIT_DENIED = 4,      /* 401, 403, 429 */
  EXIT_NOT_FOUND = 5,   /* 404 */
  EXIT_CONFLICT = 6,    /* 409 */
};

typedef struct
{
  char *server;
  char *token;
  gboolean json;
  SoupSession *session;
  /* a signed-in person's session (ltctl login), used when no token is given */
  char *cookie; /* "lt_session=HEX" */
  char *csrf;
  SoupMessageHeaders *last_headers; /* the last answer's headers (login reads them) */
} Ctl;

static int
exit_for_status (guint status)
{
  if (status >= 200 && status < 300)
    return EXIT_OK;
  if (status == 401 || status == 403 || status == 429)
    return EXIT_DENIED;
  if (status == 404)
    return EXIT_NOT_FOUND;
  if (status == 409)
    return EXIT_CONFLICT;
  return EXIT_FAILED;
}

/* The origin of @server ("http://host:port"), as the server compares Origin with
 * the Host it is reached by. Returns: (transfer full) (nullable) */
static char *
origin_of (const char *server)
{
  g_autoptr (GUri) u = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  if (u == NULL || g_uri_get_host (u) == NULL)
    return NULL;
  const char *scheme = g_uri_get_scheme (u);
  int port = g_uri_get_port (u);
  gboolean default_port = port < 0
                          || (g_ascii_strcasecmp (scheme, "http") == 0 && port == 80)
                          || (g_ascii_strcasecmp (scheme, "https") == 0 && port == 443);
  const char *host = g_uri_get_host (u);
  gboolean v6 = strchr (host, ':') != NULL;
  g_autofree char *p = default_port ? g_strdup ("") : g_strdup_printf (":%d", port);
  return g_strdup_printf ("%s://%s%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", p);
}

/* Why a command-line client sends Origin: the server's CSRF rule asks every
 * signed-in write for this site's Origin and the session's X-CSRF-Token. A page of
 * another site cannot send either; ltctl holds the token (kept at login in a file
 * only its user can read) and is not a browser, so it states the server's own
 * origin, as a page of the server would. */
static void
add_credentials (Ctl *ctl, SoupMessage *msg, const char *method)
{
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (ctl->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", ctl->token, NULL);
      soup_message_headers_replace (h, "Authorization", auth);
      return;
    }
  if (ctl->cookie == NULL)
    return;
  soup_message_headers_replace (h, "Cookie", ctl->cookie);
  if (strcmp (method, "GET") != 0)
    {
      g_autofree char *origin = origin_of (ctl->server);
      if (origin != NULL)
        soup_message_headers_replace (h, "Origin", origin);
      if (ctl->csrf != NULL)
        soup_message_headers_replace (h, "X-CSRF-Token", ctl->csrf);
    }
}

/* One request; prints the error body for people and returns an exit code. On success
 * *out holds the parsed JSON. */
static int
request (Ctl *ctl, const char *method, const char *path, const char *body, JsonNode **out)
{
  g_autofree char *uri = g_strconcat (ctl->server, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  if (msg == NULL)
    {
      g_printerr ("ltctl: bad server URL %s\n", ctl->server);
      return EXIT_USAGE;
    }
  add_credentials (ctl, msg, method);
  if (body != NULL)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) resp = soup_session_send_and_read (ctl->session, msg, NULL, &error);
  if (resp == NULL)
    {
      g_printerr ("ltctl: %s: %s\n", ctl->server, error->message);
      return EXIT_UNREACHABLE;
    }
  guint status = soup_message_get_status (msg);
  g_clear_pointer (&ctl->last_headers, soup_message_headers_unref);
  ctl->last_headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  gsize len;
  const char *data = g_bytes_get_data (resp, &len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean parsed = data && json_parser_load_from_data (parser, data, (gssize)len, NULL)
                    && json_parser_get_root (parser) != NULL;
  if (status < 200 || status >= 300)
    {
      if (ctl->json && parsed)
        g_print ("%.*s\n", (int)len, data);
      else if (parsed && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          JsonObject *e = json_object_get_object_member (o, "error");
          g_printerr (
              "ltctl: %u %s%s%s\n", status,
              e ? json_object_get_string_member_with_default (e, "message", "") : "",
              e && json_object_has_member (e, "field") ? ", field " : "",
              e ? json_object_get_string_member_with_default (e, "field", "") : "");
          JsonArray *cl = e && json_object_has_member (e, "conflicts")
                              ? json_object_get_array_member (e, "conflicts")
                              : NULL;
          for (guint i = 0; cl && i < json_array_get_length (cl); i++)
            {
              JsonObject *c = json_array_get_object_element (cl, i);
              g_printerr ("  site %" G_GINT64_FORMAT
                          " (unit %s) is in meeting %" G_GINT64_FORMAT " \"%s\" at %s\n",
                          json_object_get_int_member (c, "site_id"),
                          json_object_get_string_member (c, "unit"),
                          json_object_get_int_member (c, "meeting_id"),
                          json_object_get_string_member (c, "meeting_title"),
                          json_object_get_string_member (c, "occurrence_starts_at"));
            }
        }
      else
        g_printerr ("ltctl: HTTP %u\n", status);
      if (ctl->token == NULL && ctl->cookie != NULL && status == 401)
        g_printerr ("ltctl: the session has ended; sign in again: ltctl login\n");
      else if (ctl->token == NULL && ctl->cookie != NULL && status == 403 && parsed
               && strstr (data, "change your password first") != NULL)
        g_printerr ("ltctl: change it with: ltctl password\n");
      return exit_for_status (status);
    }
  if (status == 204)
    {
      if (out)
        *out = NULL;
      return EXIT_OK; /* done, nothing to say (a revocation, a retirement) */
    }
  if (!parsed)
    {
      g_printerr ("ltctl: the server answered something that is not JSON\n");
      return EXIT_FAILED;
    }
  if (out)
    *out = json_node_copy (json_parser_get_root (parser));
  return EXIT_OK;
}

/* ---- aligned tables ---- */

typedef struct
{
  guint n_cols;
  GPtrArray *cells; /* char*, row-major, the header first */
} Table;

static Table *
table_new (guint n_cols, const char *const *header)
{
  Table *t = g_new0 (Table, 1);
  t->n_cols = n_cols;
  t->cells = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n_cols; i++)
    g_ptr_array_add (t->cells, g_strdup (header[i]));
  return t;
}

static void
table_add (Table *t, guint col, char *text)
{
  (void)col;
  g_ptr_array_add (t->cells, text ? text : g_strdup (""));
}

/* Pads by characters, not bytes: Vietnamese names are mostly multi-byte UTF-8. */
static void
table_print (Table *t)
{
  g_autofree glong *w = g_new0 (glong, t->n_cols);
  for (guint i = 0; i < t->cells->len; i++)
    w[i % t->n_cols] = MAX (w[i % t->n_cols], g_utf8_strlen (t->cells->pdata[i], -1));
  for (guint i = 0; i < t->cells->len; i++)
    {
      const char *cell = t->cells->pdata[i];
      guint col = i % t->n_cols;
      gboolean last = col == t->n_cols - 1;
      g_print ("%s", cell);
      if (!last)
        for (glong pad = g_utf8_strlen (cell, -1); pad < w[col] + 2; pad++)
          g_print (" ");
      else
        g_print ("\n");
    }
  g_ptr_array_unref (t->cells);
  g_free (t);
}

static void
print_json (JsonNode *n)
{
  g_autofree char *s = json_to_string (n, TRUE);
  g_print ("%s\n", s);
}

static char *
str_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return g_strdup ("-");
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  if (json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (n) ? "yes" : "no");
  return g_strdup (json_node_get_string (n));
}

static void
print_units (JsonNode *n)
{
  static const char *const hdr[] = { "CODE", "NAME", "TIER", "PARENT" };
  static const char *const keys[] = { "code", "name", "tier", "parent" };
  Table *t = table_new (4, hdr);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "units");
  for (guint i = 0; i < json_array_get_length (a); i++)
    for (guint c = 0; c < 4; c++)
      table_add (t, c, str_member (json_array_get_object_element (a, i), keys[c]));
  table_print (t);
}

static void
print_meetings (JsonArray *a)
{
  static const char *const hdr[]
      = { "ID", "TITLE", "CHAIR", "STARTS", "ENDS", "SITES", "CANCELLED" };
  static const char *const keys[]
      = { "id", "title", "chair", "starts_at", "ends_at", "site_count", "cancelled" };
  Table *t = table_new (7, hdr);
  for (guint i = 0; i < json_array_get_length (a); i++)
    for (guint c = 0; c < 7; c++)
      table_add (t, c, str_member (json_array_get_object_element (a, i), keys[c]));
  table_print (t);
}

/* ---- commands ---- */

static int
cmd_units (Ctl *ctl, int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[0], "search") == 0)
    {
      g_autofree char *q = g_uri_escape_string (argv[1], NULL, TRUE);
      g_autofree char *path = g_strconcat ("/api/v1/units/search?q=", q, NULL);
      g_autoptr (JsonNode) n = NULL;
      int rc = request (ctl, "GET", path, NULL, &n);
      if (rc == EXIT_OK)
        ctl->json ? print_json (n) : print_units (n);
      return rc;
    }
  if (argc == 2 && strcmp (argv[0], "show") == 0)
    {
      g_autofree char *c = g_uri_escape_string (argv[1], NULL, TRUE);
      g_autofree char *path = g_strconcat ("/api/v1/units/", c, NULL);
      g_autoptr (JsonNode) n = NULL;
      int rc = request (ctl, "GET", path, NULL, &n);
      if (rc == EXIT_OK)
        print_json (n);
      return rc;
    }
  g_printerr ("usage: ltctl units search TEXT | units show CODE\n");
  return EXIT_USAGE;
}

static int
meetings_create (Ctl *ctl, int argc, char **argv)
{
  g_autofree char *title = NULL, *chair = NULL, *start = NULL, *end = NULL,
                  *agenda = NULL;
  g_auto (GStrv) parts = NULL;
  GOptionEntry entries[]
      = { /* FILENAME args are taken as bytes: UTF-8 titles survive a C locale */
          { "title", 0, 0, G_OPTION_ARG_FILENAME, &title, "Title", "TEXT" },
          { "agenda", 0, 0, G_OPTION_ARG_FILENAME, &agenda, "Agenda", "TEXT" },
          { "chair", 0, 0, G_OPTION_ARG_STRING, &chair, "Chairing unit", "CODE" },
          { "start", 0, 0, G_OPTION_ARG_STRING, &start, "Start (RFC 3339)", "TIME" },
          { "end", 0, 0, G_OPTION_ARG_STRING, &end, "End (RFC 3339)", "TIME" },
          { "participant", 'p', 0, G_OPTION_ARG_FILENAME_ARRAY, &parts,
            "A unit, or its subtree down to a tier", "CODE[:TIER]" },
          { NULL }
        };
  g_autoptr (GOptionContext) oc = g_option_context_new ("- book a meeting");
  g_option_context_add_main_entries (oc, entries, NULL);
  g_autoptr (GError) error = NULL;
  argc++, argv--; /* GOption skips argv[0] */
  if (!g_option_context_parse (oc, &argc, &argv, &error) || !title || !chair || !start
      || !end || !parts)
    {
      g_printerr (
          "usage: ltctl meetings create --title T --chair CODE --start TIME --end "
          "TIME --participant CODE[:TIER] ...%s%s\n",
          error ? ": " : "", error ? error->message : "");
      return EXIT_USAGE;
    }
  if (!g_utf8_validate (title, -1, NULL)
      || (agenda && !g_utf8_validate (agenda, -1, NULL)))
    {
      g_printerr ("ltctl: --title and --agenda must be UTF-8\n");
      return EXIT_USAGE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, title);
  if (agenda)
    {
      json_builder_set_member_name (b, "agenda");
      json_builder_add_string_value (b, agenda);
    }
  json_builder_set_member_name (b, "chair");
  json_builder_add_string_value (b, chair);
  json_builder_set_member_name (b, "starts_at");
  json_builder_add_string_value (b, start);
  json_builder_set_member_name (b, "ends_at");
  json_builder_add_string_value (b, end);
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (char **p = parts; *p; p++)
    {
      g_auto (GStrv) kv = g_strsplit (*p, ":", 2);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, kv[0]);
      if (kv[0] && kv[1])
        {
          json_builder_set_member_name (b, "down_to");
          json_builder_add_string_value (b, kv[1]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *body = json_to_string (root, FALSE);
  g_autoptr (JsonNode) n = NULL;
  int rc = request (ctl, "POST", "/api/v1/meetings", body, &n);
  if (rc != EXIT_OK)
    return rc;
  if (ctl->json)
    print_json (n);
  else
    {
      JsonObject *o = json_node_get_object (n);
      g_print ("booked meeting %" G_GINT64_FORMAT " with %" G_GINT64_FORMAT " sites\n",
               json_object_get_int_member (o, "id"),
               json_object_get_int_member (o, "site_count"));
    }
  return EXIT_OK;
}

static int
cmd_meetings (Ctl *ctl, int argc, char **argv)
{
  if (argc >= 1 && strcmp (argv[0], "list") == 0)
    {
      g_autofree char *from = NULL, *to = NULL;
      GOptionEntry entries[]
          = { { "from", 0, 0, G_OPTION_ARG_STRING, &from, "Window start (RFC 3339)",
                "TIME" },
              { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Window end (RFC 3339)", "TIME" },
              { NULL } };
      g_autoptr (GOptionContext) oc = g_option_context_new ("- list meetings");
      g_option_context_add_main_entries (oc, entries, NULL);
      g_autoptr (GError) error = NULL;
      if (!g_option_context_parse (oc, &argc, &argv, &error))
        {
          g_printerr ("ltctl: %s\n", error->message);
          return EXIT_USAGE;
        }
      GString *path = g_string_new ("/api/v1/meetings?");
      if (from)
        {
          g_autofree char *e = g_uri_escape_string (from, NULL, TRUE);
          g_string_append_printf (path, "from=%s&", e);
        }
      if (to)
        {
          g_autofree char *e = g_uri_escape_string (to, NULL, TRUE);
          g_string_append_printf (path, "to=%s&", e);
        }
      g_autofree char *p = g_string_free (path, FALSE);
      g_autoptr (JsonNode) n = NULL;
      int rc = request (ctl, "GET", p, NULL, &n);
      if (rc == EXIT_OK)
        ctl->json ? print_json (n)
                  : print_meetings (json_object_get_array_member (
                      json_node_get_object (n), "meetings"));
      return rc;
    }
  if (argc >= 1 && strcmp (argv[0], "create") == 0)
    return meetings_create (ctl, argc - 1, argv + 1);
  if (argc == 2 && strcmp (argv[0], "show") == 0)
    {
      guint64 id;
      if (!g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXINT64, &id, NULL))
        {
          g_printerr ("ltctl: %s is not a meeting id\n", argv[1]);
          return EXIT_USAGE;
        }
      g_autofree char *path = g_strdup_printf ("/api/v1/meetings/%" G_GUINT64_FORMAT, id);
      g_autoptr (JsonNode) n = NULL;
      int rc = request (ctl, "GET", path, NULL, &n);
      if (rc != EXIT_OK)
        return rc;
      if (ctl->json)
        print_json (n);
      else
        {
          JsonArray *a = json_array_new ();
          json_array_add_element (a, json_node_copy (n));
          print_meetings (a);
          json_array_unref (a);
          JsonArray *occ
              = json_object_get_array_member (json_node_get_object (n), "occurrences");
          static const char *const hdr[] = { "OCCURRENCE", "STARTS", "ENDS", "STATE" };
          static const char *const keys[] = { "id", "starts_at", "ends_at", "state" };
          g_print ("\n");
          Table *t = table_new (4, hdr);
          for (guint i = 0; occ && i < json_array_get_length (occ); i++)
            for (guint c = 0; c < 4; c++)
              table_add (t, c,
                         str_member (json_array_get_object_element (occ, i), keys[c]));
          table_print (t);
        }
      return EXIT_OK;
    }
  g_printerr (
      "usage: ltctl meetings list [--from TIME] [--to TIME] | create ... | show ID\n");
  return EXIT_USAGE;
}

static int
cmd_nodes (Ctl *ctl, int argc, char **argv)
{
  g_autoptr (JsonNode) n = NULL;
  if (argc >= 1 && strcmp (argv[0], "retire") == 0)
    {
      /* the node's tokens go, its socket closes, its sites move to the node above */
      if (argc != 2)
        {
          g_printerr ("ltctl: nodes retire NODE-ID\n");
          return EXIT_USAGE;
        }
      g_autofree char *id = g_uri_escape_string (argv[1], NULL, FALSE);
      g_autofree char *path = g_strconcat ("/api/v1/nodes/", id, NULL);
      int rc = request (ctl, "DELETE", path, NULL, NULL);
      if (rc == EXIT_OK && !ctl->json)
        g_print ("node %s retired\n", argv[1]);
      return rc;
    }
  if (argc > 0)
    {
      g_printerr ("ltctl: nodes [retire NODE-ID]\n");
      return EXIT_USAGE;
    }
  int rc = request (ctl, "GET", "/api/v1/nodes", NULL, &n);
  if (rc != EXIT_OK)
    return rc;
  if (ctl->json)
    {
      print_json (n);
      return EXIT_OK;
    }
  static const char *const hdr[] = { "NODE", "UNIT", "CAPACITY", "STATE" };
  static const char *const keys[] = { "id", "unit", "capacity", "state" };
  Table *t = table_new (4, hdr);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "nodes");
  for (guint i = 0; i < json_array_get_length (a); i++)
    for (guint c = 0; c < 4; c++)
      table_add (t, c, str_member (json_array_get_object_element (a, i), keys[c]));
  table_print (t);
  return EXIT_OK;
}

static char *
users_path (const char *name, const char *what)
{
  g_autofree char *n = g_uri_escape_string (name, NULL, FALSE);
  return g_strconcat ("/api/v1/users/", n, what ? "/" : "", what, NULL);
}

static char *
password_body (const char *extra_json_members, const char *password)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  if (extra_json_members == NULL)
    return g_steal_pointer (&text);
  /* "{...extra...," + "\"password\":..}" */
  return g_strdup_printf ("{%s,%s", extra_json_members, text + 1);
}

static int
users_add (Ctl *ctl, int argc, char **argv)
{
  const char *full = NULL, *role = NULL, *scope = NULL;
  for (int i = 2; i + 1 < argc; i += 2)
    if (strcmp (argv[i], "--full-name") == 0)
      full = argv[i + 1];
    else if (strcmp (argv[i], "--role") == 0)
      role = argv[i + 1];
    else if (strcmp (argv[i], "--scope") == 0)
      scope = argv[i + 1];
  if (argc % 2 != 0 || full == NULL || role == NULL)
    {
      g_printerr ("ltctl: users add NAME --full-name F --role admin|secretary|it "
                  "[--scope UNIT]\n");
      return EXIT_USAGE;
    }
  g_autofree char *pw = sig_prompt_secret ("Password: ");
  if (pw == NULL)
    {
      g_printerr ("ltctl: no password on standard input\n");
      return EXIT_USAGE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "full_name");
  json_builder_add_string_value (b, full);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  if (scope)
    {
      json_builder_set_member_name (b, "scope");
      json_builder_add_string_value (b, scope);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  text[strlen (text) - 1] = '\0'; /* drop the closing brace: members only */
  g_autofree char *body = password_body (text + 1, pw);
  explicit_bzero (pw, strlen (pw));
  g_autoptr (JsonNode) n = NULL;
  int rc = request (ctl, "POST", "/api/v1/users", body, &n);
  explicit_bzero (body, strlen (body));
  if (rc == EXIT_OK && ctl->json)
    print_json (n);
  else if (rc == EXIT_OK)
    g_print ("account %s created; its owner must change the password at first "
             "sign-in\n",
             json_object_get_string_member (json_node_get_object (n), "user"));
  return rc;
}

static int
cmd_users (Ctl *ctl, int argc, char **argv)
{
  g_autoptr (JsonNode) n = NULL;
  if (argc >= 2 && strcmp (argv[0], "add") == 0)
    return users_add (ctl, argc, argv);
  if (argc == 2 && (strcmp (argv[0], "disable") == 0 || strcmp (argv[0], "enable") == 0))
    {
      g_autofree char *path = users_path (argv[1], argv[0]);
      int rc = request (ctl, "POST", path, NULL, &n);
      if (rc == EXIT_OK && !ctl->json)
        g_print ("account %s %sd\n", argv[1], argv[0]);
      else if (rc == EXIT_OK)
        print_json (n);
      return rc;
    }
  if (argc == 2 && strcmp (argv[0], "reset") == 0)
    {
      g_autofree char *pw = sig_prompt_secret ("New password: ");
      if (pw == NULL)
        {
          g_printerr ("ltctl: no password on standard input\n");
          return EXIT_USAGE;
        }
      g_autofree char *path = users_path (argv[1], "password");
      g_autofree char *body = password_body (NULL, pw);
      explicit_bzero (pw, strlen (pw));
      int rc = request (ctl, "POST", path, body, &n);
      explicit_bzero (body, strlen (body));
      if (rc == EXIT_OK && !ctl->json)
        g_print ("password of %s reset; it must be changed at the next sign-in\n",
                 argv[1]);
      else if (rc == EXIT_OK)
        print_json (n);
      return rc;
    }
  if (argc != 1 || strcmp (argv[0], "list") != 0)
    {
      g_printerr ("usage: ltctl users list | add NAME --full-name F --role R "
                  "[--scope UNIT] | disable NAME | enable NAME | reset NAME\n");
      return EXIT_USAGE;
    }
  int rc = request (ctl, "GET", "/api/v1/users", NULL, &n);
  if (rc != EXIT_OK)
    return rc;
  if (ctl->json)
    {
      print_json (n);
      return EXIT_OK;
    }
  static const char *const hdr[] = { "USER", "NAME", "ROLE", "SCOPE", "STATE" };
  Table *t = table_new (5, hdr);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "users");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *u = json_array_get_object_element (a, i);
      table_add (t, 0, str_member (u, "user"));
      table_add (t, 1, str_member (u, "full_name"));
      table_add (t, 2, str_member (u, "role"));
      table_add (t, 3, str_member (u, "scope"));
      gboolean dis = json_object_get_boolean_member_with_default (u, "disabled", FALSE);
      gboolean mc = json_object_get_boolean_member_with_default (u, "must_change", FALSE);
      table_add (t, 4,
                 g_strdup (dis  ? "disabled"
                           : mc ? "must change password"
                                : "active"));
    }
  table_print (t);
  return EXIT_OK;
}

static const char *const grade_names[] = { "?", "Tốt", "Khá", "Kém", "Rất kém" };

static char *
dir_cell (JsonObject *leg, const char *dir)
{
  JsonNode *n = json_object_get_member (leg, dir);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return g_strdup ("-");
  JsonObject *o = json_node_get_object (n);
  return g_strdup_printf ("%.1f%% %.0fms %.0fms",
                          json_object_get_double_member_with_default (o, "loss", -1),
                          json_object_get_double_member_with_default (o, "jit", -1),
                          json_object_get_double_member_with_default (o, "rtt", -1));
}

/* The remote candidate type of a leg's selected ICE pair ("host", "relay"...): a
 * relayed site is one whose path goes through TURN; "-" until a node reported it. */
static char *
pair_cell (JsonObject *leg)
{
  JsonNode *n = json_object_get_member (leg, "pair");
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return g_strdup ("-");
  const char *remote = json_object_get_string_member_with_default (
      json_node_get_object (n), "remote", "");
  return g_strdup (*remote ? remote : "-");
}

/* links --meeting ID [--watch]: the legs of a meeting, worst first; --watch redraws
 * the table in place every 2 s (the nodes' report period) until interrupted. */
static int
cmd_links (Ctl *ctl, int argc, char **argv)
{
  const char *meeting = NULL;
  gboolean watch = FALSE;
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "--meeting") == 0 && i + 1 < argc)
      meeting = argv[++i];
    else if (strcmp (argv[i], "--watch") == 0)
      watch = TRUE;
  if (meeting == NULL)
    {
      g_printerr ("usage: ltctl links --meeting ID [--watch]\n");
      return EXIT_USAGE;
    }
  g_autofree char *path = g_strdup_printf ("/api/v1/meetings/%s/links", meeting);
  for (;;)
    {
      g_autoptr (JsonNode) n = NULL;
      int rc = request (ctl, "GET", path, NULL, &n);
      if (rc != EXIT_OK)
        return rc;
      if (ctl->json)
        print_json (n);
      else
        {
          if (watch)
            g_print ("\033[H\033[2J");
          static const char *const hdr[] = {
            "LEG", "GRADE", "LEVEL", "PAIR", "UP loss/jit/rtt", "DOWN loss/jit/rtt"
          };
          Table *t = table_new (6, hdr);
          JsonArray *a = json_object_get_array_member (json_node_get_object (n), "links");
          for (guint i = 0; i < json_array_get_length (a); i++)
            {
              JsonObject *l = json_array_get_object_element (a, i);
              gint64 g = json_object_get_int_member_with_default (l, "grade", -1);
              g_autofree char *up = dir_cell (l, "up"), *down = dir_cell (l, "down");
              table_add (t, 0, g_strdup (json_object_get_string_member (l, "leg")));
              table_add (t, 1, g_strdup (grade_names[CLAMP (g + 1, 0, 4)]));
              table_add (t, 2,
                         g_strdup (json_object_get_string_member_with_default (l, "level",
                                                                               "-")));
              table_add (t, 3, pair_cell (l));
              table_add (t, 4, g_steal_pointer (&up));
              table_add (t, 5, g_steal_pointer (&down));
            }
          table_print (t);
        }
      if (!watch)
        return EXIT_OK;
      g_usleep (2 * G_USEC_PER_SEC);
    }
}

/* alarms [--open] [--meeting ID]: newest first. */
static int
cmd_alarms (Ctl *ctl, int argc, char **argv)
{
  GString *path = g_string_new ("/api/v1/alarms?since=0");
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "--open") == 0)
      g_string_append (path, "&open=1");
    else if (strcmp (argv[i], "--meeting") == 0 && i + 1 < argc)
      g_string_append_printf (path, "&meeting=%s", argv[++i]);
  g_autofree char *p = g_string_free (path, FALSE);
  g_autoptr (JsonNode) n = NULL;
  int rc = request (ctl, "GET", p, NULL, &n);
  if (rc != EXIT_OK)
    return rc;
  if (ctl->json)
    {
      print_json (n);
      return EXIT_OK;
    }
  static const char *const hdr[] = { "ID", "KIND", "SUBJECT", "RAISED", "CLEARED" };
  Table *t = table_new (5, hdr);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "alarms");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      g_autofree char *id
          = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (o, "id"));
      g_autoptr (GDateTime) r
          = g_date_time_new_from_unix_utc (json_object_get_int_member (o, "raised_at"));
      g_autofree char *rs = g_date_time_format_iso8601 (r);
      JsonNode *cn = json_object_get_member (o, "cleared_at");
      g_autofree char *cs = NULL;
      if (cn && !JSON_NODE_HOLDS_NULL (cn))
        {
          g_autoptr (GDateTime) c
              = g_date_time_new_from_unix_utc (json_node_get_int (cn));
          cs = g_date_time_format_iso8601 (c);
        }
      table_add (t, 0, g_steal_pointer (&id));
      table_add (t, 1, g_strdup (json_object_get_string_member (o, "kind")));
      table_add (t, 2, g_strdup (json_object_get_string_member (o, "subject")));
      table_add (t, 3, g_steal_pointer (&rs));
      table_add (t, 4, cs ? g_steal_pointer (&cs) : g_strdup ("open"));
    }
  table_print (t);
  return EXIT_OK;
}

/* ---- the signed-in session (login, logout, password) ---- */

/* $XDG_CONFIG_HOME/lienthong/session (~/.config/lienthong/session). */
static char *
session_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "lienthong", "session", NULL);
}

/* Why atomic, and 0600 in a 0700 folder: the file holds what signs its owner in
 * (the cookie and the CSRF token); a half-written file must never replace a good
 * one, and no other user may read it even for a moment (the temporary file is made
 * 0600 before anything is written to it). */
static gboolean
session_save (const char *server, const char *user, const char *cookie, const char *csrf,
              GError **error)
{
  g_autofree char *path = session_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0 || g_chmod (dir, 0700) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_string (kf, "session", "server", server);
  g_key_file_set_string (kf, "session", "user", user);
  g_key_file_set_string (kf, "session", "cookie", cookie);
  g_key_file_set_string (kf, "session", "csrf", csrf);
  gsize len;
  g_autofree char *text = g_key_file_to_data (kf, &len, NULL);
  gboolean ok = g_file_set_contents_full (path, text, (gssize)len,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
  explicit_bzero (text, len);
  return ok;
}

/* Loads the session file into @ctl when it is for @ctl->server (or no server was
 * named): a cookie is only ever sent to the server that gave it. */
static void
session_load (Ctl *ctl)
{
  g_autofree char *path = session_path ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return;
  g_autofree char *server = g_key_file_get_string (kf, "session", "server", NULL);
  g_autofree char *cookie = g_key_file_get_string (kf, "session", "cookie", NULL);
  g_autofree char *csrf = g_key_file_get_string (kf, "session", "csrf", NULL);
  if (server == NULL || cookie == NULL || csrf == NULL
      || !g_str_has_prefix (cookie, "lt_session="))
    return;
  if (ctl->server != NULL && strcmp (ctl->server, server) != 0)
    return;
  if (ctl->server == NULL)
    ctl->server = g_steal_pointer (&server);
  ctl->cookie = g_steal_pointer (&cookie);
  ctl->csrf = g_steal_pointer (&csrf);
}

static void
trim_server (char *server)
{
  while (server != NULL && g_str_has_suffix (server, "/"))
    server[strlen (server) - 1] = '\0';
}

/* login [--server URL] [USER]: one password prompt (or one line of standard input),
 * POST /api/v1/session, and the session kept for the next commands. */
static int
cmd_login (Ctl *ctl, int argc, char **argv)
{
  const char *user = NULL;
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "--server") == 0 && i + 1 < argc)
      {
        g_free (ctl->server);
        ctl->server = g_strdup (argv[++i]);
        trim_server (ctl->server);
      }
    else if (user == NULL && argv[i][0] != '-')
      user = argv[i];
    else
      {
        g_printerr ("usage: ltctl login [--server URL] [USER]\n");
        return EXIT_USAGE;
      }
  if (user == NULL)
    user = g_get_user_name ();
  g_clear_pointer (&ctl->token, g_free);
  g_clear_pointer (&ctl->cookie, g_free);
  g_clear_pointer (&ctl->csrf, g_free);
  g_autofree char *prompt
      = g_strdup_printf ("Password for %s at %s: ", user, ctl->server);
  g_autofree char *pw = sig_prompt_secret (prompt);
  if (pw == NULL)
    {
      g_printerr ("ltctl: no password on standard input\n");
      return EXIT_USAGE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, pw);
  json_builder_end_object (b);
  explicit_bzero (pw, strlen (pw));
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *body = json_to_string (root, FALSE);
  g_autoptr (JsonNode) n = NULL;
  int rc = request (ctl, "POST", "/api/v1/session", body, &n);
  explicit_bzero (body, strlen (body));
  if (rc != EXIT_OK)
    return rc;
  const char *sc = soup_message_headers_get_one (ctl->last_headers, "Set-Cookie");
  JsonObject *o = n ? json_node_get_object (n) : NULL;
  const char *csrf
      = o ? json_object_get_string_member_with_default (o, "csrf_token", NULL) : NULL;
  if (sc == NULL || !g_str_has_prefix (sc, "lt_session=") || csrf == NULL)
    {
      g_printerr ("ltctl: the server signed in without a session cookie\n");
      return EXIT_FAILED;
    }
  g_autofree char *cookie = g_strndup (sc, strcspn (sc, ";"));
  const char *name = json_object_get_string_member_with_default (o, "user", user);
  g_autoptr (GError) error = NULL;
  if (!session_save (ctl->server, name, cookie, csrf, &error))
    {
      g_printerr ("ltctl: signed in, but the session could not be kept: %s\n",
                  error->message);
      return EXIT_FAILED;
    }
  g_print ("signed in to %s as %s (%s)\n", ctl->server, name,
           json_object_get_string_member_with_default (o, "role", "?"));
  if (json_object_get_boolean_member_with_default (o, "must_change", FALSE))
    g_printerr ("ltctl: this password was given to you and must be changed before "
                "anything else: run `ltctl password`\n");
  return EXIT_OK;
}

/* logout: ends the session on the server and forgets it here. */
static int
cmd_logout (Ctl *ctl, int argc, char **argv)
{
  if (argc != 0)
    {
      g_printerr ("usage: ltctl logout\n");
      return EXIT_USAGE;
    }
  g_autofree char *path = session_path ();
  if (ctl->cookie == NULL)
    {
      g_printerr ("ltctl: not signed in%s%s\n", ctl->server ? " to " : "",
                  ctl->server ? ctl->server : "");
      return EXIT_OK;
    }
  g_clear_pointer (&ctl->token, g_free);
  int rc = request (ctl, "DELETE", "/api/v1/session", NULL, NULL);
  if (rc == EXIT_UNREACHABLE || rc == EXIT_USAGE)
    {
      g_printerr ("ltctl: the session is still open on the server; %s is kept (run "
                  "ltctl logout again, or delete it)\n",
                  path);
      return rc;
    }
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_printerr ("ltctl: %s: %s\n", path, g_strerror (errno));
      return EXIT_FAILED;
    }
  g_print ("signed out of %s\n", ctl->server);
  return rc;
}

/* password: changes one's own password (the session's account). */
static int
cmd_password (Ctl *ctl, int argc, char **argv)
{
  if (argc != 0)
    {
      g_printerr ("usage: ltctl password  (current and new password from standard "
                  "input)\n");
      return EXIT_USAGE;
    }
  if (ctl->cookie == NULL || ctl->token != NULL)
    {
      g_printerr ("ltctl: sign in first (ltctl login): tokens have no password\n");
      return EXIT_USAGE;
    }
  g_autofree char *old_pw = sig_prompt_secret ("Current password: ");
  g_autofree char *new_pw = old_pw ? sig_prompt_secret ("New password: ") : NULL;
  if (new_pw != NULL && sig_prompt_is_terminal ())
    {
      g_autofree char *again = sig_prompt_secret ("New password (again): ");
      gboolean same = again != NULL && strcmp (again, new_pw) == 0;
      if (again != NULL)
        explicit_bzero (again, strlen (again));
      if (!same)
        {
          g_printerr ("ltctl: the new passwords differ\n");
          explicit_bzero (old_pw, strlen (old_pw));
          explicit_bzero (new_pw, strlen (new_pw));
          return EXIT_USAGE;
        }
    }
  if (new_pw == NULL)
    {
      g_printerr ("ltctl: the current and the new password, one line each, on standard "
                  "input\n");
      return EXIT_USAGE;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "old_password");
  json_builder_add_string_value (b, old_pw);
  json_builder_set_member_name (b, "new_password");
  json_builder_add_string_value (b, new_pw);
  json_builder_end_object (b);
  explicit_bzero (old_pw, strlen (old_pw));
  explicit_bzero (new_pw, strlen (new_pw));
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *body = json_to_string (root, FALSE);
  int rc = request (ctl, "POST", "/api/v1/session/password", body, NULL);
  explicit_bzero (body, strlen (body));
  if (rc == EXIT_OK)
    g_print ("password changed; your other sessions have ended\n");
  return rc;
}

/* Output is UTF-8 whatever the locale: names are Vietnamese and g_print would turn them
 * into '?' under LANG=C (common on servers and in cron). */
static void
print_raw (const gchar *text)
{
  fputs (text, stdout);
}

static void
printerr_raw (const gchar *text)
{
  fputs (text, stderr);
}

/* Fills in what the options left unset: the token from $LTCTL_TOKEN, else the
 * session of `ltctl login` (for the server it was made with), else ltctl.conf. */
static void
resolve_settings (Ctl *ctl)
{
  if (ctl->server == NULL && g_getenv ("LTCTL_SERVER"))
    ctl->server = g_strdup (g_getenv ("LTCTL_SERVER"));
  if (ctl->token == NULL && g_getenv ("LTCTL_TOKEN"))
    ctl->token = g_strdup (g_getenv ("LTCTL_TOKEN"));
  trim_server (ctl->server);
  if (ctl->token == NULL)
    session_load (ctl);
  if (ctl->server == NULL || (ctl->token == NULL && ctl->cookie == NULL))
    {
      g_autofree char *path
          = g_build_filename (g_get_user_config_dir (), "lienthong", "ltctl.conf", NULL);
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
        {
          if (ctl->server == NULL)
            ctl->server = g_key_file_get_string (kf, "ltctl", "server", NULL);
          if (ctl->token == NULL && ctl->cookie == NULL)
            ctl->token = g_key_file_get_string (kf, "ltctl", "token", NULL);
        }
    }
  if (ctl->server == NULL)
    ctl->server = g_strdup ("http://127.0.0.1:8480");
  trim_server (ctl->server);
}

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  Ctl ctl = { 0 };
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &ctl.server,
      "signald URL (else $LTCTL_SERVER, ltctl.conf, http://127.0.0.1:8480)", "URL" },
    { "token", 't', 0, G_OPTION_ARG_STRING, &ctl.token,
      "API token (else $LTCTL_TOKEN, the session of ltctl login, ltctl.conf)", "TOKEN" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, "Print JSON for machines", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
      NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) oc = g_option_context_new ("COMMAND - lienthong control");
  g_autoptr (GError) error = NULL;
  g_set_print_handler (print_raw);
  g_set_printerr_handler (printerr_raw);
  g_option_context_add_main_entries (oc, entries, NULL);
  g_option_context_set_strict_posix (oc,
                                     TRUE); /* options after the command are its own */
  g_option_context_set_description (
      oc,
      "Commands:\n"
      "  units search TEXT          find units, with or without diacritics\n"
      "  units show CODE            one unit with its ancestors and sites\n"
      "  meetings list [--from T] [--to T]\n"
      "  meetings create --title T --chair CODE --start T --end T -p CODE[:TIER]...\n"
      "  meetings show ID\n"
      "  nodes                      the media node registry\n"
      "  nodes retire NODE-ID       retire a node: tokens, socket, unit\n"
      "  users list                 people's accounts (admin)\n"
      "  users add NAME --full-name F --role R [--scope UNIT]\n"
      "  users disable|enable|reset NAME  (passwords from standard input)\n"
      "  links --meeting ID [--watch]  link quality of a meeting, worst first\n"
      "  alarms [--open] [--meeting ID]  alarms, newest first\n"
      "  login [--server URL] [USER]  sign in (password from standard input) and keep\n"
      "                             the session for the next commands\n"
      "  logout                     end that session on the server and forget it\n"
      "  password                   change your own password (signed in)\n\n"
      "Exit codes: 0 ok, 1 refused, 2 usage, 3 server unreachable, 4 not allowed\n"
      "(401/403/429), 5 not found, 6 conflict.\n");
  if (!g_option_context_parse (oc, &argc, &argv, &error))
    {
      g_printerr ("ltctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (version)
    {
      g_print ("ltctl %s\n", LT_VERSION);
      return EXIT_OK;
    }
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (oc, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_USAGE;
    }
  resolve_settings (&ctl);
  ctl.session = soup_session_new_with_options ("timeout", 30, "user-agent",
                                               "ltctl/" LT_VERSION, NULL);
  int rc;
  if (strcmp (argv[1], "units") == 0)
    rc = cmd_units (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "meetings") == 0)
    rc = cmd_meetings (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "nodes") == 0)
    rc = cmd_nodes (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "links") == 0)
    rc = cmd_links (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "alarms") == 0)
    rc = cmd_alarms (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "users") == 0)
    rc = cmd_users (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "login") == 0)
    rc = cmd_login (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "logout") == 0)
    rc = cmd_logout (&ctl, argc - 2, argv + 2);
  else if (strcmp (argv[1], "password") == 0)
    rc = cmd_password (&ctl, argc - 2, argv + 2);
  else
    {
      g_printerr ("ltctl: unknown command %s; see --help\n", argv[1]);
      rc = EXIT_USAGE;
    }
  g_object_unref (ctl.session);
  g_free (ctl.server);
  g_free (ctl.token);
  g_free (ctl.cookie);
  g_free (ctl.csrf);
  g_clear_pointer (&ctl.last_headers, soup_message_headers_unref);
  return rc;
}
