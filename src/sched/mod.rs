//! The scheduler: runs a handler's Lua function in its own coroutine, and
//! reads what the coroutine asked for when it stops (finished, exit, exec,
//! wait, error). Waits are resumed by nginx events through [`resume`].
//!
//! Rust never yields: blocking APIs are small Lua shims that yield one of the
//! markers below after a Rust call has armed whatever will wake them.

pub mod ctx;
pub mod event;

use mlua::thread::ThreadStatus;
use mlua::{Function, LightUserData, Lua, MultiValue, Value};

use crate::api::context::{Current, Frame, Phase};
use crate::ffi::log;
use crate::ffi::request::Req;
pub use ctx::RequestCtx;

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

static FAILED_MARKER: u8 = 0;
static EXIT_MARKER: u8 = 0;
static EXEC_MARKER: u8 = 0;
static WAIT_MARKER: u8 = 0;

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

/// Returned by lualib/entry.lua when the handler raised an error.
fn failed_marker() -> LightUserData {
    marker(&FAILED_MARKER)
}

/// The entry coroutine's body (lualib/entry.lua), built once per VM.
fn entry_trampoline(lua: &Lua) -> mlua::Result<Function> {
    const KEY: &str = "ngx_lua_rs.entry";
    if let Ok(f) = lua.named_registry_value::<Function>(KEY) {
        return Ok(f);
    }
    let chunk = lua.load(include_str!("../../lualib/entry.lua")).set_name("=ngx_lua_rs.entry").into_function()?;
    let f: Function = chunk.call(failed_marker())?;
    lua.set_named_registry_value(KEY, &f)?;
    Ok(f)
}

/// Logs an aborted entry coroutine in lua-nginx-module's layout; `report`
/// is "message\nstack traceback:\n<frames>" from debug.traceback.
fn log_aborted(r: Req, report: &str) {
    let (msg, frames) = report.split_once("\nstack traceback:\n").unwrap_or((report, ""));
    // Our own frames (the xpcall in entry.lua and the shims) are not the user's.
    let frames: Vec<&str> = frames
        .lines()
        .filter(|l| !l.contains("ngx_lua_rs.") && !l.contains("in function 'xpcall'"))
        .collect();
    log::error(
        nginx_sys::NGX_LOG_ERR as usize,
        r.log(),
        &format!("lua entry thread aborted: runtime error: {msg}\nstack traceback:\ncoroutine 0:\n{}", frames.join("\n")),
    );
}

/// Pops the frame even if the resume unwinds.
struct FrameGuard<'a>(&'a Lua);

impl Drop for FrameGuard<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.0.app_data_ref::<Current>() {
            c.pop();
        }
    }
}

fn push_frame(lua: &Lua, f: Frame) -> FrameGuard<'_> {
    if let Some(c) = lua.app_data_ref::<Current>() {
        c.push(f);
    }
    FrameGuard(lua)
}

/// Starts `f` as the request's entry coroutine for `phase`.
pub fn run(lua: &Lua, r: Req, phase: Phase, f: Function) -> Outcome {
    run_with(lua, r, phase, f, MultiValue::new())
}

/// As [`run`], passing `args` to `f`.
pub fn run_with(lua: &Lua, r: Req, phase: Phase, f: Function, args: MultiValue) -> Outcome {
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return Outcome::Failed;
    };
    let thread = match entry_trampoline(lua).and_then(|t| lua.create_thread(t)) {
        Ok(t) => t,
        Err(e) => {
            log::error(nginx_sys::NGX_LOG_ERR as usize, r.log(), &format!("lua: failed to create thread: {e}"));
            return Outcome::Failed;
        }
    };
    *ctx.entry.borrow_mut() = Some(thread);
    ctx.entry_phase.set(Some(phase));
    ctx.exit_code.set(None);
    let mut all = MultiValue::new();
    all.push_back(Value::Function(f));
    all.extend(args);
    step(lua, r, phase, ctx, all)
}

/// Resumes the request's waiting entry coroutine with `args`.
pub fn resume(lua: &Lua, r: Req, args: MultiValue) -> Outcome {
    let Some(ctx) = RequestCtx::get(r) else {
        return Outcome::Failed;
    };
    let Some(phase) = ctx.entry_phase.get() else {
        return Outcome::Failed;
    };
    step(lua, r, phase, ctx, args)
}

fn step(lua: &Lua, r: Req, phase: Phase, ctx: &RequestCtx, args: MultiValue) -> Outcome {
    let Some(thread) = ctx.entry.borrow().clone() else {
        return Outcome::Failed;
    };
    let res = {
        let _frame = push_frame(lua, Frame { req: r, phase });
        thread.resume::<MultiValue>(args)
    };
    let outcome = match res {
        Ok(values) if thread.status() == ThreadStatus::Resumable => match values.front() {
            Some(Value::LightUserData(m)) if *m == exit_marker() => {
                Outcome::Exited(ctx.exit_code.get().unwrap_or(0))
            }
            Some(Value::LightUserData(m)) if *m == exec_marker() => Outcome::Exec,
            Some(Value::LightUserData(m)) if *m == wait_marker() => return Outcome::Yielded,
            _ => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    r.log(),
                    "lua entry thread aborted: runtime error: attempt to yield across C-call boundary",
                );
                Outcome::Failed
            }
        },
        Ok(values) => match (values.front(), values.get(1)) {
            (Some(Value::LightUserData(m)), Some(Value::String(report))) if *m == failed_marker() => {
                log_aborted(r, &report.to_string_lossy());
                Outcome::Failed
            }
            _ => Outcome::Finished,
        },
        Err(e) => {
            let msg = crate::vm::lua_message(e);
            // mlua appends the coroutine's traceback to the message; lay it
            // out as lua-nginx-module does ("coroutine 0:" before the frames).
            let (msg, frames) = match msg.split_once("\nstack traceback:\n") {
                Some((m, f)) => (m.to_string(), f.to_string()),
                None => (msg.clone(), traceback(lua, &thread)),
            };
            log::error(
                nginx_sys::NGX_LOG_ERR as usize,
                r.log(),
                &format!("lua entry thread aborted: runtime error: {msg}\nstack traceback:\ncoroutine 0:\n{frames}"),
            );
            Outcome::Failed
        }
    };
    *ctx.entry.borrow_mut() = None;
    outcome
}

/// The frames of a dead coroutine's stack (tab-indented lines).
fn traceback(lua: &Lua, thread: &mlua::Thread) -> String {
    let tb: mlua::Result<String> = lua
        .globals()
        .get::<mlua::Table>("debug")
        .and_then(|d| d.get::<Function>("traceback"))
        .and_then(|f| f.call((thread.clone(), "", 0)));
    match tb {
        Ok(s) => s.trim_start_matches('\n').trim_start_matches("stack traceback:\n").to_string(),
        Err(_) => "\t(unavailable)".into(),
    }
}

/// Runs `f` to completion without a coroutine (phases that may not yield:
/// init, init_worker, set, log, filters). Returns the error text with a
/// traceback on failure.
pub fn call(lua: &Lua, frame: Option<Frame>, bare: Option<Phase>, f: &Function, args: MultiValue) -> Result<MultiValue, String> {
    let _frame = frame.map(|fr| push_frame(lua, fr));
    if let Some(c) = lua.app_data_ref::<Current>() {
        c.set_bare(bare);
    }
    let runner: mlua::Result<Function> = lua.named_registry_value("ngx_lua_rs.pcall_tb");
    let runner = match runner {
        Ok(f) => f,
        Err(_) => {
            let f: Function = lua
                .load("local xpcall, tb = xpcall, debug.traceback return function(f, ...) return xpcall(f, function(e) return tb(tostring(e), 2) end, ...) end")
                .set_name("=pcall_tb")
                .eval()
                .map_err(crate::vm::lua_message)?;
            lua.set_named_registry_value("ngx_lua_rs.pcall_tb", &f).map_err(crate::vm::lua_message)?;
            f
        }
    };
    let mut all = MultiValue::new();
    all.push_back(Value::Function(f.clone()));
    all.extend(args);
    let res = runner.call::<MultiValue>(all);
    if let Some(c) = lua.app_data_ref::<Current>() {
        c.set_bare(None);
    }
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
}

impl Waiter {
    /// The running coroutine of the current request frame.
    pub fn current(lua: &Lua) -> Option<Waiter> {
        let f = lua.app_data_ref::<Current>()?.top()?;
        let ctx = RequestCtx::get(f.req)?;
        Some(Waiter { req: f.req, co: ctx.cur_co.get() })
    }

    /// Resumes the waiting coroutine with `args` (what its shim's yield
    /// returns), then lets nginx run posted requests.
    pub fn wake(self, args: MultiValue) {
        crate::phase::wake(self.req, args);
    }
}
