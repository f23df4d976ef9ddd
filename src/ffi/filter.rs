//! Output filter plumbing for header_filter_by_lua* and body_filter_by_lua*:
//! our place in nginx's header and body filter chains, and the buffer-chain
//! work of the body filter (what `ngx.arg[1]` / `ngx.arg[2]` read and
//! replace), following lua-nginx-module's `ngx_http_lua_body_filter`.
//!
//! Buffers the body filter makes carry our tag and are recycled through a
//! per-request free/busy pair (`ngx_chain_update_chains`), so a long
//! response streams through a bounded set of buffers.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use nginx_sys::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_chain_add_copy, ngx_chain_t, ngx_chain_update_chains,
    ngx_create_temp_buf, ngx_http_filter_finalize_request, ngx_http_request_t, ngx_int_t,
    ngx_pcalloc, NGX_HTTP_LOWLEVEL_BUFFERED, NGX_LOWLEVEL_BUFFERED,
};

use super::request::Req;

const OK: ngx_int_t = nginx_sys::NGX_OK as ngx_int_t;
const ERROR: ngx_int_t = nginx_sys::NGX_ERROR as ngx_int_t;
const AGAIN: ngx_int_t = nginx_sys::NGX_AGAIN as ngx_int_t;

type HeaderFilter = unsafe extern "C" fn(*mut ngx_http_request_t) -> ngx_int_t;
type BodyFilter = unsafe extern "C" fn(*mut ngx_http_request_t, *mut ngx_chain_t) -> ngx_int_t;

/// The filters that follow ours, saved when we join the chains (function
/// addresses; 0 = not installed). Set at configuration time only.
static NEXT_HEADER: AtomicUsize = AtomicUsize::new(0);
static NEXT_BODY: AtomicUsize = AtomicUsize::new(0);

/// Our buffers' tag: the address of this static.
static BUF_TAG: u8 = 0;

fn tag() -> nginx_sys::ngx_buf_tag_t {
    ptr::addr_of!(BUF_TAG) as nginx_sys::ngx_buf_tag_t
}

/// header_filter_by_lua* / body_filter_by_lua* appear somewhere in the
/// configuration (else our filters only serve capture subrequests).
static LUA_HEADER_FILTER: AtomicBool = AtomicBool::new(false);
static LUA_BODY_FILTER: AtomicBool = AtomicBool::new(false);

/// Puts our header and body filters at the head of nginx's chains (from
/// where our place in the module order puts them), remembering the previous
/// heads as our "next". Always installed: capture subrequests need them.
/// `header`/`body` say whether Lua filters exist. Called from
/// postconfiguration, once per configuration cycle.
pub fn install(header: bool, body: bool) {
    LUA_HEADER_FILTER.store(header || body, Ordering::Relaxed);
    LUA_BODY_FILTER.store(body, Ordering::Relaxed);
    // SAFETY: configuration runs in one thread; the chain heads are plain
    // nginx globals that every filter module rewires in its postconfiguration.
    unsafe {
        let prev = nginx_sys::ngx_http_top_header_filter;
        NEXT_HEADER.store(prev.map_or(0, |f| f as usize), Ordering::Relaxed);
        nginx_sys::ngx_http_top_header_filter = Some(crate::phase::header_filter::filter);
        let prev = nginx_sys::ngx_http_top_body_filter;
        NEXT_BODY.store(prev.map_or(0, |f| f as usize), Ordering::Relaxed);
        nginx_sys::ngx_http_top_body_filter = Some(crate::phase::body_filter::filter);
    }
}

/// Whether any location has header_filter_by_lua* or body_filter_by_lua*
/// (the header filter also serves the body filter's need for memory).
#[inline]
pub fn lua_header_filters() -> bool {
    LUA_HEADER_FILTER.load(Ordering::Relaxed)
}

/// Whether any location has body_filter_by_lua*.
#[inline]
pub fn lua_body_filters() -> bool {
    LUA_BODY_FILTER.load(Ordering::Relaxed)
}

/// Calls the next header filter (for a capture subrequest, the capture:
/// the header goes no further).
pub fn next_header(r: Req) -> ngx_int_t {
    if super::subrequest::is_capture(r) {
        return super::subrequest::capture_header(r);
    }
    let f = NEXT_HEADER.load(Ordering::Relaxed);
    if f == 0 {
        return ERROR;
    }
    // SAFETY: `f` was stored from a function pointer of exactly this type.
    unsafe {
        let f: HeaderFilter = std::mem::transmute::<usize, HeaderFilter>(f);
        f(r.raw())
    }
}

/// Calls the next body filter.
#[allow(clippy::not_unsafe_ptr_arg_deref)] // `input` comes from nginx's filter call
pub fn next_body(r: Req, input: *mut ngx_chain_t) -> ngx_int_t {
    if super::subrequest::is_capture(r) {
        return super::subrequest::capture_body(r, input);
    }
    let f = NEXT_BODY.load(Ordering::Relaxed);
    if f == 0 {
        return ERROR;
    }
    // SAFETY: as in next_header; `input` is null or a chain nginx handed us
    // (or one we built from request-pool buffers).
    unsafe {
        let f: BodyFilter = std::mem::transmute::<usize, BodyFilter>(f);
        f(r.raw(), input)
    }
}

/// Asks the copy filter for in-memory buffers (a body filter reads them).
pub fn need_in_memory(r: Req) {
    // SAFETY: the request is alive (Req invariant).
    unsafe { r.get().set_filter_need_in_memory(1) }
}

/// `ngx_http_filter_finalize_request`: replaces the response being sent by
/// nginx's special response for `status` (error_page applies).
pub fn finalize(r: Req, status: ngx_int_t) -> ngx_int_t {
    // SAFETY: the request is alive; the module static lives for the process.
    unsafe {
        ngx_http_filter_finalize_request(
            r.raw(),
            ptr::addr_of_mut!(crate::module::ngx_http_lua_rs_module),
            status,
        )
    }
}

/// Per-request body filter state (lives in the RequestCtx).
pub struct BodyState {
    /// Input not yet given to Lua (kept while the socket is busy).
    in_bufs: Cell<*mut ngx_chain_t>,
    free: Cell<*mut ngx_chain_t>,
    busy: Cell<*mut ngx_chain_t>,
    /// ngx.arg[2] = true was set, or the last buffer went by: later input is dropped.
    seen_last: Cell<bool>,
    /// The chain `ngx.arg` reads and replaces while the Lua filter runs.
    current: Cell<*mut ngx_chain_t>,
}

impl Default for BodyState {
    fn default() -> Self {
        BodyState {
            in_bufs: Cell::new(ptr::null_mut()),
            free: Cell::new(ptr::null_mut()),
            busy: Cell::new(ptr::null_mut()),
            seen_last: Cell::new(false),
            current: Cell::new(ptr::null_mut()),
        }
    }
}

/// Iterates a chain's links.
///
/// # Safety
/// `cl` must be null or a valid chain whose links outlive the iteration.
pub(crate) unsafe fn links(mut cl: *mut ngx_chain_t) -> impl Iterator<Item = *mut ngx_chain_t> {
    std::iter::from_fn(move || {
        if cl.is_null() {
            return None;
        }
        let cur = cl;
        // SAFETY: guaranteed by the caller.
        cl = unsafe { (*cl).next };
        Some(cur)
    })
}

/// The bytes a buffer holds in memory (none for file-only buffers).
///
/// # Safety
/// `b` must be a valid buffer.
pub(crate) unsafe fn mem_bytes<'a>(b: *const ngx_buf_t) -> &'a [u8] {
    // SAFETY: guaranteed by the caller; in-memory buffers have pos <= last.
    unsafe {
        let b = &*b;
        let in_mem = b.temporary() != 0 || b.memory() != 0 || b.mmap() != 0;
        if !in_mem || b.pos.is_null() || b.last <= b.pos {
            return &[];
        }
        std::slice::from_raw_parts(b.pos, b.last.offset_from(b.pos) as usize)
    }
}

/// Marks every buffer of a chain consumed.
///
/// # Safety
/// `cl` must be null or a valid chain.
pub(crate) unsafe fn consume(cl: *mut ngx_chain_t) -> (bool, bool) {
    let (mut last, mut flush) = (false, false);
    // SAFETY: guaranteed by the caller.
    unsafe {
        for l in links(cl) {
            let b = (*l).buf;
            if (*b).flush() != 0 {
                flush = true;
            }
            if (*b).last_buf() != 0 || (*b).last_in_chain() != 0 {
                last = true;
            }
            (*b).pos = (*b).last;
            (*b).file_pos = (*b).file_last;
        }
    }
    (last, flush)
}

/// A chain link with a buffer of at least `size` bytes (empty), reusing
/// one of ours from the free list when it fits.
fn get_free_buf(r: Req, st: &BodyState, size: usize) -> *mut ngx_chain_t {
    // SAFETY: the free list only holds links and buffers we allocated from
    // the request pool; fresh ones come from the same pool.
    unsafe {
        let head = st.free.get();
        if !head.is_null() {
            let b = (*head).buf;
            let (start, end) = ((*b).start, (*b).end);
            let cap = if start.is_null() {
                0
            } else {
                end.offset_from(start) as usize
            };
            if cap >= size || (cap == 0 && size > 0) {
                st.free.set((*head).next);
                (*head).next = ptr::null_mut();
                if cap >= size {
                    ptr::write_bytes(b, 0, 1);
                    (*b).start = start;
                    (*b).pos = start;
                    (*b).last = start;
                    (*b).end = end;
                    (*b).tag = tag();
                    if size > 0 {
                        (*b).set_temporary(1);
                    }
                    return head;
                }
                // A flags-only buffer cannot hold data: drop it.
            }
        }
        let cl = ngx_alloc_chain_link(r.pool());
        if cl.is_null() {
            return ptr::null_mut();
        }
        let b = if size == 0 {
            ngx_pcalloc(r.pool(), std::mem::size_of::<ngx_buf_t>()) as *mut ngx_buf_t
        } else {
            ngx_create_temp_buf(r.pool(), size)
        };
        if b.is_null() {
            return ptr::null_mut();
        }
        (*b).tag = tag();
        (*cl).buf = b;
        (*cl).next = ptr::null_mut();
        cl
    }
}

fn mark_last(r: Req, b: *mut ngx_buf_t) {
    // SAFETY: `b` is a valid buffer of the current chain.
    unsafe {
        if r.is_main() {
            (*b).set_last_buf(1);
        } else {
            (*b).set_last_in_chain(1);
        }
    }
}

/// `ngx.arg[1]` for reading: calls `f` with the current chunk's bytes (the
/// buffers up to the last one).
pub fn with_chunk<R>(st: &BodyState, f: impl FnOnce(&[u8]) -> R) -> R {
    let cl = st.current.get();
    // SAFETY: `current` is null or the chain being filtered, alive during
    // the Lua call that reads it.
    unsafe {
        if cl.is_null() {
            return f(&[]);
        }
        if (*cl).next.is_null() {
            return f(mem_bytes((*cl).buf));
        }
        let mut all = Vec::new();
        for l in links(cl) {
            let b = (*l).buf;
            all.extend_from_slice(mem_bytes(b));
            if (*b).last_buf() != 0 || (*b).last_in_chain() != 0 {
                break;
            }
        }
        f(&all)
    }
}

/// `ngx.arg[2]` for reading: whether the chunk ends the response.
pub fn eof(st: &BodyState) -> bool {
    // SAFETY: as in with_chunk.
    unsafe {
        links(st.current.get()).any(|l| {
            let b = (*l).buf;
            (*b).last_buf() != 0 || (*b).last_in_chain() != 0
        })
    }
}

/// `ngx.arg[2] = last`.
pub fn set_eof(r: Req, st: &BodyState, last: bool) -> Result<(), &'static str> {
    let cl = st.current.get();
    // SAFETY: as in with_chunk.
    unsafe {
        if last {
            st.seen_last.set(true);
            match links(cl).last() {
                Some(l) => mark_last(r, (*l).buf),
                None => {
                    // Nothing left to carry the flag (the chunk was dropped):
                    // an empty buffer ends the response.
                    let n = get_free_buf(r, st, 0);
                    if n.is_null() {
                        return Err("no memory");
                    }
                    mark_last(r, (*n).buf);
                    st.current.set(n);
                }
            }
            return Ok(());
        }
        let mut found = false;
        for l in links(cl) {
            let b = (*l).buf;
            if (*b).last_buf() != 0 {
                (*b).set_last_buf(0);
                found = true;
            }
            if (*b).last_in_chain() != 0 {
                (*b).set_last_in_chain(0);
                found = true;
            }
            let in_mem = (*b).temporary() != 0 || (*b).memory() != 0 || (*b).mmap() != 0;
            if found && (*b).last == (*b).pos && !in_mem {
                // An empty non-memory buffer must be special for the writer.
                (*b).set_sync(1);
            }
        }
        st.seen_last.set(false);
    }
    Ok(())
}

/// `ngx.arg[1] = data` (None for nil): the chunk's buffers are consumed and
/// replaced by one of ours holding `data`, keeping the eof and flush flags.
pub fn set_chunk(r: Req, st: &BodyState, data: Option<&[u8]>) -> Result<(), &'static str> {
    // SAFETY: as in with_chunk; new buffers come from get_free_buf.
    unsafe {
        let (last, flush) = consume(st.current.get());
        let mut cl: *mut ngx_chain_t = ptr::null_mut();
        if let Some(d) = data.filter(|d| !d.is_empty()) {
            cl = get_free_buf(r, st, d.len());
            if cl.is_null() {
                return Err("no memory");
            }
            let b = (*cl).buf;
            ptr::copy_nonoverlapping(d.as_ptr(), (*b).last, d.len());
            (*b).last = (*b).last.add(d.len());
        }
        if last || flush {
            if cl.is_null() {
                cl = get_free_buf(r, st, 0);
                if cl.is_null() {
                    return Err("no memory");
                }
            }
            if last {
                st.seen_last.set(true);
                mark_last(r, (*cl).buf);
            }
            if flush {
                (*(*cl).buf).set_flush(1);
            }
        }
        st.current.set(cl);
    }
    Ok(())
}

fn update_chains(r: Req, st: &BodyState, out: *mut ngx_chain_t) {
    let (mut free, mut busy, mut out) = (st.free.get(), st.busy.get(), out);
    // SAFETY: all three lists hold request-pool links; nginx moves consumed
    // buffers with our tag from busy to free and returns the others' links
    // to the pool.
    unsafe { ngx_chain_update_chains(r.pool(), &mut free, &mut busy, &mut out, tag()) };
    st.free.set(free);
    st.busy.set(busy);
}

fn socket_buffered(r: Req) -> bool {
    // SAFETY: the request and its connection are alive.
    unsafe {
        let c = r.get().connection;
        ((*c).buffered() & (NGX_HTTP_LOWLEVEL_BUFFERED | NGX_LOWLEVEL_BUFFERED)) != 0
    }
}

/// The body filter: queues `input`, lets `run` (the Lua handler, which
/// reads and replaces the chain through `ngx.arg`) see it, then passes the
/// result on. `run` returns false to fail the request.
#[allow(clippy::not_unsafe_ptr_arg_deref)] // `input` comes from nginx's filter call
pub fn body_filter(
    r: Req,
    input: *mut ngx_chain_t,
    st: &BodyState,
    run: impl FnOnce() -> bool,
) -> ngx_int_t {
    let mut input = input;
    if st.seen_last.get() {
        // SAFETY: `input` is the chain nginx passed to this filter.
        unsafe { consume(input) };
        input = ptr::null_mut();
    }
    if !input.is_null() {
        let mut head = st.in_bufs.get();
        // SAFETY: copies the links (not the buffers) into the request pool.
        if unsafe { ngx_chain_add_copy(r.pool(), &mut head, input) } != OK {
            return ERROR;
        }
        st.in_bufs.set(head);
    }
    if !st.busy.get().is_null() && socket_buffered(r) {
        // The socket could not take our last output: flush it before making
        // more, or output would pile up in memory.
        let rc = next_body(r, ptr::null_mut());
        if rc == ERROR {
            return rc;
        }
        update_chains(r, st, ptr::null_mut());
        if rc != OK && !st.busy.get().is_null() && socket_buffered(r) {
            return AGAIN;
        }
    }
    let input = st.in_bufs.replace(ptr::null_mut());
    let out = if input.is_null() {
        ptr::null_mut()
    } else {
        st.current.set(input);
        let ok = run();
        let out = st.current.replace(ptr::null_mut());
        if !ok {
            return ERROR;
        }
        if out != input {
            // The links of the replaced input go back to the pool.
            // SAFETY: they are request-pool links made by ngx_chain_add_copy.
            unsafe {
                let pool = r.pool();
                let mut cl = input;
                while !cl.is_null() {
                    let next = (*cl).next;
                    (*cl).next = (*pool).chain;
                    (*pool).chain = cl;
                    cl = next;
                }
            }
            if out.is_null() {
                return OK;
            }
        }
        out
    };
    let rc = next_body(r, out);
    if rc == ERROR {
        return ERROR;
    }
    update_chains(r, st, out);
    rc
}
