#include "peer-setup.h"
#include "mcu-error.h"

#include <string.h>

typedef struct
{
  GMainContext *context;
  McuEndpoint *ep;
  char *offer;
  McuPeerStreams ours; /* its cname owned */
  McuPeerAnswerFunc callback;
  gpointer user_data;
  gulong gathered_id, state_id;
} Setup;

typedef struct
{
  Setup *s;
  McuEndpoint *ep;
  McuEndpoint *failed; /* closed, dropped here after the emission */
  McuSdpSession *session;
  char *answer;
  GError *error;
} Result;

static gboolean
deliver (gpointer data)
{
  Result *r = data;
  r->s->callback (r->ep, r->session, r->answer, r->error, r->s->user_data);
  g_clear_object (&r->failed);
  g_free (r->answer);
  g_clear_error (&r->error);
  g_free (r->s->offer);
  g_free ((char *)r->s->ours.cname);
  g_free (r->s);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* Hands the result over from an idle callback, never from inside the endpoint's
 * signal emission: the receiver may drop the endpoint at once, and a handler must
 * not drop its emitter's last reference. */
static void
setup_finish (Setup *s, McuSdpSession *session, const char *answer, const GError *error)
{
  g_signal_handler_disconnect (s->ep, s->gathered_id);
  g_signal_handler_disconnect (s->ep, s->state_id);
  Result *r = g_new0 (Result, 1);
  r->s = s;
  r->session = session;
  r->answer = g_strdup (answer);
  r->error = error ? g_error_copy (error) : NULL;
  if (error == NULL)
    r->ep = g_steal_pointer (&s->ep);
  else
    {
      mcu_endpoint_close (s->ep);
      r->failed = g_steal_pointer (&s->ep);
    }
  GSource *idle = g_idle_source_new ();
  g_source_set_callback (idle, deliver, r, NULL);
  /* the endpoint's own context: where the caller asked to be answered */
  g_source_attach (idle, s->context);
  g_source_unref (idle);
}

static void
on_gathered (McuEndpoint *ep, gpointer data)
{
  Setup *s = data;
  McuSdpLocal local = {
    .ice_ufrag = mcu_endpoint_get_local_ufrag (ep),
    .ice_pwd = mcu_endpoint_get_local_pwd (ep),
    .fingerprint = mcu_endpoint_get_local_fingerprint (ep),
    /* as DTLS server we pick the SRTP profile: AEAD_AES_128_GCM when offered */
    .setup = "passive",
    .audio_ssrc = s->ours.audio_ssrc,
    .video_ssrc = s->ours.video_ssrc,
    .video_rtx_ssrc = s->ours.video_rtx_ssrc,
    .audio_rtx_ssrc = s->ours.audio_rtx_ssrc,
    .content_ssrc = s->ours.content_ssrc,
    .content_rtx_ssrc = s->ours.content_rtx_ssrc,
    .no_retransmission = s->ours.no_retransmission,
    .cname = s->ours.cname,
    .msid_stream = s->ours.cname,
    .candidates = mcu_endpoint_get_local_candidates (ep),
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;
  McuSdpSession *session
      = mcu_sdp_answer_offer (s->offer, strlen (s->offer), &local, &answer, &error);
  if (session && !mcu_endpoint_set_remote_sdp (ep, session, &error))
    g_clear_pointer (&session, mcu_sdp_session_free);
  setup_finish (s, session, answer, error);
}

static void
on_state (McuEndpoint *ep, int state, gpointer data)
{
  if (state != MCU_ENDPOINT_STATE_FAILED)
    return;
  const GError *e = mcu_endpoint_get_error (ep);
  g_autoptr (GError) error = g_error_new (MCU_ERROR, MCU_ERROR_ICE,
                                          "gathering failed: %s", e ? e->message : "?");
  setup_finish (data, NULL, NULL, error);
}

void
mcu_peer_answer_async (GMainContext *context, McuCert *cert,
                       const McuEndpointConfig *config, const char *offer,
                       const McuPeerStreams *ours, McuPeerAnswerFunc callback,
                       gpointer user_data)
{
  g_return_if_fail (offer != NULL && ours != NULL && callback != NULL);
  g_autoptr (GError) error = NULL;

  /* refuse garbage before opening sockets: a dry run of the answer with dummy
   * credentials (the real answer needs our candidates) */
  McuSdpLocal dry = { .ice_ufrag = "dry0",
                      .ice_pwd = "dryrunpassworddryrun00",
                      .fingerprint = "sha-256 00:00",
                      .cname = "dry" };
  g_autofree char *dry_answer = NULL;
  g_autoptr (McuSdpSession) probe
      = mcu_sdp_answer_offer (offer, strlen (offer), &dry, &dry_answer, &error);
  McuEndpoint *ep = probe ? mcu_endpoint_new (context, cert, config, &error) : NULL;
  if (ep == NULL)
    {
      callback (NULL, NULL, NULL, error, user_data);
      return;
    }
  Setup *s = g_new0 (Setup, 1);
  s->context = context;
  s->ep = ep;
  s->offer = g_strdup (offer);
  s->ours = *ours;
  s->ours.cname = g_strdup (ours->cname ? ours->cname : "lienthong");
  s->callback = callback;
  s->user_data = user_data;
  s->gathered_id = g_signal_connect (ep, "gathering-done", G_CALLBACK (on_gathered), s);
  s->state_id = g_signal_connect (ep, "state-changed", G_CALLBACK (on_state), s);
  if (!mcu_endpoint_start (ep, &error))
    setup_finish (s, NULL, NULL, error);
}

const McuSdpMedia *
mcu_sdp_session_find_media (const McuSdpSession *session, const char *kind)
{
  gboolean content = g_strcmp0 (kind, "content") == 0;
  for (guint i = 0; i < mcu_sdp_session_n_media (session); i++)
    {
      const McuSdpMedia *m = mcu_sdp_session_media (session, i);
      if (m->accepted && m->content == content
          && (content || g_strcmp0 (m->kind, kind) == 0))
        return m;
    }
  return NULL;
}
