/* libnghttp2 (HTTP/2 sessions: framing, HPACK, flow control) for Swift: its API is plain functions and callbacks. */
#include <nghttp2/nghttp2.h>
