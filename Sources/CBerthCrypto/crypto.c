#include "cberth_crypto.h"
#include <openssl/evp.h>
#include <openssl/rand.h>

int cberth_random_bytes(unsigned char *buf, int count) { return RAND_bytes(buf, count); }

struct cberth_sha256 { EVP_MD_CTX *ctx; };
cberth_sha256 *cberth_sha256_new(void) {
    cberth_sha256 *h = (cberth_sha256 *)OPENSSL_malloc(sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
    return h;
}
void cberth_sha256_update(cberth_sha256 *h, const void *data, size_t count) { EVP_DigestUpdate(h->ctx, data, count); }
void cberth_sha256_finish(cberth_sha256 *h, unsigned char *out32) {
    unsigned int n = 32;
    EVP_DigestFinal_ex(h->ctx, out32, &n);
    EVP_MD_CTX_free(h->ctx);
    OPENSSL_free(h);
}
