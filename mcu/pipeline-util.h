/* pipeline-util.h: small GStreamer helpers shared by the mixers. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * mcu_pipeline_running_time:
 * @pipeline: (transfer none): a pipeline in PLAYING
 *
 * Returns: the pipeline's running time now, or 0 before it has a clock.
 */
GstClockTime mcu_pipeline_running_time (GstElement *pipeline);

G_END_DECLS
