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
