//! `ngx.req.*` request introspection and rewriting: get_method, set_method,
//! http_version, raw_header, start_time, is_internal, get_uri_args,
//! set_uri_args, set_uri, get_post_args, get_headers, set_header and
//! clear_header. (The body APIs are in req_body.rs.)
//!
//! Messages follow where each function lives upstream: the ones
//! lua-resty-core implements over FFI say "no request found" without a
//! request and "API disabled in the current context" on a timer's fake
//! request, raised at the caller's level; the C ones (set_uri, set_uri_args,
//! get_post_args, http_version, raw_header, the table form of set_header) say
//! "no request object found" (set_uri: "no request found") and raise without
//! a position, as luaL_error in a C function does. Outside the contexts
//! shared/INVENTORY.md lists, "API disabled in the context of ...".

use mlua::{Function, Lua, LuaString, MultiValue, Table, Value};

use super::args::encode_table;
use super::args::{fill_args_table, parse_args, DEFAULT_MAX_ARGS};
use super::codec::{check_string, lua_type_name};
use super::constants::method_name;
use super::context::{Ctx, Frame, Phase};
use super::{raise, raw_function, set, shim_raise, subtable, ApiError, ApiResult};
use crate::ffi::req::{self as ffi, PostBody};
use crate::sched::{self, RequestCtx};

use Phase::*;

/// set rw acc cnt hf bf log.
const REQ: Ctx = Ctx::of(&[Set, Rewrite, Access, Content, HeaderFilter, BodyFilter, Log]);
/// REQ plus balancer_by_lua.
const REQ_BAL: Ctx = Ctx::of(&[
    Set,
    Rewrite,
    Access,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Balancer,
]);
/// http_version, raw_header: set rw acc cnt hf log.
const HEADER_READ: Ctx = Ctx::of(&[Set, Rewrite, Access, Content, HeaderFilter, Log]);
/// set_method: set rw acc cnt hf.
const SET_METHOD: Ctx = Ctx::of(&[Set, Rewrite, Access, Content, HeaderFilter]);
/// set_uri, set_uri_args, set_header, clear_header: set rw acc cnt hf bf.
const MUTATE: Ctx = Ctx::of(&[Set, Rewrite, Access, Content, HeaderFilter, BodyFilter]);
/// get_post_args: rw acc cnt hf bf log.
const POST_ARGS: Ctx = Ctx::of(&[Rewrite, Access, Content, HeaderFilter, BodyFilter, Log]);

/// lua-resty-core's message for a missing request.
const NO_REQUEST: &str = "no request found";
/// lua-nginx-module's C functions' message for a missing request.
const NO_REQUEST_OBJECT: &str = "no request object found";

/// lua-nginx-module's cap on the headers `get_headers` returns by default.
const DEFAULT_MAX_HEADERS: usize = 100;

/// The request the running code belongs to, if any.
fn current(_lua: &Lua) -> Option<Frame> {
    super::context::Current::top()
}

/// Refuses timers' fake requests and phases outside `allowed`.
fn check_phase(f: Frame, allowed: Ctx) -> ApiResult<()> {
    if allowed.contains(f.phase) {
        Ok(())
    } else if f.phase == Timer {
        raise("API disabled in the current context")
    } else {
        raise(format!(
            "API disabled in the context of {}",
            f.phase.context_name()
        ))
    }
}

/// The current request, checked against `allowed`.
fn request(lua: &Lua, allowed: Ctx, missing: &str) -> ApiResult<Frame> {
    let Some(f) = current(lua) else {
        return raise(missing);
    };
    check_phase(f, allowed)?;
    Ok(f)
}

/// For the functions lua-nginx-module implements in C: their errors carry no
/// position (luaL_error at the C function's own level).
fn plain<T>(r: ApiResult<T>) -> ApiResult<T> {
    r.map_err(|e| match e {
        ApiError::Raise(msg) => ApiError::RaisePlain(msg),
        other => other,
    })
}

/// An optional count argument passed to lua-resty-core's FFI calls: `nil` or
/// `false` mean "default" (-1), numbers are truncated like a C int.
fn ffi_int(v: &Value, arg: usize, func: &str) -> ApiResult<i64> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(-1),
        Value::Integer(i) => Ok(*i),
        Value::Number(n) if n.is_finite() => Ok(*n as i64),
        Value::Number(_) => Ok(-1),
        other => raise(format!(
            "bad argument #{arg} to '{func}' (number expected, got {})",
            lua_type_name(other)
        )),
    }
}

/// `luaL_checkinteger`: a number or numeric string.
fn check_integer(lua: &Lua, v: Value, arg: usize, func: &str) -> ApiResult<i64> {
    let got = lua_type_name(&v);
    match v {
        Value::Integer(i) => Ok(i),
        Value::Number(n) => Ok(n as i64),
        Value::String(_) => match lua.coerce_number(v)? {
            Some(n) => Ok(n as i64),
            None => raise(format!(
                "bad argument #{arg} to '{func}' (number expected, got string)"
            )),
        },
        _ => raise(format!(
            "bad argument #{arg} to '{func}' (number expected, got {got})"
        )),
    }
}

/// Lua's `tostring`.
fn tostring(lua: &Lua, v: Value) -> ApiResult<LuaString> {
    if let Value::String(s) = v {
        return Ok(s);
    }
    let f: Function = lua.globals().raw_get("tostring")?;
    Ok(f.call::<LuaString>(v)?)
}

fn is_truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
}

/// The metatable `get_headers` puts on its result: `h.user_agent` and
/// `h["User-Agent"]` find `h["user-agent"]`.
fn headers_metatable(lua: &Lua) -> mlua::Result<Table> {
    const KEY: &str = "ngx_lua_rs.req_headers_mt";
    if let Ok(t) = lua.named_registry_value::<Table>(KEY) {
        return Ok(t);
    }
    let t: Table = lua
        .load(
            "local lower, gsub, rawget = string.lower, string.gsub, rawget\n\
             return { __index = function(t, k) return rawget(t, (gsub(lower(k), '_', '-'))) end }",
        )
        .set_name("=ngx_lua_rs.req_headers_mt")
        .eval()?;
    lua.set_named_registry_value(KEY, &t)?;
    Ok(t)
}

/// Stores `value` under `key`, turning repeated keys into arrays.
fn add_multi(lua: &Lua, t: &Table, key: LuaString, value: LuaString) -> mlua::Result<()> {
    match t.raw_get::<Value>(&key)? {
        Value::Nil => t.raw_set(key, value),
        Value::Table(list) => list.raw_set(list.raw_len() + 1, value),
        first => {
            let list = lua.create_table_with_capacity(4, 0)?;
            list.raw_set(1, first)?;
            list.raw_set(2, value)?;
            t.raw_set(key, list)
        }
    }
}

/// A table (and "truncated") as the args getters return it.
fn with_truncated(lua: &Lua, t: Table, truncated: bool) -> mlua::Result<MultiValue> {
    let mut ret = MultiValue::new();
    ret.push_back(Value::Table(t));
    if truncated {
        ret.push_back(Value::String(lua.create_string("truncated")?));
    }
    Ok(ret)
}

fn get_uri_args(lua: &Lua, (max, tab): (Value, Value)) -> ApiResult<MultiValue> {
    let f = request(lua, REQ_BAL, NO_REQUEST)?;
    let max = ffi_int(&max, 1, "get_uri_args")?;
    let tab = match tab {
        Value::Nil | Value::Boolean(false) => None,
        Value::Table(t) => {
            t.clear()?;
            Some(t)
        }
        other => {
            return raise(format!(
                "bad argument #2 to 'get_uri_args' (table expected, got {})",
                lua_type_name(&other)
            ))
        }
    };
    // lua-resty-core: a negative max means the default, 0 no limit; the
    // limit applies to the number of '&'-separated pieces.
    let max = if max < 0 {
        DEFAULT_MAX_ARGS
    } else {
        max as usize
    };
    let query = ffi::args(f.req);
    let pieces = match query.iter().filter(|&&c| c == b'&').count() {
        0 if query.is_empty() => 0,
        0 => 1,
        n => n + 1,
    };
    let (limit, truncated) = if max > 0 && pieces > max {
        (max, true)
    } else {
        (pieces, false)
    };
    let t = match tab {
        Some(t) => t,
        None => lua.create_table_with_capacity(0, limit.min(64))?,
    };
    if limit > 0 {
        let parsed = parse_args(query, 0);
        let n = parsed.pairs.len().min(limit);
        fill_args_table(lua, &t, &parsed.pairs[..n])?;
    }
    Ok(with_truncated(lua, t, truncated)?)
}

fn get_post_args(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let n = args.len();
    if n > 1 {
        return raise(format!("expecting 0 or 1 arguments but seen {n}"));
    }
    let max = match args.into_iter().next() {
        Some(v) => check_integer(lua, v, 1, "get_post_args")?,
        None => DEFAULT_MAX_ARGS as i64,
    };
    let f = request(lua, POST_ARGS, NO_REQUEST_OBJECT)?;
    let parts = match ffi::post_body(f.req) {
        PostBody::Discarded => Vec::new(),
        PostBody::NotRead => {
            return raise("no request body found; maybe you should turn on lua_need_request_body?");
        }
        PostBody::InFile => {
            let mut ret = MultiValue::new();
            ret.push_back(Value::Nil);
            ret.push_back(Value::String(
                lua.create_string("request body in temp file not supported")?,
            ));
            return Ok(ret);
        }
        PostBody::Memory(parts) => parts,
    };
    let body = parts.concat();
    let parsed = parse_args(&body, usize::try_from(max).unwrap_or(0));
    let t = lua.create_table_with_capacity(0, parsed.pairs.len().min(64))?;
    fill_args_table(lua, &t, &parsed.pairs)?;
    Ok(with_truncated(lua, t, parsed.truncated)?)
}

/// Query-string bytes `set_uri_args` escapes in a string argument: controls,
/// space and DEL.
fn escape_args(s: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if c <= 0x20 || c == 0x7f {
            out.extend_from_slice(&[b'%', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
        } else {
            out.push(c);
        }
    }
    out
}

fn set_uri_args(lua: &Lua, args: MultiValue) -> ApiResult<()> {
    if args.len() != 1 {
        return raise(format!("expecting 1 argument but seen {}", args.len()));
    }
    let f = request(lua, MUTATE, NO_REQUEST_OBJECT)?;
    let query = match args.into_iter().next().unwrap_or(Value::Nil) {
        v @ (Value::Integer(_) | Value::Number(_)) => tostring(lua, v)?.as_bytes().to_vec(),
        Value::String(s) => escape_args(&s.as_bytes()),
        Value::Table(t) => encode_table(lua, &t)?,
        other => {
            return raise(format!(
                "bad argument #1 to 'set_uri_args' (string, number, or table expected, but got {})",
                lua_type_name(&other)
            ))
        }
    };
    if !ffi::set_args(f.req, &query) {
        return raise("no memory");
    }
    Ok(())
}

/// How an unsafe URI is quoted in the error: control bytes, DEL, high bytes,
/// `"` and `\` as `\xHH`.
fn escape_log(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s {
        if !(0x20..0x7f).contains(&c) || c == b'"' || c == b'\\' {
            out.push_str(&format!("\\x{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Control characters a URI may not contain unless `binary` is set: 0x00 to
/// 0x1f except TAB, and DEL.
fn unsafe_uri_byte(uri: &[u8]) -> Option<u8> {
    uri.iter()
        .copied()
        .find(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
}

/// Returns true when the handler must end for a location jump.
fn set_uri_prepare(lua: &Lua, args: MultiValue) -> ApiResult<bool> {
    let n = args.len();
    if !(1..=3).contains(&n) {
        return raise(format!("expecting 1, 2 or 3 arguments but seen {n}"));
    }
    let f = request(lua, MUTATE, NO_REQUEST)?;
    let mut args = args.into_iter();
    let uri = check_string(lua, args.next().unwrap_or(Value::Nil), 1, "set_uri")?;
    let uri = uri.as_bytes();
    if uri.is_empty() {
        return raise("attempt to use zero-length uri");
    }
    let jump_arg = args.next();
    let binary = match args.next() {
        None => false,
        Some(Value::Boolean(b)) => b,
        Some(other) => {
            return raise(format!(
                "bad argument #3 to 'set_uri' (boolean expected, got {})",
                lua_type_name(&other)
            ))
        }
    };
    if !binary {
        if let Some(c) = unsafe_uri_byte(&uri) {
            return raise(format!(
                "unsafe byte \"0x{c:02x}\" in uri \"{}\" (maybe you want to set the 'binary' argument?)",
                escape_log(&uri)
            ));
        }
    }
    let jump = match jump_arg {
        None => false,
        Some(Value::Boolean(b)) => b,
        Some(other) => {
            return raise(format!(
                "bad argument #2 to 'set_uri' (boolean expected, got {})",
                lua_type_name(&other)
            ))
        }
    };
    if jump && f.phase != Rewrite {
        return raise(format!(
            "API disabled in the context of {}",
            f.phase.context_name()
        ));
    }
    let ctx = if jump {
        match RequestCtx::get_or_create(f.req) {
            Some(c) => Some(c),
            None => return raise("no ctx found"),
        }
    } else {
        None
    };
    if !ffi::set_uri(f.req, &uri, jump) {
        return raise("no memory");
    }
    match ctx {
        // End the rewrite handler like ngx.exit(ngx.OK): the phase declines
        // and nginx's post-rewrite phase finds the new location.
        Some(c) => {
            c.exit_code.set(Some(0));
            Ok(true)
        }
        None => Ok(false),
    }
}

fn get_headers(lua: &Lua, (max, raw): (Value, Value)) -> ApiResult<MultiValue> {
    let f = request(lua, REQ, NO_REQUEST)?;
    let max = ffi_int(&max, 1, "get_headers")?;
    let max = if max < 0 {
        DEFAULT_MAX_HEADERS
    } else {
        max as usize
    };
    let raw = is_truthy(&raw);
    let total = ffi::header_count(f.req);
    let truncated = max > 0 && total > max;
    let headers = ffi::headers(f.req, max);
    let t = lua.create_table_with_capacity(0, headers.len())?;
    for h in &headers {
        let key = lua.create_string(if raw { h.key } else { h.lowcase_key })?;
        add_multi(lua, &t, key, lua.create_string(h.value)?)?;
    }
    if !raw {
        t.set_metatable(Some(headers_metatable(lua)?))?;
    }
    Ok(with_truncated(lua, t, truncated)?)
}

/// nginx ignores header changes on HTTP/0.9 requests (they have none).
fn is_http09(f: Frame) -> bool {
    ffi::http_version(f.req) < nginx_sys::NGX_HTTP_VERSION_10 as usize
}

/// `ngx.req.set_header(name, {values...})`: the first value replaces the
/// header, the others are added; an empty table removes it.
fn set_header_values(lua: &Lua, n: usize, name: Value, values: Table) -> ApiResult<()> {
    if n != 2 {
        return raise(format!("expecting two arguments, but seen {n}"));
    }
    let f = request(lua, MUTATE, NO_REQUEST_OBJECT)?;
    if is_http09(f) {
        return Ok(());
    }
    let name = check_string(lua, name, 1, "set_header")?;
    let name = name.as_bytes();
    let count = values.raw_len();
    if count == 0 {
        return clear(f, &name, true);
    }
    for i in 1..=count {
        let v = match values.raw_get::<Value>(i)? {
            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => tostring(lua, v)?,
            other => {
                return raise(format!(
                    "bad argument #-1 to 'set_header' (string expected, got {})",
                    lua_type_name(&other)
                ))
            }
        };
        if ffi::set_header(f.req, &name, &v.as_bytes(), i == 1).is_err() {
            return raise(format!(
                "failed to set header {} (error: -1)",
                String::from_utf8_lossy(&name)
            ));
        }
    }
    Ok(())
}

fn set_header(lua: &Lua, args: MultiValue) -> ApiResult<()> {
    let n = args.len();
    let mut it = args.into_iter();
    let name = it.next().unwrap_or(Value::Nil);
    let value = it.next().unwrap_or(Value::Nil);

    if let Value::Table(values) = value {
        // lua-nginx-module's C function handles the multi-value form.
        return plain(set_header_values(lua, n, name, values));
    }

    let f = request(lua, MUTATE, NO_REQUEST)?;
    let name = tostring(lua, name)?;
    if is_http09(f) {
        return Ok(());
    }
    let value = match value {
        Value::Nil | Value::Boolean(false) => None,
        v => Some(tostring(lua, v)?),
    };
    let value = value.as_ref().map(|v| v.as_bytes());
    match ffi::set_header(
        f.req,
        &name.as_bytes(),
        value.as_deref().unwrap_or(&[]),
        true,
    ) {
        Ok(()) => Ok(()),
        Err(_) => raise("error"),
    }
}

/// Removes every header named `name`.
fn clear(f: Frame, name: &[u8], c_style: bool) -> ApiResult<()> {
    match ffi::set_header(f.req, name, &[], true) {
        Ok(()) => Ok(()),
        Err(_) if c_style => raise(format!(
            "failed to set header {} (error: -1)",
            String::from_utf8_lossy(name)
        )),
        Err(_) => raise("error"),
    }
}

fn clear_header(lua: &Lua, name: Value) -> ApiResult<()> {
    let f = request(lua, MUTATE, NO_REQUEST)?;
    let name = tostring(lua, name)?;
    if is_http09(f) {
        return Ok(());
    }
    clear(f, &name.as_bytes(), false)
}

fn get_method(lua: &Lua, _: MultiValue) -> ApiResult<LuaString> {
    let f = request(lua, REQ_BAL, NO_REQUEST)?;
    let (bit, name) = ffi::method(f.req);
    let known = i64::try_from(bit).ok().and_then(method_name);
    Ok(match known {
        Some(m) => lua.create_string(m)?,
        None => lua.create_string(name)?,
    })
}

fn set_method(lua: &Lua, method: Value) -> ApiResult<()> {
    let Some(f) = current(lua) else {
        return raise(NO_REQUEST);
    };
    let id = match method {
        Value::Integer(i) => i,
        Value::Number(n) if n.is_finite() => n as i64,
        Value::Number(_) => i64::MIN,
        _ => return raise("bad method number"),
    };
    check_phase(f, SET_METHOD)?;
    // The FFI call takes a C int.
    let id = i64::from(id as i32);
    match method_name(id) {
        Some(name) => {
            ffi::set_method(f.req, id as usize, name.as_bytes());
            Ok(())
        }
        None => raise(format!(
            "unsupported HTTP method: {}",
            tostring(lua, method)?.to_string_lossy()
        )),
    }
}

fn http_version(lua: &Lua, _: MultiValue) -> ApiResult<Value> {
    let f = request(lua, HEADER_READ, NO_REQUEST_OBJECT)?;
    Ok(match ffi::http_version(f.req) as u32 {
        nginx_sys::NGX_HTTP_VERSION_9 => Value::Number(0.9),
        nginx_sys::NGX_HTTP_VERSION_10 => Value::Number(1.0),
        nginx_sys::NGX_HTTP_VERSION_11 => Value::Number(1.1),
        nginx_sys::NGX_HTTP_VERSION_20 => Value::Number(2.0),
        HTTP_VERSION_30 => Value::Number(3.0),
        _ => Value::Nil,
    })
}

fn raw_header(lua: &Lua, args: MultiValue) -> ApiResult<LuaString> {
    let no_request_line = args.front().is_some_and(is_truthy);
    let f = request(lua, HEADER_READ, NO_REQUEST_OBJECT)?;
    match ffi::raw_header(f.req, no_request_line) {
        Ok(bytes) => Ok(lua.create_string(bytes)?),
        Err(msg) => raise(msg),
    }
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let req = subtable(lua, ngx, "req")?;

    set(lua, &req, "get_method", get_method)?;
    set(lua, &req, "set_method", set_method)?;
    set(lua, &req, "http_version", |lua: &Lua, a: MultiValue| {
        plain(http_version(lua, a))
    })?;
    set(lua, &req, "raw_header", |lua: &Lua, a: MultiValue| {
        plain(raw_header(lua, a))
    })?;
    set(
        lua,
        &req,
        "start_time",
        |lua, _: MultiValue| -> ApiResult<f64> {
            let f = request(lua, REQ, NO_REQUEST)?;
            Ok(ffi::start_time(f.req))
        },
    )?;
    set(
        lua,
        &req,
        "is_internal",
        |lua, _: MultiValue| -> ApiResult<bool> {
            let f = request(lua, REQ, NO_REQUEST)?;
            Ok(f.req.internal())
        },
    )?;
    set(lua, &req, "get_uri_args", get_uri_args)?;
    set(lua, &req, "set_uri_args", |lua: &Lua, a: MultiValue| {
        plain(set_uri_args(lua, a))
    })?;
    set(lua, &req, "get_post_args", |lua: &Lua, a: MultiValue| {
        plain(get_post_args(lua, a))
    })?;
    set(lua, &req, "get_headers", get_headers)?;
    set(lua, &req, "set_header", set_header)?;
    set(lua, &req, "clear_header", clear_header)?;

    let shim: Function = lua
        .load(include_str!("../../lualib/req.lua"))
        .set_name("=ngx_lua_rs.req")
        .into_function()?;
    shim.call::<()>((
        raw_function(lua, |lua: &Lua, a: MultiValue| {
            plain(set_uri_prepare(lua, a))
        })?,
        shim_raise(lua)?,
        sched::exit_marker(),
    ))
}

/// nginx's NGX_HTTP_VERSION_30 (nginx >= 1.25 defines it; older headers do not).
const HTTP_VERSION_30: u32 = 3000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_checks() {
        assert_eq!(unsafe_uri_byte(b"/foo\tbar"), None);
        assert_eq!(unsafe_uri_byte(b"/foo\r\nbar"), Some(b'\r'));
        assert_eq!(unsafe_uri_byte(b"/a\x7f"), Some(0x7f));
        assert_eq!(unsafe_uri_byte(b"/foo bar"), None);
        assert_eq!(escape_log(b"/foo\r\nbar"), "/foo\\x0D\\x0Abar");
        assert_eq!(escape_args(b"a b\r\n=c&d"), b"a%20b%0D%0A=c&d");
    }
}
