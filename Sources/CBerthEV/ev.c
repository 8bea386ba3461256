#include "cberth_ev.h"

struct ev_loop *cberth_loop_new(void) { return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV); }
void cberth_loop_destroy(struct ev_loop *loop) { ev_loop_destroy(loop); }
void cberth_loop_run(struct ev_loop *loop) { ev_run(loop, 0); }
void cberth_loop_break(struct ev_loop *loop) { ev_break(loop, EVBREAK_ALL); }
double cberth_loop_now(struct ev_loop *loop) { return ev_now(loop); }
void cberth_loop_update_now(struct ev_loop *loop) { ev_now_update(loop); }

void cberth_io_init(ev_io *w, cberth_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
void cberth_io_set_events(ev_io *w, int events) { ev_io_modify(w, events); }
void cberth_io_start(struct ev_loop *loop, ev_io *w) { ev_io_start(loop, w); }
void cberth_io_stop(struct ev_loop *loop, ev_io *w) { ev_io_stop(loop, w); }
int cberth_io_is_active(const ev_io *w) { return ev_is_active(w); }
void cberth_io_feed(struct ev_loop *loop, ev_io *w, int events) { ev_feed_event(loop, w, events); }

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
