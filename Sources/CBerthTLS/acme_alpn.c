/* ACME TLS-ALPN-01 (RFC 8737) for berth's TLS listeners: the challenge
 * certificate, and a ClientHello callback that switches a handshake offering
 * "acme-tls/1" to it. C for the same reason as tls.c: OpenSSL's X509 and
 * ClientHello APIs are macros and variadic calls Swift cannot make. */
#include "cberth_tls.h"
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static const unsigned char acme_tls_1[] = "\x0a" "acme-tls/1";

/* Challenge contexts carry this as their app data, so the SNI callback of
   berth's own contexts never switches a challenge handshake back. */
static char challenge_marker;
int cberth_tls_is_challenge_context(const SSL_CTX *ctx) { return SSL_CTX_get_app_data(ctx) == &challenge_marker; }

static int challenge_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, acme_tls_1, sizeof(acme_tls_1) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void set_error(char *error, int size, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[200] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(error, (size_t)size, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

cberth_tls_context *cberth_tls_alpn_challenge_context(const char *name, const unsigned char *digest32, char *error, int error_size) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    SSL_CTX *ctx = NULL;
    if (!key || !x) { set_error(error, error_size, "challenge key"); goto done; }
    X509_set_version(x, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
    X509_NAME *subject = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, subject);
    X509_set_pubkey(x, key);
    /* subjectAltName: the one name being validated. */
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
    ASN1_STRING_set(dns, name, -1);
    GENERAL_NAME_set0_value(g, GEN_DNS, dns);
    sk_GENERAL_NAME_push(sans, g);
    X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, 0);
    GENERAL_NAMES_free(sans);
    /* id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical: OCTET STRING (SIZE (32)) of SHA-256(keyAuthorization). */
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(inner, digest32, 32);
    unsigned char *der = NULL;
    int derlen = i2d_ASN1_OCTET_STRING(inner, &der);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(value, der, derlen);
    OPENSSL_free(der);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(value);
    if (X509_sign(x, key, EVP_sha256()) <= 0) { set_error(error, error_size, "challenge certificate"); goto done; }
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { set_error(error, error_size, "SSL_CTX_new"); goto done; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_alpn_select_cb(ctx, challenge_alpn, NULL);
    SSL_CTX_set_app_data(ctx, &challenge_marker);
    if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        set_error(error, error_size, "challenge context");
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
done:
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

cberth_tls_context *cberth_tls_context_new_empty(int min_version) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    return ctx;
}

struct picker { cberth_tls_sni_picker pick; cberth_tls_on_demand on_demand; void *arg; };

/* Whether the ClientHello's ALPN list offers acme-tls/1, and its server name. */
static int challenge_hello(SSL *ssl, int *alert, void *arg) {
    struct picker *p = arg;
    const unsigned char *ext;
    size_t len;
    int offered = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext, &len) == 1 && len >= 2) {
        size_t list = ((size_t)ext[0] << 8) | ext[1], i = 2;
        while (i < 2 + list && i < len) {
            size_t n = ext[i];
            if (n == 10 && i + 1 + n <= len && memcmp(ext + i + 1, "acme-tls/1", 10) == 0) offered = 1;
            i += 1 + n;
        }
    }
    if (!offered && !p->on_demand) return SSL_CLIENT_HELLO_SUCCESS;
    /* server_name: list length (2), type (1) = host_name, name length (2), name. */
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) != 1 || len < 5 || ext[2] != 0)
        return SSL_CLIENT_HELLO_SUCCESS;
    size_t n = ((size_t)ext[3] << 8) | ext[4];
    if (n == 0 || n > 253 || 5 + n > len) return SSL_CLIENT_HELLO_SUCCESS;
    char name[254];
    memcpy(name, ext + 5, n);
    name[n] = 0;
    if (offered) {
        SSL_CTX *challenge = p->pick(name, p->arg);
        if (challenge) SSL_set_SSL_CTX(ssl, challenge);
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    SSL_CTX *found = NULL;
    switch (p->on_demand(name, p->arg, &found)) {
    case 1: if (found) SSL_set_SSL_CTX(ssl, found); return SSL_CLIENT_HELLO_SUCCESS;
    case 2: return SSL_CLIENT_HELLO_RETRY;
    case 3: *alert = SSL_AD_UNRECOGNIZED_NAME; return SSL_CLIENT_HELLO_ERROR;
    default: return SSL_CLIENT_HELLO_SUCCESS;
    }
}

static int picker_index = -1;
static void picker_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    OPENSSL_free(ptr);
}

void cberth_tls_context_set_challenge_picker(cberth_tls_context *ctx, cberth_tls_sni_picker pick,
                                             cberth_tls_on_demand on_demand, void *arg) {
    if (__atomic_load_n(&picker_index, __ATOMIC_ACQUIRE) < 0) {
        int i = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, picker_free);
        int expected = -1;
        __atomic_compare_exchange_n(&picker_index, &expected, i, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    struct picker *p = OPENSSL_malloc(sizeof *p);
    p->pick = pick;
    p->on_demand = on_demand;
    p->arg = arg;
    SSL_CTX_set_ex_data(ctx, picker_index, p); /* freed with the context */
    SSL_CTX_set_client_hello_cb(ctx, challenge_hello, p);
}
