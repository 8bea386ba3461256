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

#endif
