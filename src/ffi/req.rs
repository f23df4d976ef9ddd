//! The request side of `ngx.req.*`: method, URI and args, HTTP version, start
//! time, the original header bytes, the `headers_in` list and the request
//! body as `get_post_args` needs it.
//!
//! Request headers live in `r->headers_in.headers` (a list of
//! `ngx_table_elt_t`). nginx also keeps pointers to some of them in
//! `headers_in` fields (`host`, `user_agent`, `cookie`, ...) plus values
//! derived from them (`server`, `content_length_n`, `connection_type`, the
//! browser bits). [`set_header`] keeps all of that consistent the way
//! lua-nginx-module's `ngx.req.set_header` does, and removes elements from the
//! list without ever moving one (other code holds pointers to them).
//!
//! nginx 1.22 and 1.23+ differ: 1.23 added `ngx_table_elt_t.next`, renamed
//! `headers_in.cookies` (an array of element pointers) to `cookie` (a linked
//! list) and made `x_forwarded_for` a linked list too. So no code here names
//! those fields: their offsets come from nginx's own `ngx_http_headers_in`
//! table and their shape from whether the element type has `next`.

use std::mem::{offset_of, size_of};
use std::ptr;

use nginx_sys::{
    ngx_array_push, ngx_array_t, ngx_hash_find, ngx_hash_key_lc, ngx_http_core_main_conf_t,
    ngx_http_core_module, ngx_http_header_t, ngx_http_headers_in, ngx_http_headers_in_t,
    ngx_http_set_exten, ngx_http_variable_t, ngx_list_part_t, ngx_list_push, ngx_list_t,
    ngx_palloc, ngx_pnalloc, ngx_pool_t, ngx_str_t, ngx_table_elt_t, ngx_uint_t,
    NGX_HTTP_CONNECTION_CLOSE, NGX_HTTP_CONNECTION_KEEP_ALIVE, NGX_HTTP_VAR_INDEXED,
};

use super::request::Req;
use super::str_bytes;

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// `r->method` (nginx's method bit) and `r->method_name`.
pub fn method<'a>(r: Req) -> (usize, &'a [u8]) {
    // SAFETY: the request is alive (Req invariant); method_name points into
    // the request's buffers or static memory for the request's lifetime.
    unsafe {
        let raw = r.get();
        (raw.method, str_bytes(&raw.method_name))
    }
}

/// Sets `r->method` and `r->method_name` (`name` is static, as nginx's own
/// method names are).
pub fn set_method(r: Req, bit: usize, name: &'static [u8]) {
    // SAFETY: the request is alive; nginx only reads method_name, so pointing
    // it at static memory is fine.
    unsafe {
        let raw = r.get();
        raw.method = bit;
        raw.method_name = ngx_str_t {
            len: name.len(),
            data: name.as_ptr() as *mut u8,
        };
    }
}

/// `r->http_version` (9, 1000, 1001, 2000, 3000).
pub fn http_version(r: Req) -> usize {
    // SAFETY: the request is alive.
    unsafe { r.get().http_version }
}

/// The request's creation time in seconds, with millisecond precision.
pub fn start_time(r: Req) -> f64 {
    // SAFETY: the request is alive.
    let raw = unsafe { r.get() };
    raw.start_sec as f64 + raw.start_msec as f64 / 1000.0
}

/// The query string (`r->args`).
pub fn args<'a>(r: Req) -> &'a [u8] {
    // SAFETY: r->args lives in the request's buffers or pool.
    unsafe { str_bytes(&r.get().args) }
}

/// Replaces the query string with a pool copy of `args`.
pub fn set_args(r: Req, args: &[u8]) -> bool {
    let Some(s) = r.pool_str(args) else {
        return false;
    };
    // SAFETY: the request is alive; the new value lives in its pool.
    unsafe {
        let raw = r.get();
        raw.args = s;
        raw.set_valid_unparsed_uri(0);
    }
    true
}

/// Replaces the URI as `ngx.req.set_uri` does. With `jump`, nginx's
/// post-rewrite phase looks the location up again (`uri_changed`).
pub fn set_uri(r: Req, uri: &[u8], jump: bool) -> bool {
    // The URI must not be empty (checked by the caller), so pool_str allocates.
    let Some(s) = r.pool_str(uri) else {
        return false;
    };
    if s.data.is_null() {
        return false;
    }
    // SAFETY: the request is alive; the URI lives in its pool as nginx needs.
    unsafe {
        let raw = r.get();
        raw.uri = s;
        raw.set_internal(1);
        raw.set_valid_unparsed_uri(0);
        ngx_http_set_exten(r.raw());
        if jump {
            raw.set_uri_changed(1);
        } else {
            raw.set_valid_location(0);
            raw.set_uri_changed(0);
        }
    }
    true
}

/// Whether the URI was changed for a location jump (`ngx.req.set_uri(uri,
/// true)` or nginx's `rewrite ... last`) that the post-rewrite phase has not
/// acted on yet.
pub fn uri_changed(r: Req) -> bool {
    // SAFETY: the request is alive.
    unsafe { r.get().uri_changed() != 0 }
}

/// The request body as `get_post_args` sees it.
pub enum PostBody<'a> {
    /// `ngx.req.discard_body()` (or nginx) discarded it.
    Discarded,
    /// The body has not been read.
    NotRead,
    /// Buffered to a temp file.
    InFile,
    /// In memory, possibly in several buffers (empty when there is none).
    Memory(Vec<&'a [u8]>),
}

pub fn post_body<'a>(r: Req) -> PostBody<'a> {
    // SAFETY: the request is alive; request_body and its buffers live in the
    // request pool until the request ends.
    unsafe {
        let raw = r.get();
        if raw.discard_body() != 0 {
            return PostBody::Discarded;
        }
        let rb = raw.request_body;
        if rb.is_null() {
            return PostBody::NotRead;
        }
        if !(*rb).temp_file.is_null() {
            return PostBody::InFile;
        }
        let mut parts = Vec::new();
        let mut cl = (*rb).bufs;
        while !cl.is_null() {
            let b = (*cl).buf;
            if !b.is_null() && (*b).in_file() == 0 && !(*b).pos.is_null() {
                let len = (*b).last.offset_from((*b).pos);
                if len > 0 {
                    parts.push(std::slice::from_raw_parts((*b).pos, len as usize));
                }
            }
            cl = (*cl).next;
        }
        PostBody::Memory(parts)
    }
}

/// One request header as nginx parsed (or Lua set) it.
pub struct Header<'a> {
    pub key: &'a [u8],
    /// The lower-cased key (nginx fills it while parsing).
    pub lowcase_key: &'a [u8],
    pub value: &'a [u8],
}

/// Iterates over the elements of nginx's `headers_in` list.
///
/// # Safety
/// `l` must be a live, initialised list of `ngx_table_elt_t`.
unsafe fn for_each_elt(l: *const ngx_list_t, mut f: impl FnMut(*mut ngx_table_elt_t) -> bool) {
    // SAFETY: guaranteed by the caller; we stay within each part's nelts.
    unsafe {
        let mut part: *const ngx_list_part_t = &(*l).part;
        while !part.is_null() {
            let elts = (*part).elts as *mut ngx_table_elt_t;
            for i in 0..(*part).nelts {
                if !f(elts.add(i)) {
                    return;
                }
            }
            part = (*part).next;
        }
    }
}

/// The number of request headers.
pub fn header_count(r: Req) -> usize {
    let mut n = 0;
    // SAFETY: the request is alive; an uninitialised list (a request that
    // failed before its headers) has `last == NULL` and is skipped.
    unsafe {
        let l = &r.get().headers_in.headers;
        if l.last.is_null() {
            return 0;
        }
        for_each_elt(l, |_| {
            n += 1;
            true
        });
    }
    n
}

/// At most `max` request headers (0: all), in order.
pub fn headers<'a>(r: Req, max: usize) -> Vec<Header<'a>> {
    let mut out = Vec::new();
    // SAFETY: as in header_count; keys and values live in the request's
    // buffers or pool.
    unsafe {
        let l = &r.get().headers_in.headers;
        if l.last.is_null() {
            return out;
        }
        for_each_elt(l, |h| {
            let key = str_bytes(&(*h).key);
            let lowcase_key = if (*h).lowcase_key.is_null() {
                key
            } else {
                std::slice::from_raw_parts((*h).lowcase_key, key.len())
            };
            out.push(Header {
                key,
                lowcase_key,
                value: str_bytes(&(*h).value),
            });
            max == 0 || out.len() < max
        });
    }
    out
}

/// The original request line and header bytes of an HTTP/1.x request, as
/// lua-nginx-module's `ngx.req.raw_header` rebuilds them from the
/// connection's buffers (the header may span the client header buffer and
/// several large header buffers).
pub fn raw_header(r: Req, no_request_line: bool) -> Result<Vec<u8>, &'static str> {
    match http_version(r) as u32 {
        nginx_sys::NGX_HTTP_VERSION_20 => return Err("http2 requests not supported yet"),
        HTTP_VERSION_30 => return Err("http3 requests not supported yet"),
        _ => {}
    }
    // SAFETY: the main request, its connection, the connection's buffer and
    // the large header buffers (hc->busy) all outlive the request; every range
    // copied lies within one buffer (checked against its start and pos).
    unsafe {
        let raw = r.get();
        let mr = &*raw.main;
        let rl = mr.request_line;
        if rl.len == 0 || rl.data.is_null() {
            return Ok(Vec::new());
        }
        let c = mr.connection;
        let hc = mr.http_connection;
        let cbuf = (*c).buffer;
        let line_break = if *rl.data.add(rl.len) == CR { 2 } else { 1 };
        let rl_start = rl.data as *const u8;
        let rl_end = rl_start.add(rl.len + line_break);

        // The buffers holding the header, oldest first: the client header
        // buffer, then the large header buffers (hc->busy is newest first).
        let mut bufs = Vec::new();
        if !cbuf.is_null() {
            bufs.push(cbuf);
        }
        if !hc.is_null() {
            let mut busy = Vec::new();
            let mut cl = (*hc).busy;
            while !cl.is_null() {
                busy.push((*cl).buf);
                cl = (*cl).next;
            }
            bufs.extend(busy.into_iter().rev());
        }

        let mut out = Vec::new();
        let mut found = false;
        for b in bufs {
            if b.is_null() {
                continue;
            }
            let start = (*b).start as *const u8;
            let pos = (*b).pos as *const u8;
            let seg_start = if !found {
                // The request line must lie whole inside this buffer.
                let inside = if b == cbuf {
                    rl_start >= start && rl_end <= pos
                } else {
                    !(rl_start >= pos || rl_end <= start)
                };
                if !inside {
                    continue;
                }
                found = true;
                if no_request_line {
                    rl_end
                } else {
                    rl_start
                }
            } else {
                start
            };
            if pos < seg_start {
                continue;
            }
            let seg = std::slice::from_raw_parts(seg_start, pos.offset_from(seg_start) as usize);
            // A header line nginx moved on to a bigger buffer is cut short
            // here: keep whole lines only (the client buffer is whole when it
            // is still header_in).
            let keep_partial = b == cbuf && b == mr.header_in;
            append_segment(&mut out, seg, keep_partial);
            if b == mr.header_in {
                break;
            }
        }
        Ok(strip_body(out))
    }
}

/// Appends one buffer's part of the header, undoing the NULs nginx wrote over
/// the `:` after each name and the line end after each value.
fn append_segment(out: &mut Vec<u8>, seg: &[u8], keep_partial: bool) {
    let mut len = seg.len();
    if !keep_partial {
        while len > 0 && seg[len - 1] != LF && seg[len - 1] != 0 {
            len -= 1;
        }
    }
    let seg = &seg[..len];
    let mut nuls = 0;
    for (i, &c) in seg.iter().enumerate() {
        if c != 0 {
            out.push(c);
            continue;
        }
        nuls += 1;
        let restored = match seg.get(i + 1) {
            Some(&LF) => CR,
            None => LF,
            Some(_) if nuls % 2 == 1 => b':',
            // The end of a value followed by trailing blanks: nginx wrote
            // over the first blank (lua-nginx-module turns it into a line
            // break; a space keeps the line intact).
            Some(_) if trailing_blanks(&seg[i + 1..]) => b' ',
            Some(_) => LF,
        };
        out.push(restored);
    }
}

/// Whether `rest` is blanks up to the end of the line.
fn trailing_blanks(rest: &[u8]) -> bool {
    match rest.iter().position(|&c| c == LF) {
        Some(end) => rest[..end]
            .iter()
            .all(|&c| c == b' ' || c == b'\t' || c == CR),
        None => false,
    }
}

/// Drops any request body bytes that followed the header in the buffer.
fn strip_body(mut data: Vec<u8>) -> Vec<u8> {
    for end in [&b"\r\n\r\n"[..], b"\r\n\n", b"\n\r\n"] {
        if let Some(i) = data.windows(end.len()).position(|w| w == end) {
            data.truncate(i + end.len());
            return data;
        }
    }
    let mut p = data.len();
    while p >= 3 {
        p -= 1;
        if data[p] == LF && data[p - 1] == CR {
            data[p - 1] = LF;
            data.truncate(p + 1);
            break;
        }
        if data[p] == LF && data[p - 1] == LF {
            data.truncate(p + 1);
            break;
        }
    }
    data
}

/// Why a request header could not be set.
#[derive(Debug)]
pub struct SetHeaderError;

/// Bytes escaped in header names: controls, space, separators, DEL and
/// bytes >= 0x80.
const fn header_name_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x21 || i >= 0x7f;
        i += 1;
    }
    let special = b"\"(),/:;<=>?@[\\]{}";
    let mut j = 0;
    while j < special.len() {
        t[special[j] as usize] = true;
        j += 1;
    }
    t
}

/// Bytes escaped in header values: controls but TAB, and DEL.
const fn header_value_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i < 0x20 && i != 0x09) || i == 0x7f;
        i += 1;
    }
    t
}

static ESCAPE_NAME: [bool; 256] = header_name_table();
static ESCAPE_VALUE: [bool; 256] = header_value_table();

/// Percent-encodes the bytes of `src` marked in `table` (uppercase hex).
fn escape<'a>(src: &'a [u8], table: &[bool; 256]) -> std::borrow::Cow<'a, [u8]> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if !src.iter().any(|&c| table[c as usize]) {
        return std::borrow::Cow::Borrowed(src);
    }
    let mut out = Vec::with_capacity(src.len() + 8);
    for &c in src {
        if table[c as usize] {
            out.extend_from_slice(&[b'%', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A NUL-terminated copy of `bytes` in `pool` (nginx header keys and values
/// must be NUL-terminated). Empty input gives an empty string with no data.
///
/// # Safety
/// `pool` must be a live pool.
unsafe fn pool_cstr(pool: *mut ngx_pool_t, bytes: &[u8]) -> Result<ngx_str_t, SetHeaderError> {
    if bytes.is_empty() {
        return Ok(ngx_str_t {
            len: 0,
            data: ptr::null_mut(),
        });
    }
    // SAFETY: we write len + 1 bytes into a fresh allocation of that size.
    unsafe {
        let p = ngx_pnalloc(pool, bytes.len() + 1) as *mut u8;
        if p.is_null() {
            return Err(SetHeaderError);
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
        Ok(ngx_str_t {
            len: bytes.len(),
            data: p,
        })
    }
}

/// Where nginx 1.23+ keeps `ngx_table_elt_t.next`: right after `lowcase_key`
/// (its last field). Never named, so 1.22 bindings compile.
const NEXT_OFFSET: usize = offset_of!(ngx_table_elt_t, lowcase_key) + size_of::<*mut u8>();
/// Whether elements have `next`, i.e. whether the multi-value fields are
/// linked lists (nginx >= 1.23) rather than arrays of pointers.
const HAS_NEXT: bool =
    size_of::<ngx_table_elt_t>() >= NEXT_OFFSET + size_of::<*mut ngx_table_elt_t>();

/// The address of `h->next`, if this nginx has it.
///
/// # Safety
/// `h` must point to a live element.
unsafe fn next_of(h: *mut ngx_table_elt_t) -> Option<*mut *mut ngx_table_elt_t> {
    // SAFETY: within the element when HAS_NEXT (checked above).
    HAS_NEXT.then(|| unsafe { (h as *mut u8).add(NEXT_OFFSET) as *mut *mut ngx_table_elt_t })
}

/// How a request header is stored, by name (lua-nginx-module's table).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host(usize),
    Connection(usize),
    UserAgent(usize),
    ContentLength(usize),
    /// A `headers_in` field pointing to the element.
    Builtin(usize),
    /// A `headers_in` field holding several elements (Cookie, X-Forwarded-For).
    Multi(usize),
    /// Only in the list.
    Plain,
}

/// The headers lua-nginx-module keeps in step with their `headers_in` field.
const BUILTIN: &[&str] = &[
    "If-Modified-Since",
    "If-Unmodified-Since",
    "If-Match",
    "If-None-Match",
    "Referer",
    "Content-Type",
    "Range",
    "If-Range",
    "Transfer-Encoding",
    "Expect",
    "Upgrade",
    "Accept-Encoding",
    "Via",
    "Authorization",
    "Keep-Alive",
    "X-Real-IP",
    "Depth",
    "Destination",
    "Overwrite",
    "Date",
];

/// The `headers_in` offset nginx itself uses for the header `name`, if this
/// nginx knows it (some depend on configure options).
fn nginx_offset(name: &[u8]) -> Option<usize> {
    // SAFETY: ngx_http_headers_in is nginx's static table, terminated by an
    // entry with an empty name; we only read it.
    unsafe {
        let mut h = ptr::addr_of!(ngx_http_headers_in) as *const ngx_http_header_t;
        loop {
            let name_in = str_bytes(&(*h).name);
            if name_in.is_empty() {
                return None;
            }
            if name_in.eq_ignore_ascii_case(name) {
                return Some((*h).offset);
            }
            h = h.add(1);
        }
    }
}

fn kind(name: &[u8]) -> Kind {
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    let special: Option<fn(usize) -> Kind> = if is("Host") {
        Some(Kind::Host)
    } else if is("Connection") {
        Some(Kind::Connection)
    } else if is("User-Agent") {
        Some(Kind::UserAgent)
    } else if is("Content-Length") {
        Some(Kind::ContentLength)
    } else if is("Cookie") || is("X-Forwarded-For") {
        Some(Kind::Multi)
    } else if BUILTIN.iter().any(|b| is(b)) {
        Some(Kind::Builtin)
    } else {
        None
    };
    match special.and_then(|k| nginx_offset(name).map(k)) {
        Some(k) => k,
        None => Kind::Plain,
    }
}

/// The key, hash and mode of one header being set.
struct HeaderVal {
    key: ngx_str_t,
    hash: ngx_uint_t,
    no_override: bool,
}

/// Removes element `i` of `part` from the list without moving any element:
/// other code (the `headers_in` fields, a proxied request) may point to them.
/// The list's `nalloc` is kept no larger than what remains of the last part.
///
/// # Safety
/// `l` must be a live list, `part` one of its parts and `i < part.nelts`.
unsafe fn list_remove(
    l: *mut ngx_list_t,
    part: *mut ngx_list_part_t,
    i: usize,
) -> Result<(), SetHeaderError> {
    // SAFETY: guaranteed by the caller; parts and elements stay in the list's
    // pool, and only the part bookkeeping changes.
    unsafe {
        let size = (*l).size;
        let first: *mut ngx_list_part_t = &mut (*l).part;
        let n = (*part).nelts;

        let prev_of = |target: *mut ngx_list_part_t| -> Option<*mut ngx_list_part_t> {
            let mut p = first;
            while !p.is_null() {
                if (*p).next == target {
                    return Some(p);
                }
                p = (*p).next;
            }
            None
        };

        if i == 0 {
            (*part).elts = ((*part).elts as *mut u8).add(size) as *mut _;
            (*part).nelts -= 1;
            if part == (*l).last {
                if (*part).nelts > 0 {
                    (*l).nalloc -= 1;
                } else if part == first {
                    // The list is now empty: keep its storage as it was.
                    (*part).elts = ((*part).elts as *mut u8).sub(size) as *mut _;
                } else {
                    let prev = prev_of(part).ok_or(SetHeaderError)?;
                    (*prev).next = ptr::null_mut();
                    (*l).last = prev;
                    (*l).nalloc = (*prev).nelts;
                }
            } else if (*part).nelts == 0 {
                // An empty part in the middle: unlink it.
                let next = (*part).next;
                if part == first {
                    let last_is_next = (*l).last == next;
                    *first = *next;
                    if last_is_next {
                        (*l).last = first;
                        (*l).nalloc = (*first).nelts;
                    }
                } else {
                    let prev = prev_of(part).ok_or(SetHeaderError)?;
                    (*prev).next = next;
                }
            }
            return Ok(());
        }

        if i == n - 1 {
            (*part).nelts -= 1;
            if part == (*l).last {
                (*l).nalloc -= 1;
            }
            return Ok(());
        }

        // In the middle: split the part in two around the element.
        let new = ngx_palloc((*l).pool, size_of::<ngx_list_part_t>()) as *mut ngx_list_part_t;
        if new.is_null() {
            return Err(SetHeaderError);
        }
        (*new).elts = ((*part).elts as *mut u8).add((i + 1) * size) as *mut _;
        (*new).nelts = n - i - 1;
        (*new).next = (*part).next;
        (*part).nelts = i;
        (*part).next = new;
        if part == (*l).last {
            (*l).last = new;
            (*l).nalloc = (*new).nelts;
        }
        Ok(())
    }
}

/// Sets the value of every list element named like `hv.key` (the first keeps
/// it, the others are removed); an empty `value` removes them all. Adds a new
/// element if none matched (always, with `no_override`). `slot`, when given,
/// receives the element now holding the value (or null).
///
/// # Safety
/// `r` must be alive with an initialised header list.
unsafe fn set_in_list(
    r: Req,
    hv: &HeaderVal,
    value: ngx_str_t,
    slot: Option<*mut *mut ngx_table_elt_t>,
) -> Result<(), SetHeaderError> {
    // SAFETY: guaranteed by the caller; all elements are list members.
    unsafe {
        let l: *mut ngx_list_t = &mut r.get().headers_in.headers;
        let key = str_bytes(&hv.key);

        if !hv.no_override {
            let mut matched: *mut ngx_table_elt_t = ptr::null_mut();
            'retry: loop {
                let mut part: *mut ngx_list_part_t = &mut (*l).part;
                while !part.is_null() {
                    let elts = (*part).elts as *mut ngx_table_elt_t;
                    for i in 0..(*part).nelts {
                        let h = elts.add(i);
                        if !str_bytes(&(*h).key).eq_ignore_ascii_case(key) {
                            continue;
                        }
                        if value.len == 0 || (!matched.is_null() && matched != h) {
                            (*h).hash = 0;
                            list_remove(l, part, i)?;
                            if let Some(s) = slot {
                                *s = ptr::null_mut();
                            }
                            continue 'retry;
                        }
                        (*h).value = value;
                        if let Some(s) = slot {
                            *s = h;
                        }
                        if matched.is_null() {
                            matched = h;
                        }
                    }
                    part = (*part).next;
                }
                break;
            }
            if !matched.is_null() || value.len == 0 {
                return Ok(());
            }
        }

        let h = ngx_list_push(l) as *mut ngx_table_elt_t;
        if h.is_null() {
            return Err(SetHeaderError);
        }
        ptr::write_bytes(h, 0, 1);
        (*h).hash = if value.len == 0 { 0 } else { hv.hash };
        (*h).key = hv.key;
        (*h).value = value;
        let lc = ngx_pnalloc(r.pool(), key.len().max(1)) as *mut u8;
        if lc.is_null() {
            return Err(SetHeaderError);
        }
        for (j, &c) in key.iter().enumerate() {
            *lc.add(j) = c.to_ascii_lowercase();
        }
        (*h).lowcase_key = lc;
        if let Some(s) = slot {
            *s = h;
        }
        Ok(())
    }
}

/// A header with its own `headers_in` field at `offset`.
///
/// # Safety
/// As for [`set_in_list`]; `offset` is the field's offset in `headers_in`.
unsafe fn set_builtin(
    r: Req,
    hv: &HeaderVal,
    value: ngx_str_t,
    offset: usize,
) -> Result<(), SetHeaderError> {
    // SAFETY: the field at `offset` is an element pointer (nginx's table says
    // so for every header handled here).
    unsafe {
        let hi: *mut ngx_http_headers_in_t = &mut r.get().headers_in;
        let slot = (hi as *mut u8).add(offset) as *mut *mut ngx_table_elt_t;
        let h = *slot;
        if h.is_null() {
            return set_in_list(r, hv, value, Some(slot));
        }
        if value.len == 0 {
            (*h).hash = 0;
            (*h).value = value;
            return set_in_list(r, hv, value, Some(slot));
        }
        (*h).hash = hv.hash;
        (*h).value = value;
        Ok(())
    }
}

/// A header whose `headers_in` field at `offset` collects several elements.
///
/// # Safety
/// As for [`set_builtin`].
unsafe fn set_multi(
    r: Req,
    hv: &HeaderVal,
    value: ngx_str_t,
    offset: usize,
) -> Result<(), SetHeaderError> {
    // SAFETY: with HAS_NEXT the field is the head of a linked list of
    // elements, otherwise an ngx_array_t of element pointers (nginx 1.22).
    unsafe {
        let field = (&mut r.get().headers_in as *mut ngx_http_headers_in_t as *mut u8).add(offset);
        let mut h: *mut ngx_table_elt_t = ptr::null_mut();
        if HAS_NEXT {
            let head = field as *mut *mut ngx_table_elt_t;
            if !hv.no_override {
                *head = ptr::null_mut();
            }
            set_in_list(r, hv, value, Some(&mut h))?;
            if value.len == 0 || h.is_null() {
                return Ok(());
            }
            let mut link = head;
            while !(*link).is_null() && *link != h {
                match next_of(*link) {
                    Some(n) => link = n,
                    None => return Ok(()),
                }
            }
            *link = h;
            if let Some(n) = next_of(h) {
                *n = ptr::null_mut();
            }
        } else {
            let arr = field as *mut ngx_array_t;
            if (!hv.no_override && (*arr).nelts > 0) || (*arr).nalloc == 0 || (*arr).elts.is_null()
            {
                let elts = ngx_palloc(r.pool(), 2 * size_of::<*mut ngx_table_elt_t>());
                if elts.is_null() {
                    return Err(SetHeaderError);
                }
                (*arr).elts = elts;
                (*arr).nelts = 0;
                (*arr).size = size_of::<*mut ngx_table_elt_t>();
                (*arr).nalloc = 2;
                (*arr).pool = r.pool();
            }
            set_in_list(r, hv, value, Some(&mut h))?;
            if value.len == 0 || h.is_null() {
                return Ok(());
            }
            let p = ngx_array_push(arr) as *mut *mut ngx_table_elt_t;
            if p.is_null() {
                return Err(SetHeaderError);
            }
            *p = h;
        }
        Ok(())
    }
}

/// Checks a Host value as nginx does and gives the server name in it
/// (lower-cased, without port or trailing dot), or None if it is invalid.
fn server_name(host: &[u8]) -> Option<Vec<u8>> {
    #[derive(PartialEq)]
    enum State {
        Usual,
        Literal,
        Rest,
    }
    let mut state = State::Usual;
    let mut dot_pos = host.len();
    let mut host_len = host.len();
    for (i, &c) in host.iter().enumerate() {
        match c {
            b'.' => {
                if i > 0 && dot_pos == i - 1 {
                    return None;
                }
                dot_pos = i;
            }
            b':' if state == State::Usual => {
                host_len = i;
                state = State::Rest;
            }
            b'[' if i == 0 => state = State::Literal,
            b']' if state == State::Literal => {
                host_len = i + 1;
                state = State::Rest;
            }
            0 | b'/' => return None,
            _ => {}
        }
    }
    if host_len > 0 && dot_pos == host_len - 1 {
        host_len -= 1;
    }
    if host_len == 0 {
        return None;
    }
    Some(host[..host_len].to_ascii_lowercase())
}

/// Marks the cached `$host` stale (it is derived from headers_in.server).
fn invalidate_host_variable(r: Req) {
    let mut name = *b"host";
    // SAFETY: the core main conf and its variables hash are built at
    // configuration time and read-only afterwards; r->variables has one slot
    // per indexed variable.
    unsafe {
        let raw = r.get();
        let cmcf =
            *raw.main_conf.add(ngx_http_core_module.ctx_index) as *mut ngx_http_core_main_conf_t;
        if cmcf.is_null() || raw.variables.is_null() {
            return;
        }
        let key = ngx_hash_key_lc(name.as_mut_ptr(), name.len());
        let v = ngx_hash_find(
            &mut (*cmcf).variables_hash,
            key,
            name.as_mut_ptr(),
            name.len(),
        ) as *mut ngx_http_variable_t;
        if v.is_null() || (*v).flags & NGX_HTTP_VAR_INDEXED as ngx_uint_t == 0 {
            return;
        }
        let vv = raw.variables.add((*v).index);
        (*vv).set_valid(0);
        (*vv).set_not_found(0);
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// nginx's browser detection on a User-Agent value: (msie, msie6, opera,
/// gecko, chrome, safari, konqueror).
fn browser_bits(ua: &[u8]) -> [bool; 7] {
    let (mut msie, mut msie6, mut opera) = (false, false, false);
    let (mut gecko, mut chrome, mut safari, mut konqueror) = (false, false, false, false);
    if let Some(i) = ua.windows(5).position(|w| w == b"MSIE ") {
        if i + 7 < ua.len() {
            msie = true;
            if ua[i + 6] == b'.' {
                match ua[i + 5] {
                    b'4' | b'5' => msie6 = true,
                    b'6' => msie6 = !contains(&ua[i + 8..], b"SV1"),
                    _ => {}
                }
            }
        }
    }
    if contains(ua, b"Opera") {
        opera = true;
        msie = false;
        msie6 = false;
    }
    if !msie && !opera {
        if contains(ua, b"Gecko/") {
            gecko = true;
        } else if contains(ua, b"Chrome/") {
            chrome = true;
        } else if contains(ua, b"Safari/") && contains(ua, b"Mac OS X") {
            safari = true;
        } else if contains(ua, b"Konqueror") {
            konqueror = true;
        }
    }
    [msie, msie6, opera, gecko, chrome, safari, konqueror]
}

/// `ngx_atoof`: a non-negative decimal number, or None.
fn parse_length(v: &[u8]) -> Option<i64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0i64, |n, &d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })
}

/// Sets (`override_`) or adds one value of a request header as
/// `ngx.req.set_header` does; an empty `value` removes the header. Name and
/// value are escaped first (control characters in the value, separators in
/// the name). Fails for an invalid Host or Content-Length.
pub fn set_header(
    r: Req,
    name: &[u8],
    value: &[u8],
    override_: bool,
) -> Result<(), SetHeaderError> {
    let pool = r.pool();
    let name = escape(name, &ESCAPE_NAME);
    let value = escape(value, &ESCAPE_VALUE);
    // SAFETY: the request and its pool are alive; everything nginx keeps is
    // copied into the pool.
    unsafe {
        let key = pool_cstr(pool, &name)?;
        let v = pool_cstr(pool, &value)?;
        let hash = if v.len > 0 && key.len > 0 {
            ngx_hash_key_lc(key.data, key.len)
        } else {
            0
        };
        let hv = HeaderVal {
            key,
            hash,
            no_override: !override_,
        };

        let raw = r.get();
        if raw.headers_out.status == 400 || raw.headers_in.headers.last.is_null() {
            // A 400 Bad Request: its header list may be incomplete.
            return Ok(());
        }

        match kind(&name) {
            Kind::Plain => set_in_list(r, &hv, v, None),
            Kind::Builtin(off) => set_builtin(r, &hv, v, off),
            Kind::Multi(off) => set_multi(r, &hv, v, off),
            Kind::Host(off) => {
                if v.len == 0 {
                    raw.headers_in.server = v;
                } else {
                    let server = server_name(&value).ok_or(SetHeaderError)?;
                    raw.headers_in.server = r.pool_str(&server).ok_or(SetHeaderError)?;
                }
                invalidate_host_variable(r);
                set_builtin(r, &hv, v, off)
            }
            Kind::Connection(off) => {
                raw.headers_in.set_connection_type(0);
                if v.len > 0 {
                    if contains_ignore_case(&value, b"close") {
                        raw.headers_in
                            .set_connection_type(NGX_HTTP_CONNECTION_CLOSE);
                        raw.headers_in.keep_alive_n = -1;
                    } else if contains_ignore_case(&value, b"keep-alive") {
                        raw.headers_in
                            .set_connection_type(NGX_HTTP_CONNECTION_KEEP_ALIVE);
                    }
                }
                set_builtin(r, &hv, v, off)
            }
            Kind::UserAgent(off) => {
                let [msie, msie6, opera, gecko, chrome, safari, konqueror] = if v.len == 0 {
                    [false; 7]
                } else {
                    browser_bits(&value)
                };
                let hi = &mut raw.headers_in;
                hi.set_msie(msie.into());
                hi.set_msie6(msie6.into());
                hi.set_opera(opera.into());
                hi.set_gecko(gecko.into());
                hi.set_chrome(chrome.into());
                hi.set_safari(safari.into());
                hi.set_konqueror(konqueror.into());
                set_builtin(r, &hv, v, off)
            }
            Kind::ContentLength(off) => {
                if v.len == 0 {
                    raw.headers_in.content_length_n = -1;
                } else {
                    raw.headers_in.content_length_n = parse_length(&value).ok_or(SetHeaderError)?;
                }
                set_builtin(r, &hv, v, off)
            }
        }
    }
}

/// nginx's NGX_HTTP_VERSION_30 (nginx >= 1.25 defines it; older headers do not).
const HTTP_VERSION_30: u32 = 3000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_header_segments() {
        let mut out = Vec::new();
        append_segment(
            &mut out,
            b"GET / HTTP/1.1\r\nHost\0 a\0\nFoo\0\0\n\r\n",
            true,
        );
        assert_eq!(out, b"GET / HTTP/1.1\r\nHost: a\r\nFoo:\r\n\r\n");
        let mut out = Vec::new();
        append_segment(&mut out, b"GET / HTTP/1.1\nA\0 b\0B: part", false);
        assert_eq!(out, b"GET / HTTP/1.1\nA: b\n");
        let mut out = Vec::new();
        append_segment(&mut out, b"A\0  b\0 \t\r\nB\0c\0\n", true);
        assert_eq!(out, b"A:  b  \t\r\nB:c\r\n");
        assert_eq!(
            strip_body(b"GET /\r\nA: b\r\n\r\nbody".to_vec()),
            b"GET /\r\nA: b\r\n\r\n"
        );
        assert_eq!(
            strip_body(b"GET /\nA: b\n\nbody".to_vec()),
            b"GET /\nA: b\n\n"
        );
    }

    #[test]
    fn header_escaping() {
        assert_eq!(&*escape(b"a\r\nb\tc", &ESCAPE_VALUE), b"a%0D%0Ab\tc");
        assert_eq!(&*escape(b"X Foo:\x7f", &ESCAPE_NAME), b"X%20Foo%3A%7F");
        assert!(matches!(
            escape(b"X-Foo_Bar", &ESCAPE_NAME),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            server_name(b"Example.COM:8080").as_deref(),
            Some(&b"example.com"[..])
        );
        assert_eq!(server_name(b"foo.").as_deref(), Some(&b"foo"[..]));
        assert_eq!(server_name(b"[::1]:80").as_deref(), Some(&b"[::1]"[..]));
        assert!(server_name(b"a..b").is_none());
        assert!(server_name(b"a/b").is_none());
        assert!(server_name(b":80").is_none());
        assert!(server_name(b".").is_none());
    }

    #[test]
    fn lengths_and_agents() {
        assert_eq!(parse_length(b"123"), Some(123));
        assert_eq!(parse_length(b"-1"), None);
        assert_eq!(parse_length(b""), None);
        assert_eq!(parse_length(b"99999999999999999999"), None);
        assert_eq!(
            browser_bits(b"Mozilla/4.0 (compatible; MSIE 6.0; Windows)")[..2],
            [true, true]
        );
        assert!(browser_bits(b"Mozilla/5.0 Gecko/2010")[3]);
        assert!(browser_bits(b"Opera/9.80")[2]);
    }
}
