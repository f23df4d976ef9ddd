//! What the cosocket APIs share (TCP, UDP and the downstream socket of
//! ngx.req.socket): results handed back to Lua or delivered to a waiting
//! coroutine, the owning request, argument conversions with luaL's
//! messages, send()'s data flattening and peer address parsing.

use std::net::IpAddr;

use std::ffi::c_int;

use mlua::{Lua, MultiValue, Value};

use super::context::Frame;
use super::{raise, ApiResult};
use crate::ffi::log;
use crate::ffi::lua_stack::{Arg, Stack};
use crate::ffi::lua_table::{self, Rules};
use crate::ffi::request::Req;
use crate::net::addr::SockAddr;
use crate::sched::{self, RequestCtx, Waiter};

pub(crate) const ERR: usize = nginx_sys::NGX_LOG_ERR as usize;

/// What a socket method hands back to Lua.
pub(crate) enum Ret {
    Int(i64),
    Bool(bool),
    Data(Vec<u8>),
    /// nil, err[, partial]
    Fail(String, Option<Vec<u8>>),
    /// nil, nil, nil (the end of a sized receiveuntil stream)
    Nils,
    /// Yield: an event will deliver the results.
    Wait,
    /// sslhandshake's result: the session (a userdata) or nil.
    Session(Option<crate::net::ssl::Session>),
}

/// A TLS session handed to Lua by tcpsock:sslhandshake; its __gc frees it.
pub(crate) struct SslSessionUd(pub crate::net::ssl::Session);
impl mlua::UserData for SslSessionUd {}

pub(crate) fn fail(msg: impl Into<String>) -> Ret {
    Ret::Fail(msg.into(), None)
}

pub(crate) fn to_lua(lua: &Lua, ret: Ret) -> mlua::Result<MultiValue> {
    let mut mv = MultiValue::new();
    match ret {
        Ret::Int(i) => mv.push_back(Value::Integer(i)),
        Ret::Bool(b) => mv.push_back(Value::Boolean(b)),
        Ret::Data(d) => mv.push_back(Value::String(lua.create_string(&d)?)),
        Ret::Fail(e, partial) => {
            mv.push_back(Value::Nil);
            mv.push_back(Value::String(lua.create_string(&e)?));
            if let Some(p) = partial {
                mv.push_back(Value::String(lua.create_string(&p)?));
            }
        }
        Ret::Nils => {
            mv.push_back(Value::Nil);
            mv.push_back(Value::Nil);
            mv.push_back(Value::Nil);
        }
        Ret::Wait => mv.push_back(Value::LightUserData(sched::wait_marker())),
        Ret::Session(None) => mv.push_back(Value::Nil),
        Ret::Session(Some(s)) => {
            mv.push_back(Value::UserData(lua.create_userdata(SslSessionUd(s))?))
        }
    }
    Ok(mv)
}

/// A result as plain values for the waiting coroutine; sessions (mlua
/// userdata) come back as they were.
fn into_plain(ret: Ret) -> Result<sched::PlainList, Ret> {
    use sched::{Plain, PlainList};
    Ok(match ret {
        Ret::Int(i) => PlainList::of([Plain::Num(i as f64)]),
        Ret::Bool(b) => PlainList::of([Plain::Bool(b)]),
        Ret::Data(d) => PlainList::of([Plain::Bytes(d)]),
        Ret::Fail(e, None) => PlainList::of([Plain::Nil, Plain::Bytes(e.into_bytes())]),
        Ret::Fail(e, Some(p)) => {
            PlainList::of([Plain::Nil, Plain::Bytes(e.into_bytes()), Plain::Bytes(p)])
        }
        Ret::Nils => PlainList::of([Plain::Nil, Plain::Nil, Plain::Nil]),
        Ret::Wait => PlainList::of([Plain::Light(sched::wait_marker())]),
        session @ Ret::Session(_) => return Err(session),
    })
}

/// [`to_lua`] for C functions: pushes the values, returns how many.
/// (Sessions are only returned by sslhandshake, an mlua function.)
pub(crate) fn push_ret(s: &Stack, ret: Ret) -> c_int {
    match ret {
        Ret::Int(i) => s.push_number(i as f64),
        Ret::Bool(b) => s.push_bool(b),
        Ret::Data(d) => s.push_bytes(&d),
        Ret::Fail(e, partial) => {
            s.push_nil();
            s.push_bytes(e.as_bytes());
            if let Some(p) = partial {
                s.push_bytes(&p);
                return 3;
            }
            return 2;
        }
        Ret::Nils => {
            s.push_nil();
            s.push_nil();
            s.push_nil();
            return 3;
        }
        Ret::Wait => s.push_light(sched::wait_marker()),
        Ret::Session(_) => s.push_nil(),
    }
    1
}

/// `to_lua` for a method's direct return.
pub(crate) fn ret(lua: &Lua, r: Ret) -> ApiResult<MultiValue> {
    to_lua(lua, r).map_err(Into::into)
}

/// Wakes the coroutine waiting on a socket with `ret` as its results.
pub(crate) fn deliver(w: Waiter, ret: Ret) {
    let Some(vm) = crate::phase::request_vm(w.req) else {
        return;
    };
    let ret = match into_plain(ret) {
        Ok(plain) => return w.wake(sched::Args::Plain(plain)),
        Err(ret) => ret,
    };
    match to_lua(&vm.lua, ret) {
        Ok(mv) => w.wake(mv),
        Err(e) => log::error(ERR, w.req.log(), &format!("lua socket: {e}")),
    }
}

/// The request a socket belongs to.
#[derive(Clone, Copy)]
pub(crate) struct Owner {
    pub req: Req,
    pub alive: bool,
}

/// Upstream's "bad request": the socket belongs to another (or an ended) request.
pub(crate) fn check_owner(owner: Option<Owner>, f: &Frame) -> ApiResult<()> {
    match owner {
        Some(o) if !o.alive || o.req != f.req => raise("bad request"),
        _ => Ok(()),
    }
}

/// Runs `done` when request `r` ends (its Lua ctx is dropped).
pub(crate) fn on_request_end(r: Req, done: impl FnOnce() + 'static) {
    if let Some(ctx) = RequestCtx::get_or_create(r) {
        ctx.on_drop.borrow_mut().push(Box::new(done));
    }
}

/// The userdata of type `U` behind a socket object `self` (slot 1 of the
/// object table), through `get`; None when the object has none.
pub(crate) fn object<U: 'static, R>(
    v: Option<&Value>,
    fname: &str,
    get: impl FnOnce(&U) -> R,
) -> ApiResult<Option<R>> {
    match v {
        Some(Value::Table(t)) => match t.raw_get::<Value>(1)? {
            Value::UserData(ud) => Ok(ud.borrow::<U>().ok().map(|u| get(&u))),
            _ => Ok(None),
        },
        other => raise(format!(
            "bad argument #1 to '{fname}' (table expected, got {})",
            other.map(type_name).unwrap_or("no value")
        )),
    }
}

/// Lua's own type names (luaL_typename): integers are "number".
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) | Value::Number(_) => "number",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        other => other.type_name(),
    }
}

/// An mlua value seen as a C function's argument, so that one set of
/// conversions serves both kinds of API functions. (Tables get no index.)
fn with_arg<R>(v: &Value, f: impl FnOnce(&Arg) -> R) -> R {
    match v {
        Value::String(s) => f(&Arg::Str(&s.as_bytes())),
        Value::Integer(i) => f(&Arg::Num(*i as f64)),
        Value::Number(n) => f(&Arg::Num(*n)),
        Value::Nil => f(&Arg::Nil),
        Value::Boolean(b) => f(&Arg::Bool(*b)),
        Value::Table(_) => f(&Arg::Table(0)),
        other => f(&Arg::Other(type_name(other))),
    }
}

/// luaL_checkinteger's conversion (numbers and numeric strings).
pub(crate) fn integer_arg(v: &Value) -> Option<i64> {
    with_arg(v, arg_integer)
}

pub(crate) fn arg_integer(a: &Arg) -> Option<i64> {
    match a {
        Arg::Num(n) => Some(*n as i64),
        Arg::Str(b) => {
            let s = std::str::from_utf8(b).ok()?.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
        }
        _ => None,
    }
}

/// luaL_checknumber's conversion.
pub(crate) fn number_arg(v: &Value) -> Option<f64> {
    with_arg(v, arg_number)
}

pub(crate) fn arg_number(a: &Arg) -> Option<f64> {
    match a {
        Arg::Num(n) => Some(*n),
        Arg::Str(b) => std::str::from_utf8(b).ok()?.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// luaL_checklstring's conversion (strings and numbers); None otherwise.
pub(crate) fn string_arg(v: &Value) -> Option<Vec<u8>> {
    with_arg(v, arg_string)
}

pub(crate) fn arg_string(a: &Arg) -> Option<Vec<u8>> {
    match a {
        Arg::Str(_) | Arg::Num(_) => {
            let mut out = Vec::new();
            arg_push_scalar(&mut out, a);
            Some(out)
        }
        _ => None,
    }
}

pub(crate) fn push_scalar(out: &mut Vec<u8>, v: &Value) {
    with_arg(v, |a| arg_push_scalar(out, a))
}

pub(crate) fn arg_push_scalar(out: &mut Vec<u8>, a: &Arg) {
    match a {
        Arg::Str(b) => out.extend_from_slice(b),
        Arg::Num(n) => crate::ffi::fmt::push_number(out, *n),
        Arg::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Arg::Nil => out.extend_from_slice(b"nil"),
        _ => {}
    }
}

/// The bytes send(data) sends: a string, number, boolean, nil or a nested
/// array table of strings and numbers.
pub(crate) fn send_data(lua: &Lua, v: &Value) -> ApiResult<Vec<u8>> {
    let mut data = Vec::new();
    if let Value::Table(t) = v {
        if let Err(m) = lua_table::flatten(lua, t, &mut data, Rules::Send) {
            return raise(format!("bad argument #2 to 'send' ({m})"));
        }
        return Ok(data);
    }
    with_arg(v, |a| scalar_send_data(a, &mut data))?;
    Ok(data)
}

/// [`send_data`] for a C function's argument `i`, into `data` (a buffer
/// kept from an earlier send, so that sending does not allocate each time).
pub(crate) fn arg_send_data(s: &Stack, i: usize, mut data: Vec<u8>) -> ApiResult<Vec<u8>> {
    data.clear();
    match s.arg(i) {
        Arg::Table(t) => {
            if let Err(m) = s.flatten(t, &mut data, Rules::Send) {
                return raise(format!("bad argument #2 to 'send' ({m})"));
            }
        }
        a => scalar_send_data(&a, &mut data)?,
    }
    Ok(data)
}

fn scalar_send_data(a: &Arg, out: &mut Vec<u8>) -> ApiResult<()> {
    match a {
        Arg::Str(_) | Arg::Num(_) | Arg::Bool(_) | Arg::Nil => {
            arg_push_scalar(out, a);
            Ok(())
        }
        other => raise(format!(
            "bad argument #2 to 'send' (string, number, boolean, nil, or array table expected, got {})",
            other.type_name()
        )),
    }
}

/// Where a connect / setpeername goes.
pub(crate) enum Peer {
    Addr(SockAddr),
    /// A host name for the resolver.
    Name(String),
    Bad(String),
}

/// Parses a peer as ngx_parse_url does for cosockets: "unix:/path", an IP
/// literal (IPv6 optionally in brackets), or a name to resolve.
pub(crate) fn parse_peer(host: &[u8], port: u16) -> Peer {
    let text = String::from_utf8_lossy(host).into_owned();
    if let Some(path) = host.strip_prefix(b"unix:") {
        return match SockAddr::unix(path) {
            Some(a) => Peer::Addr(a),
            None => Peer::Bad(format!(
                "failed to parse host name \"{text}\": invalid host"
            )),
        };
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(&text);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Peer::Addr(SockAddr::from_ip(ip, port));
    }
    if host.is_empty() {
        return Peer::Bad(format!("failed to parse host name \"{text}\": no host"));
    }
    Peer::Name(text)
}

/// settimeout's argument: ms, or None for "use the directive" (0 / negative
/// / non-numbers, as lua_tonumber gives 0).
pub(crate) fn timeout_value(v: &Value) -> Option<u64> {
    let t = number_arg(v).unwrap_or(0.0) as i64;
    (t > 0).then_some(t as u64)
}

/// What [`lookup`] found.
pub(crate) enum Lookup {
    Ready(SockAddr),
    /// Resolving; the handler gets the answer.
    Pending(crate::net::resolve::Resolving),
    Failed(String),
}

/// The address of `host` (resolved with the request's `resolver` when it is
/// a name).
pub(crate) fn lookup(
    r: Req,
    host: &[u8],
    port: u16,
    target: std::rc::Weak<dyn crate::net::resolve::ResolveHandler>,
) -> Lookup {
    use crate::net::resolve::{self, Start};
    match parse_peer(host, port) {
        Peer::Addr(a) => Lookup::Ready(a),
        Peer::Bad(m) => Lookup::Failed(m),
        Peer::Name(text) => match resolve::start(&resolve::Resolver::of(r), host, port, target) {
            Start::NoResolver => {
                Lookup::Failed(format!("no resolver defined to resolve \"{text}\""))
            }
            Start::Failed(m) | Start::Done(Err(m)) => Lookup::Failed(m),
            Start::Done(Ok(a)) => Lookup::Ready(a),
            Start::Pending(p) => Lookup::Pending(p),
        },
    }
}
