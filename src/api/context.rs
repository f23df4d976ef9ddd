//! Which phase Lua code is running in, and the refusals an API gives outside
//! the phases it supports (lua-nginx-module's `ngx_http_lua_check_context`).

use mlua::Lua;

use super::{raise, ApiResult};
use crate::ffi::request::Req;

/// The phase (context) a piece of Lua code runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Init,
    InitWorker,
    Set,
    Rewrite,
    Access,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Timer,
    ExitWorker,
    Balancer,
}

impl Phase {
    /// `ngx.get_phase()`'s answer.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::InitWorker => "init_worker",
            Phase::Set => "set",
            Phase::Rewrite => "rewrite",
            Phase::Access => "access",
            Phase::Content => "content",
            Phase::HeaderFilter => "header_filter",
            Phase::BodyFilter => "body_filter",
            Phase::Log => "log",
            Phase::Timer => "timer",
            Phase::ExitWorker => "exit_worker",
            Phase::Balancer => "balancer",
        }
    }

    /// The name lua-nginx-module prints in "API disabled in the context of ...".
    pub const fn context_name(self) -> &'static str {
        match self {
            Phase::Init => "init_by_lua*",
            Phase::InitWorker => "init_worker_by_lua*",
            Phase::Set => "set_by_lua*",
            Phase::Rewrite => "rewrite_by_lua*",
            Phase::Access => "access_by_lua*",
            Phase::Content => "content_by_lua*",
            Phase::HeaderFilter => "header_filter_by_lua*",
            Phase::BodyFilter => "body_filter_by_lua*",
            Phase::Log => "log_by_lua*",
            Phase::Timer => "ngx.timer",
            Phase::ExitWorker => "exit_worker_by_lua*",
            Phase::Balancer => "balancer_by_lua*",
        }
    }

    pub const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of phases an API may run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx(pub u32);

impl Ctx {
    pub const fn of(phases: &[Phase]) -> Ctx {
        let mut bits = 0;
        let mut i = 0;
        while i < phases.len() {
            bits |= phases[i].bit();
            i += 1;
        }
        Ctx(bits)
    }

    pub const fn contains(self, p: Phase) -> bool {
        self.0 & p.bit() != 0
    }
}

use Phase::*;

/// Phases with a real request whose handler runs in a coroutine that may yield.
pub const YIELDABLE: Ctx = Ctx::of(&[Rewrite, Access, Content, Timer]);
/// Every phase that has a request object.
pub const ANY_REQUEST: Ctx = Ctx::of(&[
    Set,
    Rewrite,
    Access,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Timer,
    Balancer,
]);
/// Phases that may produce output (`ngx.say`, `ngx.print`, `ngx.flush`, `ngx.eof`).
pub const OUTPUT: Ctx = Ctx::of(&[Rewrite, Access, Content]);

/// What the running Lua code is attached to: a request and its phase.
#[derive(Clone, Copy)]
pub struct Frame {
    pub req: Req,
    pub phase: Phase,
}

/// The frame Lua code runs under now. Frames nest (filters run inside
/// `ngx.say` of a content handler): whoever pushes a frame keeps the one it
/// replaced and puts it back ([`FrameGuard`]), so the stack lives on the
/// Rust call stack and the thread-local is two plain cells.
///
/// Thread-local rather than VM app data: a worker runs Lua on one thread,
/// one VM at a time, and the frame is read by every API call (app data's
/// borrow checks cost more than the lookup they guard). Exported C
/// functions called through LuaJIT's FFI, which get no Lua state, read it
/// the same way.
pub struct Current;

/// Both cells in one thread-local, without a destructor: in a dlopen()ed
/// module each thread-local access is a call to __tls_get_addr, and one
/// with a destructor also checks its registration state.
struct Frames {
    top: std::cell::Cell<Option<Frame>>,
    /// The phase of code that runs without a request (init, init_worker).
    bare: std::cell::Cell<Option<Phase>>,
}

thread_local! {
    static FRAMES: Frames = const {
        Frames {
            top: std::cell::Cell::new(None),
            bare: std::cell::Cell::new(None),
        }
    };
}

/// Restores the frame that was current before [`Current::push`], also
/// when the code run under the pushed frame unwinds.
pub struct FrameGuard(Option<Frame>);

impl Drop for FrameGuard {
    fn drop(&mut self) {
        let prev = self.0;
        FRAMES.with(|fr| fr.top.set(prev));
    }
}

impl Current {
    /// Makes `f` current until the guard is dropped.
    #[must_use]
    pub fn push(f: Frame) -> FrameGuard {
        FrameGuard(FRAMES.with(|fr| fr.top.replace(Some(f))))
    }

    pub fn top() -> Option<Frame> {
        FRAMES.with(|fr| fr.top.get())
    }

    pub fn set_bare(p: Option<Phase>) {
        FRAMES.with(|fr| fr.bare.set(p));
    }

    pub fn phase() -> Option<Phase> {
        FRAMES.with(|fr| fr.top.get().map(|f| f.phase).or(fr.bare.get()))
    }
}

/// The current request frame, for FFI fast paths.
pub fn top_frame() -> Option<Frame> {
    Current::top()
}

/// The phase Lua code runs in right now, if any.
pub fn phase(_lua: &Lua) -> Option<Phase> {
    Current::phase()
}

/// The current request frame, refusing with upstream's messages when there is
/// no request or the phase is not in `allowed`.
pub(crate) fn frame(lua: &Lua, allowed: Ctx) -> ApiResult<Frame> {
    let _ = lua;
    frame_now(allowed)
}

/// [`frame`] for code that has no `Lua` handle (C functions).
pub(crate) fn frame_now(allowed: Ctx) -> ApiResult<Frame> {
    let top = Current::top();
    match top {
        None => match Current::phase() {
            Some(p) if !allowed.contains(p) => raise(format!(
                "API disabled in the context of {}",
                p.context_name()
            )),
            _ => raise("no request found"),
        },
        Some(f) if !allowed.contains(f.phase) => raise(format!(
            "API disabled in the context of {}",
            f.phase.context_name()
        )),
        Some(f) => Ok(f),
    }
}

/// Refuses unless the code runs in one of `allowed` (for APIs that need no request).
pub(crate) fn check(lua: &Lua, allowed: Ctx) -> ApiResult<()> {
    match phase(lua) {
        Some(p) if !allowed.contains(p) => raise(format!(
            "API disabled in the context of {}",
            p.context_name()
        )),
        _ => Ok(()),
    }
}
