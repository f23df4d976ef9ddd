//! The scheduler: runs a handler's Lua function in its own coroutine, and
//! reads what the coroutine asked for when it stops (finished, exit, exec,
//! wait, error). Waits are resumed by nginx events through [`resume`].
//!
//! Rust never yields: blocking APIs are small Lua shims that yield one of the
//! markers below after a Rust call has armed whatever will wake them.

pub mod client;
pub mod ctx;
pub mod event;

use mlua::{Function, LightUserData, Lua, MultiValue, Value};

use crate::api::context::{Current, Frame, Phase};
pub use crate::ffi::coroutine::{Args, Plain, PlainList};
use crate::ffi::coroutine::{RawCo, Resumed};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::vm::Chunk;
pub use ctx::{CoSlot, CoState, RequestCtx};

/// How a run of the entry coroutine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler returned.
    Finished,
    /// `ngx.exit(code)` (or `ngx.redirect`).
    Exited(isize),
    /// `ngx.exec(...)`: the redirect target is in the ctx.
    Exec,
    /// Waiting for an event; the request must be kept alive.
    Yielded,
    /// A Lua error, already logged.
    Failed,
}

static EXIT_MARKER: u8 = 0;
static EXEC_MARKER: u8 = 0;
static WAIT_MARKER: u8 = 0;
static SPAWN_MARKER: u8 = 0;
static THREAD_WAIT_MARKER: u8 = 0;

fn marker(m: &'static u8) -> LightUserData {
    LightUserData(m as *const u8 as *mut _)
}

/// Yielded by ngx.exit / ngx.redirect.
pub fn exit_marker() -> LightUserData {
    marker(&EXIT_MARKER)
}
/// Yielded by ngx.exec.
pub fn exec_marker() -> LightUserData {
    marker(&EXEC_MARKER)
}
/// Yielded by APIs that wait for an nginx event.
pub fn wait_marker() -> LightUserData {
    marker(&WAIT_MARKER)
}
/// Yielded by ngx.thread.spawn, followed by the new thread's index.
pub fn spawn_marker() -> LightUserData {
    marker(&SPAWN_MARKER)
}
/// Yielded by ngx.thread.wait when no awaited thread has ended yet.
pub fn thread_wait_marker() -> LightUserData {
    marker(&THREAD_WAIT_MARKER)
}

/// How many finished coroutines a VM keeps for reuse (as upstream's
/// lua_thread_cache_max_entries default).
const THREAD_CACHE_MAX: usize = 1024;
/// How many emptied coroutine lists a VM keeps, and the largest kept (a
/// handler that spawned many threads gives its list back to the allocator).
const SPARE_LISTS_MAX: usize = 64;
const SPARE_LIST_CAPACITY_MAX: usize = 16;

/// The scheduler's per-VM state (a LuaVm field, reached from a request
/// through its main conf: cheaper than mlua's app data on every handler).
pub struct VmState {
    /// Finished coroutines kept for reuse (creating a coroutine per handler
    /// run was a tenth of a hello-world request's cost).
    free: std::cell::RefCell<Vec<(mlua::RegistryKey, RawCo)>>,
    /// Emptied coroutine lists of finished handlers, so the next handler's
    /// list does not allocate.
    spare_lists: std::cell::RefCell<Vec<Vec<CoSlot>>>,
    /// The thread non-yielding handlers run on ([`call_chunk`]) and their
    /// message handler (adds the traceback), kept alive by their keys.
    co: RawCo,
    on_error: mlua::RegistryKey,
    _thread: mlua::RegistryKey,
}

/// The VM state of the VM serving `r`.
fn vm_state<'a>(r: Req) -> Option<&'a VmState> {
    crate::phase::request_vm(r).map(|vm| &vm.sched)
}

/// What a new scheduler coroutine runs.
pub enum Body<'a> {
    /// A handler's code (pushed from the registry when a cached coroutine
    /// is reused, without an mlua handle).
    Chunk(&'a Chunk),
    /// Any function (light threads, timers, on_abort callbacks).
    Func(Function),
}

/// Sets up the VM's thread cache (once, when the VM is created).
pub fn install(lua: &Lua) -> mlua::Result<VmState> {
    let thread = lua.create_thread(lua.create_function(|_, ()| Ok(()))?)?;
    let co = RawCo::of(&thread);
    co.clear();
    let on_error: Function = lua
        .load("local tb, tostring = debug.traceback, tostring return function(e) return tb(tostring(e), 2) end")
        .set_name("=ngx_lua_rs.on_error")
        .eval()?;
    Ok(VmState {
        free: Default::default(),
        spare_lists: Default::default(),
        co,
        on_error: lua.create_registry_value(on_error)?,
        _thread: lua.create_registry_value(thread)?,
    })
}

/// Runs a handler's chunk to completion in a request frame (header and
/// body filters, log, balancer: phases that cannot yield); returns its
/// first result as a number (a body filter may return ngx.ERROR), or the
/// error text with a traceback.
pub fn call_chunk(caller: &VmState, frame: Frame, chunk: &Chunk) -> Result<Option<f64>, String> {
    let _frame = Current::push(frame);
    caller
        .co
        .pcall_registered(caller.on_error.id(), chunk.key.id())
}

/// Logs an aborted entry or user coroutine in lua-nginx-module's layout;
/// `report` is "message\nstack traceback:\n<frames>" (RawCo::error_report).
fn log_aborted(r: Req, kind: &str, report: &str) {
    let (msg, frames) = report
        .split_once("\nstack traceback:\n")
        .unwrap_or((report, ""));
    // Our own frames (the Lua shims) are not the user's.
    let frames: Vec<&str> = frames
        .lines()
        .filter(|l| !l.contains("ngx_lua_rs."))
        .collect();
    log::error(
        nginx_sys::NGX_LOG_ERR as usize,
        r.log(),
        &format!(
            "lua {kind} thread aborted: runtime error: {msg}\nstack traceback:\ncoroutine 0:\n{}",
            frames.join("\n")
        ),
    );
}

/// Starts a handler's chunk as the request's entry coroutine for `phase`.
pub fn run(lua: &Lua, r: Req, phase: Phase, chunk: &Chunk) -> Outcome {
    // No arguments: an empty Plain list needs no mlua value at all.
    run_with(
        lua,
        r,
        phase,
        Body::Chunk(chunk),
        Args::Plain(PlainList::of([])),
    )
}

/// As [`run`], with any body, passing `args` to it.
pub fn run_with(lua: &Lua, r: Req, phase: Phase, f: Body, args: Args) -> Outcome {
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return Outcome::Failed;
    };
    let slot = match new_slot(lua, r, f, 0, CoState::Running, None) {
        Ok(s) => s,
        Err(e) => {
            log::error(
                nginx_sys::NGX_LOG_ERR as usize,
                r.log(),
                &format!("lua: failed to create thread: {e}"),
            );
            return Outcome::Failed;
        }
    };
    {
        let mut cos = ctx.cos.borrow_mut();
        cos.clear();
        if cos.capacity() == 0 {
            if let Some(spare) = vm_state(r).and_then(|s| s.spare_lists.borrow_mut().pop()) {
                *cos = spare;
            }
        }
        cos.push(slot);
    }
    ctx.entry_phase.set(Some(phase));
    ctx.entry_outcome.set(None);
    ctx.exit_code.set(None);
    drive(lua, r, phase, ctx, 0, args)
}

/// A new scheduler-level coroutine that will run `f`; a light thread not
/// started yet (`CoState::New`) keeps its arguments in `start`.
pub fn new_slot(
    lua: &Lua,
    r: Req,
    f: Body,
    parent: usize,
    state: CoState,
    start: Option<MultiValue>,
) -> mlua::Result<CoSlot> {
    let reused = vm_state(r).and_then(|c| c.free.borrow_mut().pop());
    let (key, co) = match (reused, f) {
        (Some((key, co)), Body::Chunk(chunk)) => {
            co.reset_from_registry(chunk.key.id());
            (key, co)
        }
        (Some((key, co)), Body::Func(f)) => {
            let thread: mlua::Thread = lua.registry_value(&key)?;
            thread.reset(f)?;
            (key, co)
        }
        (None, f) => {
            let f = match f {
                Body::Chunk(chunk) => chunk.func.clone(),
                Body::Func(f) => f,
            };
            let thread = lua.create_thread(f)?;
            let co = RawCo::of(&thread);
            (lua.create_registry_value(thread)?, co)
        }
    };
    Ok(CoSlot {
        thread: key,
        co,
        thread_ptr: co.addr(),
        parent,
        state,
        start,
        results: None,
        sleep: None,
    })
}

/// Resumes coroutine `co` of the request, which waited for an event, with
/// `args` (what its shim's yield returns). A coroutine that is no longer
/// waiting (killed, or the request moved on) is left alone.
pub fn resume(lua: &Lua, r: Req, target: Target, args: Args) -> Outcome {
    let co = target.co;
    let Some(ctx) = RequestCtx::get(r) else {
        return Outcome::Failed;
    };
    let Some(phase) = ctx.entry_phase.get() else {
        return Outcome::Failed;
    };
    let (waiting, start) = match ctx.cos.borrow_mut().get_mut(co) {
        Some(c) if target.thread != 0 && c.thread_ptr != target.thread => (false, None),
        Some(c) if c.state == CoState::Waiting => (true, None),
        // A thread created by the scheduler's owner (ngx.on_abort's
        // callback) starts with its own function and arguments.
        Some(c) if c.state == CoState::New && c.start.is_some() => (true, c.start.take()),
        _ => (false, None),
    };
    if !waiting {
        return Outcome::Yielded;
    }
    let args = match start {
        Some(s) => Args::Values(s),
        None => args,
    };
    drive(lua, r, phase, ctx, co, args)
}

/// What a resumed coroutine did when it stopped.
enum Stop {
    Wait,
    Spawn(usize),
    WaitThreads,
    Exit,
    Exec,
    Finished(MultiValue),
    /// The entry coroutine returned (its values are not used).
    EntryFinished,
    Failed(String),
}

/// Reads what stopped coroutine `raw` left on its stack, and clears it
/// (the entry coroutine's return values are not used).
fn classify(lua: &Lua, raw: RawCo, res: Resumed, entry: bool) -> Stop {
    match res {
        Resumed::Yielded(_) => {
            let m = raw.light_at(1);
            let is = |marker: LightUserData| m == Some(marker.0);
            let stop = if is(wait_marker()) {
                Stop::Wait
            } else if is(exit_marker()) {
                Stop::Exit
            } else if is(exec_marker()) {
                Stop::Exec
            } else if is(thread_wait_marker()) {
                Stop::WaitThreads
            } else if let (true, Some(i)) = (is(spawn_marker()), raw.number_at(2)) {
                Stop::Spawn(i as usize)
            } else {
                Stop::Failed("attempt to yield across C-call boundary".into())
            };
            raw.clear();
            stop
        }
        Resumed::Returned(n) if !entry => match raw.take_values(lua, n) {
            Ok(values) => Stop::Finished(values),
            Err(e) => Stop::Failed(crate::vm::lua_message(e)),
        },
        Resumed::Returned(_) => {
            raw.clear();
            Stop::EntryFinished
        }
        Resumed::Raised => Stop::Failed(raw.error_report()),
    }
}

/// The scheduler loop: resumes `co` and keeps going for as long as some
/// coroutine of the request can run (a spawned thread's parent, a waiting
/// parent whose child ended); returns when all of them wait for events or
/// the handler is over.
fn drive(
    lua: &Lua,
    r: Req,
    phase: Phase,
    ctx: &RequestCtx,
    mut co: usize,
    mut args: Args,
) -> Outcome {
    loop {
        let raw = match ctx.cos.borrow_mut().get_mut(co) {
            Some(c) => {
                c.state = CoState::Running;
                c.co
            }
            None => return Outcome::Failed,
        };
        ctx.cur_co.set(co);
        let res = match raw.push_args(lua, args) {
            Ok(nargs) => {
                let _frame = Current::push(Frame { req: r, phase });
                raw.resume(nargs)
            }
            Err(e) => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    r.log(),
                    &format!("lua: failed to resume thread: {e}"),
                );
                finish_all(r, ctx);
                return Outcome::Failed;
            }
        };
        let stop = classify(lua, raw, res, co == 0);
        let next = match stop {
            Stop::Wait => {
                set_state(ctx, co, CoState::Waiting);
                // A new thread that waits lets ngx.thread.spawn return.
                spawn_return(lua, ctx, co)
            }
            Stop::WaitThreads => None,
            Stop::Spawn(child) => {
                set_state(ctx, co, CoState::SpawnPending(child));
                let start = ctx
                    .cos
                    .borrow_mut()
                    .get_mut(child)
                    .and_then(|c| c.start.take());
                Some((child, start.unwrap_or_default()))
            }
            Stop::Exit | Stop::Exec => {
                let outcome = match stop {
                    Stop::Exec => Outcome::Exec,
                    _ => Outcome::Exited(ctx.exit_code.get().unwrap_or(0)),
                };
                finish_all(r, ctx);
                return outcome;
            }
            Stop::EntryFinished => entry_ended(ctx, Outcome::Finished),
            Stop::Finished(values) => {
                if co == 0 {
                    entry_ended(ctx, Outcome::Finished)
                } else {
                    thread_ended(lua, ctx, co, true, values)
                }
            }
            Stop::Failed(report) => {
                if co == 0 {
                    log_aborted(r, "entry", &report);
                    finish_all(r, ctx);
                    return Outcome::Failed;
                }
                log_aborted(r, "user", &report);
                let msg = report
                    .split_once("\nstack traceback:")
                    .map(|(m, _)| m)
                    .unwrap_or(&report)
                    .to_string();
                let mut err = MultiValue::new();
                if let Ok(s) = lua.create_string(msg) {
                    err.push_back(Value::String(s));
                }
                thread_ended(lua, ctx, co, false, err)
            }
        };
        match next {
            Some((c, a)) => {
                co = c;
                args = Args::Values(a);
            }
            None => {
                return match ctx.entry_outcome.get() {
                    Some(outcome) if !threads_alive(ctx) => {
                        finish_all(r, ctx);
                        outcome
                    }
                    _ => Outcome::Yielded,
                };
            }
        }
    }
}

fn set_state(ctx: &RequestCtx, co: usize, state: CoState) {
    if let Some(c) = ctx.cos.borrow_mut().get_mut(co) {
        c.state = state;
    }
}

/// If `co` is a light thread whose parent waits in ngx.thread.spawn, the
/// parent continues with the thread object as spawn's result.
fn spawn_return(lua: &Lua, ctx: &RequestCtx, co: usize) -> Option<(usize, MultiValue)> {
    let cos = ctx.cos.borrow();
    let parent = cos.get(co)?.parent;
    if co == 0 || cos.get(parent)?.state != CoState::SpawnPending(co) {
        return None;
    }
    let mut ret = MultiValue::new();
    ret.push_back(lua.registry_value::<Value>(&cos[co].thread).ok()?);
    Some((parent, ret))
}

/// The entry coroutine returned: the handler is done once its light
/// threads are (lua-nginx-module waits for them).
fn entry_ended(ctx: &RequestCtx, outcome: Outcome) -> Option<(usize, MultiValue)> {
    set_state(ctx, 0, CoState::Dead { reaped: true });
    ctx.entry_outcome.set(Some(outcome));
    None
}

/// A light thread ended: its parent continues if it was waiting for it
/// (spawn or ngx.thread.wait); otherwise the results wait for a later wait.
fn thread_ended(
    lua: &Lua,
    ctx: &RequestCtx,
    co: usize,
    ok: bool,
    values: MultiValue,
) -> Option<(usize, MultiValue)> {
    let mut cos = ctx.cos.borrow_mut();
    let parent = cos.get(co)?.parent;
    let parent_state = cos.get(parent)?.state.clone();
    let slot = cos.get_mut(co)?;
    slot.sleep = None;
    match parent_state {
        CoState::SpawnPending(child) if child == co => {
            slot.state = CoState::Dead { reaped: false };
            slot.results = stash(lua, ok, values);
            let mut ret = MultiValue::new();
            ret.push_back(lua.registry_value::<Value>(&slot.thread).ok()?);
            Some((parent, ret))
        }
        CoState::WaitThreads(list) if list.contains(&co) => {
            slot.state = CoState::Dead { reaped: true };
            let mut ret = MultiValue::new();
            ret.push_back(Value::Boolean(ok));
            ret.extend(values);
            Some((parent, ret))
        }
        _ => {
            slot.state = CoState::Dead { reaped: false };
            slot.results = stash(lua, ok, values);
            None
        }
    }
}

/// Keeps a finished thread's values in the registry until a wait takes them.
fn stash(lua: &Lua, ok: bool, values: MultiValue) -> Option<(bool, mlua::RegistryKey)> {
    let t = lua.create_table().ok()?;
    let n = values.len();
    for (i, v) in values.into_iter().enumerate() {
        t.raw_set(i + 1, v).ok()?;
    }
    t.raw_set("n", n).ok()?;
    Some((ok, lua.create_registry_value(t).ok()?))
}

/// The values a finished thread returned (see [`stash`]).
pub fn unstash(lua: &Lua, key: &mlua::RegistryKey) -> MultiValue {
    let Ok(t) = lua.registry_value::<mlua::Table>(key) else {
        return MultiValue::new();
    };
    let n: usize = t.raw_get("n").unwrap_or(0);
    (1..=n)
        .map(|i| t.raw_get::<Value>(i).unwrap_or(Value::Nil))
        .collect()
}

fn threads_alive(ctx: &RequestCtx) -> bool {
    ctx.cos
        .borrow()
        .iter()
        .skip(1)
        .any(|c| !matches!(c.state, CoState::Dead { .. }))
}

/// The handler is over (exit, exec, error, or all threads done): forget
/// every coroutine, cancelling their timers.
fn finish_all(r: Req, ctx: &RequestCtx) {
    let mut cos = std::mem::take(&mut *ctx.cos.borrow_mut());
    let Some(cache) = vm_state(r) else {
        return;
    };
    let mut free = cache.free.borrow_mut();
    for slot in cos.drain(..) {
        // Only coroutines that returned can be reset; one left suspended
        // (ngx.exit in a thread, a killed thread) is dropped.
        if slot.co.is_reusable() && free.len() < THREAD_CACHE_MAX {
            free.push((slot.thread, slot.co));
        }
    }
    drop(free);
    let mut spare = cache.spare_lists.borrow_mut();
    if spare.len() < SPARE_LISTS_MAX && cos.capacity() <= SPARE_LIST_CAPACITY_MAX {
        spare.push(cos);
    }
}

/// The request is being aborted (the client went away): its coroutines
/// are dropped and never resumed.
pub fn abandon(r: Req, ctx: &RequestCtx) {
    finish_all(r, ctx);
}

/// Marks light thread `co` (and its sleep timer) dead; for ngx.thread.kill.
pub fn kill_thread(ctx: &RequestCtx, co: usize) {
    if let Some(c) = ctx.cos.borrow_mut().get_mut(co) {
        c.state = CoState::Dead { reaped: true };
        c.sleep = None;
        c.start = None;
    }
}

/// Runs `f` to completion without a coroutine (phases that may not yield:
/// init, init_worker, set, log, filters). Returns the error text with a
/// traceback on failure.
pub fn call(
    lua: &Lua,
    frame: Option<Frame>,
    bare: Option<Phase>,
    f: &Function,
    args: MultiValue,
) -> Result<MultiValue, String> {
    let _frame = frame.map(Current::push);
    Current::set_bare(bare);
    let runner: mlua::Result<Function> = lua.named_registry_value("ngx_lua_rs.pcall_tb");
    let runner = match runner {
        Ok(f) => f,
        Err(_) => {
            let f: Function = lua
                .load("local xpcall, tb = xpcall, debug.traceback return function(f, ...) return xpcall(f, function(e) return tb(tostring(e), 2) end, ...) end")
                .set_name("=pcall_tb")
                .eval()
                .map_err(crate::vm::lua_message)?;
            lua.set_named_registry_value("ngx_lua_rs.pcall_tb", &f)
                .map_err(crate::vm::lua_message)?;
            f
        }
    };
    let mut all = MultiValue::new();
    all.push_back(Value::Function(f.clone()));
    all.extend(args);
    let res = runner.call::<MultiValue>(all);
    Current::set_bare(None);
    let mut res = res.map_err(crate::vm::lua_message)?;
    match res.pop_front() {
        Some(Value::Boolean(true)) => Ok(res),
        _ => Err(match res.pop_front() {
            Some(Value::String(s)) => s.to_string_lossy(),
            Some(v) => format!("{v:?}"),
            None => "unknown error".into(),
        }),
    }
}

/// The coroutine that is about to wait, captured when a waiting API starts
/// (before its Lua shim yields) and used by the event that ends the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub req: Req,
    /// Which of the request's scheduler-level coroutines (0 = entry).
    pub co: usize,
    /// That coroutine's address: slot `co` may hold another coroutine by the
    /// time the event fires (the handler ended, a later phase started).
    pub thread: usize,
}

/// The coroutine an event resumes: slot `co`, if it still holds `thread`
/// (0: whatever it holds, for wakes that cannot outlive the handler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Target {
    pub co: usize,
    pub thread: usize,
}

impl Waiter {
    /// The running coroutine of the current request frame.
    pub fn current(_lua: &Lua) -> Option<Waiter> {
        Self::running()
    }

    /// [`Waiter::current`] for code without a `Lua` handle.
    pub fn running() -> Option<Waiter> {
        let f = Current::top()?;
        let ctx = RequestCtx::get(f.req)?;
        let co = ctx.cur_co.get();
        let thread = ctx.cos.borrow().get(co).map(|c| c.thread_ptr).unwrap_or(0);
        Some(Waiter {
            req: f.req,
            co,
            thread,
        })
    }

    /// Resumes the waiting coroutine with `args` (what its shim's yield
    /// returns), then lets nginx run posted requests.
    pub fn wake(self, args: impl Into<Args>) {
        let target = Target {
            co: self.co,
            thread: self.thread,
        };
        crate::phase::wake(self.req, target, args.into());
    }
}
