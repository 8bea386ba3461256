#include "cberth_ev.h"

struct ev_loop *cberth_loop_new(void) { return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV); }
void cberth_loop_destroy(struct ev_loop *loop) { ev_loop_destroy(loop); }
void cberth_loop_run(struct ev_loop *loop) { ev_run(loop, 0); }
void cberth_loop_run_nowait(struct ev_loop *loop) { ev_run(loop, EVRUN_NOWAIT); }
void cberth_loop_break(struct ev_loop *loop) { ev_break(loop, EVBREAK_ALL); }
double cberth_loop_now(struct ev_loop *loop) { return ev_now(loop); }
void cberth_loop_update_now(struct ev_loop *loop) { ev_now_update(loop); }

void cberth_timer_init(ev_timer *w, cberth_timer_cb cb, double after, double repeat) { ev_timer_init(w, cb, after, repeat); }
void cberth_timer_start(struct ev_loop *loop, ev_timer *w) { ev_timer_start(loop, w); }
void cberth_timer_stop(struct ev_loop *loop, ev_timer *w) { ev_timer_stop(loop, w); }

void cberth_async_init(ev_async *w, cberth_async_cb cb) { ev_async_init(w, cb); }
void cberth_async_start(struct ev_loop *loop, ev_async *w) { ev_async_start(loop, w); }
void cberth_async_stop(struct ev_loop *loop, ev_async *w) { ev_async_stop(loop, w); }
void cberth_async_send(struct ev_loop *loop, ev_async *w) { ev_async_send(loop, w); }

void cberth_prepare_init(ev_prepare *w, cberth_prepare_cb cb) { ev_prepare_init(w, cb); }
void cberth_prepare_start(struct ev_loop *loop, ev_prepare *w) { ev_prepare_start(loop, w); }
void cberth_prepare_stop(struct ev_loop *loop, ev_prepare *w) { ev_prepare_stop(loop, w); }
