//! `ngx.shared` and the `ngx.shared.DICT` objects. Hot methods live in
//! lualib/shdict.lua over the FFI exports of shm::exports; the cold ones
//! (lists, flush_expired, get_keys) are here, with lua-nginx-module's C
//! argument checks and messages.
//!
//! A dict object is, as upstream, a table `{ zone }` (zone = lightuserdata)
//! whose metatable holds the methods (`mt.__index = mt`).

use std::ffi::c_void;
use std::rc::Rc;

use mlua::{LightUserData, Lua, MultiValue, Table, Value};

use super::{subtable, ApiError, ApiResult};
use crate::shm::store::{self, Owned, Val};
use crate::shm::zone::now_ms;
use crate::shm::Zone;

const INSTALLED_KEY: &str = "ngx_lua_rs.shdict_mt";

fn raise_plain<T>(msg: impl Into<String>) -> ApiResult<T> {
    Err(ApiError::RaisePlain(msg.into()))
}

fn mv(lua: &Lua, vals: Vec<Value>) -> ApiResult<MultiValue> {
    let _ = lua;
    Ok(MultiValue::from_iter(vals))
}

fn nil_err(lua: &Lua, msg: &str) -> ApiResult<MultiValue> {
    mv(
        lua,
        vec![Value::Nil, Value::String(lua.create_string(msg)?)],
    )
}

/// The zone of a dict object (first argument), or upstream's error.
fn zone_arg<'a>(args: &[Value], known: &[usize]) -> ApiResult<&'a Zone> {
    let Some(Value::Table(t)) = args.first() else {
        return raise_plain("bad \"zone\" argument");
    };
    let p = match t.raw_get::<Value>(1)? {
        Value::LightUserData(LightUserData(p)) => p as usize,
        _ => return raise_plain("bad \"zone\" argument"),
    };
    match Zone::from_known(p, known) {
        Some(z) => Ok(z),
        None => raise_plain("bad \"zone\" argument"),
    }
}

/// The key argument: `Ok(Err(msg))` for the soft errors returned as `nil, msg`.
fn key_arg(lua: &Lua, v: &Value, fname: &str) -> ApiResult<Result<Vec<u8>, &'static str>> {
    let s = match v {
        Value::Nil => return Ok(Err("nil key")),
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v.clone())? {
            Some(s) => s.as_bytes().to_vec(),
            None => {
                return raise_plain(format!(
                    "bad argument #1 to '{fname}' (string expected, got number)"
                ))
            }
        },
        other => {
            return raise_plain(format!(
                "bad argument #1 to '{fname}' (string expected, got {})",
                other.type_name()
            ))
        }
    };
    if s.is_empty() {
        return Ok(Err("empty key"));
    }
    if s.len() > store::MAX_KEY_LEN {
        return Ok(Err("key too long"));
    }
    Ok(Ok(s))
}

fn push(lua: &Lua, args: MultiValue, known: &[usize], left: bool) -> ApiResult<MultiValue> {
    let args: Vec<Value> = args.into_iter().collect();
    if args.len() != 3 {
        return raise_plain(format!(
            "expecting 3 arguments, but only seen {}",
            args.len()
        ));
    }
    let z = zone_arg(&args, known)?;
    let fname = if left { "lpush" } else { "rpush" };
    let key = match key_arg(lua, &args[1], fname)? {
        Ok(k) => k,
        Err(msg) => return nil_err(lua, msg),
    };
    let sbuf;
    let val = match &args[2] {
        Value::String(s) => {
            sbuf = s.as_bytes().to_vec();
            Val::Str(&sbuf)
        }
        Value::Integer(i) => Val::Num(*i as f64),
        Value::Number(n) => Val::Num(*n),
        _ => return nil_err(lua, "bad value type"),
    };
    let h = store::hash(&key);
    let now = now_ms();
    match z.with(|s| s.push(h, &key, left, val, now)) {
        None => raise_plain("bad \"zone\" argument"),
        Some(Ok(n)) => mv(lua, vec![Value::Number(n as f64)]),
        Some(Err(store::Error::NoMemory)) => mv(
            lua,
            vec![
                Value::Boolean(false),
                Value::String(lua.create_string("no memory")?),
            ],
        ),
        Some(Err(e)) => nil_err(lua, e.message()),
    }
}

fn pop(lua: &Lua, args: MultiValue, known: &[usize], left: bool) -> ApiResult<MultiValue> {
    let args: Vec<Value> = args.into_iter().collect();
    if args.len() != 2 {
        return raise_plain(format!(
            "expecting 2 arguments, but only seen {}",
            args.len()
        ));
    }
    let z = zone_arg(&args, known)?;
    let fname = if left { "lpop" } else { "rpop" };
    let key = match key_arg(lua, &args[1], fname)? {
        Ok(k) => k,
        Err(msg) => return nil_err(lua, msg),
    };
    let h = store::hash(&key);
    let now = now_ms();
    match z.with(|s| s.pop(h, &key, left, now)) {
        None => raise_plain("bad \"zone\" argument"),
        Some(Ok(None)) => mv(lua, vec![Value::Nil]),
        Some(Ok(Some(Owned::Num(n)))) => mv(lua, vec![Value::Number(n)]),
        Some(Ok(Some(Owned::Str(s)))) => mv(lua, vec![Value::String(lua.create_string(s)?)]),
        Some(Err(e)) => nil_err(lua, e.message()),
    }
}

/// The optional count argument of flush_expired / get_keys (luaL_checkint).
fn count_arg(lua: &Lua, args: &[Value], fname: &str, default: usize) -> ApiResult<usize> {
    match args.get(1) {
        None => Ok(default),
        Some(v) => match lua.coerce_number(v.clone())? {
            Some(n) => Ok(if n <= 0.0 { 0 } else { n as usize }),
            None => raise_plain(format!(
                "bad argument #1 to '{fname}' (number expected, got {})",
                v.type_name()
            )),
        },
    }
}

fn flush_expired(lua: &Lua, args: MultiValue, known: &[usize]) -> ApiResult<MultiValue> {
    let args: Vec<Value> = args.into_iter().collect();
    if args.is_empty() || args.len() > 2 {
        return raise_plain(format!(
            "expecting 1 or 2 argument(s), but saw {}",
            args.len()
        ));
    }
    let z = zone_arg(&args, known)?;
    let max = count_arg(lua, &args, "flush_expired", 0)?;
    let now = now_ms();
    match z.with(|s| s.flush_expired(max, now)) {
        None => raise_plain("bad \"zone\" argument"),
        Some(n) => mv(lua, vec![Value::Number(n as f64)]),
    }
}

fn get_keys(lua: &Lua, args: MultiValue, known: &[usize]) -> ApiResult<MultiValue> {
    let args: Vec<Value> = args.into_iter().collect();
    if args.is_empty() || args.len() > 2 {
        return raise_plain(format!(
            "expecting 1 or 2 argument(s), but saw {}",
            args.len()
        ));
    }
    let z = zone_arg(&args, known)?;
    let max = count_arg(lua, &args, "get_keys", 1024)?;
    let now = now_ms();
    let Some(keys) = z.with(|s| s.keys(max, now)) else {
        return raise_plain("bad \"zone\" argument");
    };
    let t = lua.create_table_with_capacity(keys.len(), 0)?;
    for (i, k) in keys.into_iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(k)?)?;
    }
    mv(lua, vec![Value::Table(t)])
}

/// `ngx.shared` exists (empty) in every VM.
pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    subtable(lua, ngx, "shared")?;
    Ok(())
}

/// Adds one `ngx.shared[name]` per lua_shared_dict zone (called once the
/// configuration is parsed; the zones get their memory later, before any
/// Lua code runs).
pub(crate) fn install(lua: &Lua, zones: &[*mut Zone]) -> mlua::Result<()> {
    if zones.is_empty() || lua.named_registry_value::<Table>(INSTALLED_KEY).is_ok() {
        return Ok(());
    }
    let known: Rc<Vec<usize>> = Rc::new(zones.iter().map(|&z| z as usize).collect());
    let cold = lua.create_table()?;
    for (name, left) in [("lpush", true), ("rpush", false)] {
        let k = known.clone();
        cold.raw_set(
            name,
            super::function(lua, move |lua, args: MultiValue| push(lua, args, &k, left))?,
        )?;
    }
    for (name, left) in [("lpop", true), ("rpop", false)] {
        let k = known.clone();
        cold.raw_set(
            name,
            super::function(lua, move |lua, args: MultiValue| pop(lua, args, &k, left))?,
        )?;
    }
    let k = known.clone();
    cold.raw_set(
        "flush_expired",
        super::function(lua, move |lua, args: MultiValue| {
            flush_expired(lua, args, &k)
        })?,
    )?;
    let k = known.clone();
    cold.raw_set(
        "get_keys",
        super::function(lua, move |lua, args: MultiValue| get_keys(lua, args, &k))?,
    )?;

    let chunk = lua
        .load(include_str!("../../lualib/shdict.lua"))
        .set_name("=ngx_lua_rs.shdict")
        .into_function()?;
    let mt: Table = chunk.call(cold)?;
    lua.set_named_registry_value(INSTALLED_KEY, &mt)?;

    let ngx: Table = lua.globals().get("ngx")?;
    let shared = subtable(lua, &ngx, "shared")?;
    for &z in zones {
        let dict = lua.create_table_with_capacity(1, 0)?;
        dict.raw_set(1, LightUserData(z as *mut c_void))?;
        dict.set_metatable(Some(mt.clone()))?;
        shared.raw_set(lua.create_string(Zone::name_of(z as usize, &known))?, dict)?;
    }
    Ok(())
}
