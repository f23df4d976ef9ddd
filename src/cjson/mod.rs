//! `require "cjson"` and `require "cjson.safe"`, built in: OpenResty's
//! lua-cjson 2.1 (same output bytes, options and error messages).
//!
//! - [`decode`], [`encode`], [`number`]: the JSON logic, no Lua.
//! - `crate::ffi::cjson`: the Lua C-API side of `encode`/`decode`.
//! - this file: module tables, instances and their settings, the option
//!   functions (cold paths, plain mlua).
//!
//! Each `require`d module and each `new()` is an instance with its own
//! settings; the default instances are per VM (they live in
//! `package.loaded`). `array_mt` and `empty_array_mt` are shared by all
//! instances of a VM, as upstream keeps them in the registry.

pub mod decode;
pub mod encode;
pub mod number;
pub mod value;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};

use crate::api::{self, ApiError, ApiResult};
use decode::DecodeOptions;
use encode::{EncodeOptions, InvalidNumbers};

pub const NAME: &str = "cjson";
pub const VERSION: &str = "2.1.0.11";

/// One instance's settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub encode: EncodeOptions,
    pub decode: DecodeOptions,
    pub keep_buffer: bool,
    pub decode_array_with_array_mt: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            encode: EncodeOptions::default(),
            decode: DecodeOptions::default(),
            keep_buffer: true,
            decode_array_with_array_mt: false,
        }
    }
}

/// One cjson instance: settings plus reusable buffers.
#[derive(Default)]
pub struct Instance {
    pub settings: Cell<Settings>,
    /// The encode buffer kept between calls (encode_keep_buffer).
    pub buf: RefCell<Vec<u8>>,
    /// Unescaped strings while decoding.
    pub scratch: RefCell<Vec<u8>>,
}

static EMPTY_ARRAY: u8 = 0;

/// `cjson.empty_array`: a lightuserdata unique to this module.
pub fn empty_array_ptr() -> *mut std::ffi::c_void {
    std::ptr::addr_of!(EMPTY_ARRAY) as *mut _
}

const ARRAY_MT_KEY: &str = "ngx_lua_rs.cjson.array_mt";
const EMPTY_ARRAY_MT_KEY: &str = "ngx_lua_rs.cjson.empty_array_mt";

fn shared_table(lua: &Lua, key: &str) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(key) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    lua.set_named_registry_value(key, &t)?;
    Ok(t)
}

/// Raises encode/decode failures (cjson) or returns them (cjson.safe);
/// argument errors (a third value) raise in both, as upstream.
const WRAP_LUA: &str = r#"
local encode, decode, safe = ...
local error = error
if safe then
    local function check(v, err, hard)
        if err == nil then return v end
        if hard then error(err, 0) end
        return nil, err
    end
    return function(...) return check(encode(...)) end,
           function(...) return check(decode(...)) end
end
local function check(v, err)
    if err ~= nil then error(err, 0) end
    return v
end
return function(...) return check(encode(...)) end,
       function(...) return check(decode(...)) end
"#;

const WRAP_KEY: &str = "ngx_lua_rs.cjson.wrap";

fn wrap(lua: &Lua) -> mlua::Result<Function> {
    if let Ok(f) = lua.named_registry_value::<Function>(WRAP_KEY) {
        return Ok(f);
    }
    let f = lua.load(WRAP_LUA).set_name("=cjson").into_function()?;
    lua.set_named_registry_value(WRAP_KEY, &f)?;
    Ok(f)
}

/// `require "cjson"`.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    new_instance(lua, false)
}

/// `require "cjson.safe"`.
pub fn safe_module(lua: &Lua) -> mlua::Result<Table> {
    new_instance(lua, true)
}

/// A module table with a fresh instance.
pub fn new_instance(lua: &Lua, safe: bool) -> mlua::Result<Table> {
    let array_mt = shared_table(lua, ARRAY_MT_KEY)?;
    let empty_array_mt = shared_table(lua, EMPTY_ARRAY_MT_KEY)?;
    let inst = Rc::new(Instance::default());
    let (raw_encode, raw_decode) =
        crate::ffi::cjson::functions(lua, inst.clone(), &array_mt, &empty_array_mt)?;
    let (encode, decode): (Function, Function) = wrap(lua)?.call((raw_encode, raw_decode, safe))?;

    let m = lua.create_table()?;
    m.raw_set("encode", encode)?;
    m.raw_set("decode", decode)?;
    options(lua, &m, &inst)?;
    m.raw_set(
        "new",
        lua.create_function(move |lua, ()| new_instance(lua, safe))?,
    )?;
    m.raw_set("null", LightUserData(std::ptr::null_mut()))?;
    m.raw_set("empty_array", LightUserData(empty_array_ptr()))?;
    m.raw_set("array_mt", array_mt)?;
    m.raw_set("empty_array_mt", empty_array_mt)?;
    m.raw_set("_NAME", NAME)?;
    m.raw_set("_VERSION", VERSION)?;
    Ok(m)
}

fn bad_arg(n: usize, fname: &str, what: &str) -> ApiError {
    ApiError::RaisePlain(format!("bad argument #{n} to '{fname}' ({what})"))
}

/// lua-cjson's argument count check: at most `n` arguments.
fn args(mut a: MultiValue, n: usize, fname: &str) -> ApiResult<Vec<Value>> {
    if a.len() > n {
        return Err(bad_arg(n + 1, fname, "found too many arguments"));
    }
    let mut v: Vec<Value> = a.drain(..).collect();
    v.resize(n, Value::Nil);
    Ok(v)
}

fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "number",
        Value::LightUserData(_) => "userdata",
        v => v.type_name(),
    }
}

/// An integer option: unchanged when nil, else an integer in min..=max.
fn int_option(
    v: &Value,
    idx: usize,
    setting: &mut i64,
    min: i64,
    max: i64,
    fname: &str,
) -> ApiResult<()> {
    let n = match v {
        Value::Nil => return Ok(()),
        Value::Integer(i) => *i,
        Value::Number(n) => *n as i64,
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => n as i64,
            None => return Err(bad_arg(idx, fname, "number expected, got string")),
        },
        other => {
            return Err(bad_arg(
                idx,
                fname,
                &format!("number expected, got {}", lua_type_name(other)),
            ))
        }
    };
    // lua-cjson stores the value in a C int and reports argument 1.
    let n = n as i32 as i64;
    if n < min || n > max {
        return Err(bad_arg(
            1,
            fname,
            &format!("expected integer between {min} and {max}"),
        ));
    }
    *setting = n;
    Ok(())
}

/// An enumerated option: nil keeps it, a boolean sets 0/1, else one of
/// `names` by name.
fn enum_option(
    v: &Value,
    idx: usize,
    setting: &mut usize,
    names: &[&str],
    fname: &str,
) -> ApiResult<()> {
    let name = match v {
        Value::Nil => return Ok(()),
        Value::Boolean(b) => {
            *setting = usize::from(*b);
            return Ok(());
        }
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => {
            let mut b = Vec::new();
            crate::ffi::fmt::push_number(&mut b, *n);
            String::from_utf8_lossy(&b).into_owned()
        }
        other => {
            return Err(bad_arg(
                idx,
                fname,
                &format!("string expected, got {}", lua_type_name(other)),
            ))
        }
    };
    match names.iter().position(|n| *n == name) {
        Some(i) => {
            *setting = i;
            Ok(())
        }
        None => Err(bad_arg(idx, fname, &format!("invalid option '{name}'"))),
    }
}

const ON_OFF: &[&str] = &["off", "on"];

/// A boolean option function: `f(v?)` sets (unless nil) and returns it.
fn bool_fn(
    lua: &Lua,
    m: &Table,
    inst: &Rc<Instance>,
    name: &'static str,
    field: fn(&mut Settings) -> &mut bool,
) -> mlua::Result<()> {
    let inst = inst.clone();
    api::set(lua, m, name, move |_, a: MultiValue| {
        let a = args(a, 1, name)?;
        let mut s = inst.settings.get();
        let mut cur = usize::from(*field(&mut s));
        enum_option(&a[0], 1, &mut cur, ON_OFF, name)?;
        *field(&mut s) = cur == 1;
        inst.settings.set(s);
        Ok(cur == 1)
    })
}

/// An integer option function.
fn int_fn(
    lua: &Lua,
    m: &Table,
    inst: &Rc<Instance>,
    name: &'static str,
    min: i64,
    max: i64,
    field: fn(&mut Settings) -> &mut u32,
) -> mlua::Result<()> {
    let inst = inst.clone();
    api::set(lua, m, name, move |_, a: MultiValue| {
        let a = args(a, 1, name)?;
        let mut s = inst.settings.get();
        let mut cur = i64::from(*field(&mut s));
        int_option(&a[0], 1, &mut cur, min, max, name)?;
        *field(&mut s) = cur as u32;
        inst.settings.set(s);
        Ok(cur)
    })
}

const INT_MAX: i64 = i32::MAX as i64;

fn options(lua: &Lua, m: &Table, inst: &Rc<Instance>) -> mlua::Result<()> {
    bool_fn(lua, m, inst, "encode_empty_table_as_object", |s| {
        &mut s.encode.empty_table_as_object
    })?;
    bool_fn(lua, m, inst, "decode_array_with_array_mt", |s| {
        &mut s.decode_array_with_array_mt
    })?;
    bool_fn(lua, m, inst, "encode_escape_forward_slash", |s| {
        &mut s.encode.escape_forward_slash
    })?;
    bool_fn(lua, m, inst, "encode_skip_unsupported_value_types", |s| {
        &mut s.encode.skip_unsupported
    })?;
    bool_fn(lua, m, inst, "decode_invalid_numbers", |s| {
        &mut s.decode.invalid_numbers
    })?;
    int_fn(lua, m, inst, "encode_max_depth", 1, INT_MAX, |s| {
        &mut s.encode.max_depth
    })?;
    int_fn(lua, m, inst, "decode_max_depth", 1, INT_MAX, |s| {
        &mut s.decode.max_depth
    })?;
    int_fn(lua, m, inst, "encode_number_precision", 1, 16, |s| {
        &mut s.encode.precision
    })?;

    let i = inst.clone();
    api::set(lua, m, "encode_keep_buffer", move |_, a: MultiValue| {
        let a = args(a, 1, "encode_keep_buffer")?;
        let mut s = i.settings.get();
        let mut cur = usize::from(s.keep_buffer);
        enum_option(&a[0], 1, &mut cur, ON_OFF, "encode_keep_buffer")?;
        s.keep_buffer = cur == 1;
        i.settings.set(s);
        if !s.keep_buffer {
            if let Ok(mut b) = i.buf.try_borrow_mut() {
                *b = Vec::new();
            }
        }
        Ok(s.keep_buffer)
    })?;

    let i = inst.clone();
    api::set(
        lua,
        m,
        "encode_invalid_numbers",
        move |lua, a: MultiValue| {
            const NAMES: &[&str] = &["off", "on", "null"];
            let a = args(a, 1, "encode_invalid_numbers")?;
            let mut s = i.settings.get();
            let mut cur = match s.encode.invalid_numbers {
                InvalidNumbers::Off => 0,
                InvalidNumbers::On => 1,
                InvalidNumbers::Null => 2,
            };
            enum_option(&a[0], 1, &mut cur, NAMES, "encode_invalid_numbers")?;
            s.encode.invalid_numbers = match cur {
                0 => InvalidNumbers::Off,
                1 => InvalidNumbers::On,
                _ => InvalidNumbers::Null,
            };
            i.settings.set(s);
            Ok(match cur {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => Value::String(lua.create_string("null")?),
            })
        },
    )?;

    let i = inst.clone();
    api::set(lua, m, "encode_sparse_array", move |_, a: MultiValue| {
        const F: &str = "encode_sparse_array";
        let a = args(a, 3, F)?;
        let mut s = i.settings.get();
        let mut convert = usize::from(s.encode.sparse_convert);
        let mut ratio = i64::from(s.encode.sparse_ratio);
        let mut safe = i64::from(s.encode.sparse_safe);
        enum_option(&a[0], 1, &mut convert, ON_OFF, F)?;
        s.encode.sparse_convert = convert == 1;
        i.settings.set(s);
        int_option(&a[1], 2, &mut ratio, 0, INT_MAX, F)?;
        s.encode.sparse_ratio = ratio as i32;
        i.settings.set(s);
        int_option(&a[2], 3, &mut safe, 0, INT_MAX, F)?;
        s.encode.sparse_safe = safe as i32;
        i.settings.set(s);
        Ok((convert == 1, ratio, safe))
    })?;
    Ok(())
}
