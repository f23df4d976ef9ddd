//! ngx.var: read and write nginx variables, `ngx.var[n]` for regex captures.

use mlua::{Lua, Table, Value};

use super::context::{frame, Ctx, Phase, ANY_REQUEST};
use super::{function, raise, ApiResult};
use crate::ffi::request::Req;
use crate::ffi::variables::{self, SetError};

const WRITE_CTX: Ctx = Ctx::of(&[
    Phase::Set,
    Phase::Rewrite,
    Phase::Access,
    Phase::Content,
    Phase::HeaderFilter,
    Phase::BodyFilter,
    Phase::Log,
    Phase::Balancer,
]);

fn get(lua: &Lua, (_t, key): (Table, Value)) -> ApiResult<Value> {
    let f = frame(lua, ANY_REQUEST)?;
    let bytes = match &key {
        Value::String(s) => variables::get(f.req, &s.as_bytes()),
        Value::Integer(n) if *n >= 0 => variables::capture(f.req, *n as usize),
        Value::Number(n) if *n >= 0.0 => variables::capture(f.req, *n as usize),
        other => return raise(format!("bad variable name type: {}", other.type_name())),
    };
    match bytes {
        Some(b) => Ok(Value::String(lua.create_string(b)?)),
        None => Ok(Value::Nil),
    }
}

fn set(lua: &Lua, (_t, key, value): (Table, Value, Value)) -> ApiResult<()> {
    let f = frame(lua, WRITE_CTX)?;
    let Value::String(name) = key else {
        return raise("bad variable name");
    };
    let name = name.as_bytes().to_vec();
    let v: Option<Vec<u8>> = match &value {
        Value::Nil => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => Some(value.to_string()?.into_bytes()),
        _ => return raise(format!("bad variable value type: {}", value.type_name())),
    };
    let shown = String::from_utf8_lossy(&name);
    match variables::set(f.req, &name, v.as_deref()) {
        Ok(()) => Ok(()),
        Err(SetError::NotChangeable) => raise(format!("variable \"{shown}\" not changeable")),
        Err(SetError::NoMemory) => raise("no memory"),
        Err(SetError::NotFound) => raise(format!(
            "variable \"{shown}\" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use \"set ${shown} '';\" in the config file to define it first"
        )),
    }
}

/// Expands `$name` / `${name}` in `text` against the request's variables
/// (for `*_by_lua_file` paths); unknown variables expand to nothing.
pub fn expand(r: Req, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'$' {
            out.push(text[i]);
            i += 1;
            continue;
        }
        let (name, next) = if text.get(i + 1) == Some(&b'{') {
            match text[i + 2..].iter().position(|&c| c == b'}') {
                Some(end) => (&text[i + 2..i + 2 + end], i + 3 + end),
                None => (&text[i + 1..i + 1], i + 1),
            }
        } else {
            let len = text[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            (&text[i + 1..i + 1 + len], i + 1 + len)
        };
        if name.is_empty() {
            out.push(b'$');
            i += 1;
            continue;
        }
        if let Some(v) = variables::get(r, name) {
            out.extend_from_slice(v);
        }
        i = next;
    }
    out
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let var = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.raw_set("__index", function(lua, get)?)?;
    mt.raw_set("__newindex", function(lua, set)?)?;
    var.set_metatable(Some(mt))?;
    ngx.raw_set("var", var)
}
