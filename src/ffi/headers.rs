//! Response and request header plumbing over nginx's header lists.

use nginx_sys::ngx_http_set_content_type;

use super::request::Req;

/// Before the header goes out: the default Content-Type (when
/// `lua_use_default_type` is on and none was set) and, unless Lua set headers
/// itself, no stale Content-Length / Accept-Ranges.
pub fn prepare_default_headers(r: Req, use_default_type: bool, headers_set: bool) {
    // SAFETY: the request is alive (Req invariant); we only touch headers_out.
    unsafe {
        let raw = r.get();
        if use_default_type && raw.headers_out.content_type.len == 0 && raw.headers_out.status != 304 {
            ngx_http_set_content_type(r.raw());
        }
        if !headers_set {
            raw.headers_out.content_length_n = -1;
            if !raw.headers_out.content_length.is_null() {
                (*raw.headers_out.content_length).hash = 0;
                raw.headers_out.content_length = std::ptr::null_mut();
            }
            if !raw.headers_out.accept_ranges.is_null() {
                (*raw.headers_out.accept_ranges).hash = 0;
                raw.headers_out.accept_ranges = std::ptr::null_mut();
            }
        }
    }
}

/// Appends a response header and returns the new element (zeroed first, so
/// this works whatever fields the nginx version's `ngx_table_elt_t` has).
pub fn push_out_header(r: Req, key: &'static str, value: &[u8]) -> Option<*mut nginx_sys::ngx_table_elt_t> {
    let v = r.pool_str(value)?;
    // SAFETY: the request is alive; the element lives in headers_out's list
    // (request pool) and its strings in the request pool or static memory.
    unsafe {
        let raw = r.get();
        let h = nginx_sys::ngx_list_push(&mut raw.headers_out.headers) as *mut nginx_sys::ngx_table_elt_t;
        if h.is_null() {
            return None;
        }
        std::ptr::write_bytes(h, 0, 1);
        (*h).hash = 1;
        (*h).key = nginx_sys::ngx_str_t { len: key.len(), data: key.as_ptr() as *mut u8 };
        (*h).value = v;
        Some(h)
    }
}

/// Sets the Location response header (for ngx.redirect).
pub fn set_location(r: Req, uri: &[u8]) -> bool {
    match push_out_header(r, "Location", uri) {
        Some(h) => {
            // SAFETY: the request is alive; h is a live element of its list.
            unsafe {
                let raw = r.get();
                if !raw.headers_out.location.is_null() {
                    (*raw.headers_out.location).hash = 0;
                }
                raw.headers_out.location = h;
            }
            true
        }
        None => false,
    }
}
