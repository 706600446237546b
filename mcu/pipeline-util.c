#include "pipeline-util.h"

GstClockTime
mcu_pipeline_running_time (GstElement *pipeline)
{
  g_return_val_if_fail (GST_IS_ELEMENT (pipeline), 0);
  g_autoptr (GstClock) clock = gst_element_get_clock (pipeline);
  if (clock == NULL)
    return 0;
  GstClockTime now = gst_clock_get_time (clock),
               base = gst_element_get_base_time (pipeline);
  return now > base ? now - base : 0;
}

GstBusSyncReply
mcu_pipeline_drop_message (GstMessage *msg, GstDebugCategory *category)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      g_autoptr (GError) err = NULL;
      g_autofree char *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      GST_CAT_ERROR (category, "pipeline error from %s: %s (%s)",
                     GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
                     dbg ? dbg : "");
    }
  gst_message_unref (msg);
  return GST_BUS_DROP;
}
