#define _GNU_SOURCE /* timegm */
/* Keys, ES256 signatures and CSRs for ACME (RFC 8555) through OpenSSL 3.
 * C because the EVP/X509 APIs take macros and variadic calls Swift cannot
 * make; the protocol is the Swift side's (BerthACME). */
#include "cberth_crypto.h"
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cberth_key { EVP_PKEY *pkey; };

static void fill_error(char *error, const char *what) {
    if (!error) return;
    unsigned long e = ERR_get_error();
    char buf[200] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(error, 256, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

cberth_key *cberth_key_generate(int rsa_bits) {
    EVP_PKEY *p = rsa_bits > 0 ? EVP_RSA_gen((unsigned int)rsa_bits) : EVP_EC_gen("P-256");
    if (!p) return NULL;
    cberth_key *k = malloc(sizeof *k);
    k->pkey = p;
    return k;
}

cberth_key *cberth_key_from_pem(const char *pem, char *error) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!p) { fill_error(error, "not a PEM private key"); return NULL; }
    cberth_key *k = malloc(sizeof *k);
    k->pkey = p;
    return k;
}

void cberth_key_free(cberth_key *key) {
    if (!key) return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

char *cberth_key_pem(cberth_key *key) {
    BIO *b = BIO_new(BIO_s_mem());
    if (PEM_write_bio_PrivateKey(b, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) { BIO_free(b); return NULL; }
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = 0;
    BIO_free(b);
    return out;
}

int cberth_key_sign_es256(cberth_key *key, const void *data, size_t count, unsigned char *out64) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t len = sizeof der;
    int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1
          && EVP_DigestSign(md, der, &len, data, count) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) { ERR_clear_error(); return 0; }
    /* DER SEQUENCE { r INTEGER, s INTEGER } -> fixed 32-byte big-endian r || s. */
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig) { ERR_clear_error(); return 0; }
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, out64, 32) == 32 && BN_bn2binpad(s, out64 + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

int cberth_key_ec_public(cberth_key *key, unsigned char *x32, unsigned char *y32) {
    BIGNUM *x = NULL, *y = NULL;
    int ok = EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1
          && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1
          && BN_bn2binpad(x, x32, 32) == 32 && BN_bn2binpad(y, y32, 32) == 32;
    BN_free(x);
    BN_free(y);
    if (!ok) ERR_clear_error();
    return ok;
}

unsigned char *cberth_csr_der(cberth_key *key, const char *const *names, int count, int *length, char *error) {
    if (count < 1) { fill_error(error, "a CSR needs a name"); return NULL; }
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subject = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0);
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    for (int i = 0; i < count; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        ASN1_STRING_set(dns, names[i], -1);
        GENERAL_NAME_set0_value(g, GEN_DNS, dns);
        sk_GENERAL_NAME_push(sans, g);
    }
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
    sk_X509_EXTENSION_push(exts, ext);
    int ok = X509_REQ_set_version(req, 0) == 1 && X509_REQ_set_pubkey(req, key->pkey) == 1
          && X509_REQ_add_extensions(req, exts) == 1 && X509_REQ_sign(req, key->pkey, EVP_sha256()) > 0;
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(sans);
    unsigned char *out = NULL;
    if (ok) {
        int n = i2d_X509_REQ(req, NULL);
        out = malloc((size_t)n);
        unsigned char *p = out;
        i2d_X509_REQ(req, &p);
        *length = n;
    } else {
        fill_error(error, "cannot make the CSR");
    }
    X509_REQ_free(req);
    return out;
}

void cberth_free(void *p) { free(p); }

static int asn1_unix(const ASN1_TIME *t, long long *out) {
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    *out = (long long)timegm(&tm);
    return 1;
}

int cberth_cert_validity(const char *pem, long long *not_before, long long *not_after) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) { ERR_clear_error(); return 0; }
    int ok = asn1_unix(X509_get0_notBefore(x), not_before) && asn1_unix(X509_get0_notAfter(x), not_after);
    X509_free(x);
    return ok;
}

int cberth_cert_issuer(const char *pem, char *out, int size) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) { ERR_clear_error(); return 0; }
    BIO *o = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(o, X509_get_issuer_name(x), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char *data = NULL;
    long n = BIO_get_mem_data(o, &data);
    int len = n < size - 1 ? (int)n : size - 1;
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    BIO_free(o);
    X509_free(x);
    return 1;
}

int cberth_cert_ari_parts(const char *pem, unsigned char *aki, int aki_size, int *aki_length,
                          unsigned char *serial, int serial_size, int *serial_length) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) { ERR_clear_error(); return 0; }
    int ok = 0;
    const ASN1_OCTET_STRING *keyid = X509_get0_authority_key_id(x);
    unsigned char *der = NULL;
    int der_length = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der);
    if (keyid && der_length > 2 && ASN1_STRING_length(keyid) <= aki_size) {
        /* DER INTEGER: tag 0x02, a short or long form length, the content octets. */
        int at = 1, length = der[at++];
        if (length & 0x80) {
            int n = length & 0x7f;
            length = 0;
            while (n-- > 0 && at < der_length) length = (length << 8) | der[at++];
        }
        if (der[0] == 0x02 && at + length == der_length && length <= serial_size) {
            memcpy(aki, ASN1_STRING_get0_data(keyid), (size_t)ASN1_STRING_length(keyid));
            *aki_length = ASN1_STRING_length(keyid);
            memcpy(serial, der + at, (size_t)length);
            *serial_length = length;
            ok = 1;
        }
    }
    OPENSSL_free(der);
    X509_free(x);
    return ok;
}
