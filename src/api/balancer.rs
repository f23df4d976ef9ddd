//! The `ngx.balancer` module (`require "ngx.balancer"`, from package.preload)
//! as lua-resty-core exposes it: set_current_peer, set_more_tries,
//! get_last_failure, set_timeouts, recreate_request, enable_keepalive,
//! bind_to_local_addr, set_upstream_tls. Outside
//! balancer_by_lua* the calls return `nil, "API disabled in the current
//! context"` (or "no upstream found" where the request has no upstream).

use std::ffi::c_int;

use mlua::{Lua, MultiValue, Table, Value};

use super::context::Phase;
use super::socket::arg_number;
use super::{function, raise, ApiResult};
use crate::ffi::lua_stack::{c_method, Arg, Stack};
use crate::ffi::request::Req;
use crate::ffi::upstream;

/// The request, or the `(nil, err)` the call returns.
fn request(_lua: &Lua) -> ApiResult<Result<Req, &'static str>> {
    request_now()
}

fn request_now() -> ApiResult<Result<Req, &'static str>> {
    let Some(f) = super::context::Current::top() else {
        return raise("no request found");
    };
    Ok(upstream::check(f.req, f.phase == Phase::Balancer).map(|()| f.req))
}

fn fail(lua: &Lua, lead: &[Value], msg: &str) -> ApiResult<MultiValue> {
    let mut mv: MultiValue = lead.iter().cloned().collect();
    mv.push_back(Value::String(lua.create_string(msg)?));
    Ok(mv)
}

fn ok(v: Value) -> ApiResult<MultiValue> {
    Ok(MultiValue::from_iter([v]))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()),
        _ => None,
    }
}

/// `set_current_peer(addr, port)`: a C method (it runs on every try of
/// every proxied request).
fn set_current_peer(s: &Stack) -> ApiResult<c_int> {
    let r = match request_now()? {
        Ok(r) => r,
        Err(e) => return Ok(nil_err(s, e)),
    };
    let mut number = Vec::new();
    let addr: &[u8] = match s.arg(1) {
        Arg::Str(b) => b,
        Arg::Num(n) => {
            crate::ffi::fmt::push_number(&mut number, n);
            &number
        }
        other => {
            return raise(format!(
                "bad argument #1 to 'set_current_peer' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    let port = match s.arg(2) {
        Arg::Nil | Arg::None => 0.0,
        a => arg_number(&a).unwrap_or(0.0),
    };
    if !(0.0..=65535.0).contains(&port) {
        return Ok(nil_err(s, "invalid port"));
    }
    match upstream::set_current_peer(r, addr, port as u16) {
        Ok(()) => {
            s.push_bool(true);
            Ok(1)
        }
        Err(e) => Ok(nil_err(s, &e)),
    }
}

fn nil_err(s: &Stack, e: &str) -> c_int {
    s.push_nil();
    s.push_bytes(e.as_bytes());
    2
}

fn set_more_tries(lua: &Lua, count: Value) -> ApiResult<MultiValue> {
    let Some(n) = number(&count) else {
        return raise(format!(
            "bad argument #1 to 'set_more_tries' (number expected, got {})",
            count.type_name()
        ));
    };
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Nil], e),
    };
    match upstream::set_more_tries(r, n as i64) {
        None => ok(Value::Boolean(true)),
        Some(w) => fail(lua, &[Value::Boolean(true)], w),
    }
}

fn get_last_failure(lua: &Lua, _: ()) -> ApiResult<MultiValue> {
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Nil, Value::Nil], e),
    };
    let (state, status) = upstream::last_failure(r);
    let name = match state {
        0 => return Ok(MultiValue::from_iter([Value::Nil])),
        1 => "keepalive",
        2 => "next",
        4 => "failed",
        _ => "unknown",
    };
    Ok(MultiValue::from_iter([
        Value::String(lua.create_string(name)?),
        Value::Integer(status as i64),
    ]))
}

fn timeout_ms(v: &Value, what: &str) -> ApiResult<u64> {
    match v {
        Value::Nil => Ok(0),
        Value::Integer(_) | Value::Number(_) => match number(v) {
            Some(n) if n > 0.0 => Ok((n * 1000.0) as u64),
            _ => raise(format!("bad {what} timeout")),
        },
        _ => raise(format!("bad {what} timeout")),
    }
}

fn set_timeouts(lua: &Lua, (c, s, rd): (Value, Value, Value)) -> ApiResult<MultiValue> {
    // Argument errors come first, as in lua-resty-core (which checks for a
    // request, then the arguments, then calls into nginx).
    if super::context::Current::top().is_none() {
        return raise("no request found");
    }
    let (c, s, rd) = (
        timeout_ms(&c, "connect")?,
        timeout_ms(&s, "send")?,
        timeout_ms(&rd, "read")?,
    );
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Boolean(false)], e),
    };
    match upstream::set_timeouts(r, c, s, rd) {
        Ok(()) => ok(Value::Boolean(true)),
        Err(e) => fail(lua, &[Value::Boolean(false)], e),
    }
}

fn recreate_request(lua: &Lua, _: ()) -> ApiResult<MultiValue> {
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Nil], e),
    };
    match upstream::recreate_request(r) {
        Ok(()) => ok(Value::Boolean(true)),
        Err(e) => fail(
            lua,
            &[Value::Nil],
            e.unwrap_or("failed to recreate the upstream request"),
        ),
    }
}

/// A number argument as lua-resty-core checks it (`type(v) == "number"`,
/// `>= 0`); nil or false take the default.
fn keepalive_arg(v: &Value, n: u8, default: f64) -> ApiResult<f64> {
    let x = match v {
        Value::Nil | Value::Boolean(false) => return Ok(default),
        Value::Integer(i) => *i as f64,
        Value::Number(x) => *x,
        other => {
            return raise(format!(
                "bad argument #{n} to 'enable_keepalive' (number expected, got {})",
                super::codec::lua_type_name(other)
            ))
        }
    };
    if x < 0.0 {
        return raise(format!(
            "bad argument #{n} to 'enable_keepalive' (expected >= 0)"
        ));
    }
    Ok(x)
}

fn enable_keepalive(lua: &Lua, (idle, max): (Value, Value)) -> ApiResult<MultiValue> {
    if super::context::Current::top().is_none() {
        return raise("no request found");
    }
    // Seconds in, milliseconds to nginx; 60 s and 100 requests by default.
    let timeout_ms = keepalive_arg(&idle, 1, 60.0)? * 1000.0;
    let max_requests = keepalive_arg(&max, 2, 100.0)?;
    if let Err(e) = request(lua)? {
        return fail(lua, &[Value::Nil], e);
    }
    match upstream::enable_keepalive(timeout_ms as u64, max_requests as u64) {
        Ok(()) => ok(Value::Boolean(true)),
        Err(e) => fail(lua, &[Value::Nil], e),
    }
}

fn bind_to_local_addr(lua: &Lua, addr: Value) -> ApiResult<MultiValue> {
    if super::context::Current::top().is_none() {
        return raise("no request found");
    }
    let Value::String(addr) = addr else {
        return raise(format!(
            "bad argument #1 to 'bind_to_local_addr' (string expected, got {})",
            super::codec::lua_type_name(&addr)
        ));
    };
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Nil], e),
    };
    let addr = addr.as_bytes();
    match upstream::bind_to_local_addr(r, &addr) {
        Ok(()) => ok(Value::Boolean(true)),
        Err(Some(e)) => fail(lua, &[Value::Nil], e),
        Err(None) => {
            let mut msg = b"invalid addr ".to_vec();
            msg.extend_from_slice(&addr);
            Ok(MultiValue::from_iter([
                Value::Nil,
                Value::String(lua.create_string(&msg)?),
            ]))
        }
    }
}

fn set_upstream_tls(lua: &Lua, on: Value) -> ApiResult<MultiValue> {
    let r = match request(lua)? {
        Ok(r) => r,
        Err(e) => return fail(lua, &[Value::Nil], e),
    };
    // Only 0 and false turn it off (nil turns it on), as in lua-resty-core.
    let off = match on {
        Value::Boolean(false) => true,
        Value::Integer(i) => i == 0,
        Value::Number(n) => n == 0.0,
        _ => false,
    };
    match upstream::set_upstream_tls(r, !off) {
        Ok(()) => ok(Value::Boolean(true)),
        Err(e) => fail(lua, &[Value::Nil], e),
    }
}

/// Registers `package.preload["ngx.balancer"]`.
pub(crate) fn inject(lua: &Lua, _ngx: &Table) -> mlua::Result<()> {
    let m = lua.create_table()?;
    m.raw_set("version", "0.1.33")?;
    m.raw_set("set_current_peer", c_method(lua, set_current_peer)?)?;
    m.raw_set("set_more_tries", function(lua, set_more_tries)?)?;
    m.raw_set("get_last_failure", function(lua, get_last_failure)?)?;
    m.raw_set("set_timeouts", function(lua, set_timeouts)?)?;
    m.raw_set("recreate_request", function(lua, recreate_request)?)?;
    m.raw_set("enable_keepalive", function(lua, enable_keepalive)?)?;
    m.raw_set("bind_to_local_addr", function(lua, bind_to_local_addr)?)?;
    m.raw_set("set_upstream_tls", function(lua, set_upstream_tls)?)?;
    let package: Table = lua.globals().get("package")?;
    let preload: Table = package.get("preload")?;
    preload.set(
        "ngx.balancer",
        lua.create_function(move |_, _: MultiValue| Ok(m.clone()))?,
    )
}
