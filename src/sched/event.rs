//! `Timer`: an nginx timer event owned by Rust. The `ngx_event_t` is boxed so
//! it never moves once armed, and dropping the owner removes it from the
//! timer tree and the posted queue.

use std::ffi::c_void;

use nginx_sys::{ngx_add_timer, ngx_del_timer, ngx_delete_posted_event, ngx_event_t, ngx_log_t};

pub type Handler = unsafe extern "C" fn(ev: *mut ngx_event_t);

pub struct Timer {
    ev: Box<ngx_event_t>,
}

impl Default for Timer {
    fn default() -> Self {
        // SAFETY: an all-zero ngx_event_t is nginx's idle event (as ngx_pcalloc gives).
        let ev = unsafe { std::mem::zeroed() };
        Timer { ev: Box::new(ev) }
    }
}

impl Timer {
    /// Arms the timer: `handler(ev)` runs after `ms` milliseconds (0: in the
    /// next turn of the event loop) with `ev->data == data`.
    pub fn arm(&mut self, ms: u64, handler: Handler, data: *mut c_void, log: *mut ngx_log_t) {
        self.arm_with(ms, handler, data, log, false)
    }

    /// As [`Timer::arm`]; a `cancelable` timer does not hold up a graceful
    /// worker shutdown: nginx fires it early instead (timers use this to run
    /// their callbacks with `premature = true`).
    pub fn arm_with(
        &mut self,
        ms: u64,
        handler: Handler,
        data: *mut c_void,
        log: *mut ngx_log_t,
        cancelable: bool,
    ) {
        self.cancel();
        let ev = &mut *self.ev as *mut ngx_event_t;
        // SAFETY: the boxed event is ours and stays at this address until
        // dropped; nginx's timer tree / posted queue reference it meanwhile.
        unsafe {
            (*ev).handler = Some(handler);
            (*ev).data = data;
            (*ev).log = log;
            (*ev).set_cancelable(cancelable as u32);
            // Zero goes through the timer tree too: a posted event waits for
            // the next I/O event, which an idle worker (a timer set in
            // init_worker_by_lua) may never get; a 0 ms timer makes the event
            // loop's wait return at once.
            ngx_add_timer(ev, ms as nginx_sys::ngx_msec_t);
        }
    }

    /// Removes the event from the timer tree and the posted queue.
    pub fn cancel(&mut self) {
        let ev = &mut *self.ev as *mut ngx_event_t;
        // SAFETY: ev is our live event; both helpers check its flags first.
        unsafe {
            if (*ev).timer_set() != 0 {
                ngx_del_timer(ev);
            }
            if (*ev).posted() != 0 {
                ngx_delete_posted_event(ev);
            }
        }
    }

    /// `ev->data` of a fired event.
    ///
    /// # Safety
    /// `ev` must be an event nginx passed to a handler armed through [`Timer::arm`].
    pub unsafe fn data(ev: *mut ngx_event_t) -> *mut c_void {
        // SAFETY: guaranteed by the caller.
        unsafe { (*ev).data }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}
