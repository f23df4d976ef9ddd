//! `ngx.arg` in body_filter_by_lua*: `ngx.arg[1]` is the chunk (a string;
//! assign a string, a number, a table of strings, or nil/"" to drop it) and
//! `ngx.arg[2]` the eof flag (assign true to end the response here).
//! set_by_lua* swaps in a plain table of its arguments while it runs
//! (phase/set.rs), so this metatable only serves the other phases.

use mlua::{Lua, Table, Value};

use super::context::{Frame, Phase};
use super::{function, raise, ApiResult};
use crate::ffi::filter;
use crate::sched::RequestCtx;

fn top(_lua: &Lua) -> Option<Frame> {
    super::context::Current::top()
}

fn index_of(key: &Value) -> Option<i64> {
    match key {
        Value::Integer(i) => Some(*i),
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()),
        _ => None,
    }
}

/// `ngx.arg[i]`.
fn get(lua: &Lua, (_t, key): (Table, Value)) -> ApiResult<Value> {
    let Some(f) = top(lua) else {
        return raise("no request found");
    };
    if f.phase != Phase::BodyFilter {
        return raise("API disabled in the current context");
    }
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    match index_of(&key) {
        Some(1) => Ok(Value::String(filter::with_chunk(&ctx.body, |b| {
            lua.create_string(b)
        })?)),
        Some(2) => Ok(Value::Boolean(filter::eof(&ctx.body))),
        _ => Ok(Value::Nil),
    }
}

/// `ngx.arg[i] = v`.
fn set(lua: &Lua, (_t, key, value): (Table, Value, Value)) -> ApiResult<()> {
    let Some(f) = top(lua) else {
        return raise("no request object found");
    };
    if f.phase != Phase::BodyFilter {
        return raise(format!(
            "API disabled in the context of {}",
            f.phase.context_name()
        ));
    }
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("ctx not found");
    };
    let idx = match index_of(&key) {
        Some(i) => i,
        None => {
            return raise(format!(
                "bad argument #2 to '__newindex' (number expected, got {})",
                key.type_name()
            ))
        }
    };
    let r = match idx {
        2 => filter::set_eof(
            f.req,
            &ctx.body,
            !matches!(value, Value::Nil | Value::Boolean(false)),
        ),
        1 => match value {
            Value::Nil => filter::set_chunk(f.req, &ctx.body, None),
            Value::String(s) => filter::set_chunk(f.req, &ctx.body, Some(&s.as_bytes())),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                let s = lua
                    .coerce_string(v)?
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default();
                filter::set_chunk(f.req, &ctx.body, Some(&s))
            }
            Value::Table(t) => {
                let mut buf = Vec::new();
                if let Err(e) = push_table(&mut buf, &t, 0) {
                    return raise(e);
                }
                filter::set_chunk(f.req, &ctx.body, Some(&buf))
            }
            other => return raise(format!("bad chunk data type: {}", other.type_name())),
        },
        _ => return raise(format!("bad index: {idx}")),
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) => raise(e),
    }
}

/// Flattens an array of strings and numbers (nested arrays allowed), as
/// upstream's strict table-to-string does for body filter chunks.
fn push_table(out: &mut Vec<u8>, t: &Table, depth: usize) -> Result<(), String> {
    if depth > 100 {
        return Err("nested table too deep".into());
    }
    let mut max = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        match k {
            Value::Integer(i) if i >= 1 => max = max.max(i as usize),
            Value::Number(f) if f >= 1.0 && f.fract() == 0.0 => max = max.max(f as usize),
            _ => return Err("non-array table found".into()),
        }
    }
    for i in 1..=max {
        match t.raw_get::<Value>(i).map_err(|e| e.to_string())? {
            Value::String(s) => out.extend_from_slice(&s.as_bytes()),
            Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Number(n) => crate::ffi::fmt::push_number(out, n),
            Value::Table(inner) => push_table(out, &inner, depth + 1)?,
            other => return Err(format!("bad data type {} found", other.type_name())),
        }
    }
    Ok(())
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let arg = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.raw_set("__index", function(lua, get)?)?;
    mt.raw_set("__newindex", function(lua, set)?)?;
    arg.set_metatable(Some(mt))?;
    ngx.raw_set("arg", arg)
}
