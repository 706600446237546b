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

/**
 * mcu_pipeline_drop_message:
 * @category: (nullable): the GstDebugCategory to log pipeline errors in
 *
 * The end of a bus sync handler for a pipeline nobody polls: logs an error message,
 * then drops @msg (a sync handler answering GST_BUS_DROP owns the message).
 * Returns: GST_BUS_DROP
 */
GstBusSyncReply mcu_pipeline_drop_message (GstMessage *msg, GstDebugCategory *category);

G_END_DECLS
