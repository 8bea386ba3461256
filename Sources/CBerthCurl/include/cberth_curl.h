#ifndef CBERTH_CURL_H
#define CBERTH_CURL_H

/* libcurl for registry HTTPS. */

#include <stddef.h>

/* One HTTP request through libcurl (registry pulls). `headers` are full
   "Name: value" lines. Body bytes go to `body` (return the count taken to go
   on, anything else aborts), each response header line to `header`. Follows
   redirects (custom Authorization headers stay with the first host). Returns
   the final HTTP status, or -1 with `error` (at least 256 bytes) filled. */
typedef size_t (*cberth_http_sink)(const char *data, size_t count, void *context);
long cberth_http_get(const char *url, const char *const *headers, int header_count, long timeout_seconds,
                     cberth_http_sink body, cberth_http_sink header, void *context, char *error);

/* The same with a method and a request body (ACME's POSTs and HEADs), and
   `ca_file` (NULL: the system's) as the only trust for the server. HEAD
   takes no body. Redirects are not followed. */
long cberth_http_request(const char *method, const char *url, const char *const *headers, int header_count,
                         const void *request_body, size_t request_length, const char *ca_file, long timeout_seconds,
                         cberth_http_sink body, cberth_http_sink header, void *context, char *error);

#endif
