//! The `ngx.*` API, one file per area. Each area exposes
//! `pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()>`, called once
//! per VM from [`inject_all`].
//!
//! Errors that Lua code sees must be plain Lua strings (user code does
//! `pcall(...)` and matches the message), but an `Err` returned by an mlua
//! callback reaches Lua as userdata. So API functions return [`ApiResult`];
//! [`ApiError::Raise`] travels back as a marker value and a tiny Lua wrapper
//! (see `lualib/raise.lua`) turns it into `error(msg, 2)`, which gives the
//! caller's position like lua-resty-core's `error(..., 2)` does.

use mlua::{FromLuaMulti, IntoLuaMulti, LightUserData, Lua, MultiValue, Table, Value};

pub mod abort;
pub mod arg;
pub mod args;
pub mod balancer;
pub mod codec;
pub mod constants;
pub mod context;
pub mod control;
pub mod header;
pub mod location;
pub mod log;
pub mod magic;
pub mod output;
pub mod re;
pub mod req;
pub mod req_body;
pub mod shdict;
pub mod sleep;
pub mod socket;
pub mod socket_tcp;
pub mod socket_udp;
pub mod thread;
pub mod time;
pub mod timer;
pub mod var;
pub mod worker;

/// Why an API call failed.
pub(crate) enum ApiError {
    /// Raise this message as a Lua string error at the caller's level.
    Raise(String),
    /// Raise it without a position (error(msg, 0)).
    RaisePlain(String),
    /// An error from mlua itself (allocation, conversion).
    Lua(mlua::Error),
}

impl From<mlua::Error> for ApiError {
    fn from(e: mlua::Error) -> Self {
        ApiError::Lua(e)
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// Shorthand for `Err(ApiError::Raise(msg))`.
pub(crate) fn raise<T>(msg: impl Into<String>) -> ApiResult<T> {
    Err(ApiError::Raise(msg.into()))
}

/// The marker a Rust function returns first to ask the wrapper to raise.
/// Its address is unique to this module; its value is never dereferenced.
static RAISE_MARKER: u8 = 0;

static RAISE_PLAIN_MARKER: u8 = 0;

pub(crate) fn raise_marker() -> LightUserData {
    LightUserData(std::ptr::addr_of!(RAISE_MARKER) as *mut _)
}

pub(crate) fn raise_plain_marker() -> LightUserData {
    LightUserData(std::ptr::addr_of!(RAISE_PLAIN_MARKER) as *mut _)
}

const RAISE_LUA: &str = include_str!("../../lualib/raise.lua");

const WRAPPER_KEY: &str = "ngx_lua_rs.raise_wrapper";
const RAISE_KEY: &str = "ngx_lua_rs.raise";

/// Loads lualib/raise.lua once: the wrapper maker and the shims' raise().
fn raise_lib(lua: &Lua) -> mlua::Result<()> {
    if lua
        .named_registry_value::<mlua::Function>(WRAPPER_KEY)
        .is_ok()
    {
        return Ok(());
    }
    let chunk = lua
        .load(RAISE_LUA)
        .set_name("=ngx_lua_rs.raise")
        .into_function()?;
    let (wrap, raise): (mlua::Function, mlua::Function) =
        chunk.call((raise_marker(), raise_plain_marker()))?;
    lua.set_named_registry_value(WRAPPER_KEY, wrap)?;
    lua.set_named_registry_value(RAISE_KEY, raise)
}

/// Builds the Lua function that wraps raw Rust callbacks.
fn wrapper(lua: &Lua) -> mlua::Result<mlua::Function> {
    raise_lib(lua)?;
    lua.named_registry_value(WRAPPER_KEY)
}

/// `raise(rc, err)` for Lua shims that call raw functions (see
/// lualib/raise.lua): raises when `rc` is one of the raise markers.
pub(crate) fn shim_raise(lua: &Lua) -> mlua::Result<mlua::Function> {
    raise_lib(lua)?;
    lua.named_registry_value(RAISE_KEY)
}

/// A Rust API function as a Lua function that reports errors by returning
/// the raise marker and the message (for Lua shims that raise themselves).
pub(crate) fn raw_function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<mlua::Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> ApiResult<R> + 'static,
{
    lua.create_function(move |lua, args: A| match f(lua, args) {
        Ok(r) => r.into_lua_multi(lua),
        Err(ApiError::Raise(msg)) => {
            let mut mv = MultiValue::new();
            mv.push_back(Value::LightUserData(raise_marker()));
            mv.push_back(Value::String(lua.create_string(msg)?));
            Ok(mv)
        }
        Err(ApiError::RaisePlain(msg)) => {
            let mut mv = MultiValue::new();
            mv.push_back(Value::LightUserData(raise_plain_marker()));
            mv.push_back(Value::String(lua.create_string(msg)?));
            Ok(mv)
        }
        Err(ApiError::Lua(e)) => Err(e),
    })
}

/// Creates a Lua function from a Rust API function, with string errors.
pub(crate) fn function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<mlua::Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> ApiResult<R> + 'static,
{
    wrapper(lua)?.call(raw_function(lua, f)?)
}

/// [`function`] for a C function (see ffi/lua_stack.rs): raised errors name
/// the caller's position the same way.
pub(crate) fn c_api_function<F: crate::ffi::lua_stack::RawFn>(
    lua: &Lua,
    f: F,
) -> mlua::Result<mlua::Function> {
    wrapper(lua)?.call(crate::ffi::lua_stack::c_function(lua, f)?)
}

/// `t[name] = function(...)` for a Rust API function.
pub(crate) fn set<A, R, F>(lua: &Lua, t: &Table, name: &str, f: F) -> mlua::Result<()>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> ApiResult<R> + 'static,
{
    t.raw_set(name, function(lua, f)?)
}

/// Installs every area into the `ngx` table.
pub(crate) fn inject_all(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    constants::inject(lua, ngx)?;
    codec::inject(lua, ngx)?;
    args::inject(lua, ngx)?;
    time::inject(lua, ngx)?;
    log::inject(lua, ngx)?;
    output::inject(lua, ngx)?;
    control::inject(lua, ngx)?;
    magic::inject(lua, ngx)?;
    arg::inject(lua, ngx)?;
    balancer::inject(lua, ngx)?;
    var::inject(lua, ngx)?;
    header::inject(lua, ngx)?;
    req_body::inject(lua, ngx)?;
    req::inject(lua, ngx)?;
    sleep::inject(lua, ngx)?;
    socket_tcp::inject(lua, ngx)?;
    socket_udp::inject(lua, ngx)?;
    abort::inject(lua, ngx)?;
    timer::inject(lua, ngx)?;
    thread::inject(lua, ngx)?;
    location::inject(lua, ngx)?;
    worker::inject(lua, ngx)?;
    shdict::inject(lua, ngx)?;
    re::inject(lua, ngx)?;
    Ok(())
}

/// `parent[name]`, created as an empty table when missing.
pub(crate) fn subtable(lua: &Lua, parent: &Table, name: &str) -> mlua::Result<Table> {
    match parent.raw_get::<Value>(name)? {
        Value::Table(t) => Ok(t),
        _ => {
            let t = lua.create_table()?;
            parent.raw_set(name, &t)?;
            Ok(t)
        }
    }
}
