//! Output: ngx.say, ngx.print, ngx.flush, ngx.eof, ngx.send_headers, and the
//! header/eof sending that phase handlers share (`ngx_http_lua_output.c`).

use mlua::{Lua, MultiValue, Table, Value};
use nginx_sys::ngx_int_t;

use super::context::{frame, OUTPUT};
use super::{raise, set, ApiResult};
use crate::ffi::lua_table::{self, Rules};
use crate::ffi::request::Req;
use crate::module;
use crate::net::downstream::{self, Flush};
use crate::sched::{self, RequestCtx, Waiter};

const NGX_OK: ngx_int_t = nginx_sys::NGX_OK as ngx_int_t;
const NGX_ERROR: ngx_int_t = nginx_sys::NGX_ERROR as ngx_int_t;

/// Serialises one print argument; `Err` carries upstream's complaint.
fn push_value(lua: &Lua, out: &mut Vec<u8>, v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => out.extend_from_slice(&s.as_bytes()),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Number(n) => crate::ffi::fmt::push_number(out, *n),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => lua_table::flatten(lua, t, out, Rules::Print)?,
        other => {
            return Err(format!(
                "string, number, boolean, nil, ngx.null, or array table expected, but got {}",
                other.type_name()
            ))
        }
    }
    Ok(())
}

/// Sends the response header if it has not gone out yet (status 200 and the
/// default Content-Type unless set).
pub fn send_header_if_needed(r: Req, ctx: &RequestCtx) -> ngx_int_t {
    if r.header_sent() {
        return NGX_OK;
    }
    if r.status() == 0 {
        r.set_status(200);
    }
    let lcf = module::request_loc_conf(r.raw());
    crate::ffi::headers::prepare_default_headers(r, lcf.use_default_type(), ctx.headers_set.get());
    r.send_header()
}

/// The output filter chain failed (nginx has logged why).
#[derive(Debug)]
pub struct OutputError;

/// Ends the response: header if needed, then the last buffer (once).
pub fn send_eof(r: Req, ctx: &RequestCtx) -> Result<(), OutputError> {
    // After ngx.req.socket(true) the connection is the handler's own.
    if ctx.eof.get() || ctx.raw_socket.get() {
        return Ok(());
    }
    let rc = send_header_if_needed(r, ctx);
    if rc == NGX_ERROR || rc > NGX_OK {
        return Err(OutputError);
    }
    ctx.eof.set(true);
    if r.header_only() {
        return Ok(());
    }
    match r.send_buf(&[], true, false) {
        NGX_ERROR => Err(OutputError),
        _ => Ok(()),
    }
}

fn output(lua: &Lua, args: MultiValue, newline: bool, name: &str) -> ApiResult<MultiValue> {
    let f = frame(lua, OUTPUT)?;
    let r = f.req;
    let Some(ctx) = RequestCtx::get(r) else {
        return raise("no request ctx found");
    };
    let mut buf = Vec::new();
    for (i, v) in args.iter().enumerate() {
        if let Err(e) = push_value(lua, &mut buf, v) {
            return raise(format!("bad argument #{} to '{name}' ({e})", i + 1));
        }
    }
    if newline {
        buf.push(b'\n');
    }
    if ctx.raw_socket.get() {
        return fail(lua, RAW);
    }
    if ctx.eof.get() {
        return fail(lua, "seen eof");
    }
    // nginx sets header_only once the header of a HEAD request went out.
    if r.header_only() {
        return fail(lua, "header only");
    }
    let rc = send_header_if_needed(r, ctx);
    if rc == NGX_ERROR || rc > NGX_OK {
        return fail(lua, "nginx output filter error");
    }
    if r.header_only() || buf.is_empty() {
        return ok1(lua);
    }
    match r.send_buf(&buf, false, false) {
        NGX_ERROR => fail(lua, "nginx output filter error"),
        _ => ok1(lua),
    }
}

const RAW: &str = "raw request socket acquired";

/// What the fast path of ngx.say/print did (see src/ffi/output.rs).
pub(crate) enum Fast {
    /// Sent.
    Done,
    /// Not attempted: the Lua side takes the full path, which gives the
    /// right error or refusal.
    Declined,
    /// The output filters failed.
    FilterError,
}

/// ngx.say/print of one string, for the common case, without mlua's
/// callback machinery; anything unusual is declined to the full path.
pub(crate) fn fast_output(data: &[u8], newline: bool) -> Fast {
    let Some(f) = super::context::top_frame() else {
        return Fast::Declined;
    };
    if !OUTPUT.contains(f.phase) {
        return Fast::Declined;
    }
    let r = f.req;
    let Some(ctx) = RequestCtx::get(r) else {
        return Fast::Declined;
    };
    if ctx.raw_socket.get() || ctx.eof.get() || r.header_only() {
        return Fast::Declined;
    }
    let rc = send_header_if_needed(r, ctx);
    if rc == NGX_ERROR || rc > NGX_OK {
        return Fast::FilterError;
    }
    if r.header_only() {
        return Fast::Done;
    }
    let tail: &[u8] = if newline { b"\n" } else { b"" };
    match r.send_parts(data, tail) {
        NGX_ERROR => Fast::FilterError,
        _ => Fast::Done,
    }
}

/// ngx.flush(wait?): sends what is buffered; with `wait` and output the
/// client has not taken yet, returns the wait marker and lualib/flush.lua
/// yields until [`flush_event`] wakes it (or send_timeout expires).
fn flush(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let wait = match args.front() {
        None | Some(Value::Nil) => false,
        Some(Value::Boolean(b)) => *b,
        Some(other) => {
            return raise(format!(
                "bad argument #1 to 'flush' (boolean expected, got {})",
                other.type_name()
            ))
        }
    };
    let f = frame(lua, OUTPUT)?;
    let r = f.req;
    let Some(ctx) = RequestCtx::get(r) else {
        return raise("no request ctx found");
    };
    if ctx.raw_socket.get() {
        return fail(lua, RAW);
    }
    if ctx.eof.get() {
        return fail(lua, "seen eof");
    }
    if !r.header_sent() {
        return fail(lua, "nothing to flush");
    }
    if r.header_only() {
        return ok1(lua);
    }
    if r.send_buf(&[], false, true) == NGX_ERROR {
        return fail(lua, "nginx output filter error");
    }
    if !wait || !downstream::output_pending(r) {
        return ok1(lua);
    }
    let Some(waiter) = Waiter::current(lua) else {
        return raise("no co ctx found");
    };
    if !downstream::flush_arm(r) {
        return fail(lua, "connection broken");
    }
    ctx.flushing.borrow_mut().push(waiter);
    sched::client::watch(r, true);
    Ok(MultiValue::from_iter([Value::LightUserData(
        sched::wait_marker(),
    )]))
}

/// A client write event while ngx.flush(true) waits: writes what is
/// pending; once done (or timed out, or failed), wakes a waiter.
pub fn flush_event(r: Req, ctx: &RequestCtx) {
    let results = match downstream::flush_step(r) {
        Flush::Again => return,
        Flush::Done => {
            let (timedout, error) = downstream::client_state(r);
            if timedout {
                Err("timeout")
            } else if error {
                Err("client aborted")
            } else {
                Ok(())
            }
        }
        Flush::TimedOut => Err("timeout"),
        Flush::Failed => {
            downstream::set_error(r);
            Err("client aborted")
        }
    };
    let (first, more) = {
        let mut w = ctx.flushing.borrow_mut();
        if w.is_empty() {
            return;
        }
        let first = w.remove(0);
        (first, !w.is_empty())
    };
    if more {
        // Each waiter is woken from its own event: the first may end the
        // request.
        downstream::repost_write(r);
    }
    let Some(vm) = crate::phase::request_vm(r) else {
        return;
    };
    let values = match results {
        Ok(()) => MultiValue::from_iter([Value::Integer(1)]),
        Err(e) => match vm.lua.create_string(e) {
            Ok(s) => MultiValue::from_iter([Value::Nil, Value::String(s)]),
            Err(_) => MultiValue::new(),
        },
    };
    first.wake(values);
}

fn ok1(_lua: &Lua) -> ApiResult<MultiValue> {
    Ok(MultiValue::from_iter([Value::Integer(1)]))
}

fn fail(lua: &Lua, msg: &str) -> ApiResult<MultiValue> {
    Ok(MultiValue::from_iter([
        Value::Nil,
        Value::String(lua.create_string(msg)?),
    ]))
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let say = super::function(lua, |lua, args: MultiValue| output(lua, args, true, "say"))?;
    let print = super::function(lua, |lua, args: MultiValue| {
        output(lua, args, false, "print")
    })?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/output.lua"))
        .set_name("=ngx_lua_rs.output")
        .into_function()?;
    let (say_fast, print_fast) = crate::ffi::output::fast_functions(lua)?;
    shim.call::<()>((say, print, say_fast, print_fast))?;
    set(lua, ngx, "send_headers", |lua, _: MultiValue| {
        let f = frame(lua, OUTPUT)?;
        let Some(ctx) = RequestCtx::get(f.req) else {
            return raise("no request ctx found");
        };
        if f.req.header_sent() {
            return ok1(lua);
        }
        match send_header_if_needed(f.req, ctx) {
            NGX_ERROR => fail(lua, "nginx output filter error"),
            _ => ok1(lua),
        }
    })?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/flush.lua"))
        .set_name("=ngx_lua_rs.flush")
        .into_function()?;
    shim.call::<()>((
        super::raw_function(lua, flush)?,
        super::shim_raise(lua)?,
        sched::wait_marker(),
    ))?;
    set(lua, ngx, "eof", |lua, args: MultiValue| {
        if !args.is_empty() {
            return raise(format!("expecting 0 arguments, but got {}", args.len()));
        }
        let f = frame(lua, OUTPUT)?;
        let Some(ctx) = RequestCtx::get(f.req) else {
            return raise("no request ctx found");
        };
        if ctx.raw_socket.get() {
            return fail(lua, RAW);
        }
        if ctx.eof.get() {
            return fail(lua, "seen eof");
        }
        match send_eof(f.req, ctx) {
            Ok(()) => ok1(lua),
            Err(OutputError) => fail(lua, "nginx output filter error"),
        }
    })?;
    Ok(())
}
