//! `ngx.header` (read, set and clear response headers) and
//! `ngx.resp.get_headers`.
//!
//! Semantics follow lua-nginx-module with lua-resty-core:
//! - names are case-insensitive; `_` means `-` unless
//!   `lua_transform_underscores_in_response_headers off`; non-string names
//!   and values go through `tostring`;
//! - a table value sets one header line per element (builtin single-value
//!   headers such as Content-Type keep the last one); `nil`, `""` and `{}`
//!   remove the header;
//! - reading gives a string, a table for repeated headers, or nil;
//! - setting after the response header went out only logs an error;
//! - CR, LF and other unsafe bytes in names and values are percent-encoded.

use std::ffi::c_int;

use mlua::{Lua, LuaString, MultiValue, Table, Value};

use super::context::{Ctx, Current, Frame, Phase};
use super::{function, raise, ApiResult};
use crate::ffi::headers::{self, OutKey};
use crate::ffi::log;
use crate::ffi::lua_stack::{c_function, Arg, Stack};
use crate::module;
use crate::sched::RequestCtx;

/// Phases with a real request: where upstream's `ngx.header` and
/// `ngx.resp.get_headers` work (timers only have a fake request).
const HEADER_CTX: Ctx = Ctx::of(&[
    Phase::Set,
    Phase::Rewrite,
    Phase::Access,
    Phase::Content,
    Phase::HeaderFilter,
    Phase::BodyFilter,
    Phase::Log,
    Phase::Balancer,
]);

/// At most this many values of one header are returned (lua-resty-core's
/// `MAX_HEADER_VALUES`).
const MAX_HEADER_VALUES: usize = 100;

/// `ngx.resp.get_headers`'s default `max_headers`.
const MAX_HEADERS: i64 = 100;

const SENT_MSG: &str = "attempt to set ngx.header.HEADER after sending out response headers";

/// The current request, refusing like upstream: `no_req` without any request
/// (init_by_lua), "API disabled in the current context" on fake requests.
fn request_frame(_lua: &Lua, no_req: &str) -> ApiResult<Frame> {
    request_frame_now(no_req)
}

fn request_frame_now(no_req: &str) -> ApiResult<Frame> {
    match Current::top() {
        Some(f) if HEADER_CTX.contains(f.phase) => Ok(f),
        Some(_) => raise("API disabled in the current context"),
        None => match Current::phase() {
            None | Some(Phase::Init) => raise(no_req),
            Some(_) => raise("API disabled in the current context"),
        },
    }
}

/// Lua's `tostring(v)` (strings as they are, numbers formatted by Lua).
fn tostring(lua: &Lua, v: Value) -> mlua::Result<LuaString> {
    match v {
        Value::String(s) => Ok(s),
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s),
            None => lua.globals().get::<mlua::Function>("tostring")?.call(v),
        },
        other => lua.globals().get::<mlua::Function>("tostring")?.call(other),
    }
}

fn underscores(f: &Frame) -> bool {
    module::request_loc_conf(f.req.raw()).transform_underscores()
}

/// `ngx.header[name]`.
fn get(lua: &Lua, (_t, key): (Table, Value)) -> ApiResult<Value> {
    let f = request_frame(lua, "no request found")?;
    let name = tostring(lua, key)?;
    let name = name.as_bytes();
    let mut first: Option<LuaString> = None;
    let mut many: Option<Table> = None;
    let mut n = 0;
    headers::get_resp_header(
        f.req,
        &name,
        underscores(&f),
        MAX_HEADER_VALUES,
        |v| -> mlua::Result<()> {
            let s = lua.create_string(v)?;
            n += 1;
            match (&first, &many) {
                (None, _) => first = Some(s),
                (Some(one), None) => {
                    let t = lua.create_table_with_capacity(4, 0)?;
                    t.raw_set(1, one)?;
                    t.raw_set(2, s)?;
                    many = Some(t);
                }
                (Some(_), Some(t)) => t.raw_set(n, s)?,
            }
            Ok(())
        },
    )?;
    Ok(match (many, first) {
        (Some(t), _) => Value::Table(t),
        (None, Some(s)) => Value::String(s),
        (None, None) => Value::Nil,
    })
}

/// `ngx.header[name] = value`.
fn set(lua: &Lua, (_t, key, value): (Table, Value, Value)) -> ApiResult<()> {
    let f = request_frame(lua, "no request found")?;
    let name = tostring(lua, key)?;
    set_resp_header(lua, f, &name.as_bytes(), value, true)
}

/// Sets (`override_`) or adds a response header from a Lua value, as
/// lua-resty-core's `set_resp_header` does.
pub(crate) fn set_resp_header(
    lua: &Lua,
    f: Frame,
    name: &[u8],
    value: Value,
    override_: bool,
) -> ApiResult<()> {
    let Some(key) = begin_set(f, name)? else {
        return Ok(());
    };
    let put = |v: &[u8], ovr: bool| put_value(f, &key, v, ovr);
    match value {
        Value::Nil => put(b"", override_),
        Value::Table(t) => {
            let n = t.raw_len();
            if n == 0 {
                return put(b"", override_);
            }
            for i in 1..=n {
                let item: Value = t.raw_get(i)?;
                let s = match item {
                    Value::String(s) => s,
                    other => {
                        let s = tostring(lua, other)?;
                        t.raw_set(i, &s)?;
                        s
                    }
                };
                put(&s.as_bytes(), override_ && i == 1)?;
            }
            Ok(())
        }
        other => {
            let s = tostring(lua, other)?;
            put(&s.as_bytes(), override_)
        }
    }
}

/// The header's key, or None when the response header went out already
/// (which only logs, as upstream).
fn begin_set(f: Frame, name: &[u8]) -> ApiResult<Option<OutKey<'_>>> {
    let Some(ctx) = RequestCtx::get_or_create(f.req) else {
        return raise("no request ctx found");
    };
    if f.req.header_sent() {
        log::error(nginx_sys::NGX_LOG_ERR as usize, f.req.log(), SENT_MSG);
        return Ok(None);
    }
    let Some(key) = OutKey::new(f.req, name, underscores(&f)) else {
        return raise("no memory");
    };
    ctx.headers_set.set(true);
    Ok(Some(key))
}

fn put_value(f: Frame, key: &OutKey, v: &[u8], override_: bool) -> ApiResult<()> {
    match headers::set_resp_header(f.req, key, v, override_) {
        Ok(()) => Ok(()),
        Err(e) => raise(e.message()),
    }
}

/// A header name or value as the fast paths take it: a string as it is,
/// a number as tostring prints it (into `buf`); None for what needs Lua.
fn plain_bytes<'a>(a: &Arg<'a>, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    match *a {
        Arg::Str(b) => Some(b),
        Arg::Num(n) => {
            crate::ffi::fmt::push_number(buf, n);
            Some(buf)
        }
        _ => None,
    }
}

/// `ngx.header[name]` for plain names: (true, value) or false to decline.
fn get_fast(s: &Stack) -> ApiResult<c_int> {
    let f = request_frame_now("no request found")?;
    let mut buf = Vec::new();
    let arg = s.arg(1);
    let Some(name) = plain_bytes(&arg, &mut buf) else {
        s.push_bool(false);
        return Ok(1);
    };
    let mut values: Vec<Vec<u8>> = Vec::new();
    headers::get_resp_header(f.req, name, underscores(&f), MAX_HEADER_VALUES, |v| {
        values.push(v.to_vec());
        Ok::<(), ()>(())
    })
    .ok();
    s.push_bool(true);
    if values.is_empty() {
        s.push_nil();
    } else {
        s.push_strings(&values);
    }
    Ok(2)
}

/// `ngx.header[name] = value` for plain names and single plain values:
/// nothing, or false to decline.
fn set_fast(s: &Stack) -> ApiResult<c_int> {
    let f = request_frame_now("no request found")?;
    let (mut nbuf, mut vbuf) = (Vec::new(), Vec::new());
    let (key, value) = (s.arg(1), s.arg(2));
    let name = plain_bytes(&key, &mut nbuf);
    let value: Option<&[u8]> = match value {
        Arg::Nil | Arg::None => Some(b""),
        Arg::Bool(true) => Some(b"true"),
        Arg::Bool(false) => Some(b"false"),
        ref a => plain_bytes(a, &mut vbuf),
    };
    let (Some(name), Some(value)) = (name, value) else {
        s.push_bool(false);
        return Ok(1);
    };
    if let Some(key) = begin_set(f, name)? {
        put_value(f, &key, value, true)?;
    }
    Ok(0)
}

/// Adds `value` to `t[key]`, turning a repeated key into an array.
fn add_multi(lua: &Lua, t: &Table, key: LuaString, value: LuaString) -> mlua::Result<()> {
    match t.raw_get::<Value>(&key)? {
        Value::Nil => t.raw_set(key, value),
        Value::Table(list) => list.raw_set(list.raw_len() + 1, value),
        old => {
            let list = lua.create_table_with_capacity(4, 0)?;
            list.raw_set(1, old)?;
            list.raw_set(2, value)?;
            t.raw_set(key, list)
        }
    }
}

/// The metatable of non-raw header tables: `h.Content_Type` finds
/// `h["content-type"]`.
fn headers_metatable(lua: &Lua) -> mlua::Result<Table> {
    const KEY: &str = "ngx_lua_rs.headers_mt";
    if let Ok(t) = lua.named_registry_value::<Table>(KEY) {
        return Ok(t);
    }
    let mt: Table = lua
        .load(
            r#"
local lower, gsub, rawget = string.lower, string.gsub, rawget
return {
    __index = function(t, name)
        local norm = gsub(lower(name), "_", "-")
        if norm ~= name then
            return rawget(t, norm)
        end
        return nil
    end,
}
"#,
        )
        .set_name("=headers metatable")
        .eval()?;
    lua.set_named_registry_value(KEY, &mt)?;
    Ok(mt)
}

/// `ngx.resp.get_headers(max_headers?, raw?)`.
fn get_headers(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let mut args = args.into_iter();
    let max = match args.next() {
        None | Some(Value::Nil) => MAX_HEADERS,
        Some(Value::Integer(i)) => i,
        Some(Value::Number(n)) => n as i64,
        Some(v) => match lua.coerce_number(v.clone())? {
            Some(n) => n as i64,
            None => {
                let got = if matches!(v, Value::Nil) {
                    "no value"
                } else {
                    v.type_name()
                };
                return raise(format!(
                    "bad argument #1 to 'get_headers' (number expected, got {got})"
                ));
            }
        },
    };
    let raw = matches!(args.next(), Some(v) if !matches!(v, Value::Nil | Value::Boolean(false)));
    let f = request_frame(lua, "no request object found")?;
    if RequestCtx::get_or_create(f.req).is_none() {
        return raise("no ctx found");
    }
    let info = headers::resp_header_info(f.req);
    let t = lua.create_table_with_capacity(0, info.list_len + 2)?;
    if !raw {
        t.set_metatable(Some(headers_metatable(lua)?))?;
    }
    let mut extra: i64 = 0;
    if let Some(ct) = info.content_type {
        extra += 1;
        t.raw_set("content-type", lua.create_string(ct)?)?;
    }
    if let Some(len) = info.content_length {
        extra += 1;
        t.raw_set("content-length", len.to_string())?;
    }
    extra += 1;
    t.raw_set("connection", info.connection)?;
    if info.chunked {
        extra += 1;
        t.raw_set("transfer-encoding", "chunked")?;
    }
    let mut count = info.list_len as i64;
    let mut truncated = false;
    if max > 0 && count + extra > max {
        truncated = true;
        log::error(
            nginx_sys::NGX_LOG_DEBUG as usize,
            f.req.log(),
            &format!(
                "lua exceeding response header limit {} > {}",
                count + extra,
                max
            ),
        );
        count = max - extra;
    }
    let mut lower = Vec::new();
    headers::for_each_resp_header(f.req, |k, v| -> mlua::Result<bool> {
        let key = if raw {
            lua.create_string(k)?
        } else {
            lower.clear();
            lower.extend(k.iter().map(u8::to_ascii_lowercase));
            lua.create_string(&lower)?
        };
        add_multi(lua, &t, key, lua.create_string(v)?)?;
        count -= 1;
        Ok(count > 0)
    })?;
    let mut ret = MultiValue::new();
    ret.push_back(Value::Table(t));
    if truncated {
        ret.push_back(Value::String(lua.create_string("truncated")?));
    }
    Ok(ret)
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let header = lua.create_table()?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/header.lua"))
        .set_name("=ngx_lua_rs.header")
        .into_function()?;
    let mt: Table = shim.call((
        c_function(lua, get_fast)?,
        function(lua, get)?,
        c_function(lua, set_fast)?,
        function(lua, set)?,
        super::shim_raise(lua)?,
    ))?;
    header.set_metatable(Some(mt))?;
    ngx.raw_set("header", header)?;

    let resp = super::subtable(lua, ngx, "resp")?;
    resp.raw_set("get_headers", function(lua, get_headers)?)
}
