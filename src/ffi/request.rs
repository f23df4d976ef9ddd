//! `Req`: a copyable handle on a live `ngx_http_request_t` with safe methods.
//!
//! Invariant: a `Req` is created only by our phase handlers and event
//! handlers from the request nginx handed them, and Lua code only reaches it
//! through the frame stack while that handler runs, so the request is alive
//! whenever a method is called.

use std::ffi::c_void;
use std::ptr::{self, NonNull};

use nginx_sys::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_chain_t, ngx_create_temp_buf,
    ngx_http_client_body_handler_pt, ngx_http_core_run_phases, ngx_http_finalize_request,
    ngx_http_internal_redirect, ngx_http_named_location, ngx_http_output_filter,
    ngx_http_read_client_request_body, ngx_http_request_t, ngx_http_run_posted_requests,
    ngx_http_send_header, ngx_int_t, ngx_log_t, ngx_palloc, ngx_pcalloc, ngx_pnalloc,
    ngx_pool_cleanup_add, ngx_pool_t, ngx_str_t,
};

use crate::module::ngx_http_lua_rs_module;

/// The pool cleanup of [`Req::pool_new`]'s values.
unsafe extern "C" fn drop_pool_value<T>(data: *mut c_void) {
    // SAFETY: `data` is the T written by pool_new, dropped once, here. A
    // panic in a destructor stops at catch_unwind instead of entering nginx.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
        ptr::drop_in_place(data as *mut T)
    }));
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Req(NonNull<ngx_http_request_t>);

macro_rules! r {
    ($s:expr) => {
        // SAFETY: see the module invariant: the request is alive.
        unsafe { &mut *$s.0.as_ptr() }
    };
}

impl Req {
    /// # Safety
    /// `r` must be a live request, handed to us by nginx.
    pub unsafe fn from_raw(r: *mut ngx_http_request_t) -> Option<Req> {
        NonNull::new(r).map(Req)
    }

    pub fn raw(self) -> *mut ngx_http_request_t {
        self.0.as_ptr()
    }

    pub fn log(self) -> *mut ngx_log_t {
        let r = r!(self);
        // SAFETY: every request has a live connection.
        unsafe { (*r.connection).log }
    }

    pub fn pool(self) -> *mut ngx_pool_t {
        r!(self).pool
    }

    pub fn is_main(self) -> bool {
        let r = r!(self);
        ptr::eq(r, r.main)
    }

    pub fn module_ctx(self) -> *mut c_void {
        let r = r!(self);
        // SAFETY: r->ctx has one slot per http module.
        unsafe { *r.ctx.add(ctx_index()) }
    }

    pub fn set_module_ctx(self, p: *mut c_void) {
        let r = r!(self);
        // SAFETY: as above.
        unsafe { *r.ctx.add(ctx_index()) = p }
    }

    pub fn header_sent(self) -> bool {
        r!(self).header_sent() != 0
    }

    pub fn header_only(self) -> bool {
        r!(self).header_only() != 0
    }

    /// The URI was changed (e.g. by `rewrite ... last`) and the location
    /// will be looked up again.
    pub fn uri_changed(self) -> bool {
        r!(self).uri_changed() != 0
    }

    /// The status ngx.status reports: an error page's status first, then
    /// the response status.
    pub fn reported_status(self) -> usize {
        let r = r!(self);
        if r.err_status != 0 {
            r.err_status
        } else {
            r.headers_out.status
        }
    }

    pub fn internal(self) -> bool {
        r!(self).internal() != 0
    }

    pub fn status(self) -> usize {
        r!(self).headers_out.status
    }

    pub fn set_status(self, s: usize) {
        let r = r!(self);
        r.headers_out.status = s;
        // nginx prints the status line from status_line if set: clear it so
        // the new status wins.
        r.headers_out.status_line.len = 0;
        if s == 101 {
            // nginx has no reason phrase for 1xx codes; lua-nginx-module
            // supplies this one (websocket handshakes).
            const LINE: &[u8] = b"101 Switching Protocols";
            r.headers_out.status_line = ngx_str_t {
                len: LINE.len(),
                data: LINE.as_ptr() as *mut u8,
            };
        }
    }

    /// Copies `bytes` into the request pool as an `ngx_str_t`.
    pub fn pool_str(self, bytes: &[u8]) -> Option<ngx_str_t> {
        if bytes.is_empty() {
            return Some(ngx_str_t {
                len: 0,
                data: ptr::null_mut(),
            });
        }
        // SAFETY: the pool is live; we copy exactly len bytes into fresh memory.
        unsafe {
            let p = ngx_pnalloc(self.pool(), bytes.len()) as *mut u8;
            if p.is_null() {
                return None;
            }
            ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            Some(ngx_str_t {
                len: bytes.len(),
                data: p,
            })
        }
    }

    /// A value built in place in the request pool (no copy of a large
    /// value through the stack), dropped when the pool is destroyed.
    pub fn pool_new<T>(self, make: impl FnOnce() -> T) -> Option<NonNull<T>> {
        const { assert!(std::mem::align_of::<T>() <= std::mem::size_of::<usize>()) };
        // SAFETY: the pool is live. The cleanup is registered first (with
        // no handler yet) so nothing can fail once the value exists; the
        // memory is word-aligned (ngx_palloc), enough for T (checked above).
        unsafe {
            let cln = ngx_pool_cleanup_add(self.pool(), 0);
            if cln.is_null() {
                return None;
            }
            let p = NonNull::new(ngx_palloc(self.pool(), std::mem::size_of::<T>()) as *mut T)?;
            p.as_ptr().write(make());
            (*cln).handler = Some(drop_pool_value::<T>);
            (*cln).data = p.as_ptr().cast();
            Some(p)
        }
    }

    /// A temporary buffer of `size` bytes in the request pool.
    pub fn temp_buf(self, size: usize) -> Option<*mut ngx_buf_t> {
        // SAFETY: the pool is live.
        let b = unsafe { ngx_create_temp_buf(self.pool(), size) };
        (!b.is_null()).then_some(b)
    }

    /// Sends a chain made of one buffer through the output filters.
    /// `data` may be empty when only flags (last_buf, flush) matter.
    pub fn send_buf(self, data: &[u8], last: bool, flush: bool) -> ngx_int_t {
        // SAFETY: buffers and chain links come from the live request pool; the
        // data is copied, so nginx never points into Rust memory.
        unsafe {
            let b = if data.is_empty() {
                ngx_pcalloc(self.pool(), std::mem::size_of::<ngx_buf_t>()) as *mut ngx_buf_t
            } else {
                let b = ngx_create_temp_buf(self.pool(), data.len());
                if !b.is_null() {
                    ptr::copy_nonoverlapping(data.as_ptr(), (*b).last, data.len());
                    (*b).last = (*b).last.add(data.len());
                }
                b
            };
            if b.is_null() {
                return nginx_sys::NGX_ERROR as ngx_int_t;
            }
            // The flags ngx_http_send_special gives its empty buffers: a
            // main request's last buffer is only last_buf (the chunked
            // filter then adds just the terminating chunk).
            if last {
                if self.is_main() {
                    (*b).set_last_buf(1);
                } else {
                    (*b).set_sync(1);
                    (*b).set_last_in_chain(1);
                }
            }
            if flush {
                (*b).set_flush(1);
            }
            if data.is_empty() && !last && !flush {
                return nginx_sys::NGX_OK as ngx_int_t;
            }
            // Filters copy the links they keep (as for send_special's
            // stack link), so this one need not outlive the call.
            let mut cl = ngx_chain_t {
                buf: b,
                next: ptr::null_mut(),
            };
            ngx_http_output_filter(self.raw(), &mut cl)
        }
    }

    /// Sends `data` followed by `tail` as one buffer through the output
    /// filters (ngx.say's text and newline, without joining them first).
    pub fn send_parts(self, data: &[u8], tail: &[u8]) -> ngx_int_t {
        let len = data.len() + tail.len();
        if len == 0 {
            return nginx_sys::NGX_OK as ngx_int_t;
        }
        // SAFETY: the buffer and chain link come from the live request pool,
        // sized for both parts; nginx never points into Rust memory.
        unsafe {
            let b = ngx_create_temp_buf(self.pool(), len);
            if b.is_null() {
                return nginx_sys::NGX_ERROR as ngx_int_t;
            }
            ptr::copy_nonoverlapping(data.as_ptr(), (*b).last, data.len());
            (*b).last = (*b).last.add(data.len());
            ptr::copy_nonoverlapping(tail.as_ptr(), (*b).last, tail.len());
            (*b).last = (*b).last.add(tail.len());
            let cl = ngx_alloc_chain_link(self.pool());
            if cl.is_null() {
                return nginx_sys::NGX_ERROR as ngx_int_t;
            }
            (*cl).buf = b;
            (*cl).next = ptr::null_mut();
            ngx_http_output_filter(self.raw(), cl)
        }
    }

    /// Sends a ready chain through the output filters.
    ///
    /// # Safety
    /// `cl` must be a chain of request-pool buffers.
    pub unsafe fn output_chain(self, cl: *mut ngx_chain_t) -> ngx_int_t {
        // SAFETY: guaranteed by the caller.
        unsafe { ngx_http_output_filter(self.raw(), cl) }
    }

    pub fn send_header(self) -> ngx_int_t {
        // SAFETY: the request is alive.
        unsafe { ngx_http_send_header(self.raw()) }
    }

    pub fn finalize(self, rc: ngx_int_t) {
        // SAFETY: the request is alive; nginx takes over from here.
        unsafe { ngx_http_finalize_request(self.raw(), rc) }
    }

    pub fn run_phases(self) {
        // SAFETY: as above.
        unsafe { ngx_http_core_run_phases(self.raw()) }
    }

    /// What runs the posted (sub)requests of this request's connection
    /// once the request's own work is done: taken before that work, since
    /// the work may finalize and free the request (the connection itself
    /// lives in nginx's connection array; nginx checks c->destroyed).
    pub fn posted_requests(self) -> PostedRequests {
        PostedRequests(r!(self).connection)
    }

    pub fn main_count_inc(self) {
        let r = r!(self);
        // SAFETY: r->main is the live main request.
        unsafe { (*r.main).set_count((*r.main).count() + 1) }
    }

    pub fn main_count_dec(self) {
        let r = r!(self);
        // SAFETY: as above.
        unsafe { (*r.main).set_count((*r.main).count().saturating_sub(1)) }
    }

    pub fn read_body(self, post: ngx_http_client_body_handler_pt) -> ngx_int_t {
        // SAFETY: the request is alive; nginx calls `post` later with it.
        unsafe {
            // As lua-nginx-module: one buffer when it fits, and a body that
            // spills to disk stays in its temp file until the request ends
            // (ngx.req.get_body_file returns that file's name).
            let r = self.get();
            r.set_request_body_in_single_buf(1);
            r.set_request_body_in_persistent_file(1);
            r.set_request_body_in_clean_file(1);
            r.set_request_body_file_log_level(0);
            ngx_http_read_client_request_body(self.raw(), post)
        }
    }

    /// Internal redirect to `uri` (`@name` for a named location).
    pub fn redirect(self, uri: &[u8], args: &[u8]) -> ngx_int_t {
        let (Some(mut u), Some(mut a)) = (self.pool_str(uri), self.pool_str(args)) else {
            return nginx_sys::NGX_ERROR as ngx_int_t;
        };
        // SAFETY: uri and args live in the request pool as nginx requires.
        unsafe {
            if uri.first() == Some(&b'@') {
                ngx_http_named_location(self.raw(), &mut u)
            } else {
                ngx_http_internal_redirect(self.raw(), &mut u, &mut a)
            }
        }
    }

    /// Gives access to the raw struct for the ffi wrappers of other areas.
    ///
    /// # Safety
    /// The caller must not keep the reference beyond the current handler call.
    pub unsafe fn get<'a>(self) -> &'a mut ngx_http_request_t {
        r!(self)
    }
}

fn ctx_index() -> usize {
    // SAFETY: ctx_index is written once by nginx when the module is loaded.
    unsafe { (*ptr::addr_of!(ngx_http_lua_rs_module)).ctx_index }
}

/// See [`Req::posted_requests`].
#[derive(Clone, Copy)]
pub struct PostedRequests(*mut nginx_sys::ngx_connection_t);

impl PostedRequests {
    pub fn run(self) {
        // SAFETY: the pointer is an element of nginx's connection array,
        // valid for the process; ngx_http_run_posted_requests returns early
        // for a destroyed connection.
        unsafe { ngx_http_run_posted_requests(self.0) }
    }
}
