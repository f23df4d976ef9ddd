//! Control flow: ngx.exit, ngx.exec, ngx.redirect (lua_control.c). The
//! yielding halves live in lualib/control.lua.

use mlua::{Lua, MultiValue, Table, Value};

use super::context::{frame, Ctx, Phase, OUTPUT};
use super::{raise, ApiResult};
use crate::ffi::{headers, log};
use crate::sched::{self, RequestCtx};

const EXIT_CTX: Ctx = Ctx::of(&[
    Phase::Rewrite,
    Phase::Access,
    Phase::Content,
    Phase::HeaderFilter,
    Phase::Timer,
    Phase::Balancer,
]);

fn request_ctx<'a>(r: crate::ffi::request::Req) -> ApiResult<&'a RequestCtx> {
    match RequestCtx::get_or_create(r) {
        Some(c) => Ok(c),
        None => raise("no request ctx found"),
    }
}

fn number_arg(v: &Value, n: usize, name: &str) -> ApiResult<i64> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Number(f) => Ok(*f as i64),
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(f) => Ok(f as i64),
            None => raise(format!(
                "bad argument #{n} to '{name}' (number expected, got string)"
            )),
        },
        other => raise(format!(
            "bad argument #{n} to '{name}' (number expected, got {})",
            other.type_name()
        )),
    }
}

/// Records the exit status; returns whether the caller must yield (it must
/// not in the header filter, where ngx.exit returns and the chunk goes on).
fn exit_prepare(lua: &Lua, status: Value) -> ApiResult<bool> {
    let f = frame(lua, EXIT_CTX)?;
    let status = number_arg(&status, 1, "exit")?;
    let ctx = request_ctx(f.req)?;
    // 408, 444 and 499 only close the connection; they set no status.
    let closes = matches!(status, 408 | 444 | 499);
    if ctx.capture.pending() && !closes && status != nginx_sys::NGX_ERROR as i64 {
        return raise("attempt to abort with pending subrequests");
    }
    if f.req.header_sent()
        && status >= 300
        && !closes
        && status as usize != f.req.status()
        && f.phase != Phase::HeaderFilter
    {
        log::error(
            nginx_sys::NGX_LOG_ERR as usize,
            f.req.log(),
            &format!(
                "attempt to set status {} via ngx.exit after sending out the response status {}",
                status,
                f.req.status()
            ),
        );
    }
    ctx.exit_code.set(Some(status as isize));
    if f.phase == Phase::HeaderFilter {
        if status >= 200 {
            f.req.set_status(status as usize);
        }
        return Ok(false);
    }
    // balancer_by_lua* runs as a plain call too: the exit code is read when
    // the handler returns.
    if f.phase == Phase::Balancer {
        return Ok(false);
    }
    Ok(true)
}

fn exec_prepare(lua: &Lua, args: MultiValue) -> ApiResult<bool> {
    if args.is_empty() || args.len() > 2 {
        return raise(format!(
            "expecting one or two arguments, but got {}",
            args.len()
        ));
    }
    let f = frame(lua, OUTPUT)?;
    let mut args = args.into_iter();
    let uri = match args.next().unwrap_or(Value::Nil) {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_string()?.into_bytes(),
        other => {
            return raise(format!(
                "bad argument #1 to 'exec' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    if uri.is_empty() {
        return raise("The uri argument is empty");
    }
    let (path, mut query) = match uri.iter().position(|&c| c == b'?') {
        Some(i) => (uri[..i].to_vec(), uri[i + 1..].to_vec()),
        None => (uri, Vec::new()),
    };
    let extra = match args.next().unwrap_or(Value::Nil) {
        Value::Nil => Vec::new(),
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_string()?.into_bytes(),
        Value::Table(t) => super::args::encode_table(lua, &t)?,
        other => {
            return raise(format!(
                "bad argument #2 to 'exec' (string, number, or table expected, but got {})",
                other.type_name()
            ))
        }
    };
    // Arguments given separately join those already in the URI.
    if !extra.is_empty() {
        if !query.is_empty() {
            query.push(b'&');
        }
        query.extend_from_slice(&extra);
    }
    if path.first() == Some(&b'@') {
        query.clear();
    }
    let ctx = request_ctx(f.req)?;
    if f.req.header_sent() || ctx.eof.get() {
        return raise("attempt to call ngx.exec after sending out response headers");
    }
    *ctx.exec.borrow_mut() = Some((path, query));
    Ok(true)
}

fn redirect_prepare(lua: &Lua, (uri, status): (Value, Option<Value>)) -> ApiResult<bool> {
    let f = frame(lua, OUTPUT)?;
    let uri = match uri {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => v.to_string()?.into_bytes(),
        other => {
            return raise(format!(
                "bad argument #1 to 'redirect' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    // CR or LF would split the header; upstream refuses such URIs.
    if uri.iter().any(|&c| c == b'\r' || c == b'\n') {
        return raise(format!(
            "unsafe uri \"{}\" was detected",
            String::from_utf8_lossy(&uri).escape_default()
        ));
    }
    let status = match status {
        None | Some(Value::Nil) => 302,
        Some(v) => number_arg(&v, 2, "redirect")?,
    };
    if ![301, 302, 303, 307, 308].contains(&status) {
        return raise(
            "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, \
             ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed",
        );
    }
    if f.req.header_sent() {
        return raise("attempt to call ngx.redirect after sending out the headers");
    }
    if !headers::set_location(f.req, &uri) {
        return raise("no memory");
    }
    let ctx = request_ctx(f.req)?;
    ctx.exit_code.set(Some(status as isize));
    Ok(true)
}

pub(crate) fn inject(lua: &Lua, _ngx: &Table) -> mlua::Result<()> {
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/control.lua"))
        .set_name("=ngx_lua_rs.control")
        .into_function()?;
    shim.call::<()>((
        super::raw_function(lua, exit_prepare)?,
        super::raw_function(lua, exec_prepare)?,
        super::raw_function(lua, redirect_prepare)?,
        super::shim_raise(lua)?,
        sched::exit_marker(),
        sched::exec_marker(),
    ))
}
