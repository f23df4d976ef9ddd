//! Per-request Lua state (`RequestCtx`): the request's coroutines (the entry
//! coroutine and its light threads), `ngx.ctx`, and what the request's Lua
//! code has asked for (exit, exec, eof).
//!
//! It lives in the request pool (dropped by the pool cleanup) and hangs off
//! `r->ctx[module]`. Internal redirects zero that slot, which is what resets
//! `ngx.ctx` as upstream does; so it is looked up again on every entry.

use std::cell::{Cell, RefCell};

use mlua::{MultiValue, RegistryKey};

use super::event::Timer;

use crate::api::context::Phase;
use crate::ffi::request::Req;

/// Where a scheduler-level coroutine stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoState {
    /// Created by ngx.thread.spawn, not started yet.
    New,
    /// Running, or ready to be resumed by the scheduler.
    Running,
    /// Waiting for an nginx event (timer, socket, body read...).
    Waiting,
    /// Blocked in ngx.thread.spawn until its new child first stops.
    SpawnPending(usize),
    /// Blocked in ngx.thread.wait on these children.
    WaitThreads(Vec<usize>),
    /// Finished, failed or killed; `reaped` once a wait returned it.
    Dead { reaped: bool },
}

/// One scheduler-level coroutine: the entry coroutine (index 0) or a light
/// thread. User coroutines (coroutine.create) are not here: they run inside
/// these and pass waits up (lualib/coroutine.lua).
pub struct CoSlot {
    /// The coroutine, held through the registry: an mlua handle would take
    /// a slot of mlua's reference stack, which LuaJIT caps near 8000, and a
    /// worker may hold far more waiting coroutines than that.
    pub thread: RegistryKey,
    /// The same coroutine, for resuming it (valid while `thread` is held).
    pub co: crate::ffi::coroutine::RawCo,
    /// The coroutine's address, to recognise it in ngx.thread.wait/kill.
    pub thread_ptr: usize,
    /// The coroutine that spawned it (0 for the entry itself).
    pub parent: usize,
    pub state: CoState,
    /// The function and arguments a New light thread starts with.
    pub start: Option<MultiValue>,
    /// What a finished light thread returned, until a wait collects it:
    /// ok, and a registry table of the values (or the error message).
    pub results: Option<(bool, RegistryKey)>,
    /// ngx.sleep's timer for this coroutine; dropped (cancelled) with it.
    pub sleep: Option<Box<SleepTimer>>,
}

/// A sleeping coroutine's timer; its address is the event's data.
pub struct SleepTimer {
    pub timer: Timer,
    pub waiter: super::Waiter,
}

#[derive(Default)]
pub struct RequestCtx {
    /// `ngx.ctx`, created on first use.
    pub ctx_table: RefCell<Option<RegistryKey>>,
    /// The running handler's coroutines: [0] is the entry coroutine, the
    /// rest its light threads. Empty when no handler runs.
    pub cos: RefCell<Vec<CoSlot>>,
    /// The phase the coroutines belong to.
    pub entry_phase: Cell<Option<Phase>>,
    /// How the entry coroutine ended, kept while light threads still run.
    pub entry_outcome: Cell<Option<super::Outcome>>,
    /// Set by ngx.exit / ngx.redirect.
    pub exit_code: Cell<Option<isize>>,
    /// Set by ngx.exec: (uri, args).
    pub exec: RefCell<Option<(Vec<u8>, Vec<u8>)>>,
    /// ngx.eof() or the end of the content handler has sent the last buffer.
    pub eof: Cell<bool>,
    /// A phase handler finished; nginx may call it again (e.g. after a body
    /// read re-runs the phases) and it must then just pass.
    pub rewrite_done: Cell<bool>,
    pub access_done: Cell<bool>,
    /// The handler waits for the request body (lua_need_request_body or ngx.req.read_body).
    pub waiting_body: Cell<bool>,
    /// The coroutine waiting in ngx.req.read_body.
    pub body_waiter: Cell<super::Target>,
    /// lua_need_request_body has already read the body for this request.
    pub body_read: Cell<bool>,
    /// The event a rewrite/access coroutine waits for has fired; the phase
    /// handler, called again by the phase engine, resumes coroutine
    /// `resume_co` with `resume_args`.
    pub resume_ready: Cell<bool>,
    pub resume_co: Cell<super::Target>,
    pub resume_args: Cell<crate::ffi::coroutine::Args>,
    /// Response headers were set through ngx.header (keeps Content-Length).
    pub headers_set: Cell<bool>,
    /// The scheduler-level coroutine running now (0 = the entry coroutine).
    pub cur_co: Cell<usize>,
    /// Run when the request ends (the ctx is dropped): objects created by
    /// the request that hold nginx resources (cosockets) cancel their events
    /// and close their connections here.
    pub on_drop: RefCell<Vec<Box<dyn FnOnce()>>>,
    /// ngx.req.socket's socket: the client connection's events go to it
    /// while it waits (sched/client.rs).
    pub downstream: RefCell<Option<std::rc::Weak<dyn crate::net::conn::IoHandler>>>,
    /// ngx.req.socket(true) was called: output APIs refuse from then on.
    pub raw_socket: Cell<bool>,
    /// Coroutines waiting in ngx.flush(true) for the client to take the output.
    pub flushing: RefCell<Vec<super::Waiter>>,
    /// ngx.on_abort was called (once per request).
    pub on_abort_set: Cell<bool>,
    /// ngx.on_abort's callback and the coroutine that registered it, until
    /// the client aborts.
    pub on_abort: RefCell<Option<(RegistryKey, usize)>>,
    /// body_filter_by_lua*'s buffers and the chain ngx.arg works on.
    pub body: crate::ffi::filter::BodyState,
    /// ngx.location.capture*: captures in flight and results to deliver.
    pub capture: crate::ffi::subrequest::ParentState,
}

impl Drop for RequestCtx {
    fn drop(&mut self) {
        let on_drop = self.on_drop.get_mut();
        if on_drop.is_empty() {
            return;
        }
        for f in on_drop.drain(..) {
            f();
        }
    }
}

impl RequestCtx {
    /// Whether a handler's coroutines are running or waiting.
    pub fn active(&self) -> bool {
        !self.cos.borrow().is_empty()
    }

    /// The request's ctx, if Lua ran for it already.
    pub fn get<'a>(r: Req) -> Option<&'a RequestCtx> {
        // SAFETY: the slot holds null or a RequestCtx we put there, which lives
        // in the request pool as long as the request.
        unsafe { (r.module_ctx() as *const RequestCtx).as_ref() }
    }

    /// The request's ctx, created on first use.
    pub fn get_or_create<'a>(r: Req) -> Option<&'a RequestCtx> {
        if let Some(c) = Self::get(r) {
            return Some(c);
        }
        let p = r.pool_new(RequestCtx::default)?;
        r.set_module_ctx(p.as_ptr().cast());
        // SAFETY: just allocated and initialised; it lives as long as the
        // request's pool.
        Some(unsafe { p.as_ref() })
    }
}
