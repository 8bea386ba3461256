#ifndef CBERTH_EV_H
#define CBERTH_EV_H

/* One-line wrappers around libev's macro API (Swift cannot call macros).
 * No logic lives here: each function is the macro it names. */

#include <ev.h>

typedef void (*cberth_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*cberth_async_cb)(struct ev_loop *loop, ev_async *w, int revents);
typedef void (*cberth_prepare_cb)(struct ev_loop *loop, ev_prepare *w, int revents);

enum {
    CBERTH_EV_READ = EV_READ,
    CBERTH_EV_WRITE = EV_WRITE,
};

struct ev_loop *cberth_loop_new(void);
void cberth_loop_destroy(struct ev_loop *loop);
void cberth_loop_run(struct ev_loop *loop);
void cberth_loop_run_nowait(struct ev_loop *loop);
void cberth_loop_break(struct ev_loop *loop);
double cberth_loop_now(struct ev_loop *loop);
void cberth_loop_update_now(struct ev_loop *loop);

void cberth_timer_init(ev_timer *w, cberth_timer_cb cb, double after, double repeat);
void cberth_timer_start(struct ev_loop *loop, ev_timer *w);
void cberth_timer_stop(struct ev_loop *loop, ev_timer *w);

void cberth_async_init(ev_async *w, cberth_async_cb cb);
void cberth_async_start(struct ev_loop *loop, ev_async *w);
void cberth_async_stop(struct ev_loop *loop, ev_async *w);
void cberth_async_send(struct ev_loop *loop, ev_async *w);

void cberth_prepare_init(ev_prepare *w, cberth_prepare_cb cb);
void cberth_prepare_start(struct ev_loop *loop, ev_prepare *w);
void cberth_prepare_stop(struct ev_loop *loop, ev_prepare *w);

#endif
