//! The `ngx` table's computed fields (ngx.status, ngx.ctx, ngx.headers_sent,
//! ngx.is_subrequest) and ngx.get_phase.

use mlua::{Lua, Table, Value};

use super::context::{frame, phase, Ctx, Phase, ANY_REQUEST};
use super::{function, raise, set, ApiResult};
use crate::ffi::log;
use crate::sched::RequestCtx;

const HEADERS_SENT_CTX: Ctx = Ctx::of(&[Phase::Set, Phase::Rewrite, Phase::Access, Phase::Content]);
const STATUS_SET_CTX: Ctx = Ctx::of(&[
    Phase::Set,
    Phase::Rewrite,
    Phase::Access,
    Phase::Content,
    Phase::HeaderFilter,
]);

fn ctx_table(lua: &Lua) -> ApiResult<Table> {
    let f = frame(lua, ANY_REQUEST)?;
    let Some(ctx) = RequestCtx::get_or_create(f.req) else {
        return raise("no request ctx found");
    };
    if let Some(key) = ctx.ctx_table.borrow().as_ref() {
        return Ok(lua.registry_value(key)?);
    }
    let t = lua.create_table()?;
    *ctx.ctx_table.borrow_mut() = Some(lua.create_registry_value(&t)?);
    Ok(t)
}

fn index(lua: &Lua, (t, key): (Table, Value)) -> ApiResult<Value> {
    let Value::String(k) = &key else {
        return Ok(t.raw_get(key)?);
    };
    match &*k.as_bytes() {
        b"status" => {
            let f = frame(lua, ANY_REQUEST)?;
            Ok(Value::Integer(f.req.reported_status() as _))
        }
        b"ctx" => Ok(Value::Table(ctx_table(lua)?)),
        b"headers_sent" => {
            let f = frame(lua, HEADERS_SENT_CTX)?;
            Ok(Value::Boolean(f.req.header_sent()))
        }
        b"is_subrequest" => {
            let f = frame(lua, ANY_REQUEST)?;
            Ok(Value::Boolean(!f.req.is_main()))
        }
        _ => Ok(Value::Nil),
    }
}

fn newindex(lua: &Lua, (t, key, value): (Table, Value, Value)) -> ApiResult<()> {
    let Value::String(k) = &key else {
        t.raw_set(key, value)?;
        return Ok(());
    };
    match &*k.as_bytes() {
        b"status" => {
            let f = frame(lua, STATUS_SET_CTX)?;
            if f.req.header_sent() {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    f.req.log(),
                    "attempt to set ngx.status after sending out response headers",
                );
                return Ok(());
            }
            let status = match value {
                Value::Integer(i) => i,
                Value::Number(n) => n as i64,
                Value::String(s) => s.to_str().ok().and_then(|s| s.parse().ok()).unwrap_or(-1),
                _ => -1,
            };
            if !(100..=999).contains(&status) {
                return raise(format!("invalid HTTP status code {status}"));
            }
            f.req.set_status(status as usize);
            Ok(())
        }
        b"ctx" => {
            let f = frame(lua, ANY_REQUEST)?;
            let Value::Table(new) = value else {
                return raise(
                    "ctx should be a table while getting a ".to_string() + value.type_name(),
                );
            };
            let Some(ctx) = RequestCtx::get_or_create(f.req) else {
                return raise("no request ctx found");
            };
            *ctx.ctx_table.borrow_mut() = Some(lua.create_registry_value(&new)?);
            Ok(())
        }
        _ => {
            t.raw_set(key, value)?;
            Ok(())
        }
    }
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let mt = lua.create_table()?;
    mt.raw_set("__index", function(lua, index)?)?;
    mt.raw_set("__newindex", function(lua, newindex)?)?;
    ngx.set_metatable(Some(mt))?;
    set(lua, ngx, "get_phase", |lua, ()| match phase(lua) {
        Some(p) => Ok(p.name()),
        None => raise("no request found"),
    })
}
