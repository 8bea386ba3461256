#ifndef CBERTH_CRYPTO_H
#define CBERTH_CRYPTO_H

/* OpenSSL's libcrypto for what berth hashes and draws: SHA-256 for content
 * addressing, random bytes for request ids. Thin wrappers over EVP/RAND. */

#include <stddef.h>

/* OpenSSL's CSPRNG; returns 1 on success. */
int cberth_random_bytes(unsigned char *buf, int count);

/* SHA-256 through OpenSSL's EVP interface. */
typedef struct cberth_sha256 cberth_sha256;
cberth_sha256 *cberth_sha256_new(void);
void cberth_sha256_update(cberth_sha256 *h, const void *data, size_t count);
/* Writes 32 bytes and frees the context. */
void cberth_sha256_finish(cberth_sha256 *h, unsigned char *out32);

/* ACME keys: an account key signs JWS (ES256), a certificate key signs the
 * CSR. The key is an opaque EVP_PKEY. */
typedef struct cberth_key cberth_key;
/* A new key: EC P-256 when rsa_bits is 0, else RSA of that size. */
cberth_key *cberth_key_generate(int rsa_bits);
/* From PEM (PKCS#8 or traditional); NULL with `error` (256 bytes) filled. */
cberth_key *cberth_key_from_pem(const char *pem, char *error);
void cberth_key_free(cberth_key *key);
/* The private key as PKCS#8 PEM, malloc'd (free with cberth_free). */
char *cberth_key_pem(cberth_key *key);
/* ES256 (SHA-256, ECDSA P-256) as JWS wants it: 64 bytes, r then s. Returns 1 on success. */
int cberth_key_sign_es256(cberth_key *key, const void *data, size_t count, unsigned char *out64);
/* The EC public point's coordinates, 32 bytes each. Returns 1 on success. */
int cberth_key_ec_public(cberth_key *key, unsigned char *x32, unsigned char *y32);
/* A PKCS#10 request for `names` (the first is the subject CN; all are DNS
 * subjectAltNames), signed by `key`; DER, malloc'd, length in *length. */
unsigned char *cberth_csr_der(cberth_key *key, const char *const *names, int count, int *length, char *error);
void cberth_free(void *p);
/* The first certificate of a PEM chain: its validity as Unix times. Returns 1 on success. */
int cberth_cert_validity(const char *pem, long long *not_before, long long *not_after);
/* The first certificate's issuer as one line ("CN=..., O=..."), into `out`. Returns 1 on success. */
int cberth_cert_issuer(const char *pem, char *out, int size);
/* The parts of the first certificate's ACME Renewal Information id (RFC 9773
 * §4.1): its authority key identifier's keyIdentifier bytes and its serial
 * number's DER content octets. Returns 1 on success, 0 without an AKI keyid
 * or when a buffer is too small. */
int cberth_cert_ari_parts(const char *pem, unsigned char *aki, int aki_size, int *aki_length,
                          unsigned char *serial, int serial_size, int *serial_length);

#endif
