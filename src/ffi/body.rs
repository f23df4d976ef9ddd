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
