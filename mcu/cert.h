/* cert.h: McuCert, the node's DTLS identity: an ECDSA P-256 self-signed certificate
 * and its key, generated at start or kept in a state directory, and the SHA-256
 * fingerprint that goes into a=fingerprint. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _McuCert McuCert;

/**
 * mcu_cert_generate:
 * @common_name: (nullable): the subject CN, "lienthong" when NULL
 * @error: MCU_ERROR_DTLS when OpenSSL cannot make the key or the certificate
 *
 * Generates a fresh ECDSA P-256 key and a self-signed certificate valid for 30 days
 * (browsers ignore validity for DTLS; the fingerprint is what is checked).
 * Returns: (transfer full) (nullable): the certificate, unref with mcu_cert_unref().
 */
McuCert *mcu_cert_generate (const char *common_name, GError **error);

/**
 * mcu_cert_load:
 * @cert_pem: (transfer none): path of the PEM certificate
 * @key_pem: (transfer none): path of the PEM private key (ECDSA P-256)
 * @error: G_FILE_ERROR when a file cannot be read, MCU_ERROR_INVALID when its
 *   content is not a P-256 certificate and matching key
 *
 * Returns: (transfer full) (nullable): the certificate.
 */
McuCert *mcu_cert_load (const char *cert_pem, const char *key_pem, GError **error);

/**
 * mcu_cert_save:
 * @cert: the certificate
 * @cert_pem: (transfer none): path to write the certificate to
 * @key_pem: (transfer none): path to write the key to (created with mode 0600)
 * @error: G_FILE_ERROR on failure
 *
 * Returns: TRUE when both files were written.
 */
gboolean mcu_cert_save (McuCert *cert, const char *cert_pem, const char *key_pem,
                        GError **error);

/**
 * mcu_cert_load_or_generate:
 * @state_dir: (transfer none): the node's state directory (created if missing)
 * @error: as for mcu_cert_load() and mcu_cert_save()
 *
 * Loads dtls-cert.pem and dtls-key.pem from @state_dir, or generates a certificate
 * and saves it there when neither file exists, so a node keeps its fingerprint
 * across restarts. A half-present pair (one file only) is an error, not a silent
 * regeneration.
 * Returns: (transfer full) (nullable): the certificate.
 */
McuCert *mcu_cert_load_or_generate (const char *state_dir, GError **error);

/**
 * mcu_cert_get_fingerprint:
 * Returns: (transfer none): "sha-256 AB:CD:..." (upper-case hex), valid while @cert
 * lives.
 */
const char *mcu_cert_get_fingerprint (const McuCert *cert);

/**
 * mcu_cert_fingerprint_equal:
 * @a: (transfer none): a fingerprint as in SDP, "sha-256 ab:cd:..."
 * @b: (transfer none): another one
 *
 * Compares two SDP fingerprints: the hash name and the hex digits case-insensitively.
 * Returns: TRUE when both name the same SHA-256 digest.
 */
gboolean mcu_cert_fingerprint_equal (const char *a, const char *b);

/** mcu_cert_ref: Returns: (transfer full): @cert with one more reference. */
McuCert *mcu_cert_ref (McuCert *cert);

/** mcu_cert_unref: Drops one reference; NULL is accepted. */
void mcu_cert_unref (McuCert *cert);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuCert, mcu_cert_unref)

G_END_DECLS
