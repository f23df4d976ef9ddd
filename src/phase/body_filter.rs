//! body_filter_by_lua*: runs in nginx's body filter chain once per buffer
//! chain of the response (the last call sees eof); `ngx.arg[1]` is the
//! chunk and `ngx.arg[2]` the eof flag (api/arg.rs); cannot yield.
//! `return ngx.ERROR` aborts the response.

use nginx_sys::{ngx_chain_t, ngx_http_request_t, ngx_int_t};

use super::{load, request_vm, ERROR};
use crate::api::context::{Frame, Phase};
use crate::ffi::filter;
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::module;
use crate::sched::{self, RequestCtx};

/// The filter nginx calls (see ffi::filter::install).
///
/// # Safety
/// Called by nginx's body filter chain with a live request.
pub unsafe extern "C" fn filter(r: *mut ngx_http_request_t, input: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: nginx calls body filters with a live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return ERROR;
    };
    if !filter::lua_body_filters() {
        // No Lua filter anywhere: only capture subrequests stop here.
        return crate::ffi::guard(req.log(), ERROR, || filter::next_body(req, input));
    }
    crate::ffi::guard(req.log(), ERROR, || run(req, input))
}

fn run(r: Req, input: *mut ngx_chain_t) -> ngx_int_t {
    let lcf = module::request_loc_conf(r.raw());
    let (Some(h), Some(vm)) = (lcf.body_filter.as_ref(), request_vm(r)) else {
        return filter::next_body(r, input);
    };
    if r.header_only() {
        return filter::next_body(r, input);
    }
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return ERROR;
    };
    filter::body_filter(r, input, &ctx.body, || {
        let Ok(f) = load(vm, r, h) else { return false };
        let frame = Frame {
            req: r,
            phase: Phase::BodyFilter,
        };
        match sched::call_chunk(&vm.sched, frame, &f) {
            Ok(first) => {
                let rc = first.unwrap_or(0.0) as i64;
                !(rc == ERROR as i64 || rc >= 300)
            }
            Err(e) => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    r.log(),
                    &format!("failed to run body_filter_by_lua*: {e}"),
                );
                false
            }
        }
    })
}
