//! Subrequest plumbing for `ngx.location.capture*` (api/location.rs).
//!
//! A capture creates background subrequests (`ngx_http_subrequest` with
//! `NGX_HTTP_SUBREQUEST_BACKGROUND`: not in the parent's postponed list, the
//! connection's active request stays the parent) whose `post_subrequest`
//! handler is ours. That handler is also the mark our header and body
//! filters look for: a capture subrequest's response header stops in our
//! header filter and its body is copied into memory by our body filter
//! instead of going further down the chain (nothing reaches the client).
//!
//! When the last subrequest of a capture finishes, the parent request is
//! posted with its write event handler pointed at [`capture_wev`] (holding
//! one reference on the main request meanwhile), which resumes the waiting
//! coroutine with the results, as lua-nginx-module resumes its parent from
//! `r->parent->write_event_handler`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::c_void;
use std::ptr;

use nginx_sys::{
    ngx_alloc_chain_link, ngx_chain_t, ngx_create_temp_buf, ngx_http_core_main_conf_t,
    ngx_http_core_module, ngx_http_event_handler_pt, ngx_http_post_request,
    ngx_http_post_subrequest_t, ngx_http_posted_request_t, ngx_http_request_body_t,
    ngx_http_request_t, ngx_int_t, ngx_list_init, ngx_list_part_t, ngx_list_push, ngx_palloc,
    ngx_pcalloc, ngx_str_t, ngx_table_elt_t, ngx_variable_value_t, NGX_HTTP_SUBREQUEST_BACKGROUND,
};
use ngx::core::Pool;

use super::filter;
use super::log;
use super::request::Req;
use crate::sched::{CoState, RequestCtx, Waiter};

const OK: ngx_int_t = nginx_sys::NGX_OK as ngx_int_t;
const ERROR: ngx_int_t = nginx_sys::NGX_ERROR as ngx_int_t;
const AGAIN: ngx_int_t = nginx_sys::NGX_AGAIN as ngx_int_t;
const DONE: ngx_int_t = nginx_sys::NGX_DONE as ngx_int_t;

/// Per-parent-request capture state (a field of the parent's RequestCtx).
#[derive(Default)]
pub struct ParentState {
    /// Coroutines with a capture in flight (one entry per capture); ngx.exit
    /// and ngx.thread.kill refuse while they are there.
    inflight: RefCell<Vec<usize>>,
    /// Captures whose subrequests all finished, to deliver in order.
    ready: RefCell<VecDeque<*mut Capture>>,
    /// Our write event handler is installed and the request posted (with a
    /// reference on the main request held).
    hooked: Cell<bool>,
    /// The write event handler to put back.
    saved_wev: Cell<ngx_http_event_handler_pt>,
}

impl ParentState {
    /// Whether any coroutine of the request waits for subrequests.
    pub fn pending(&self) -> bool {
        !self.inflight.borrow().is_empty()
    }

    /// Whether coroutine `co` waits for subrequests.
    pub fn pending_for(&self, co: usize) -> bool {
        self.inflight.borrow().contains(&co)
    }
}

/// One header of a captured response.
pub enum HeaderValue {
    Str(Vec<u8>),
    Num(i64),
}

/// Response headers in list order.
pub type HeaderList = Vec<(Vec<u8>, Vec<u8>)>;
/// Headers nginx keeps outside the list (they replace list entries).
pub type Overrides = Vec<(&'static str, HeaderValue)>;

/// What one subrequest produced.
pub struct SubResult {
    pub status: usize,
    pub truncated: bool,
    pub body: Vec<u8>,
    /// Headers in list order (repeated names make multi-value entries).
    pub headers: HeaderList,
    pub overrides: Overrides,
}

/// One ngx.location.capture* call: lives in the main request's pool.
pub struct Capture {
    parent: Req,
    waiter: Waiter,
    /// The waiting coroutine's address: a later coroutine in the same slot
    /// (a new phase handler) must not receive these results.
    thread_ptr: usize,
    pending: usize,
    results: Vec<Option<SubResult>>,
}

/// A capture started by [`begin`] (it lives in the main request's pool).
#[derive(Clone, Copy)]
pub struct CaptureHandle(*mut Capture);

/// One capture subrequest's state; `post_subrequest->data`.
struct SubSlot {
    capture: *mut Capture,
    index: usize,
    body: Vec<u8>,
    seen_last: bool,
    header_seen: bool,
    done: bool,
}

/// How a subrequest's variables relate to its parent's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VarsAction {
    Fresh,
    Copy,
    Share,
}

/// Everything a subrequest is created with (validated by api/location.rs).
pub struct SubSpec {
    pub uri: Vec<u8>,
    pub args: Vec<u8>,
    pub method: (usize, &'static [u8]),
    pub body: Option<Vec<u8>>,
    pub always_forward_body: bool,
    pub vars_action: VarsAction,
    pub vars: Vec<(Vec<u8>, Vec<u8>)>,
    pub headers: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

/// `ngx_http_parse_unsafe_uri`: splits `uri` at '?' and refuses "..", NULs
/// and the like. Returns (path, args).
pub fn parse_unsafe_uri(r: Req, uri: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut u = r.pool_str(uri)?;
    let mut args = ngx_str_t {
        len: 0,
        data: ptr::null_mut(),
    };
    let mut flags: nginx_sys::ngx_uint_t = 0;
    // SAFETY: `u` lives in the request pool; nginx only narrows u/args to
    // parts of it.
    unsafe {
        if nginx_sys::ngx_http_parse_unsafe_uri(r.raw(), &mut u, &mut args, &mut flags) != OK {
            return None;
        }
        Some((
            super::str_bytes(&u).to_vec(),
            super::str_bytes(&args).to_vec(),
        ))
    }
}

/// Starts a capture in the parent `r` for coroutine `waiter`: returns the
/// capture to pass to [`create`] for each subrequest.
pub fn begin(r: Req, waiter: Waiter, thread_ptr: usize, n: usize) -> Option<CaptureHandle> {
    let ctx = RequestCtx::get_or_create(r)?;
    let cap = Capture {
        parent: r,
        waiter,
        thread_ptr,
        pending: 0,
        results: (0..n).map(|_| None).collect(),
    };
    // SAFETY: the pool is the main request's (shared by its subrequests),
    // alive as long as any of them; `allocate` drops the value with it.
    let p = unsafe { Pool::from_ngx_pool(r.pool()).allocate(cap) };
    if p.is_null() {
        return None;
    }
    ctx.capture.inflight.borrow_mut().push(waiter.co);
    Some(CaptureHandle(p))
}

/// A capture whose subrequests could not all be created: the coroutine
/// will not wait for it.
pub fn abandon(r: Req, cap: CaptureHandle) {
    let cap = cap.0;
    // SAFETY: `cap` came from begin() for this request and lives in its pool.
    let co = unsafe { (*cap).waiter.co };
    // SAFETY: as above; no subrequest delivers to it once pending is cleared.
    unsafe { (*cap).pending = usize::MAX };
    if let Some(ctx) = RequestCtx::get(r) {
        let mut inflight = ctx.capture.inflight.borrow_mut();
        if let Some(i) = inflight.iter().position(|&c| c == co) {
            inflight.remove(i);
        }
    }
}

/// Creates subrequest `index` of capture `cap`. Errors are the Lua error
/// messages upstream raises.
pub fn create(r: Req, cap: CaptureHandle, index: usize, spec: &SubSpec) -> Result<Req, String> {
    let cap = cap.0;
    // SAFETY: the live parent request, its pool, and `cap` (from begin());
    // every structure nginx keeps is allocated in the pool.
    unsafe {
        let raw = r.get();
        if raw.subrequests() == 0 {
            log::error(
                nginx_sys::NGX_LOG_ERR as usize,
                r.log(),
                &format!(
                    "lua subrequests cycle while processing \"{}\"",
                    String::from_utf8_lossy(&spec.uri)
                ),
            );
            return Err(format!("failed to issue subrequest: {ERROR}"));
        }
        let pool = r.pool();
        let no_mem = || "no memory".to_string();
        let mut uri = r.pool_str(&spec.uri).ok_or_else(no_mem)?;
        let mut args = r.pool_str(&spec.args).ok_or_else(no_mem)?;
        let slot = Pool::from_ngx_pool(pool).allocate(SubSlot {
            capture: cap,
            index,
            body: Vec::new(),
            seen_last: false,
            header_seen: false,
            done: false,
        });
        let psr = ngx_palloc(pool, std::mem::size_of::<ngx_http_post_subrequest_t>())
            as *mut ngx_http_post_subrequest_t;
        if slot.is_null() || psr.is_null() {
            return Err(no_mem());
        }
        (*psr).handler = Some(post_subrequest);
        (*psr).data = slot as *mut c_void;
        let mut sr: *mut ngx_http_request_t = ptr::null_mut();
        let rc = nginx_sys::ngx_http_subrequest(
            r.raw(),
            &mut uri,
            &mut args,
            &mut sr,
            psr,
            NGX_HTTP_SUBREQUEST_BACKGROUND as nginx_sys::ngx_uint_t,
        );
        let Some(sreq) = Req::from_raw(sr).filter(|_| rc == OK) else {
            return Err(format!("failed to issue subrequest: {rc}"));
        };
        (*cap).pending += 1;
        if let Err(rc) = adjust(r, sreq, spec) {
            cancel(sreq);
            (*slot).done = true;
            (*cap).pending -= 1;
            return Err(format!("failed to adjust the subrequest: {rc}"));
        }
        Ok(sreq)
    }
}

/// Undoes a created subrequest that will not run (upstream's
/// ngx_http_lua_cancel_subreq): unposted, its reference dropped.
///
/// # Safety
/// `sr` was just created by ngx_http_subrequest and not run yet.
unsafe fn cancel(sr: Req) {
    // SAFETY: guaranteed by the caller; the posted list lives in the pool.
    unsafe {
        let raw = sr.get();
        let main = raw.main;
        let mut p: *mut *mut ngx_http_posted_request_t = &mut (*main).posted_requests;
        while !(*p).is_null() {
            if (**p).request == sr.raw() {
                *p = (**p).next;
                break;
            }
            p = &mut (**p).next;
        }
        (*main).set_count((*main).count().saturating_sub(1));
    }
}

/// The method, body, headers and variables of a new subrequest
/// (upstream's ngx_http_lua_adjust_subrequest). Err carries the rc that
/// upstream reports.
fn adjust(r: Req, sr: Req, spec: &SubSpec) -> Result<(), ngx_int_t> {
    // SAFETY: both requests are alive; everything is allocated in their
    // (shared) pool.
    unsafe {
        let praw = r.get();
        let raw = sr.get();
        if let Some(body) = &spec.body {
            let rb = ngx_pcalloc(raw.pool, std::mem::size_of::<ngx_http_request_body_t>())
                as *mut ngx_http_request_body_t;
            if rb.is_null() {
                return Err(ERROR);
            }
            if !body.is_empty() {
                let b = ngx_create_temp_buf(raw.pool, body.len());
                let cl = ngx_alloc_chain_link(raw.pool);
                if b.is_null() || cl.is_null() {
                    return Err(ERROR);
                }
                ptr::copy_nonoverlapping(body.as_ptr(), (*b).last, body.len());
                (*b).last = (*b).last.add(body.len());
                (*cl).buf = b;
                (*cl).next = ptr::null_mut();
                (*rb).bufs = cl;
                (*rb).buf = b;
            }
            raw.request_body = rb;
            set_content_length(r, sr, body.len())?;
        } else if !spec.always_forward_body
            && spec.method.0 != nginx_sys::NGX_HTTP_PUT as usize
            && spec.method.0 != nginx_sys::NGX_HTTP_POST as usize
            && praw.headers_in.content_length_n > 0
        {
            raw.request_body = ptr::null_mut();
            set_content_length(r, sr, 0)?;
        } else {
            // The parent's body (if read) and headers, the headers in a list
            // of the subrequest's own.
            copy_headers(r, sr, false)?;
        }
        raw.method = spec.method.0;
        raw.method_name = ngx_str_t {
            len: spec.method.1.len(),
            data: spec.method.1.as_ptr() as *mut u8,
        };

        if spec.vars_action != VarsAction::Share {
            let cmcf = *raw.main_conf.add(ngx_http_core_module.ctx_index)
                as *mut ngx_http_core_main_conf_t;
            let size = (*cmcf).variables.nelts * std::mem::size_of::<ngx_variable_value_t>();
            let vars = if spec.vars_action == VarsAction::Copy {
                let v = ngx_palloc(raw.pool, size) as *mut ngx_variable_value_t;
                if !v.is_null() && size > 0 {
                    ptr::copy_nonoverlapping(praw.variables as *const u8, v as *mut u8, size);
                }
                v
            } else {
                ngx_pcalloc(raw.pool, size) as *mut ngx_variable_value_t
            };
            if vars.is_null() && size > 0 {
                return Err(ERROR);
            }
            raw.variables = vars;
        }
    }
    for (name, value) in &spec.vars {
        let shown = String::from_utf8_lossy(name).to_ascii_lowercase();
        match super::variables::set(sr, name, Some(value)) {
            Ok(()) => {}
            Err(super::variables::SetError::NotChangeable) => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    sr.log(),
                    &format!("variable \"{shown}\" not changeable"),
                );
                return Err(nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
            }
            Err(super::variables::SetError::NotFound) => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    sr.log(),
                    &format!(
                        "variable \"{shown}\" cannot be assigned a value (maybe you forgot to define it first?) "
                    ),
                );
                return Err(ERROR);
            }
            Err(super::variables::SetError::NoMemory) => return Err(ERROR),
        }
    }
    for (name, values) in &spec.headers {
        for (i, v) in values.iter().enumerate() {
            if super::req::set_header(sr, name, v, i == 0).is_err() {
                return Err(ERROR);
            }
        }
    }
    Ok(())
}

/// Gives `sr` a header list of its own holding the parent's headers
/// (without Content-Length when `skip_length`).
fn copy_headers(r: Req, sr: Req, skip_length: bool) -> Result<(), ngx_int_t> {
    // SAFETY: both requests are alive; the new list and its elements live in
    // the pool, and the copied elements point to pool or static memory.
    unsafe {
        let praw = r.get();
        let raw = sr.get();
        if ngx_list_init(
            &mut raw.headers_in.headers,
            raw.pool,
            20,
            std::mem::size_of::<ngx_table_elt_t>(),
        ) != OK
        {
            return Err(ERROR);
        }
        let mut part: *mut ngx_list_part_t = &mut praw.headers_in.headers.part;
        while !part.is_null() {
            let elts = (*part).elts as *const ngx_table_elt_t;
            for i in 0..(*part).nelts {
                let h = elts.add(i);
                if (*h).hash == 0 {
                    continue;
                }
                if skip_length {
                    let key = super::str_bytes(&(*h).key);
                    if key.eq_ignore_ascii_case(b"Content-Length")
                        || key.eq_ignore_ascii_case(b"Transfer-Encoding")
                    {
                        continue;
                    }
                }
                let n = ngx_list_push(&mut raw.headers_in.headers) as *mut ngx_table_elt_t;
                if n.is_null() {
                    return Err(ERROR);
                }
                ptr::copy_nonoverlapping(h, n, 1);
            }
            part = (*part).next;
        }
    }
    Ok(())
}

/// The parent's other headers plus `Content-Length: len` (upstream's
/// ngx_http_lua_set_content_length_header).
fn set_content_length(r: Req, sr: Req, len: usize) -> Result<(), ngx_int_t> {
    copy_headers(r, sr, true)?;
    // SAFETY: the live subrequest.
    unsafe {
        let raw = sr.get();
        raw.headers_in.content_length = ptr::null_mut();
        raw.headers_in.transfer_encoding = ptr::null_mut();
        raw.headers_in.set_chunked(0);
        raw.headers_in.content_length_n = len as i64;
    }
    let v = len.to_string();
    super::req::set_header(sr, b"Content-Length", v.as_bytes(), true).map_err(|_| ERROR)?;
    // SAFETY: as above (set_header may parse the value again).
    unsafe { sr.get().headers_in.content_length_n = len as i64 };
    Ok(())
}

/// The capture state of a subrequest made by ngx.location.capture*.
fn slot_of(r: Req) -> Option<*mut SubSlot> {
    // SAFETY: the live request; post_subrequest points to a pool struct.
    unsafe {
        let ps = r.get().post_subrequest;
        if ps.is_null() {
            return None;
        }
        let ours = post_subrequest as unsafe extern "C" fn(_, _, _) -> _ as usize;
        match (*ps).handler {
            Some(h) if h as usize == ours => Some((*ps).data as *mut SubSlot),
            _ => None,
        }
    }
}

/// Whether `r` is a capture subrequest (its output stops in our filters).
#[inline]
pub fn is_capture(r: Req) -> bool {
    slot_of(r).is_some()
}

/// The header filter's end for a capture subrequest: the header stays here
/// (read from r->headers_out when the subrequest ends); the body must come
/// in memory.
pub fn capture_header(r: Req) -> ngx_int_t {
    let Some(slot) = slot_of(r) else { return ERROR };
    // SAFETY: the slot lives in the pool; the request is alive.
    unsafe {
        (*slot).header_seen = true;
        r.get().set_filter_need_in_memory(1);
    }
    OK
}

/// The body filter's end for a capture subrequest: copies the chunk into
/// the subrequest's buffer and marks its buffers consumed.
#[allow(clippy::not_unsafe_ptr_arg_deref)] // `input` comes from nginx's filter call
pub fn capture_body(r: Req, input: *mut ngx_chain_t) -> ngx_int_t {
    let Some(slot) = slot_of(r) else { return ERROR };
    // SAFETY: the slot lives in the pool; `input` is the chain nginx passed.
    unsafe {
        let slot = &mut *slot;
        if !slot.done {
            for l in filter::links(input) {
                let b = (*l).buf;
                slot.body.extend_from_slice(filter::mem_bytes(b));
                if (*b).last_buf() != 0 || (*b).last_in_chain() != 0 {
                    slot.seen_last = true;
                }
            }
        }
        filter::consume(input);
    }
    OK
}

/// The headers of a finished subrequest, as upstream reports them.
fn read_headers(sr: Req) -> (HeaderList, Overrides) {
    let mut list = Vec::new();
    let mut over = Vec::new();
    // SAFETY: the subrequest's struct and headers live in the main pool.
    unsafe {
        let ho = &mut sr.get().headers_out;
        let mut part: *mut ngx_list_part_t = &mut ho.headers.part;
        while !part.is_null() {
            let elts = (*part).elts as *const ngx_table_elt_t;
            for i in 0..(*part).nelts {
                let h = &*elts.add(i);
                if h.hash != 0 {
                    list.push((
                        super::str_bytes(&h.key).to_vec(),
                        super::str_bytes(&h.value).to_vec(),
                    ));
                }
            }
            part = (*part).next;
        }
        if ho.content_type.len > 0 {
            over.push((
                "Content-Type",
                HeaderValue::Str(super::str_bytes(&ho.content_type).to_vec()),
            ));
        }
        if ho.content_length.is_null() && ho.content_length_n >= 0 {
            over.push(("Content-Length", HeaderValue::Num(ho.content_length_n)));
        }
        if !ho.location.is_null() && (*ho.location).value.len > 0 {
            over.push((
                "Location",
                HeaderValue::Str(super::str_bytes(&(*ho.location).value).to_vec()),
            ));
        }
        if ho.last_modified_time != -1
            && !matches!(ho.status as u32, nginx_sys::NGX_HTTP_OK | 206 | 304 | 204)
        {
            ho.last_modified_time = -1;
            ho.last_modified = ptr::null_mut();
        }
        if ho.last_modified.is_null() && ho.last_modified_time != -1 {
            let mut buf = [0u8; 29];
            let end = nginx_sys::ngx_http_time(buf.as_mut_ptr(), ho.last_modified_time);
            let n = end.offset_from(buf.as_ptr()) as usize;
            over.push(("Last-Modified", HeaderValue::Str(buf[..n.min(29)].to_vec())));
        }
    }
    (list, over)
}

/// nginx calls this when a capture subrequest finalizes (possibly more
/// than once): the first final call records the response.
unsafe extern "C" fn post_subrequest(
    r: *mut ngx_http_request_t,
    data: *mut c_void,
    rc: ngx_int_t,
) -> ngx_int_t {
    // SAFETY: nginx calls post_subrequest handlers with the live subrequest.
    let Some(sr) = (unsafe { Req::from_raw(r) }) else {
        return ERROR;
    };
    crate::ffi::guard(sr.log(), ERROR, || {
        // SAFETY: `data` is the SubSlot create() allocated in the pool.
        let slot = unsafe { &mut *(data as *mut SubSlot) };
        if slot.done {
            return OK;
        }
        // SAFETY: the live subrequest.
        let raw = unsafe { sr.get() };
        if rc == AGAIN || (rc == OK && (raw.buffered() != 0 || !raw.postponed.is_null())) {
            // Not over yet: nginx finalizes it again when the output is out.
            return rc;
        }
        slot.done = true;
        let mut status = raw.headers_out.status;
        if status == 0 {
            status = match rc {
                OK => nginx_sys::NGX_HTTP_OK as usize,
                ERROR => nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as usize,
                rc if rc >= 100 => rc as usize,
                _ => 0,
            };
        }
        let truncated = !slot.seen_last;
        let special = rc == ERROR
            || rc == nginx_sys::NGX_HTTP_CREATED as ngx_int_t
            || rc == nginx_sys::NGX_HTTP_NO_CONTENT as ngx_int_t
            || (rc >= nginx_sys::NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t
                && rc != nginx_sys::NGX_HTTP_CLOSE as ngx_int_t
                && rc != nginx_sys::NGX_HTTP_REQUEST_TIME_OUT as ngx_int_t
                && rc != nginx_sys::NGX_HTTP_CLIENT_CLOSED_REQUEST as ngx_int_t);
        let ret = if special {
            if rc > OK {
                // What ngx_http_special_response_handler would do to the
                // header, without producing the error page.
                raw.err_status = rc as usize;
                raw.set_expect_tested(1);
                raw.headers_out.content_type.len = 0;
                raw.headers_out.content_length_n = 0;
                raw.set_allow_ranges(0);
                // SAFETY: header elements live in the pool.
                unsafe {
                    if !raw.headers_out.accept_ranges.is_null() {
                        (*raw.headers_out.accept_ranges).hash = 0;
                        raw.headers_out.accept_ranges = ptr::null_mut();
                    }
                    if !raw.headers_out.last_modified.is_null() {
                        (*raw.headers_out.last_modified).hash = 0;
                        raw.headers_out.last_modified = ptr::null_mut();
                    }
                }
                raw.headers_out.last_modified_time = -1;
                if !slot.header_seen && sr.send_header() == ERROR {
                    return ERROR;
                }
            }
            OK
        } else {
            rc
        };
        let body = std::mem::take(&mut slot.body);
        let (headers, overrides) = read_headers(sr);
        // SAFETY: the capture lives in the main pool.
        let cap = unsafe { &mut *slot.capture };
        if cap.pending == usize::MAX || cap.pending == 0 {
            return ret;
        }
        if let Some(r) = cap.results.get_mut(slot.index) {
            *r = Some(SubResult {
                status,
                truncated,
                body,
                headers,
                overrides,
            });
        }
        cap.pending -= 1;
        if cap.pending == 0 {
            finished(slot.capture);
        }
        ret
    })
}

/// All subrequests of a capture are done: queue its delivery to the parent.
fn finished(cap: *mut Capture) {
    // SAFETY: the capture lives in the main pool.
    let (parent, waiter) = unsafe { ((*cap).parent, (*cap).waiter) };
    let Some(ctx) = RequestCtx::get(parent) else {
        return;
    };
    {
        let mut inflight = ctx.capture.inflight.borrow_mut();
        if let Some(i) = inflight.iter().position(|&c| c == waiter.co) {
            inflight.remove(i);
        }
    }
    if !still_waiting(cap) {
        return;
    }
    ctx.capture.ready.borrow_mut().push_back(cap);
    if ctx.capture.hooked.get() {
        return;
    }
    // SAFETY: the parent is alive (it waits); the posted-request node comes
    // from the pool; the reference taken here is dropped by capture_wev.
    unsafe {
        let raw = parent.get();
        if ngx_http_post_request(parent.raw(), ptr::null_mut()) != OK {
            ctx.capture.ready.borrow_mut().clear();
            return;
        }
        ctx.capture.hooked.set(true);
        ctx.capture.saved_wev.set(raw.write_event_handler);
        raw.write_event_handler = Some(capture_wev);
        parent.main_count_inc();
    }
}

/// Whether the coroutine that started `cap` still waits for it.
fn still_waiting(cap: *mut Capture) -> bool {
    // SAFETY: the capture lives in the main pool.
    let (parent, waiter, tp) = unsafe { ((*cap).parent, (*cap).waiter, (*cap).thread_ptr) };
    let Some(ctx) = RequestCtx::get(parent) else {
        return false;
    };
    let cos = ctx.cos.borrow();
    matches!(cos.get(waiter.co), Some(c) if c.state == CoState::Waiting && c.thread_ptr == tp)
}

/// The parent's write event handler while a capture's results wait to be
/// delivered: resumes the waiting coroutine with them.
unsafe extern "C" fn capture_wev(r: *mut ngx_http_request_t) {
    // SAFETY: nginx runs posted requests with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        let Some(ctx) = RequestCtx::get(req) else {
            return;
        };
        let cap = ctx.capture.ready.borrow_mut().pop_front();
        let more = !ctx.capture.ready.borrow().is_empty();
        if more {
            // SAFETY: the live request; the reference stays held for the
            // next delivery.
            if unsafe { ngx_http_post_request(req.raw(), ptr::null_mut()) } != OK {
                ctx.capture.ready.borrow_mut().clear();
            }
        }
        let unhook = !more;
        if unhook {
            // SAFETY: the live request.
            unsafe { req.get().write_event_handler = ctx.capture.saved_wev.get() };
            ctx.capture.hooked.set(false);
        }
        let target = cap.filter(|&c| still_waiting(c)).map(|c| {
            // SAFETY: the capture lives in the main pool; the results are
            // taken out once.
            let (waiter, results) = unsafe { ((*c).waiter, std::mem::take(&mut (*c).results)) };
            let results: Vec<SubResult> = results.into_iter().flatten().collect();
            (waiter, results)
        });
        // The reference goes first and the delivery is the last use of the
        // request: resuming the coroutine may end the request for good
        // (ngx.exit(444), an error, a client gone), which frees it. While a
        // coroutine still waits, its own reference keeps this one from
        // being the last.
        if unhook && !drop_ref(req) {
            return;
        }
        if let Some((waiter, results)) = target {
            crate::api::location::deliver(waiter, results);
        }
    })
}

/// Drops the reference finished() took on the main request; false when it
/// was the last one and nginx ended the request (which may be freed).
fn drop_ref(r: Req) -> bool {
    // SAFETY: the live request; with other references left only the count
    // moves, else nginx ends the (already finalized) main request.
    unsafe {
        let main = r.get().main;
        if (*main).count() > 1 {
            (*main).set_count((*main).count() - 1);
            true
        } else {
            nginx_sys::ngx_http_finalize_request(r.raw(), DONE);
            false
        }
    }
}
