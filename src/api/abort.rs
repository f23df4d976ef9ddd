//! ngx.on_abort and lua_check_client_abort: while a rewrite, access or
//! content handler runs, a client that closes its connection either starts
//! the registered callback as a light thread (which may ngx.exit to end the
//! request, or return and let the handler go on) or, with no callback,
//! aborts the request (499) and its light threads.

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::context::{frame, OUTPUT};
use super::socket::type_name;
use super::{raise, set, ApiResult};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::module;
use crate::net::downstream;
use crate::sched::{self, client, CoState, RequestCtx};

const CLIENT_CLOSED: isize = nginx_sys::NGX_HTTP_CLIENT_CLOSED_REQUEST as isize;

/// Called when a rewrite/access/content handler starts: with
/// lua_check_client_abort on, the client connection's read events are
/// watched for the client going away.
pub fn arm(r: Req) {
    if module::request_loc_conf(r.raw()).check_client_abort() {
        client::watch(r, false);
        downstream::watch_read(r);
    }
}

/// A read event on the client connection that no socket waits for.
pub fn client_read(r: Req, ctx: &RequestCtx) {
    if !module::request_loc_conf(r.raw()).check_client_abort() || !ctx.active() {
        client::block_reading(r);
        return;
    }
    if !downstream::client_gone(r) {
        return;
    }
    let cb = ctx.on_abort.borrow_mut().take();
    match cb {
        // The callback ran already: the handler goes on as it decided.
        None if ctx.on_abort_set.get() => {}
        None => {
            downstream::set_error(r);
            sched::abandon(r, ctx);
            r.finalize(CLIENT_CLOSED);
        }
        Some((key, parent)) => {
            let Some(vm) = crate::phase::request_vm(r) else {
                return;
            };
            let lua = &vm.lua;
            let func: Function = match lua.registry_value(&key) {
                Ok(f) => f,
                Err(_) => return,
            };
            let _ = lua.remove_registry_value(key);
            let slot = match sched::new_slot(
                lua,
                r,
                sched::Body::Func(func),
                parent,
                CoState::New,
                Some(MultiValue::new()),
            ) {
                Ok(s) => s,
                Err(e) => {
                    log::error(
                        nginx_sys::NGX_LOG_ERR as usize,
                        r.log(),
                        &format!("lua: failed to create thread: {e}"),
                    );
                    return;
                }
            };
            let co = {
                let mut cos = ctx.cos.borrow_mut();
                cos.push(slot);
                cos.len() - 1
            };
            if log::enabled(nginx_sys::NGX_LOG_DEBUG as usize, r.log()) {
                log::error(
                    nginx_sys::NGX_LOG_DEBUG as usize,
                    r.log(),
                    "lua waking up the on_abort callback thread",
                );
            }
            crate::phase::wake(r, sched::Target { co, thread: 0 }, Default::default());
        }
    }
}

fn on_abort(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let f = frame(lua, OUTPUT)?;
    let Some(ctx) = RequestCtx::get(f.req) else {
        return raise("no request ctx found");
    };
    let fail = |msg: &str| -> ApiResult<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Nil,
            Value::String(lua.create_string(msg)?),
        ]))
    };
    if ctx.on_abort_set.get() {
        return fail("duplicate call");
    }
    if !module::request_loc_conf(f.req.raw()).check_client_abort() {
        return fail("lua_check_client_abort is off");
    }
    let func = match args.front() {
        Some(Value::Function(func)) => func.clone(),
        other => {
            return raise(format!(
                "bad argument #1 to 'on_abort' (function expected, got {})",
                other.map(type_name).unwrap_or("no value")
            ))
        }
    };
    let key = lua.create_registry_value(func)?;
    *ctx.on_abort.borrow_mut() = Some((key, ctx.cur_co.get()));
    ctx.on_abort_set.set(true);
    Ok(MultiValue::from_iter([Value::Integer(1)]))
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    set(lua, ngx, "on_abort", on_abort)
}
