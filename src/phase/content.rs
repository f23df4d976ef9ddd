//! content_by_lua*: the location's content handler.

use nginx_sys::{ngx_http_request_t, ngx_int_t};

use super::{load, outcome_rc, request_vm, DECLINED, DONE, HTTP_500};
use crate::api::context::Phase;
use crate::ffi::request::Req;
use crate::module;
use crate::sched::{self, Outcome, RequestCtx};

/// # Safety
/// nginx calls it with a live request.
pub unsafe extern "C" fn handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls content handlers with a live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return HTTP_500;
    };
    crate::ffi::guard(req.log(), HTTP_500, || run(req))
}

fn run(r: Req) -> ngx_int_t {
    let lcf = module::request_loc_conf(r.raw());
    if lcf.content.is_none() {
        return DECLINED;
    }
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return HTTP_500;
    };
    if lcf.need_request_body() && !ctx.body_read.get() {
        // nginx counts a reference for the body read; body_ready finalizes it.
        let rc = r.read_body(Some(body_ready));
        if rc >= nginx_sys::NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
            return rc;
        }
        return DONE;
    }
    let (rc, yielded) = start(r);
    if yielded {
        // Returning NGX_DONE makes nginx drop one reference; keep the request
        // alive until the coroutine finishes and we finalize it.
        r.main_count_inc();
    }
    rc
}

/// Runs the handler; returns the rc and whether the coroutine is waiting.
fn start(r: Req) -> (ngx_int_t, bool) {
    let lcf = module::request_loc_conf(r.raw());
    let (Some(h), Some(vm)) = (lcf.content.as_ref(), request_vm(r)) else {
        return (HTTP_500, false);
    };
    let f = match load(vm, r, h) {
        Ok(f) => f,
        Err(rc) => return (rc, false),
    };
    crate::api::abort::arm(r);
    let outcome = sched::run(&vm.lua, r, Phase::Content, &f);
    (
        outcome_rc(r, Phase::Content, outcome),
        outcome == Outcome::Yielded,
    )
}

unsafe extern "C" fn body_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the body post handler with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        if let Some(ctx) = RequestCtx::get(req) {
            ctx.body_read.set(true);
        }
        let (rc, yielded) = start(req);
        if !yielded {
            req.finalize(rc);
        }
    })
}
