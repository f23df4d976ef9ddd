//! ngx.sleep: a timer in the request's ctx wakes the waiting coroutine
//! (ngx_http_lua_sleep.c's protocol; the yield is in lualib/sleep.lua).

use mlua::{Lua, MultiValue, Table, Value};
use nginx_sys::ngx_event_t;

use super::context::{frame, YIELDABLE};
use super::{raise, raw_function, ApiResult};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::sched::{self, event::Timer, RequestCtx};

fn sleep_start(lua: &Lua, seconds: Value) -> ApiResult<()> {
    let secs = match seconds {
        Value::Integer(i) => i as f64,
        Value::Number(n) => n,
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => n,
            None => return raise("bad argument #1 to 'sleep' (number expected, got string)"),
        },
        other => return raise(format!("bad argument #1 to 'sleep' (number expected, got {})", other.type_name())),
    };
    let f = frame(lua, YIELDABLE)?;
    if secs < 0.0 || !secs.is_finite() {
        return raise(format!("invalid sleep duration \"{}\"", secs as i64));
    }
    let Some(ctx) = RequestCtx::get_or_create(f.req) else { return raise("no request ctx found") };
    let ms = (secs * 1000.0).round() as u64;
    if log::enabled(nginx_sys::NGX_LOG_DEBUG as usize, f.req.log()) {
        log::error(nginx_sys::NGX_LOG_DEBUG as usize, f.req.log(), &format!("lua ready to sleep for {ms} ms"));
    }
    ctx.sleep.borrow_mut().arm(ms, sleep_expired, f.req.raw() as *mut _, f.req.log());
    Ok(())
}

unsafe extern "C" fn sleep_expired(ev: *mut ngx_event_t) {
    // SAFETY: armed by sleep_start with the request as data; the timer is
    // removed when the request's ctx is dropped, so the request is alive.
    let Some(r) = (unsafe { Req::from_raw(Timer::data(ev) as *mut _) }) else { return };
    crate::ffi::guard(r.log(), (), || {
        if log::enabled(nginx_sys::NGX_LOG_DEBUG as usize, r.log()) {
            log::error(nginx_sys::NGX_LOG_DEBUG as usize, r.log(), "lua sleep timer expired");
        }
        crate::phase::wake(r, MultiValue::new());
    })
}

pub(crate) fn inject(lua: &Lua, _ngx: &Table) -> mlua::Result<()> {
    let shim: mlua::Function =
        lua.load(include_str!("../../lualib/sleep.lua")).set_name("=ngx_lua_rs.sleep").into_function()?;
    shim.call::<()>((raw_function(lua, sleep_start)?, super::shim_raise(lua)?, sched::wait_marker()))
}
