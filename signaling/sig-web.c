/* sig-web.c: serves the web UI (signaling/web/, embedded by web.gresource.xml).
 *
 * The pages are plain ES modules and JSON string tables; nothing is loaded from
 * another origin, and the Content-Security-Policy says so to the browser, so a
 * compromised string or a stray <script src> from elsewhere cannot run. */
#include "sig-web.h"

#include <gio/gio.h>
#include <string.h>

#define SIG_WEB_PREFIX "/org/lienthong/signald/web"

/* 'self' covers ws: and wss: on the same host and port in CSP level 3 (Chromium,
 * Firefox); media-src allows the camera preview and the remote streams. */
#define SIG_WEB_CSP                                                                   \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: "    \
  "blob:; media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; " \
  "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const struct
{
  const char *path;
  const char *file;
} pages[] = {
  { "/", "index.html" }, { "/secretary", "secretary.html" }, { "/hall", "hall.html" },
  { "/it", "it.html" },  { "/admin", "admin.html" },
};

static const struct
{
  const char *suffix;
  const char *type;
} types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".txt", "text/plain; charset=utf-8" },
};

static const char *
content_type (const char *file)
{
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_suffix (file, types[i].suffix))
      return types[i].type;
  return "application/octet-stream";
}

/* Why so strict: the resource path is built from the request, so only plain names
 * (letters, digits, '-', '_', '.', one level of folders) are looked up; "..", empty
 * segments and anything else answer 404 without touching GResource. */
static gboolean
safe_asset_name (const char *name)
{
  gsize len = strlen (name);
  if (len == 0 || len > 128 || name[0] == '.' || name[0] == '/'
      || strstr (name, "..") != NULL || strstr (name, "//") != NULL
      || name[len - 1] == '/')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.' && *p != '/')
      return FALSE;
  return TRUE;
}

gboolean
sig_web_serve (SoupServerMessage *msg, const char *method, const char *path)
{
  g_return_val_if_fail (msg != NULL && method != NULL && path != NULL, FALSE);
  const char *file = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    if (strcmp (path, pages[i].path) == 0)
      file = pages[i].file;
  if (file == NULL && g_str_has_prefix (path, "/web/")
      && safe_asset_name (path + strlen ("/web/")))
    file = path + strlen ("/web/");
  if (file == NULL)
    return FALSE;
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    return FALSE;

  g_autofree char *rpath = g_strconcat (SIG_WEB_PREFIX "/", file, NULL);
  g_autoptr (GBytes) data
      = g_resources_lookup_data (rpath, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (data == NULL)
    return FALSE;

  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  /* no-cache: revalidate every time; a new daemon brings new pages */
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  soup_message_headers_replace (h, "Content-Security-Policy", SIG_WEB_CSP);
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (h, "X-Frame-Options", "DENY");
  soup_server_message_set_status (msg, 200, NULL);
  gsize size = 0;
  const char *bytes = g_bytes_get_data (data, &size);
  soup_server_message_set_response (msg, content_type (file), SOUP_MEMORY_COPY, bytes,
                                    size);
  return TRUE;
}
