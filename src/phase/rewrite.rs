//! rewrite_by_lua*: runs at the end of the rewrite phase (see
//! init_worker::postpone for the reordering upstream does).

use nginx_sys::{ngx_http_request_t, ngx_int_t};

use super::{access_like, HTTP_500};
use crate::api::context::Phase;
use crate::ffi::request::Req;

/// # Safety
/// nginx calls it with a live request.
pub unsafe extern "C" fn handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls phase handlers with a live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return HTTP_500;
    };
    crate::ffi::guard(req.log(), HTTP_500, || {
        access_like::run(req, Phase::Rewrite)
    })
}
