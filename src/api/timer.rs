//! ngx.timer.at / every / running_count / pending_count. A timer is an nginx
//! event owned by the worker's `Timers`; when it fires, its callback runs as
//! the entry coroutine of a fake request (so it may sleep and use sockets),
//! detached from any client request.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use mlua::{Function, Lua, MultiValue, RegistryKey, Table, Value};
use nginx_sys::ngx_event_t;

use super::context::{check, Ctx, Phase};
use super::{raise, set, subtable, ApiResult};
use crate::api::context::Phase::*;
use crate::ffi::fake::FakeRequest;
use crate::ffi::{log, process};
use crate::module;
use crate::sched::{self, event::Timer, Outcome, RequestCtx};

const CREATE_CTX: Ctx = Ctx::of(&[
    InitWorker,
    Set,
    Rewrite,
    Access,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Phase::Timer,
    Balancer,
]);
const COUNT_CTX: Ctx = Ctx::of(&[
    InitWorker,
    Set,
    Rewrite,
    Access,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Phase::Timer,
    Balancer,
    ExitWorker,
]);

struct Pending {
    id: usize,
    event: Timer,
    /// `{ callback, arg1, ..., n = count }` in the registry.
    callback: RegistryKey,
    every_ms: Option<u64>,
}

/// The worker's timers (in the VM's app data).
#[derive(Default)]
pub struct Timers {
    next_id: Cell<usize>,
    /// Boxed: a pending timer's event carries its address as `ev->data`
    /// (nginx's debug logging reads `ev->data` as a connection, so it must
    /// point at readable memory, not hold a bare number).
    pending: RefCell<HashMap<usize, Box<Pending>>>,
    /// Callbacks waiting inside their coroutine, by fake request address.
    running: RefCell<HashMap<usize, FakeRequest>>,
    running_count: Cell<usize>,
}

fn delay_ms(v: &Value, name: &str) -> ApiResult<f64> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Number(n) => Ok(*n),
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => Ok(n),
            None => raise(format!(
                "bad argument #1 to '{name}' (number expected, got string)"
            )),
        },
        other => raise(format!(
            "bad argument #1 to '{name}' (number expected, got {})",
            other.type_name()
        )),
    }
}

fn create(lua: &Lua, mut args: MultiValue, every: bool) -> ApiResult<MultiValue> {
    let name = if every { "every" } else { "at" };
    check(lua, CREATE_CTX)?;
    if super::context::phase(lua).is_none() {
        return raise("no request found");
    }
    let delay = delay_ms(&args.pop_front().unwrap_or(Value::Nil), name)?;
    let f = match args.pop_front() {
        Some(Value::Function(f)) => f,
        other => {
            let t = other.as_ref().map(|v| v.type_name()).unwrap_or("no value");
            return raise(format!(
                "bad argument #2 to '{name}' (function expected, got {t})"
            ));
        }
    };
    if delay < 0.0 || !delay.is_finite() || (every && delay <= 0.0) {
        return raise(format!("bad argument #1 to '{name}' (invalid delay)"));
    }
    let fail = |msg: &str| -> ApiResult<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Nil,
            Value::String(lua.create_string(msg)?),
        ]))
    };
    if process::exiting() && (delay > 0.0 || every) {
        return fail("process exiting");
    }
    let Some(timers) = lua.app_data_ref::<Timers>() else {
        return raise("timers unavailable");
    };
    let max = module::cycle_main_conf(crate::ffi::cycle())
        .map(|m| m.max_pending_timers())
        .unwrap_or(1024);
    if timers.pending.borrow().len() >= max {
        return fail("too many pending timers");
    }
    let cb = lua.create_table()?;
    cb.raw_set(1, f)?;
    let n = args.len();
    for (i, a) in args.into_iter().enumerate() {
        cb.raw_set(i + 2, a)?;
    }
    cb.raw_set("n", n)?;
    let id = timers.next_id.get().wrapping_add(1);
    timers.next_id.set(id);
    let ms = (delay * 1000.0).round() as u64;
    let mut p = Box::new(Pending {
        id,
        event: Timer::default(),
        callback: lua.create_registry_value(cb)?,
        every_ms: every.then_some(ms),
    });
    let data = &mut *p as *mut Pending as *mut std::ffi::c_void;
    p.event
        .arm_with(ms, fire, data, crate::ffi::cycle_log(), true);
    timers.pending.borrow_mut().insert(id, p);
    Ok(MultiValue::from_iter([Value::Integer(1)]))
}

unsafe extern "C" fn fire(ev: *mut ngx_event_t) {
    // SAFETY: armed by `create` with its boxed Pending as data; the event is
    // owned by that Pending, so it is alive when the event fires.
    let id = unsafe { (*(Timer::data(ev) as *const Pending)).id };
    crate::ffi::guard(crate::ffi::cycle_log(), (), || run_timer(id))
}

fn run_timer(id: usize) {
    let Some(vm) = module::cycle_main_conf(crate::ffi::cycle()).and_then(|m| m.vm.as_ref()) else {
        return;
    };
    let lua = &vm.lua;
    let Some(timers) = lua.app_data_ref::<Timers>() else {
        return;
    };
    let premature = process::exiting();
    let callback: Table = {
        let mut pending = timers.pending.borrow_mut();
        let Some(p) = pending.get_mut(&id) else {
            return;
        };
        let cb = match lua.registry_value::<Table>(&p.callback) {
            Ok(t) => t,
            Err(_) => return,
        };
        match p.every_ms {
            Some(ms) if !premature => {
                let data = &mut **p as *mut Pending as *mut std::ffi::c_void;
                p.event
                    .arm_with(ms, fire, data, crate::ffi::cycle_log(), true)
            }
            _ => {
                pending.remove(&id);
            }
        }
        cb
    };
    let max_running = module::cycle_main_conf(crate::ffi::cycle())
        .map(|m| m.max_running_timers())
        .unwrap_or(256);
    if timers.running_count.get() >= max_running {
        log::error(
            nginx_sys::NGX_LOG_ALERT as usize,
            crate::ffi::cycle_log(),
            &format!("{max_running} lua_max_running_timers are not enough"),
        );
        return;
    }
    let Some(fake) = FakeRequest::new() else {
        return;
    };
    let r = fake.req();
    if RequestCtx::get_or_create(r).is_none() {
        return;
    }
    let Ok(f) = callback.raw_get::<Function>(1) else {
        return;
    };
    let n: usize = callback.raw_get("n").unwrap_or(0);
    let mut args = MultiValue::new();
    args.push_back(Value::Boolean(premature));
    for i in 0..n {
        args.push_back(callback.raw_get(i + 2).unwrap_or(Value::Nil));
    }
    timers.running_count.set(timers.running_count.get() + 1);
    let outcome = sched::run_with(lua, r, Phase::Timer, sched::Body::Func(f), args.into());
    if outcome == Outcome::Yielded {
        timers.running.borrow_mut().insert(r.raw() as usize, fake);
    } else {
        timers
            .running_count
            .set(timers.running_count.get().saturating_sub(1));
        drop(fake);
    }
}

/// Resumes a waiting timer coroutine; frees its fake request when it ends.
pub fn wake(lua: &Lua, r: crate::ffi::request::Req, co: sched::Target, args: sched::Args) {
    let outcome = sched::resume(lua, r, co, args);
    if outcome == Outcome::Yielded {
        return;
    }
    let Some(timers) = lua.app_data_ref::<Timers>() else {
        return;
    };
    let fake = timers.running.borrow_mut().remove(&(r.raw() as usize));
    if fake.is_some() {
        timers
            .running_count
            .set(timers.running_count.get().saturating_sub(1));
    }
    drop(fake);
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    lua.set_app_data(Timers::default());
    let timer = subtable(lua, ngx, "timer")?;
    set(lua, &timer, "at", |lua, args: MultiValue| {
        create(lua, args, false)
    })?;
    set(lua, &timer, "every", |lua, args: MultiValue| {
        create(lua, args, true)
    })?;
    set(lua, &timer, "running_count", |lua, ()| {
        check(lua, COUNT_CTX)?;
        Ok(lua
            .app_data_ref::<Timers>()
            .map(|t| t.running_count.get())
            .unwrap_or(0))
    })?;
    set(lua, &timer, "pending_count", |lua, ()| {
        check(lua, COUNT_CTX)?;
        Ok(lua
            .app_data_ref::<Timers>()
            .map(|t| t.pending.borrow().len())
            .unwrap_or(0))
    })?;
    Ok(())
}
