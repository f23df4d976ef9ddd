//! ngx.log and print: error-log lines in lua-nginx-module's format,
//! `[lua] <short_src>:<line>: <func>(): <message>`.

use mlua::{Lua, MultiValue, Table, Value};

use super::{raise, set, ApiResult};
use crate::ffi::log;

/// Chunk names of our embedded Lua shims start with this; the caller's
/// position skips their frames.
pub(crate) const INTERNAL_CHUNK: &str = "=ngx_lua_rs.";

/// `short_src:line: [name(): ]` of the first Lua frame that is not ours.
fn caller_prefix(lua: &Lua) -> String {
    for level in 1..8 {
        let found = lua.inspect_stack(level, |d| {
            let src = d.source();
            if src.what == "C"
                || src
                    .source
                    .as_deref()
                    .is_some_and(|s| s.starts_with(INTERNAL_CHUNK))
            {
                return None;
            }
            // The base name of the source file, as lua-nginx-module prints it.
            let short = src.short_src.as_deref().unwrap_or("?");
            let short = short.rsplit('/').next().unwrap_or(short).to_string();
            let line = d.current_line().map(|l| l as i64).unwrap_or(-1);
            let name = d
                .names()
                .name
                .map(|n| format!("{n}(): "))
                .unwrap_or_default();
            Some(format!("{short}:{line}: {name}"))
        });
        match found {
            Some(Some(p)) => return p,
            Some(None) => continue,
            None => break,
        }
    }
    String::new()
}

/// Appends ngx.log's rendering of one argument.
fn push_arg(lua: &Lua, out: &mut Vec<u8>, v: &Value, n: usize) -> ApiResult<()> {
    match v {
        Value::String(s) => out.extend_from_slice(&s.as_bytes()),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Number(f) => crate::ffi::fmt::push_number(out, *f),
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let has_tostring = t
                .metatable()
                .map(|mt| {
                    mt.raw_get::<Value>("__tostring")
                        .map(|f| !f.is_nil())
                        .unwrap_or(false)
                })
                .unwrap_or(false);
            if !has_tostring {
                return raise(format!(
                    "bad argument #{n} to 'log' (expected table to have __tostring metamethod)"
                ));
            }
            let tostring: mlua::Function = lua.globals().get("tostring")?;
            let s: mlua::LuaString = tostring.call(v.clone())?;
            out.extend_from_slice(&s.as_bytes());
        }
        other => {
            return raise(format!(
                "bad argument #{n} to 'log' (string, number, boolean, or nil expected, got {})",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn write(lua: &Lua, level: usize, args: &MultiValue, first_arg: usize) -> ApiResult<()> {
    let target = current_log(lua);
    if !log::enabled(level, target) {
        return Ok(());
    }
    let mut msg = b"[lua] ".to_vec();
    msg.extend_from_slice(caller_prefix(lua).as_bytes());
    for (i, v) in args.iter().enumerate() {
        push_arg(lua, &mut msg, v, i + first_arg)?;
    }
    log::error_bytes(level, target, &msg);
    Ok(())
}

/// The log of the current request, else the cycle's.
fn current_log(_lua: &Lua) -> *mut nginx_sys::ngx_log_t {
    super::context::Current::top()
        .map(|f| f.req.log())
        .unwrap_or_else(crate::ffi::cycle_log)
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    set(lua, ngx, "log", |lua, mut args: MultiValue| {
        let level = match args.pop_front() {
            Some(Value::Integer(i)) => i,
            Some(Value::Number(f)) => f as i64,
            Some(other) => {
                return raise(format!(
                    "bad argument #1 to 'log' (number expected, got {})",
                    other.type_name()
                ))
            }
            None => return raise("bad argument #1 to 'log' (number expected, got no value)"),
        };
        if !(0..=8).contains(&level) {
            return raise(format!("bad argument #1 to 'log' (bad log level: {level})"));
        }
        // ngx.STDERR (0) is logged at the highest level, as upstream does.
        let level = if level == 0 {
            nginx_sys::NGX_LOG_STDERR as usize
        } else {
            level as usize
        };
        write(lua, level, &args, 2)
    })?;
    let print = super::function(lua, |lua, args: MultiValue| {
        write(lua, nginx_sys::NGX_LOG_NOTICE as usize, &args, 1)
    })?;
    lua.globals().raw_set("print", print)
}
