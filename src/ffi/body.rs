//! The request body as nginx read it: in-memory buffers or a temp file.

use super::request::Req;

/// What `r->request_body` holds.
pub enum Body<'a> {
    /// No body was read (not yet, discarded, or none).
    None,
    /// Buffered to a temp file with this name.
    File(&'a [u8]),
    /// In memory, possibly in several buffers.
    Memory(Vec<&'a [u8]>),
}

pub fn body<'a>(r: Req) -> Body<'a> {
    // SAFETY: the request is alive; request_body and its buffers live in the
    // request pool until the request ends.
    unsafe {
        let raw = r.get();
        let rb = raw.request_body;
        if rb.is_null() {
            return Body::None;
        }
        if !(*rb).temp_file.is_null() {
            return Body::File(super::str_bytes(&(*(*rb).temp_file).file.name));
        }
        let mut parts = Vec::new();
        let mut cl = (*rb).bufs;
        while !cl.is_null() {
            let b = (*cl).buf;
            if !b.is_null() && (*b).in_file() == 0 {
                let len = (*b).last.offset_from((*b).pos);
                if len > 0 {
                    parts.push(std::slice::from_raw_parts((*b).pos, len as usize));
                }
            }
            cl = (*cl).next;
        }
        if parts.is_empty() && (*rb).bufs.is_null() {
            return Body::None;
        }
        Body::Memory(parts)
    }
}

/// Whether a body was read or discarded already (reading again is a no-op).
pub fn already_handled(r: Req) -> bool {
    // SAFETY: the request is alive.
    unsafe {
        let raw = r.get();
        !raw.request_body.is_null() || raw.discard_body() != 0
    }
}

pub fn discard(r: Req) -> isize {
    // SAFETY: the request is alive.
    unsafe { nginx_sys::ngx_http_discard_request_body(r.raw()) }
}

/// Replaces the read request body with `data` in memory (dropping any temp
/// file) and keeps Content-Length in step, as ngx.req.set_body_data does.
pub fn set_data(r: Req, data: &[u8]) -> Result<(), &'static str> {
    // SAFETY: the request is alive; the new buffer, chain link and body
    // struct come from its pool and the bytes are copied into it.
    unsafe {
        let raw = r.get();
        let rb = raw.request_body;
        if rb.is_null() {
            return Err("request body not read yet");
        }
        if !(*rb).temp_file.is_null() {
            // The temp file is closed and removed by its pool cleanup; only
            // forget it here.
            (*rb).temp_file = std::ptr::null_mut();
        }
        let pool = r.pool();
        let b = if data.is_empty() {
            nginx_sys::ngx_pcalloc(pool, std::mem::size_of::<nginx_sys::ngx_buf_t>())
                as *mut nginx_sys::ngx_buf_t
        } else {
            nginx_sys::ngx_create_temp_buf(pool, data.len())
        };
        if b.is_null() {
            return Err("no memory");
        }
        if !data.is_empty() {
            std::ptr::copy_nonoverlapping(data.as_ptr(), (*b).last, data.len());
            (*b).last = (*b).last.add(data.len());
        }
        (*b).set_temporary(1);
        (*b).set_last_buf(1);
        let cl = nginx_sys::ngx_alloc_chain_link(pool);
        if cl.is_null() {
            return Err("no memory");
        }
        (*cl).buf = b;
        (*cl).next = std::ptr::null_mut();
        (*rb).bufs = cl;
        (*rb).buf = b;
        raw.headers_in.content_length_n = data.len() as i64;
    }
    let len = data.len().to_string();
    super::req::set_header(r, b"Content-Length", len.as_bytes(), true).map_err(|_| "no memory")
}
