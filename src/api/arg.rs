//! `ngx.arg` in body_filter_by_lua*: `ngx.arg[1]` is the chunk (a string;
//! assign a string, a number, a table of strings, or nil/"" to drop it) and
//! `ngx.arg[2]` the eof flag (assign true to end the response here).
//! set_by_lua* swaps in a plain table of its arguments while it runs
//! (phase/set.rs), so this metatable only serves the other phases.

use std::ffi::c_int;

use mlua::{Lua, Table};

use super::context::{Current, Phase};
use super::{c_api_function, raise, ApiResult};
use crate::ffi::filter;
use crate::ffi::lua_stack::{Arg, Stack};
use crate::ffi::lua_table::Rules;
use crate::sched::RequestCtx;

/// `ngx.arg`'s key as an index (integral numbers and numeric strings).
fn index_of(key: &Arg) -> Option<i64> {
    match key {
        Arg::Num(n) if (*n as i64) as f64 == *n => Some(*n as i64),
        Arg::Str(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// `ngx.arg[i]` (__index: table, key).
fn get(s: &Stack) -> ApiResult<c_int> {
    let Some(f) = Current::top() else {
        return raise("no request found");
    };
    if f.phase != Phase::BodyFilter {
        return raise("API disabled in the current context");
    }
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    match index_of(&s.arg(2)) {
        Some(1) => filter::with_chunk(&ctx.body, |b| s.push_bytes(b)),
        Some(2) => s.push_bool(filter::eof(&ctx.body)),
        _ => s.push_nil(),
    }
    Ok(1)
}

/// `ngx.arg[i] = v` (__newindex: table, key, value).
fn set(s: &Stack) -> ApiResult<c_int> {
    let Some(f) = Current::top() else {
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
    let key = s.arg(2);
    let Some(idx) = index_of(&key) else {
        return raise(format!(
            "bad argument #2 to '__newindex' (number expected, got {})",
            key.type_name()
        ));
    };
    let value = s.arg(3);
    let r = match idx {
        2 => filter::set_eof(
            f.req,
            &ctx.body,
            !matches!(value, Arg::Nil | Arg::None | Arg::Bool(false)),
        ),
        1 => match value {
            Arg::Nil | Arg::None => filter::set_chunk(f.req, &ctx.body, None),
            Arg::Str(b) => filter::set_chunk(f.req, &ctx.body, Some(b)),
            Arg::Num(n) => {
                let mut buf = Vec::new();
                crate::ffi::fmt::push_number(&mut buf, n);
                filter::set_chunk(f.req, &ctx.body, Some(&buf))
            }
            Arg::Table(t) => {
                let mut buf = Vec::new();
                if let Err(e) = s.flatten(t, &mut buf, Rules::Chunk) {
                    return raise(e);
                }
                filter::set_chunk(f.req, &ctx.body, Some(&buf))
            }
            other => return raise(format!("bad chunk data type: {}", other.type_name())),
        },
        _ => return raise(format!("bad index: {idx}")),
    };
    match r {
        Ok(()) => Ok(0),
        Err(e) => raise(e),
    }
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let arg = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.raw_set("__index", c_api_function(lua, get)?)?;
    mt.raw_set("__newindex", c_api_function(lua, set)?)?;
    arg.set_metatable(Some(mt))?;
    ngx.raw_set("arg", arg)
}
