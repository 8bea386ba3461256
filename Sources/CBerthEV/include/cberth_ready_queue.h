#ifndef CBERTH_READY_QUEUE_H
#define CBERTH_READY_QUEUE_H

/* I/O events of one loop turn, delivered in the order epoll reported them.
 *
 * libev's ev_invoke_pending pops a turn's pending watchers from the end of
 * its array, so the descriptor epoll reported last runs first. Under load
 * (a new TLS connection per request) that let a turn's early connections
 * wait behind later ones and widened the latency spread. HAProxy takes
 * epoll's order. Here each ev_io callback only records its event; once
 * libev has invoked everything, the loop's invoke-pending hook delivers the
 * recorded events first-ready first. Stopping a watcher drops its recorded
 * event, as ev_io_stop drops a pending one. */

#include <ev.h>

/* An ev_io that knows its place in the loop's queue of this turn. */
typedef struct cberth_io {
    ev_io io;
    int ready_index; /* -1 when no event is recorded */
} cberth_io;

typedef void (*cberth_deliver_cb)(cberth_io *w, int revents);

/* Makes `loop` deliver its cberth_io events in epoll order through `deliver`.
 * Returns 0, or -1 if the queue cannot be allocated. */
int cberth_ready_queue_install(struct ev_loop *loop, cberth_deliver_cb deliver);
/* Frees the queue; call before ev_loop_destroy. */
void cberth_ready_queue_remove(struct ev_loop *loop);

void cberth_queued_io_init(cberth_io *w, int fd);
void cberth_queued_io_start(struct ev_loop *loop, cberth_io *w, int events);
void cberth_queued_io_stop(struct ev_loop *loop, cberth_io *w);
/* Fakes readiness (bytes already decrypted inside OpenSSL wake no poll). */
void cberth_queued_io_feed(struct ev_loop *loop, cberth_io *w, int events);

#endif
