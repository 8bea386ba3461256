/* One blocking HTTP GET through libcurl's easy interface.
 *
 * Why this is C and not Swift: libcurl is configured through
 * curl_easy_setopt(), a variadic function Swift cannot call, and its
 * write/header callbacks are C function pointers receiving curl's own
 * arguments. This file only sets options and forwards bytes to the caller's
 * sinks; retries, auth and digests are the Swift side's (RegistryHTTP). */
#include "cberth_curl.h"
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct cberth_http_call { cberth_http_sink body, header; void *context; };

static size_t cberth_http_body(char *data, size_t size, size_t count, void *p) {
    struct cberth_http_call *c = p;
    return c->body(data, size * count, c->context);
}

static size_t cberth_http_header(char *data, size_t size, size_t count, void *p) {
    struct cberth_http_call *c = p;
    return c->header(data, size * count, c->context);
}

/* The one transfer both entry points make. `redirects` follows them (GETs
   of registries); `low_speed` fails a transfer stalled for the timeout but
   lets a slow big one go on, else the timeout bounds the whole request. */
static long perform(const char *method, const char *url, const char *const *headers, int header_count,
                    const void *request_body, size_t request_length, const char *ca_file, long timeout_seconds,
                    int redirects, int low_speed, cberth_http_sink body, cberth_http_sink header, void *context, char *error) {
    static int initialized = 0;
    if (!__atomic_exchange_n(&initialized, 1, __ATOMIC_SEQ_CST)) curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    if (!curl) { snprintf(error, 256, "curl_easy_init failed"); return -1; }
    struct curl_slist *list = NULL;
    for (int i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    struct cberth_http_call call = { body, header, context };
    char buf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request_body ? request_body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request_length);
    } else if (strcmp(method, "GET") != 0) {
        /* PUT, PATCH...: the body as a POST's, under the method's name. */
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request_body ? request_body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request_length);
    }
    if (ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    if (redirects) {
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
    if (low_speed) {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeout_seconds);
    } else {
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    }
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cberth_http_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, cberth_http_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &call);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, buf);
    CURLcode rc = curl_easy_perform(curl);
    long status = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    } else {
        snprintf(error, 256, "%s", buf[0] ? buf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return status;
}

long cberth_http_get(const char *url, const char *const *headers, int header_count, long timeout_seconds,
                     cberth_http_sink body, cberth_http_sink header, void *context, char *error) {
    return perform("GET", url, headers, header_count, NULL, 0, NULL, timeout_seconds, 1, 1, body, header, context, error);
}

long cberth_http_request(const char *method, const char *url, const char *const *headers, int header_count,
                         const void *request_body, size_t request_length, const char *ca_file, long timeout_seconds,
                         cberth_http_sink body, cberth_http_sink header, void *context, char *error) {
    return perform(method, url, headers, header_count, request_body, request_length, ca_file, timeout_seconds, 0, 0,
                   body, header, context, error);
}
