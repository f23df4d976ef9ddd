//! ngx.sleep: a timer in the request's ctx wakes the waiting coroutine
//! (ngx_http_lua_sleep.c's protocol; the yield is in lualib/sleep.lua).

use mlua::{Lua, MultiValue, Table, Value};
use nginx_sys::ngx_event_t;

use super::context::{frame, YIELDABLE};
use super::{raise, raw_function, ApiResult};
use crate::ffi::log;
use crate::sched::ctx::SleepTimer;
use crate::sched::{self, event::Timer, RequestCtx, Waiter};

fn sleep_start(lua: &Lua, seconds: Value) -> ApiResult<()> {
    let secs = match seconds {
        Value::Integer(i) => i as f64,
        Value::Number(n) => n,
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => n,
            None => return raise("bad argument #1 to 'sleep' (number expected, got string)"),
        },
        other => {
            return raise(format!(
                "bad argument #1 to 'sleep' (number expected, got {})",
                other.type_name()
            ))
        }
    };
    let f = frame(lua, YIELDABLE)?;
    if secs < 0.0 || !secs.is_finite() {
        return raise(format!("invalid sleep duration \"{}\"", secs as i64));
    }
    let Some(ctx) = RequestCtx::get_or_create(f.req) else {
        return raise("no request ctx found");
    };
    let Some(waiter) = Waiter::current(lua) else {
        return raise("no co ctx found");
    };
    let ms = (secs * 1000.0).round() as u64;
    if log::enabled(nginx_sys::NGX_LOG_DEBUG as usize, f.req.log()) {
        log::error(
            nginx_sys::NGX_LOG_DEBUG as usize,
            f.req.log(),
            &format!("lua ready to sleep for {ms} ms"),
        );
    }
    let mut cos = ctx.cos.borrow_mut();
    let Some(slot) = cos.get_mut(waiter.co) else {
        return raise("no co ctx found");
    };
    // The boxed SleepTimer is the event's data, and lives in the coroutine's
    // slot: killing the thread or ending the request cancels the timer.
    let mut st = Box::new(SleepTimer {
        timer: Timer::default(),
        waiter,
    });
    let data = &mut *st as *mut SleepTimer as *mut std::ffi::c_void;
    st.timer.arm(ms, sleep_expired, data, f.req.log());
    slot.sleep = Some(st);
    Ok(())
}

unsafe extern "C" fn sleep_expired(ev: *mut ngx_event_t) {
    // SAFETY: armed by sleep_start with its boxed SleepTimer as data; the box
    // lives in the coroutine's slot, which cancels the timer when dropped.
    let waiter = unsafe { (*(Timer::data(ev) as *const SleepTimer)).waiter };
    let r = waiter.req;
    crate::ffi::guard(r.log(), (), || {
        if log::enabled(nginx_sys::NGX_LOG_DEBUG as usize, r.log()) {
            log::error(
                nginx_sys::NGX_LOG_DEBUG as usize,
                r.log(),
                "lua sleep timer expired",
            );
        }
        // Drop the fired timer before resuming (the coroutine may sleep again).
        if let Some(ctx) = RequestCtx::get(r) {
            if let Some(slot) = ctx.cos.borrow_mut().get_mut(waiter.co) {
                slot.sleep = None;
            }
        }
        waiter.wake(MultiValue::new());
    })
}

pub(crate) fn inject(lua: &Lua, _ngx: &Table) -> mlua::Result<()> {
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/sleep.lua"))
        .set_name("=ngx_lua_rs.sleep")
        .into_function()?;
    shim.call::<()>((
        raw_function(lua, sleep_start)?,
        super::shim_raise(lua)?,
        sched::wait_marker(),
    ))
}
