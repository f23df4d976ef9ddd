//! Request body: ngx.req.read_body (yields until read), discard_body,
//! get_body_data, get_body_file, and lua_need_request_body's read.

use mlua::{Lua, Table, Value};
use nginx_sys::{ngx_http_request_t, ngx_int_t};

use super::context::{frame, Ctx, Phase, OUTPUT};
use super::{raise, raw_function, set, subtable, ApiResult};
use crate::ffi::body::{self, Body};
use crate::ffi::request::Req;
use crate::sched::{self, RequestCtx};

const NGX_AGAIN: ngx_int_t = nginx_sys::NGX_AGAIN as ngx_int_t;
const SPECIAL: ngx_int_t = nginx_sys::NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t;

const BODY_DATA_CTX: Ctx = Ctx::of(&[Phase::Rewrite, Phase::Access, Phase::Content, Phase::Log]);
const BODY_FILE_CTX: Ctx = Ctx::of(&[Phase::Rewrite, Phase::Access, Phase::Content]);
const SET_BODY_CTX: Ctx = Ctx::of(&[
    Phase::Rewrite,
    Phase::Access,
    Phase::Content,
    Phase::Balancer,
]);

/// 0: body available, 1: wait, 2: exit with ctx.exit_code.
fn read_body_start(lua: &Lua, _: ()) -> ApiResult<i64> {
    let f = frame(lua, OUTPUT)?;
    let r = f.req;
    if !r.is_main() || body::already_handled(r) {
        return Ok(0);
    }
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return raise("no request ctx found");
    };
    let rc = r.read_body(Some(body_ready));
    if rc >= SPECIAL || rc == nginx_sys::NGX_ERROR as ngx_int_t {
        ctx.exit_code.set(Some(rc as isize));
        return Ok(2);
    }
    // nginx took a reference for the read; the coroutine's own wait keeps the
    // request alive instead (the content handler or phase engine holds it).
    r.main_count_dec();
    if rc == NGX_AGAIN {
        ctx.waiting_body.set(true);
        let target = crate::sched::Waiter::running()
            .map(|w| crate::sched::Target {
                co: w.co,
                thread: w.thread,
            })
            .unwrap_or_default();
        ctx.body_waiter.set(target);
        return Ok(1);
    }
    Ok(0)
}

unsafe extern "C" fn body_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        let Some(ctx) = RequestCtx::get(req) else {
            return;
        };
        if ctx.waiting_body.replace(false) {
            crate::phase::wake(req, ctx.body_waiter.get(), Default::default());
        }
    })
}

/// lua_need_request_body in rewrite/access: reads the body first. Returns
/// Some(rc) when the handler must return now (waiting or failed).
pub fn read_for_phase(r: Req, ctx: &RequestCtx) -> Option<ngx_int_t> {
    if body::already_handled(r) {
        ctx.body_read.set(true);
        return None;
    }
    let rc = r.read_body(Some(phase_body_ready));
    if rc >= SPECIAL || rc == nginx_sys::NGX_ERROR as ngx_int_t {
        return Some(rc);
    }
    r.main_count_dec();
    if rc == NGX_AGAIN {
        ctx.waiting_body.set(true);
        return Some(nginx_sys::NGX_DONE as ngx_int_t);
    }
    ctx.body_read.set(true);
    None
}

unsafe extern "C" fn phase_body_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        let Some(ctx) = RequestCtx::get(req) else {
            return;
        };
        ctx.body_read.set(true);
        if ctx.waiting_body.replace(false) {
            let posted = req.posted_requests();
            req.run_phases();
            posted.run();
        }
    })
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let req = subtable(lua, ngx, "req")?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/req_body.lua"))
        .set_name("=ngx_lua_rs.req_body")
        .into_function()?;
    shim.call::<()>((
        raw_function(lua, read_body_start)?,
        super::shim_raise(lua)?,
        sched::wait_marker(),
        sched::exit_marker(),
    ))?;

    set(lua, &req, "discard_body", |lua, ()| {
        let f = frame(lua, OUTPUT)?;
        if body::discard(f.req) != nginx_sys::NGX_OK as isize {
            return raise("failed to discard request body");
        }
        Ok(())
    })?;
    set(lua, &req, "get_body_data", |lua, max: Option<i64>| {
        let f = frame(lua, BODY_DATA_CTX)?;
        let Body::Memory(parts) = body::body(f.req) else {
            return Ok(Value::Nil);
        };
        let mut data: Vec<u8> = parts.concat();
        if data.is_empty() {
            return Ok(Value::Nil);
        }
        if let Some(m) = max {
            if m > 0 && (m as usize) < data.len() {
                data.truncate(m as usize);
            }
        }
        Ok(Value::String(lua.create_string(&data)?))
    })?;
    set(lua, &req, "set_body_data", |lua, data: Value| {
        let f = frame(lua, SET_BODY_CTX)?;
        let bytes = match &data {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(_) | Value::Number(_) => data.to_string()?.into_bytes(),
            other => {
                return raise(format!(
                    "bad argument #1 to 'set_body_data' (string expected, got {})",
                    other.type_name()
                ))
            }
        };
        if !f.req.is_main() {
            return raise("set_body_data is not allowed in subrequests");
        }
        body::set_data(f.req, &bytes).or_else(raise)
    })?;
    set(lua, &req, "get_body_file", |lua, ()| {
        let f = frame(lua, BODY_FILE_CTX)?;
        match body::body(f.req) {
            Body::File(name) => Ok(Value::String(lua.create_string(name)?)),
            _ => Ok(Value::Nil),
        }
    })?;
    Ok(())
}
