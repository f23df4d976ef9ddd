//! Fake requests: timers (and later other request-less code) run Lua through
//! the same machinery as requests, so they get a zeroed connection and
//! request in a pool of their own, as lua-nginx-module does.

use std::mem::size_of;

use nginx_sys::{
    ngx_connection_t, ngx_create_pool, ngx_destroy_pool, ngx_event_t, ngx_http_conf_ctx_t,
    ngx_http_module, ngx_http_request_t, ngx_list_init, ngx_log_t, ngx_pcalloc, ngx_pool_t,
    ngx_table_elt_t,
};

use super::request::Req;

/// A request that no client sent; dropping it destroys its pool (running the
/// pool cleanups, RequestCtx's drop among them).
pub struct FakeRequest {
    pool: *mut ngx_pool_t,
    req: Req,
}

impl FakeRequest {
    /// Builds one against the running cycle's http configuration.
    pub fn new() -> Option<FakeRequest> {
        // SAFETY: everything is allocated zeroed in a fresh pool owned by the
        // returned value; the conf arrays are the http block's (they live as
        // long as the cycle); ngx_cycle is set before any worker code runs.
        unsafe {
            let cycle = nginx_sys::ngx_cycle;
            if cycle.is_null() {
                return None;
            }
            let http = *(*cycle).conf_ctx.add(ngx_http_module.index) as *mut ngx_http_conf_ctx_t;
            if http.is_null() {
                return None;
            }
            let pool = ngx_create_pool(4096, (*cycle).log);
            if pool.is_null() {
                return None;
            }
            let alloc = |n: usize| ngx_pcalloc(pool, n);
            let log = alloc(size_of::<ngx_log_t>()) as *mut ngx_log_t;
            let c = alloc(size_of::<ngx_connection_t>()) as *mut ngx_connection_t;
            let r = alloc(size_of::<ngx_http_request_t>()) as *mut ngx_http_request_t;
            let rev = alloc(size_of::<ngx_event_t>()) as *mut ngx_event_t;
            let wev = alloc(size_of::<ngx_event_t>()) as *mut ngx_event_t;
            let ctx = alloc(size_of::<*mut std::ffi::c_void>() * nginx_sys::ngx_http_max_module);
            if log.is_null()
                || c.is_null()
                || r.is_null()
                || rev.is_null()
                || wev.is_null()
                || ctx.is_null()
            {
                ngx_destroy_pool(pool);
                return None;
            }
            *log = *(*cycle).log;
            (*log).handler = None;
            (*log).data = std::ptr::null_mut();
            (*pool).log = log;
            (*c).fd = -1;
            (*c).log = log;
            (*c).pool = pool;
            (*c).read = rev;
            (*c).write = wev;
            (*c).data = r as *mut _;
            (*rev).log = log;
            (*wev).log = log;
            (*r).pool = pool;
            (*r).connection = c;
            (*r).main = r;
            (*r).set_count(1);
            (*r).ctx = ctx as *mut *mut std::ffi::c_void;
            (*r).main_conf = (*http).main_conf;
            (*r).srv_conf = (*http).srv_conf;
            (*r).loc_conf = (*http).loc_conf;
            if ngx_list_init(
                &mut (*r).headers_in.headers,
                pool,
                2,
                size_of::<ngx_table_elt_t>(),
            ) != 0
                || ngx_list_init(
                    &mut (*r).headers_out.headers,
                    pool,
                    2,
                    size_of::<ngx_table_elt_t>(),
                ) != 0
            {
                ngx_destroy_pool(pool);
                return None;
            }
            Some(FakeRequest {
                pool,
                req: Req::from_raw(r)?,
            })
        }
    }

    pub fn req(&self) -> Req {
        self.req
    }
}

impl Drop for FakeRequest {
    fn drop(&mut self) {
        // SAFETY: the pool is ours and nothing else references the fake
        // request once its owner drops it. The pool's log lives inside the
        // pool, and ngx_destroy_pool logs (at debug level) while freeing its
        // blocks, so point it at the cycle's log first.
        unsafe {
            (*self.pool).log = (*nginx_sys::ngx_cycle).log;
            ngx_destroy_pool(self.pool)
        }
    }
}
