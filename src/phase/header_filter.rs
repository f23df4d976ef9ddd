//! header_filter_by_lua*: runs in nginx's header filter chain for every
//! response of the location (static files, proxied, error pages, Lua
//! output, subrequests); cannot yield. `ngx.exit(status)` there replaces
//! the response with nginx's special response for `status`.

use nginx_sys::{ngx_http_request_t, ngx_int_t, NGX_AGAIN, NGX_DECLINED};

use super::{load, request_vm, ERROR, OK};
use crate::api::context::{Frame, Phase};
use crate::ffi::filter;
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::module;
use crate::sched::{self, RequestCtx};

/// The filter nginx calls (see ffi::filter::install).
///
/// # Safety
/// Called by nginx's header filter chain with a live request.
pub unsafe extern "C" fn filter(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls header filters with a live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return ERROR;
    };
    if !filter::lua_header_filters() {
        // No Lua filter anywhere: only capture subrequests stop here.
        return crate::ffi::guard(req.log(), ERROR, || filter::next_header(req));
    }
    crate::ffi::guard(req.log(), ERROR, || match run(req) {
        rc if rc == NGX_DECLINED as ngx_int_t => OK,
        rc if rc == ERROR || rc == NGX_AGAIN as ngx_int_t => rc,
        _ => filter::next_header(req),
    })
}

/// Runs the handler; OK means "go on with the next filter", DECLINED that
/// the response was replaced (ngx.exit), ERROR a failure.
fn run(r: Req) -> ngx_int_t {
    let lcf = module::request_loc_conf(r.raw());
    if lcf.body_filter.is_some() {
        filter::need_in_memory(r);
    }
    let (Some(h), Some(vm)) = (lcf.header_filter.as_ref(), request_vm(r)) else {
        return OK;
    };
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return ERROR;
    };
    let Ok(f) = load(vm, r, h) else { return ERROR };
    let old_exit = ctx.exit_code.get().unwrap_or(0);
    let frame = Frame {
        req: r,
        phase: Phase::HeaderFilter,
    };
    if let Err(e) = sched::call_chunk(&vm.sched, frame, &f) {
        log::error(
            nginx_sys::NGX_LOG_ERR as usize,
            r.log(),
            &format!("failed to run header_filter_by_lua*: {e}"),
        );
        return ERROR;
    }
    match ctx.exit_code.get() {
        Some(code) if code as ngx_int_t != old_exit => {
            let code = code as ngx_int_t;
            if code == ERROR {
                return ERROR;
            }
            let rc = filter::finalize(r, code);
            if rc == ERROR || rc == NGX_AGAIN as ngx_int_t {
                return rc;
            }
            NGX_DECLINED as ngx_int_t
        }
        _ => OK,
    }
}
