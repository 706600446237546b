/* libFuzzer target: SDP negotiation (GstSDPMessage parsing plus our offer/answer
 * logic) must answer or refuse any text without crashing, leaking or hanging; an
 * answer it writes must itself be accepted as an answer. */
#include "mcu.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const McuSdpLocal local = {
    .ice_ufrag = "LtUf",
    .ice_pwd = "lienthongpassword000000",
    .fingerprint = "sha-256 AA:BB:CC",
    .setup = "actpass",
    .audio_ssrc = 1,
    .video_ssrc = 2,
    .cname = "fuzz",
    .msid_stream = "lt",
  };
  char *answer = NULL;
  GError *error = NULL;
  McuSdpSession *s
      = mcu_sdp_answer_offer ((const char *)data, size, &local, &answer, &error);
  if (s == NULL)
    {
      if (error == NULL || answer != NULL)
        abort ();
      g_clear_error (&error);
    }
  else
    {
      for (guint i = 0; i < mcu_sdp_session_n_media (s); i++)
        {
          const McuSdpMedia *m = mcu_sdp_session_media (s, i);
          if (m->mid == NULL || m->kind == NULL || (m->accepted && m->codec == NULL))
            abort ();
        }
      for (const char *const *c = mcu_sdp_session_remote_candidates (s); *c; c++)
        (void)strlen (*c);
      gboolean any = FALSE;
      for (guint i = 0; i < mcu_sdp_session_n_media (s); i++)
        any |= mcu_sdp_session_media (s, i)->accepted;
      McuSdpSession *back = mcu_sdp_accept_answer (answer, strlen (answer), &error);
      if (back == NULL && !any)
        g_clear_error (&error);
      else if (back == NULL)
        {
          /* Our own answer must be acceptable: anything else is a bug. */
          fprintf (stderr, "answer refused: %s\n%s\n", error->message, answer);
          abort ();
        }
      mcu_sdp_session_free (back);
      mcu_sdp_session_free (s);
      g_free (answer);
    }
  /* The same bytes as an answer. */
  s = mcu_sdp_accept_answer ((const char *)data, size, &error);
  if (s == NULL)
    g_clear_error (&error);
  mcu_sdp_session_free (s);
  return 0;
}
