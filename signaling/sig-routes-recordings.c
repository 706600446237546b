/* sig-routes-recordings.c: recordings over HTTP (issue 17): control while a meeting
 * runs, the list and details after, and the files themselves, served from the
 * recordings folder in ranges so a browser plays a long file without anyone holding
 * it whole in memory. */
#include "sig-server-private.h"

#include "sig-recording.h"
#include "sig-validate.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

const SigParam sig_params_recording[] = {
  { "action", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { NULL },
};

static void
add_time (JsonBuilder *b, const char *name, gint64 t)
{
  json_builder_set_member_name (b, name);
  if (t > 0)
    {
      g_autofree char *s = sig_format_time (t);
      json_builder_add_string_value (b, s);
    }
  else
    json_builder_add_null_value (b);
}

static void
add_str (JsonBuilder *b, const char *name, const char *v)
{
  json_builder_set_member_name (b, name);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_file (JsonBuilder *b, gint64 id, const char *name, const char *track, guint part,
          guint64 bytes, const char *sha256)
{
  json_builder_begin_object (b);
  add_str (b, "name", name);
  add_str (b, "track", track);
  json_builder_set_member_name (b, "part");
  json_builder_add_int_value (b, part);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64)bytes);
  add_str (b, "sha256", sha256);
  g_autofree char *url
      = g_strdup_printf ("/api/v1/recordings/%" G_GINT64_FORMAT "/files/%s", id, name);
  add_str (b, "url", url);
  json_builder_end_object (b);
}

static char *
recording_dir (SigServer *srv, gint64 id)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  return g_build_filename (srv->config->recordings_dir, name, NULL);
}

/* A recording as the API shows it; the manifests the nodes wrote are listed with the
 * files (track "manifest") when they are on disk. */
static JsonNode *
recording_json (SigServer *srv, const RoomsRecording *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, r->id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, r->occurrence_id);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, r->meeting_id);
  add_str (b, "title", r->title);
  add_str (b, "state", r->state);
  add_time (b, "started_at", r->started_at);
  add_time (b, "ended_at", r->ended_at);
  json_builder_set_member_name (b, "duration_s");
  json_builder_add_int_value (b, rooms_recording_duration (r, sig_server_now (srv)));
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64)rooms_recording_bytes (r));
  add_str (b, "started_by", r->started_by);
  add_str (b, "stop_reason", r->stop_reason);
  json_builder_set_member_name (b, "pauses");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->pauses->len; i++)
    {
      const RoomsRecordingPause *p = r->pauses->pdata[i];
      json_builder_begin_object (b);
      add_time (b, "at", p->at);
      add_str (b, "by", p->by);
      add_time (b, "resumed_at", p->resumed_at);
      add_str (b, "resumed_by", p->resumed_by);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "parts");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->parts->len; i++)
    {
      const RoomsRecordingPart *p = r->parts->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "part");
      json_builder_add_int_value (b, p->part);
      add_str (b, "node_id", p->node_id);
      add_time (b, "started_at", p->started_at);
      add_time (b, "ended_at", p->ended_at);
      add_str (b, "reason", p->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  g_autofree char *dir = recording_dir (srv, r->id);
  for (guint i = 0; i < r->parts->len; i++)
    {
      guint part = ((RoomsRecordingPart *)r->parts->pdata[i])->part;
      for (guint k = 0; k < r->files->len; k++)
        {
          const RoomsRecordingFile *f = r->files->pdata[k];
          if (f->part == part)
            add_file (b, r->id, f->name, f->track, part, f->bytes, f->sha256);
        }
      g_autofree char *mname = g_strdup_printf ("p%u.manifest.json", part);
      g_autofree char *mpath = g_build_filename (dir, mname, NULL);
      GStatBuf st;
      if (g_stat (mpath, &st) == 0 && S_ISREG (st.st_mode))
        add_file (b, r->id, mname, "manifest", part, (guint64)st.st_size, NULL);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static const char *
who (SigRequest *req)
{
  const SigPrincipal *p = req->principal;
  return p->account ? p->account : p->token_id ? p->token_id : "unknown";
}

gboolean
sig_route_occurrence_recording_get (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ;
  if (!sig_request_id (req, "id", &occ, error))
    return FALSE;
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (srv->store, occ, error);
  if (o == NULL)
    return FALSE;
  g_autoptr (GPtrArray) all = rooms_store_list_recordings (
      srv->store, rooms_occurrence_get_meeting_id (o), 0, 0, error);
  if (all == NULL)
    return FALSE;
  for (guint i = 0; i < all->len; i++) /* newest first */
    if (((RoomsRecording *)all->pdata[i])->occurrence_id == occ)
      {
        sig_reply_json (req, 200, recording_json (srv, all->pdata[i]));
        return TRUE;
      }
  g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
               "occurrence %" G_GINT64_FORMAT " has no recording", occ);
  return FALSE;
}

/* POST {"action": "start"|"stop"|"pause"|"resume"}: the chair's secretary (or an
 * admin) controls the recording of a running occurrence. */
gboolean
sig_route_occurrence_recording_control (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 occ;
  if (!sig_request_id (req, "id", &occ, error))
    return FALSE;
  const char *action = sig_json_string (req->body, "action");
  g_autoptr (RoomsRecording) rec = NULL;
  if (g_strcmp0 (action, "start") == 0)
    rec = sig_recording_start (srv->rt, occ, who (req), error);
  else if (g_strcmp0 (action, "stop") == 0)
    rec = sig_recording_stop (srv->rt, occ, error);
  else if (g_strcmp0 (action, "pause") == 0 || g_strcmp0 (action, "resume") == 0)
    rec = sig_recording_set_paused (srv->rt, occ, strcmp (action, "pause") == 0,
                                    who (req), error);
  else
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "action: want start, stop, pause or resume");
      return FALSE;
    }
  if (rec == NULL)
    return FALSE;
  req->audit_detail
      = g_strdup_printf ("recording %" G_GINT64_FORMAT ": %s", rec->id, action);
  sig_reply_json (req, 200, recording_json (srv, rec));
  return TRUE;
}

/* GET ?meeting_id=N: the recordings of the meetings the caller may read, newest
 * first (at most 500). */
gboolean
sig_route_recordings_list (SigServer *srv, SigRequest *req, GError **error)
{
  const char *q = sig_request_query (req, "meeting_id");
  guint64 mid = 0;
  if (q && !g_ascii_string_to_unsigned (q, 10, 1, G_MAXINT64, &mid, NULL))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "meeting_id: want a meeting id");
      return FALSE;
    }
  g_autoptr (GPtrArray) all
      = rooms_store_list_recordings (srv->store, (gint64)mid, 0, 500, error);
  if (all == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  g_autoptr (GHashTable) readable = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < all->len; i++)
    {
      RoomsRecording *r = all->pdata[i];
      if (!g_hash_table_contains (readable, &r->meeting_id))
        {
          g_autoptr (RoomsMeeting) m
              = rooms_store_get_meeting (srv->store, r->meeting_id, NULL);
          if (m == NULL || !sig_policy_may_read_meeting (srv->store, req->principal, m))
            continue;
          g_hash_table_add (readable, &r->meeting_id);
        }
      json_builder_add_value (b, recording_json (srv, r));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  sig_reply_json (req, 200, json_builder_get_root (b));
  return TRUE;
}

gboolean
sig_route_recordings_get (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 id;
  if (!sig_request_id (req, "id", &id, error))
    return FALSE;
  g_autoptr (RoomsRecording) r = rooms_store_get_recording (srv->store, id, error);
  if (r == NULL)
    return FALSE;
  sig_reply_json (req, 200, recording_json (srv, r));
  return TRUE;
}

/* Whether @name is a file of @r: a segment the store lists, or a part's manifest. */
static const char *
file_type (const RoomsRecording *r, const char *name)
{
  for (guint i = 0; i < r->files->len; i++)
    if (strcmp (((RoomsRecordingFile *)r->files->pdata[i])->name, name) == 0)
      return "video/webm";
  for (guint i = 0; i < r->parts->len; i++)
    {
      g_autofree char *m = g_strdup_printf (
          "p%u.manifest.json", ((RoomsRecordingPart *)r->parts->pdata[i])->part);
      if (strcmp (m, name) == 0)
        return "application/json";
    }
  return NULL;
}

/* Parses one "bytes=A-B", "bytes=A-" or "bytes=-N" range of a file of @size bytes.
 * Returns: 1 for a satisfiable range (@from, @len set), 0 when the header is not one
 * simple range (the whole file is sent, as RFC 9110 allows), -1 when unsatisfiable. */
static int
parse_range (const char *h, guint64 size, guint64 *from, guint64 *len)
{
  if (!g_str_has_prefix (h, "bytes="))
    return 0;
  h += 6;
  if (strchr (h, ',') != NULL)
    return 0;
  const char *dash = strchr (h, '-');
  if (dash == NULL)
    return 0;
  g_autofree char *a = g_strstrip (g_strndup (h, (gsize)(dash - h)));
  g_autofree char *z = g_strstrip (g_strdup (dash + 1));
  guint64 first = 0, last = 0;
  gboolean has_a = *a != '\0', has_z = *z != '\0';
  if ((!has_a && !has_z)
      || (has_a && !g_ascii_string_to_unsigned (a, 10, 0, G_MAXUINT64, &first, NULL))
      || (has_z && !g_ascii_string_to_unsigned (z, 10, 0, G_MAXUINT64, &last, NULL)))
    return 0;
  if (!has_a) /* the last N bytes */
    {
      if (last == 0 || size == 0)
        return -1;
      *from = size - MIN (last, size);
      *len = size - *from;
      return 1;
    }
  if (has_z && last < first)
    return 0; /* malformed: ignored */
  if (first >= size)
    return -1;
  last = has_z ? MIN (last, size - 1) : size - 1;
  *from = first;
  *len = last - first + 1;
  return 1;
}

/* GET a file of a recording. The file is mapped, not read: the kernel pages in what
 * is sent, so a two-hour recording costs no memory to serve, and a Range asks for
 * only its part (206; 416 when no byte of the file is in it). */
gboolean
sig_route_recordings_file (SigServer *srv, SigRequest *req, GError **error)
{
  gint64 id;
  const char *name = sig_request_param (req, "name");
  if (!sig_request_id (req, "id", &id, error))
    return FALSE;
  g_autoptr (RoomsRecording) r = rooms_store_get_recording (srv->store, id, error);
  if (r == NULL)
    return FALSE;
  const char *type = name ? file_type (r, name) : NULL;
  if (type == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND,
                   "recording %" G_GINT64_FORMAT " has no file '%s'", id, name);
      return FALSE;
    }
  g_autofree char *dir = recording_dir (srv, id);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) mf = g_mapped_file_new (path, FALSE, &local);
  if (mf == NULL)
    {
      /* the folder's path is the server's business, not the caller's */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "recording %" G_GINT64_FORMAT ": %s", id, local->message);
      g_set_error (error, SIG_ERROR, SIG_ERROR_NOT_FOUND,
                   "%s of recording %" G_GINT64_FORMAT " is not in the recordings folder",
                   name, id);
      return FALSE;
    }
  g_autoptr (GBytes) all = g_mapped_file_get_bytes (mf);
  guint64 size = g_bytes_get_size (all), from = 0, len = size;
  SoupMessageHeaders *rh = soup_server_message_get_request_headers (req->msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (req->msg);
  const char *range = soup_message_headers_get_one (rh, "Range");
  int ranged = range ? parse_range (range, size, &from, &len) : 0;
  if (ranged < 0)
    {
      g_autofree char *cr = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);
      soup_message_headers_replace (h, "Content-Range", cr);
      g_set_error (error, SIG_ERROR, SIG_ERROR_RANGE,
                   "range %s: the file has %" G_GUINT64_FORMAT " bytes", range, size);
      return FALSE;
    }
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  soup_message_headers_replace (h, "Cache-Control", "private, no-store");
  g_autofree char *disposition
      = g_strdup_printf ("inline; filename=\"rec%" G_GINT64_FORMAT "-%s\"", id, name);
  soup_message_headers_replace (h, "Content-Disposition", disposition);
  if (ranged > 0)
    {
      g_autofree char *cr = g_strdup_printf ("bytes %" G_GUINT64_FORMAT
                                             "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                             from, from + len - 1, size);
      soup_message_headers_replace (h, "Content-Range", cr);
    }
  g_autoptr (GBytes) part = g_bytes_new_from_bytes (all, from, len);
  soup_server_message_set_status (req->msg, ranged > 0 ? 206 : 200, NULL);
  soup_message_headers_set_content_type (h, type, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), part);
  return TRUE;
}

void
sig_recordings_expire (SigServer *srv)
{
  g_autoptr (GArray) gone = sig_recording_expire (srv->rt);
  for (guint i = 0; i < gone->len; i++)
    {
      gint64 id = g_array_index (gone, gint64, i);
      g_autofree char *target
          = g_strdup_printf ("/api/v1/recordings/%" G_GINT64_FORMAT, id);
      g_autofree char *detail = g_strdup_printf ("recording %" G_GINT64_FORMAT
                                                 " deleted: kept %" G_GINT64_FORMAT
                                                 " days ([recordings] keep-days)",
                                                 id, srv->config->recording_keep_days);
      sig_audit_system (srv, "recording.expire", target, detail);
    }
}
