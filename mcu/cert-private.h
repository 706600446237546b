/* cert-private.h: what dtls.c needs of McuCert (OpenSSL types stay out of cert.h). */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"

G_BEGIN_DECLS

/* (transfer none): the certificate and key, valid while @cert lives. */
X509 *mcu_cert_get_x509 (const McuCert *cert);
EVP_PKEY *mcu_cert_get_pkey (const McuCert *cert);

/* (transfer full): "sha-256 AB:CD:..." of any certificate, or NULL. */
char *mcu_cert_fingerprint_of (X509 *x509);

G_END_DECLS
