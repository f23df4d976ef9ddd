//! Light threads: ngx.thread.spawn, wait, kill (ngx_http_lua_uthread.c).
//! The scheduling lives in sched/; this file validates calls and keeps the
//! parent/child rules (only the parent may wait for or kill a thread).

use std::cell::Cell;

use mlua::{Function, Lua, MultiValue, Table, Thread, Value};

use super::context::{frame, YIELDABLE};
use super::{raise, raw_function, set, subtable, ApiResult};
use crate::sched::{self, CoState, RequestCtx};

/// The index of the coroutine `t` among the request's coroutines.
fn index_of(ctx: &RequestCtx, t: &Thread) -> Option<usize> {
    let p = t.to_pointer() as usize;
    ctx.cos.borrow().iter().position(|c| c.thread_ptr == p)
}

fn spawn_start(lua: &Lua, mut args: MultiValue) -> ApiResult<i64> {
    let f = frame(lua, YIELDABLE)?;
    let func = match args.pop_front() {
        Some(Value::Function(func)) => func,
        other => {
            let t = other.as_ref().map(|v| v.type_name()).unwrap_or("no value");
            return raise(format!(
                "bad argument #1 to 'spawn' (function expected, got {t})"
            ));
        }
    };
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    let slot = sched::new_slot(
        lua,
        f.req,
        sched::Body::Func(func),
        ctx.cur_co.get(),
        CoState::New,
        Some(args),
    )?;
    let mut cos = ctx.cos.borrow_mut();
    cos.push(slot);
    Ok((cos.len() - 1) as i64)
}

/// Which thread wait_results should return (set by wait_start).
#[derive(Default)]
struct Reaped(Cell<Option<(usize, usize)>>);

fn children(
    lua: &Lua,
    args: &MultiValue,
    name: &str,
) -> ApiResult<(crate::ffi::request::Req, Vec<usize>)> {
    let f = frame(lua, YIELDABLE)?;
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    let me = ctx.cur_co.get();
    if args.is_empty() {
        return raise(format!(
            "at least one coroutine should be specified for {name}"
        ));
    }
    let mut out = Vec::with_capacity(args.len());
    for (i, v) in args.iter().enumerate() {
        let Value::Thread(t) = v else {
            return raise(format!(
                "bad argument #{} to '{name}' (coroutine expected, got {})",
                i + 1,
                v.type_name()
            ));
        };
        let Some(idx) = index_of(ctx, t).filter(|&i| i != 0) else {
            return raise("attempt to wait on a coroutine that is not a user thread");
        };
        if ctx.cos.borrow()[idx].parent != me {
            return raise("only the parent coroutine can wait on the thread");
        }
        out.push(idx);
    }
    Ok((f.req, out))
}

/// true when one of the threads has already ended (wait_results returns
/// it); false when the caller must yield until one does.
fn wait_start(lua: &Lua, args: MultiValue) -> ApiResult<bool> {
    let (r, list) = children(lua, &args, "wait")?;
    let Some(ctx) = RequestCtx::get(r) else {
        return raise("no request ctx found");
    };
    let me = ctx.cur_co.get();
    let mut cos = ctx.cos.borrow_mut();
    for &idx in &list {
        match cos[idx].state {
            CoState::Dead { reaped: false } => {
                cos[idx].state = CoState::Dead { reaped: true };
                if let Some(reaped) = lua.app_data_ref::<Reaped>() {
                    reaped.0.set(Some((me, idx)));
                }
                return Ok(true);
            }
            CoState::Dead { reaped: true } => return raise("already waited or killed"),
            _ => {}
        }
    }
    cos[me].state = CoState::WaitThreads(list);
    Ok(false)
}

fn wait_results(lua: &Lua, _: ()) -> ApiResult<MultiValue> {
    let f = frame(lua, YIELDABLE)?;
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    let Some((_, idx)) = lua.app_data_ref::<Reaped>().and_then(|r| r.0.take()) else {
        return raise("no thread to wait for");
    };
    let results = ctx
        .cos
        .borrow_mut()
        .get_mut(idx)
        .and_then(|c| c.results.take());
    let (ok, values) = match results {
        Some((ok, key)) => (ok, sched::unstash(lua, &key)),
        None => (false, MultiValue::new()),
    };
    let mut out = MultiValue::new();
    out.push_back(Value::Boolean(ok));
    out.extend(values);
    Ok(out)
}

fn kill(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let f = frame(lua, YIELDABLE)?;
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    let fail = |msg: &str| -> ApiResult<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Nil,
            Value::String(lua.create_string(msg)?),
        ]))
    };
    let Some(Value::Thread(t)) = args.front() else {
        let t = args.front().map(|v| v.type_name()).unwrap_or("no value");
        return raise(format!(
            "bad argument #1 to 'kill' (coroutine expected, got {t})"
        ));
    };
    let Some(idx) = index_of(ctx, t).filter(|&i| i != 0) else {
        return fail("not user thread");
    };
    let (parent, state) = {
        let cos = ctx.cos.borrow();
        (cos[idx].parent, cos[idx].state.clone())
    };
    if parent != ctx.cur_co.get() {
        return fail("killer not parent");
    }
    if matches!(state, CoState::Dead { .. }) {
        return fail("already waited or killed");
    }
    if ctx.capture.pending_for(idx) {
        return fail("pending subrequests");
    }
    sched::kill_thread(ctx, idx);
    Ok(MultiValue::from_iter([Value::Integer(1)]))
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    lua.set_app_data(Reaped::default());
    let thread = subtable(lua, ngx, "thread")?;
    set(lua, &thread, "kill", kill)?;
    let shim: Function = lua
        .load(include_str!("../../lualib/thread.lua"))
        .set_name("=ngx_lua_rs.thread")
        .into_function()?;
    shim.call::<()>((
        raw_function(lua, spawn_start)?,
        raw_function(lua, wait_start)?,
        raw_function(lua, wait_results)?,
        super::shim_raise(lua)?,
        sched::spawn_marker(),
        sched::thread_wait_marker(),
    ))
}
