#include "cberth_ready_queue.h"
#include <stdlib.h>

struct ready_entry {
    cberth_io *w; /* NULL once the watcher was stopped */
    int revents;
};

struct ready_queue {
    struct ready_entry *items;
    int count;
    int capacity;
    cberth_deliver_cb deliver;
};

static void record(struct ev_loop *loop, ev_io *io, int revents) {
    struct ready_queue *q = ev_userdata(loop);
    cberth_io *w = (cberth_io *)io;
    if (w->ready_index >= 0) {
        q->items[w->ready_index].revents |= revents;
        return;
    }
    if (q->count == q->capacity) {
        int capacity = q->capacity * 2;
        struct ready_entry *items = realloc(q->items, (size_t)capacity * sizeof *items);
        if (items == NULL) { /* out of memory: deliver now, in libev's order */
            q->deliver(w, revents);
            return;
        }
        q->items = items;
        q->capacity = capacity;
    }
    w->ready_index = q->count;
    q->items[q->count].w = w;
    q->items[q->count].revents = revents;
    q->count++;
}

/* libev invoked the turn's watchers last-ready first, so the queue holds
 * them in reverse epoll order: walk it from the end. A delivery may stop
 * other watchers (their entries become NULL) or feed new events (they stay
 * pending in libev until its next invoke). */
static void invoke_pending(struct ev_loop *loop) {
    struct ready_queue *q = ev_userdata(loop);
    ev_invoke_pending(loop);
    for (int i = q->count - 1; i >= 0; i--) {
        cberth_io *w = q->items[i].w;
        if (w == NULL) continue;
        w->ready_index = -1;
        q->deliver(w, q->items[i].revents);
    }
    q->count = 0;
}

int cberth_ready_queue_install(struct ev_loop *loop, cberth_deliver_cb deliver) {
    struct ready_queue *q = malloc(sizeof *q);
    if (q == NULL) return -1;
    q->capacity = 256;
    q->items = malloc((size_t)q->capacity * sizeof *q->items);
    if (q->items == NULL) { free(q); return -1; }
    q->count = 0;
    q->deliver = deliver;
    ev_set_userdata(loop, q);
    ev_set_invoke_pending_cb(loop, invoke_pending);
    return 0;
}

void cberth_ready_queue_remove(struct ev_loop *loop) {
    struct ready_queue *q = ev_userdata(loop);
    if (q == NULL) return;
    ev_set_invoke_pending_cb(loop, ev_invoke_pending);
    ev_set_userdata(loop, NULL);
    free(q->items);
    free(q);
}

void cberth_queued_io_init(cberth_io *w, int fd) {
    ev_io_init(&w->io, record, fd, 0);
    w->ready_index = -1;
}

void cberth_queued_io_start(struct ev_loop *loop, cberth_io *w, int events) {
    ev_io_modify(&w->io, events);
    ev_io_start(loop, &w->io);
}

void cberth_queued_io_stop(struct ev_loop *loop, cberth_io *w) {
    ev_io_stop(loop, &w->io);
    if (w->ready_index >= 0) {
        struct ready_queue *q = ev_userdata(loop);
        q->items[w->ready_index].w = NULL;
        w->ready_index = -1;
    }
}

void cberth_queued_io_feed(struct ev_loop *loop, cberth_io *w, int events) {
    ev_feed_event(loop, &w->io, events);
}
