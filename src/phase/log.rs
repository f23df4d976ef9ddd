//! log_by_lua*: runs in the log phase, after the response; cannot yield.

use nginx_sys::{ngx_http_request_t, ngx_int_t};

use super::{load, request_vm, OK};
use crate::api::context::{Frame, Phase};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::module;
use crate::sched;

/// # Safety
/// nginx calls it with a live request.
pub unsafe extern "C" fn handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls phase handlers with a live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return OK;
    };
    crate::ffi::guard(req.log(), OK, || run(req))
}

fn run(r: Req) -> ngx_int_t {
    let lcf = module::request_loc_conf(r.raw());
    let (Some(h), Some(vm)) = (lcf.log.as_ref(), request_vm(r)) else {
        return OK;
    };
    let Ok(f) = load(vm, r, h) else { return OK };
    let frame = Frame {
        req: r,
        phase: Phase::Log,
    };
    if let Err(e) = sched::call_chunk(&vm.sched, frame, &f) {
        log::error(
            nginx_sys::NGX_LOG_ERR as usize,
            r.log(),
            &format!("failed to run log_by_lua*: {e}"),
        );
    }
    OK
}
