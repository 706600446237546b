/* webm-check.h: what the recorder's tests ask of a recorded WebM file, through
 * GStreamer's own reader (GstDiscoverer), as a player would. */
#pragma once

#include <check.h>
#include <gst/pbutils/pbutils.h>

/* Reads the file @path (failing the test when GStreamer cannot), appends "VP8," and
 * "Opus," to @codecs for each such stream, and returns its duration in seconds. */
G_GNUC_UNUSED static double
webm_discover (const char *path, GString *codecs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstDiscoverer) d = gst_discoverer_new (10 * GST_SECOND, &error);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  g_autofree char *uri = gst_filename_to_uri (path, NULL);
  g_autoptr (GstDiscovererInfo) info = gst_discoverer_discover_uri (d, uri, &error);
  ck_assert_msg (info != NULL
                     && gst_discoverer_info_get_result (info) == GST_DISCOVERER_OK,
                 "%s unreadable: %s", path, error ? error->message : "?");
  GList *streams = gst_discoverer_info_get_stream_list (info);
  for (GList *l = streams; l; l = l->next)
    {
      g_autoptr (GstCaps) caps = gst_discoverer_stream_info_get_caps (l->data);
      const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
      if (g_str_equal (name, "video/x-vp8"))
        g_string_append (codecs, "VP8,");
      else if (g_str_equal (name, "audio/x-opus"))
        g_string_append (codecs, "Opus,");
    }
  gst_discoverer_stream_info_list_free (streams);
  return (double)gst_discoverer_info_get_duration (info) / GST_SECOND;
}
