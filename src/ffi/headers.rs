//! Response and request header plumbing over nginx's header lists.
//!
//! Response headers live in `r->headers_out.headers` (a list of
//! `ngx_table_elt_t`; an element with `hash == 0` is deleted). nginx also keeps
//! pointers to some of them in dedicated `headers_out` fields (`server`,
//! `date`, `content_length`, ...) and keeps Content-Type outside the list
//! altogether; its header filter relies on both. [`set_resp_header`] keeps
//! list and fields consistent the way lua-nginx-module's `ngx.header` does.
//!
//! nginx 1.22 and 1.23+ differ: 1.23 added `ngx_table_elt_t.next` and turned
//! the multi-value fields (`cache_control`, `link`) from arrays of pointers
//! into linked lists. New elements are zeroed (so `next` is null when it
//! exists) and the multi-value fields go through [`MultiField`], implemented
//! for both field types, so no code names a field missing in one version.

use std::mem::{offset_of, size_of};
use std::ptr;

use nginx_sys::{
    ngx_array_push, ngx_array_t, ngx_atoof, ngx_http_headers_out_t, ngx_http_set_content_type,
    ngx_http_time, ngx_list_push, ngx_list_t, ngx_palloc, ngx_pnalloc, ngx_pool_t, ngx_str_t,
    ngx_table_elt_t, ngx_uint_t, time_t, NGX_HTTP_SWITCHING_PROTOCOLS,
};

use super::request::Req;

extern "C" {
    /// nginx's HTTP date parser (`ngx_http_parse_time` is a macro for it);
    /// exported by every nginx binary that loads dynamic modules.
    fn ngx_parse_http_time(value: *mut u8, len: usize) -> time_t;
}

/// Marks `headers_out.content_type` as deliberately emptied by Lua (its data
/// points here with length 0), so the default type is not added later
/// (lua-nginx-module's `ctx->mime_set`). nginx only ever looks at the length.
static MIME_CLEARED: u8 = 0;

fn mime_cleared(ct: &ngx_str_t) -> bool {
    ct.len == 0 && ptr::eq(ct.data as *const u8, &MIME_CLEARED)
}

/// Before the header goes out: the default Content-Type (when
/// `lua_use_default_type` is on and none was set) and, unless Lua set headers
/// itself, no stale Content-Length / Accept-Ranges.
pub fn prepare_default_headers(r: Req, use_default_type: bool, headers_set: bool) {
    // SAFETY: the request is alive (Req invariant); we only touch headers_out.
    unsafe {
        let raw = r.get();
        if use_default_type
            && raw.headers_out.content_type.len == 0
            && !mime_cleared(&raw.headers_out.content_type)
            && raw.headers_out.status != 304
        {
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
pub fn push_out_header(
    r: Req,
    key: &'static str,
    value: &[u8],
) -> Option<*mut nginx_sys::ngx_table_elt_t> {
    let v = r.pool_str(value)?;
    // SAFETY: the request is alive; the element lives in headers_out's list
    // (request pool) and its strings in the request pool or static memory.
    unsafe {
        let raw = r.get();
        let h = nginx_sys::ngx_list_push(&mut raw.headers_out.headers)
            as *mut nginx_sys::ngx_table_elt_t;
        if h.is_null() {
            return None;
        }
        std::ptr::write_bytes(h, 0, 1);
        (*h).hash = 1;
        (*h).key = nginx_sys::ngx_str_t {
            len: key.len(),
            data: key.as_ptr() as *mut u8,
        };
        (*h).value = v;
        Some(h)
    }
}

/// Sets the Location response header (for ngx.redirect).
pub fn set_location(r: Req, uri: &[u8]) -> bool {
    // Only the header line: r->headers_out.location stays unset so nginx's
    // header filter does not turn a relative URI into an absolute one
    // (lua-nginx-module sends the Location exactly as given).
    push_out_header(r, "Location", uri).is_some()
}

// ---------------------------------------------------------------------------
// ngx.header: names, values, escaping
// ---------------------------------------------------------------------------

/// Builds the 256-entry "must be percent-encoded" table of header names:
/// controls, DEL, non-ASCII and `chars`.
const fn escape_table(chars: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x7f;
        i += 1;
    }
    let mut j = 0;
    while j < chars.len() {
        t[chars[j] as usize] = true;
        j += 1;
    }
    t
}

/// Header names: controls, DEL, non-ASCII and the HTTP separators.
static ESCAPE_NAME: [bool; 256] = escape_table(b" \"(),/:;<=>?@[\\]{}");

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// One step of `ngx_hash(key, c)` with the lower-cased byte `lc`.
const fn hash_step(h: ngx_uint_t, lc: u8) -> ngx_uint_t {
    h.wrapping_mul(31).wrapping_add(lc as ngx_uint_t)
}

/// `ngx_hash(key, c)` over the lower-cased bytes (`ngx_hash_key_lc`).
const fn hash_lc(s: &[u8]) -> ngx_uint_t {
    let mut h: ngx_uint_t = 0;
    let mut i = 0;
    while i < s.len() {
        h = hash_step(h, s[i].to_ascii_lowercase());
        i += 1;
    }
    h
}

const LOCATION_HASH: ngx_uint_t = hash_lc(b"location");

/// Header values: controls except TAB, and DEL (no CR/LF injection).
/// Arithmetic rather than a table lookup, so the scan of a long value
/// vectorises.
#[inline]
fn value_needs_escape(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

/// Copies `src` into the pool, NUL-terminated, `_` turned into `-` when
/// `underscores` is set and the bytes `escape` selects percent-encoded.
fn pool_escaped(
    pool: *mut ngx_pool_t,
    src: &[u8],
    escape: impl Fn(u8) -> bool,
    underscores: bool,
) -> Option<ngx_str_t> {
    // Branch-free count: the common case has nothing to escape.
    let extra = 2 * src.iter().fold(0usize, |n, &b| n + usize::from(escape(b)));
    let len = src.len() + extra;
    // SAFETY: the pool is the live request pool; we write exactly len + 1 bytes.
    unsafe {
        let p = ngx_pnalloc(pool, len + 1) as *mut u8;
        if p.is_null() {
            return None;
        }
        let out = std::slice::from_raw_parts_mut(p, len + 1);
        if extra == 0 {
            // The common case: a copy, then the underscores.
            out[..len].copy_from_slice(src);
            if underscores {
                for c in out[..len].iter_mut().filter(|c| **c == b'_') {
                    *c = b'-';
                }
            }
            out[len] = 0;
            return Some(ngx_str_t { len, data: p });
        }
        let mut n = 0;
        for &c in src {
            let c = if underscores && c == b'_' { b'-' } else { c };
            if escape(c) {
                out[n] = b'%';
                out[n + 1] = HEX[usize::from(c >> 4)];
                out[n + 2] = HEX[usize::from(c & 0xf)];
                n += 3;
            } else {
                out[n] = c;
                n += 1;
            }
        }
        out[n] = 0;
        Some(ngx_str_t { len: n, data: p })
    }
}

fn name_needs_escape(c: u8) -> bool {
    ESCAPE_NAME[usize::from(c)]
}

/// `a.eq_ignore_ascii_case(&b)` with the usual case (equal bytes) first:
/// names are mostly compared with what they were stored as.
#[inline]
fn eq_ignore_case(a: u8, b: u8) -> bool {
    a == b || (a | 0x20 == b | 0x20 && (a | 0x20).is_ascii_lowercase())
}

/// A response header name ready for [`set_resp_header`]. The name is used
/// where it is (the caller's bytes, for as long as `'a`), its `_` read as
/// `-` when underscores are transformed, and copied into the request pool
/// only when an element stores it: clearing or overwriting a header costs
/// no copy. A name with bytes to percent-encode (rare) is escaped into the
/// pool up front. The hash is computed only where an element needs it.
#[derive(Clone, Copy)]
pub struct OutKey<'a> {
    name: &'a [u8],
    /// `_` in `name` stands for `-`.
    dashes: bool,
    /// `name` is already an escaped copy in the request pool.
    in_pool: bool,
}

impl<'a> OutKey<'a> {
    pub fn new(r: Req, name: &'a [u8], underscores: bool) -> Option<OutKey<'a>> {
        let escape = name.iter().any(|&b| ESCAPE_NAME[usize::from(b)]);
        if !escape {
            return Some(OutKey::in_place(name, underscores));
        }
        let key = pool_escaped(r.pool(), name, name_needs_escape, underscores)?;
        // SAFETY: the copy lives in the request pool, which outlives every
        // use of the key (all within the request).
        let name = unsafe { std::slice::from_raw_parts(key.data, key.len) };
        Some(OutKey {
            name,
            dashes: false,
            in_pool: true,
        })
    }

    /// A name that needs no escaping, used where it is.
    fn in_place(name: &'a [u8], dashes: bool) -> OutKey<'a> {
        OutKey {
            name,
            dashes,
            in_pool: false,
        }
    }

    /// Byte `c` of the name as stored.
    #[inline]
    fn stored_byte(&self, c: u8) -> u8 {
        if self.dashes && c == b'_' {
            b'-'
        } else {
            c
        }
    }

    /// Whether a header called `other` has this name (case-insensitively).
    fn is(&self, other: &[u8]) -> bool {
        name_matches(self.name, other, self.dashes)
    }

    /// `ngx_hash_key_lc` of the name as stored.
    fn hash(&self) -> ngx_uint_t {
        self.name.iter().fold(0, |h, &c| {
            hash_step(h, self.stored_byte(c).to_ascii_lowercase())
        })
    }

    /// The name as a header element keeps it: in the request pool.
    fn stored(&self, pool: *mut ngx_pool_t) -> Result<ngx_str_t, SetHeaderError> {
        if self.in_pool {
            return Ok(ngx_str_t {
                len: self.name.len(),
                data: self.name.as_ptr() as *mut u8,
            });
        }
        self.copied(pool, false).map(|(key, _, _)| key)
    }

    /// The stored name, its lower-cased copy (`lowcase_key`) and its hash
    /// for a new element, from one pool allocation and one pass.
    fn stored_with_lowcase(
        &self,
        pool: *mut ngx_pool_t,
    ) -> Result<(ngx_str_t, *mut u8, ngx_uint_t), SetHeaderError> {
        self.copied(pool, true)
    }

    /// The name copied into the pool (unless it is there already) and,
    /// with `lowcase`, its lower-cased copy and hash too (else null and 0).
    fn copied(
        &self,
        pool: *mut ngx_pool_t,
        lowcase: bool,
    ) -> Result<(ngx_str_t, *mut u8, ngx_uint_t), SetHeaderError> {
        let len = self.name.len();
        let copy_key = if self.in_pool { 0 } else { len + 1 };
        let copy_low = if lowcase { len } else { 0 };
        // SAFETY: the pool is live; we write exactly copy_key + copy_low
        // bytes (at least one byte is allocated so the pointer is never
        // dangling).
        unsafe {
            let p = ngx_pnalloc(pool, (copy_key + copy_low).max(1)) as *mut u8;
            if p.is_null() {
                return Err(SetHeaderError::NoMemory);
            }
            // An escaped name is in the pool already: only the lower-cased
            // copy is written.
            let (key, low) = if self.in_pool {
                (self.name.as_ptr() as *mut u8, p)
            } else {
                *p.add(len) = 0;
                (p, p.add(len + 1))
            };
            let mut hash: ngx_uint_t = 0;
            for (i, &c) in self.name.iter().enumerate() {
                let c = self.stored_byte(c);
                if !self.in_pool {
                    *p.add(i) = c;
                }
                if lowcase {
                    let lc = c.to_ascii_lowercase();
                    *low.add(i) = lc;
                    hash = hash_step(hash, lc);
                }
            }
            let low = if lowcase { low } else { ptr::null_mut() };
            Ok((ngx_str_t { len, data: key }, low, hash))
        }
    }
}

/// Why a response header could not be set (the message Lua sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetHeaderError {
    NoMemory,
    Failed,
}

impl SetHeaderError {
    pub fn message(self) -> &'static str {
        match self {
            SetHeaderError::NoMemory => "no memory",
            SetHeaderError::Failed => "failed to set header",
        }
    }
}

/// The `headers_out` pointer fields that hold one header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Single {
    Server,
    Date,
    ContentEncoding,
    Location,
    Refresh,
    LastModified,
    ContentRange,
    AcceptRanges,
    WwwAuthenticate,
    Expires,
    Etag,
    ContentLength,
}

/// The `headers_out` fields that hold several headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Multi {
    CacheControl,
    Link,
}

/// How nginx keeps a response header (lua-nginx-module's handler table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Generic,
    Builtin(Single),
    Location,
    LastModified,
    ContentLength,
    ContentType,
    Multi(Multi),
}

fn classify(key: &OutKey<'_>) -> Kind {
    // By length first: most names set are none of these, and then cost a
    // length test rather than sixteen.
    let candidates: &[(&[u8], Kind)] = match key.name.len() {
        4 => &[
            (b"date", Kind::Builtin(Single::Date)),
            (b"etag", Kind::Builtin(Single::Etag)),
            (b"link", Kind::Multi(Multi::Link)),
        ],
        5 => &[(b"e-tag", Kind::Builtin(Single::Etag))],
        6 => &[(b"server", Kind::Builtin(Single::Server))],
        7 => &[
            (b"refresh", Kind::Builtin(Single::Refresh)),
            (b"expires", Kind::Builtin(Single::Expires)),
        ],
        8 => &[(b"location", Kind::Location)],
        12 => &[(b"content-type", Kind::ContentType)],
        13 => &[
            (b"last-modified", Kind::LastModified),
            (b"content-range", Kind::Builtin(Single::ContentRange)),
            (b"accept-ranges", Kind::Builtin(Single::AcceptRanges)),
            (b"cache-control", Kind::Multi(Multi::CacheControl)),
        ],
        14 => &[(b"content-length", Kind::ContentLength)],
        16 => &[
            (b"content-encoding", Kind::Builtin(Single::ContentEncoding)),
            (b"www-authenticate", Kind::Builtin(Single::WwwAuthenticate)),
        ],
        _ => &[],
    };
    candidates
        .iter()
        .find(|(name, _)| key.is(name))
        .map_or(Kind::Generic, |(_, k)| *k)
}

fn single_field(ho: &mut ngx_http_headers_out_t, f: Single) -> &mut *mut ngx_table_elt_t {
    match f {
        Single::Server => &mut ho.server,
        Single::Date => &mut ho.date,
        Single::ContentEncoding => &mut ho.content_encoding,
        Single::Location => &mut ho.location,
        Single::Refresh => &mut ho.refresh,
        Single::LastModified => &mut ho.last_modified,
        Single::ContentRange => &mut ho.content_range,
        Single::AcceptRanges => &mut ho.accept_ranges,
        Single::WwwAuthenticate => &mut ho.www_authenticate,
        Single::Expires => &mut ho.expires,
        Single::Etag => &mut ho.etag,
        Single::ContentLength => &mut ho.content_length,
    }
}

/// Calls `f` on every element of a header list until it returns false.
///
/// # Safety
/// `list` must be a live, initialised nginx list of `ngx_table_elt_t`.
unsafe fn for_each_elt(list: *mut ngx_list_t, mut f: impl FnMut(*mut ngx_table_elt_t) -> bool) {
    // SAFETY: guaranteed by the caller; parts never move once allocated.
    unsafe {
        let mut part = ptr::addr_of_mut!((*list).part);
        while !part.is_null() {
            let elts = (*part).elts as *mut ngx_table_elt_t;
            let mut i = 0;
            while i < (*part).nelts {
                if !f(elts.add(i)) {
                    return;
                }
                i += 1;
            }
            part = (*part).next;
        }
    }
}

/// Same as [`for_each_elt`] with an early exit that carries an error.
///
/// # Safety
/// As for [`for_each_elt`].
unsafe fn try_for_each_elt<E>(
    list: *mut ngx_list_t,
    mut f: impl FnMut(*mut ngx_table_elt_t) -> Result<bool, E>,
) -> Result<(), E> {
    let mut res = Ok(());
    // SAFETY: forwarded from the caller.
    unsafe {
        for_each_elt(list, |h| match f(h) {
            Ok(go_on) => go_on,
            Err(e) => {
                res = Err(e);
                false
            }
        })
    };
    res
}

/// A new element at the end of a header list holding `value` under `k`
/// (deleted, i.e. hash 0, when the value is empty).
///
/// # Safety
/// `list` must be the live request's `headers_out.headers` and `pool` its pool.
unsafe fn new_elt(
    list: *mut ngx_list_t,
    pool: *mut ngx_pool_t,
    k: &OutKey<'_>,
    value: ngx_str_t,
) -> Result<*mut ngx_table_elt_t, SetHeaderError> {
    let (key, lowcase_key, hash) = k.stored_with_lowcase(pool)?;
    // SAFETY: the list belongs to the live request; the element is zeroed
    // before use, whatever fields this nginx version's struct has.
    unsafe {
        let h = ngx_list_push(list) as *mut ngx_table_elt_t;
        if h.is_null() {
            return Err(SetHeaderError::NoMemory);
        }
        ptr::write_bytes(h, 0, 1);
        (*h).hash = if value.len == 0 { 0 } else { hash };
        (*h).key = key;
        (*h).value = value;
        (*h).lowcase_key = lowcase_key;
        Ok(h)
    }
}

/// `ngx_http_core_find_config_phase` may create a relative Location header
/// without key and hash; give it both so list searches see it.
///
/// # Safety
/// `ho` must be the live request's `headers_out`.
unsafe fn fix_location(ho: *mut ngx_http_headers_out_t) {
    // SAFETY: a non-null location points into the live header list.
    unsafe {
        let h = (*ho).location;
        if !h.is_null()
            && (*h).value.len > 0
            && !(*h).value.data.is_null()
            && *(*h).value.data == b'/'
        {
            (*h).hash = LOCATION_HASH;
            (*h).key = ngx_str_t {
                len: 8,
                data: b"Location".as_ptr() as *mut u8,
            };
        }
    }
}

fn elt_key_is(h: *mut ngx_table_elt_t, k: &OutKey<'_>) -> bool {
    // SAFETY: h is a live list element; its key is valid for key.len bytes.
    k.is(unsafe { super::str_bytes(&(*h).key) })
}

/// Overrides (or appends) a header in the list: the first live element with
/// this name gets the value, later ones are deleted; with none, a new element
/// is added (even for an empty value: it then exists but is deleted, which is
/// what tells nginx not to generate some builtin headers). `out` names the
/// `headers_out` field to point at the element set.
///
/// # Safety
/// `r` is live.
unsafe fn set_in_list(
    r: Req,
    k: &OutKey<'_>,
    value: ngx_str_t,
    no_override: bool,
    out: Option<Single>,
    no_create: bool,
) -> Result<(), SetHeaderError> {
    // SAFETY: the request is alive (Req invariant); all elements touched are
    // live members of its header list, allocated from its pool.
    unsafe {
        let ho: *mut ngx_http_headers_out_t = &mut r.get().headers_out;
        let list = ptr::addr_of_mut!((*ho).headers);
        if !no_override {
            fix_location(ho);
            let mut last: *mut ngx_table_elt_t = ptr::null_mut();
            for_each_elt(list, |h| {
                if (*h).hash != 0 && elt_key_is(h, k) {
                    if value.len == 0 || !last.is_null() {
                        (*h).value.len = 0;
                        (*h).hash = 0;
                    } else {
                        (*h).value = value;
                        (*h).hash = k.hash();
                    }
                    last = h;
                }
                true
            });
            if !last.is_null() {
                if let Some(f) = out {
                    *single_field(&mut *ho, f) = last;
                }
                return Ok(());
            }
            if no_create && value.len == 0 {
                return Ok(());
            }
        }
        let h = new_elt(list, r.pool(), k, value)?;
        if let Some(f) = out {
            *single_field(&mut *ho, f) = h;
        }
        Ok(())
    }
}

/// A header nginx also points at from a `headers_out` field.
///
/// # Safety
/// `r` is live.
unsafe fn set_builtin(
    r: Req,
    k: &OutKey<'_>,
    value: ngx_str_t,
    field: Single,
    no_override: bool,
) -> Result<(), SetHeaderError> {
    // SAFETY: the request is alive; the field points into its header list.
    unsafe {
        let h = *single_field(&mut r.get().headers_out, field);
        if h.is_null() {
            return set_in_list(r, k, value, no_override, Some(field), false);
        }
        if value.len == 0 {
            (*h).hash = 0;
            (*h).value = value;
            return Ok(());
        }
        (*h).hash = k.hash();
        (*h).key = k.stored(r.pool())?;
        (*h).value = value;
        Ok(())
    }
}

/// Where nginx 1.23+ keeps `ngx_table_elt_t.next`: right after `lowcase_key`
/// (its last field). Only used when the multi-value fields are linked lists,
/// i.e. when the field exists; never named so 1.22 bindings compile.
const NEXT_OFFSET: usize = offset_of!(ngx_table_elt_t, lowcase_key) + size_of::<*mut u8>();
const HAS_NEXT: bool =
    size_of::<ngx_table_elt_t>() >= NEXT_OFFSET + size_of::<*mut ngx_table_elt_t>();

/// The address of `h->next`, if this nginx has it.
///
/// # Safety
/// `h` must point to a live element.
unsafe fn next_of(h: *mut ngx_table_elt_t) -> Option<*mut *mut ngx_table_elt_t> {
    // SAFETY: in bounds of the element when HAS_NEXT (checked above).
    HAS_NEXT.then(|| unsafe { (h as *mut u8).add(NEXT_OFFSET) as *mut *mut ngx_table_elt_t })
}

/// A `headers_out` field holding several headers of one name: a linked list
/// (nginx >= 1.23) or an array of element pointers (nginx 1.22).
trait MultiField {
    /// # Safety
    /// `self` is a field of the live request's `headers_out`, `list` its
    /// `headers` and `pool` the request pool.
    unsafe fn set(
        &mut self,
        list: *mut ngx_list_t,
        pool: *mut ngx_pool_t,
        k: &OutKey<'_>,
        value: ngx_str_t,
        no_override: bool,
    ) -> Result<(), SetHeaderError>;
}

impl MultiField for *mut ngx_table_elt_t {
    unsafe fn set(
        &mut self,
        list: *mut ngx_list_t,
        pool: *mut ngx_pool_t,
        k: &OutKey<'_>,
        value: ngx_str_t,
        no_override: bool,
    ) -> Result<(), SetHeaderError> {
        // SAFETY: the chain's elements are live members of the header list.
        unsafe {
            if no_override {
                let mut h = *self;
                while !h.is_null() {
                    if (*h).hash == 0 {
                        (*h).value = value;
                        (*h).hash = k.hash();
                        return Ok(());
                    }
                    h = next_of(h).map_or(ptr::null_mut(), |n| *n);
                }
            } else if !self.is_null() {
                let first = *self;
                let mut h = next_of(first).map_or(ptr::null_mut(), |n| *n);
                while !h.is_null() {
                    (*h).hash = 0;
                    (*h).value.len = 0;
                    h = next_of(h).map_or(ptr::null_mut(), |n| *n);
                }
                (*first).value = value;
                (*first).hash = if value.len == 0 { 0 } else { k.hash() };
                return Ok(());
            }
            let ho = new_elt(list, pool, k, value)?;
            let mut link: *mut *mut ngx_table_elt_t = self;
            while !(*link).is_null() {
                match next_of(*link) {
                    Some(n) => link = n,
                    // No `next` field: cannot chain; keep the first one.
                    None => return Ok(()),
                }
            }
            *link = ho;
            Ok(())
        }
    }
}

impl MultiField for ngx_array_t {
    unsafe fn set(
        &mut self,
        list: *mut ngx_list_t,
        pool: *mut ngx_pool_t,
        k: &OutKey<'_>,
        value: ngx_str_t,
        no_override: bool,
    ) -> Result<(), SetHeaderError> {
        // SAFETY: the array holds pointers to live list elements and is
        // allocated from the request pool.
        unsafe {
            if self.elts.is_null() {
                let elts = ngx_palloc(pool, 2 * size_of::<*mut ngx_table_elt_t>());
                if elts.is_null() {
                    return Err(SetHeaderError::NoMemory);
                }
                self.elts = elts;
                self.nelts = 0;
                self.size = size_of::<*mut ngx_table_elt_t>();
                self.nalloc = 2;
                self.pool = pool;
            }
            let ph = self.elts as *mut *mut ngx_table_elt_t;
            if no_override {
                for i in 0..self.nelts {
                    let h = *ph.add(i);
                    if (*h).hash == 0 {
                        (*h).value = value;
                        (*h).hash = k.hash();
                        return Ok(());
                    }
                }
            } else if self.nelts > 0 {
                for i in 1..self.nelts {
                    let h = *ph.add(i);
                    (*h).hash = 0;
                    (*h).value.len = 0;
                }
                let first = *ph;
                (*first).value = value;
                (*first).hash = if value.len == 0 { 0 } else { k.hash() };
                return Ok(());
            }
            let slot = ngx_array_push(self) as *mut *mut ngx_table_elt_t;
            if slot.is_null() {
                return Err(SetHeaderError::NoMemory);
            }
            match new_elt(list, pool, k, value) {
                Ok(h) => {
                    *slot = h;
                    Ok(())
                }
                Err(e) => {
                    self.nelts -= 1;
                    Err(e)
                }
            }
        }
    }
}

/// Sets (`override_`) or adds one value of a response header as `ngx.header`
/// does; an empty `value` deletes the header.
pub fn set_resp_header(
    r: Req,
    k: &OutKey<'_>,
    value: &[u8],
    override_: bool,
) -> Result<(), SetHeaderError> {
    let v =
        pool_escaped(r.pool(), value, value_needs_escape, false).ok_or(SetHeaderError::NoMemory)?;
    let no_override = !override_;
    // SAFETY: the request is alive (Req invariant); every pointer stored into
    // headers_out points to request-pool memory.
    unsafe {
        match classify(k) {
            Kind::Generic => set_in_list(r, k, v, no_override, None, false),
            Kind::Builtin(f) => set_builtin(r, k, v, f, no_override),
            Kind::Location => {
                set_builtin(r, k, v, Single::Location, no_override)?;
                // A relative Location stays a plain header so nginx's header
                // filter does not make it absolute.
                let ho = &mut r.get().headers_out;
                let h = ho.location;
                if !h.is_null() && (*h).value.len > 0 && *(*h).value.data == b'/' {
                    ho.location = ptr::null_mut();
                }
                Ok(())
            }
            Kind::LastModified => {
                let ho = &mut r.get().headers_out;
                ho.last_modified_time = if v.len == 0 {
                    -1
                } else {
                    ngx_parse_http_time(v.data, v.len)
                };
                set_builtin(r, k, v, Single::LastModified, no_override)
            }
            Kind::ContentLength => {
                let ho = &mut r.get().headers_out;
                if v.len == 0 {
                    ho.content_length_n = -1;
                } else {
                    let n = ngx_atoof(v.data, v.len);
                    if n < 0 {
                        return Err(SetHeaderError::Failed);
                    }
                    ho.content_length_n = n;
                }
                set_builtin(r, k, v, Single::ContentLength, no_override)
            }
            Kind::ContentType => {
                let ho = &mut r.get().headers_out;
                ho.content_type_len = value_type_len(&v);
                ho.content_type = if v.len == 0 {
                    ngx_str_t {
                        len: 0,
                        data: ptr::addr_of!(MIME_CLEARED) as *mut u8,
                    }
                } else {
                    v
                };
                ho.content_type_hash = k.hash();
                ho.content_type_lowcase = ptr::null_mut();
                // Content-Type lives outside the list: delete list copies.
                let empty = ngx_str_t {
                    len: 0,
                    data: v.data,
                };
                set_in_list(r, k, empty, no_override, None, true)
            }
            Kind::Multi(m) => {
                let ho = &mut r.get().headers_out;
                let list: *mut ngx_list_t = &mut ho.headers;
                match m {
                    Multi::CacheControl => {
                        MultiField::set(&mut ho.cache_control, list, r.pool(), k, v, no_override)
                    }
                    Multi::Link => MultiField::set(&mut ho.link, list, r.pool(), k, v, no_override),
                }
            }
        }
    }
}

/// The length of the media type part of a Content-Type value (up to `;`).
fn value_type_len(v: &ngx_str_t) -> usize {
    // SAFETY: v was just copied into the pool with v.len bytes.
    let b = unsafe { super::str_bytes(v) };
    b.iter().position(|&c| c == b';').unwrap_or(b.len())
}

// ---------------------------------------------------------------------------
// Reading response headers
// ---------------------------------------------------------------------------

/// Header name equality where `_` in `query` means `-` when `underscores`.
fn name_matches(query: &[u8], name: &[u8], underscores: bool) -> bool {
    query.len() == name.len()
        && query.iter().zip(name).all(|(&q, &n)| {
            let q = if underscores && q == b'_' { b'-' } else { q };
            eq_ignore_case(q, n)
        })
}

/// Calls `f` with each value of the response header `name` (at most `max`),
/// as `ngx.header.NAME` reads it; returns how many there were. Content-Type,
/// Content-Length and Last-Modified come from nginx's own fields.
pub fn get_resp_header<E>(
    r: Req,
    name: &[u8],
    underscores: bool,
    max: usize,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<usize, E> {
    // SAFETY: the request is alive; everything read lives in its pool.
    unsafe {
        let ho: *mut ngx_http_headers_out_t = &mut r.get().headers_out;
        let ho_ref = &*ho;
        match name.len() {
            14 if ho_ref.content_length.is_null()
                && ho_ref.content_length_n >= 0
                && name_matches(name, b"Content-Length", underscores) =>
            {
                let mut buf = [0u8; 20];
                let s = super::fmt::format_integer(ho_ref.content_length_n, &mut buf);
                f(s)?;
                return Ok(1);
            }
            12 if ho_ref.content_type.len > 0
                && name_matches(name, b"Content-Type", underscores) =>
            {
                let ct = ho_ref.content_type;
                f(super::str_bytes(&ct))?;
                return Ok(1);
            }
            13 if name_matches(name, b"Last-Modified", underscores) => {
                let t = ho_ref.last_modified_time;
                if t < 0 {
                    return Ok(0);
                }
                let mut buf = [0u8; 48];
                let end = ngx_http_time(buf.as_mut_ptr(), t);
                let len = (end as usize)
                    .saturating_sub(buf.as_ptr() as usize)
                    .min(buf.len());
                f(&buf[..len])?;
                return Ok(1);
            }
            _ => {}
        }
        fix_location(ho);
        let mut found = 0;
        try_for_each_elt(ptr::addr_of_mut!((*ho).headers), |h| {
            if (*h).hash == 0 || !name_matches(name, super::str_bytes(&(*h).key), underscores) {
                return Ok(true);
            }
            f(super::str_bytes(&(*h).value))?;
            found += 1;
            Ok(found < max)
        })?;
        Ok(found)
    }
}

/// What `ngx.resp.get_headers` reports besides the header list.
pub struct RespHeaderInfo<'a> {
    pub content_type: Option<&'a [u8]>,
    /// Content-Length known only as a number (no header element).
    pub content_length: Option<i64>,
    pub connection: &'static str,
    pub chunked: bool,
    /// Elements in the header list, deleted ones included.
    pub list_len: usize,
}

pub fn resp_header_info<'a>(r: Req) -> RespHeaderInfo<'a> {
    // SAFETY: the request is alive; the content type lives in its pool.
    unsafe {
        let raw = r.get();
        let ho = &mut raw.headers_out;
        let mut list_len = 0;
        for_each_elt(&mut ho.headers, |_| {
            list_len += 1;
            true
        });
        let content_type = (ho.content_type.len > 0).then(|| super::str_bytes(&ho.content_type));
        let content_length = (ho.content_length.is_null() && ho.content_length_n >= 0)
            .then_some(ho.content_length_n);
        let connection = if ho.status == NGX_HTTP_SWITCHING_PROTOCOLS as usize {
            "upgrade"
        } else if raw.keepalive() != 0 {
            "keep-alive"
        } else {
            "close"
        };
        RespHeaderInfo {
            content_type,
            content_length,
            connection,
            chunked: raw.chunked() != 0,
            list_len,
        }
    }
}

/// Calls `f(name, value)` for each live response header in list order until
/// it returns `Ok(false)`.
pub fn for_each_resp_header<E>(
    r: Req,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, E>,
) -> Result<(), E> {
    // SAFETY: the request is alive; keys and values live in its pool (or
    // static memory) for the whole request.
    unsafe {
        let ho: *mut ngx_http_headers_out_t = &mut r.get().headers_out;
        fix_location(ho);
        try_for_each_elt(ptr::addr_of_mut!((*ho).headers), |h| {
            if (*h).hash == 0 {
                return Ok(true);
            }
            f(super::str_bytes(&(*h).key), super::str_bytes(&(*h).value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_tables() {
        for c in b"\r\n\0 :;\"(),/<=>?@[\\]{}\x7f\x80\xff" {
            assert!(ESCAPE_NAME[usize::from(*c)], "{c}");
        }
        for c in b"aZ09-_.~!#$%&'*+^`|" {
            assert!(!ESCAPE_NAME[usize::from(*c)], "{c}");
        }
        for c in b"\r\n\0\x1f\x7f" {
            assert!(value_needs_escape(*c), "{c}");
        }
        for c in b"\t :;\"a\x80\xff" {
            assert!(!value_needs_escape(*c), "{c}");
        }
    }

    fn classify_name(name: &[u8], dashes: bool) -> Kind {
        classify(&OutKey::in_place(name, dashes))
    }

    #[test]
    fn classify_names() {
        assert_eq!(classify_name(b"content-TYPE", false), Kind::ContentType);
        assert_eq!(
            classify_name(b"Cache-Control", false),
            Kind::Multi(Multi::CacheControl)
        );
        assert_eq!(classify_name(b"E-Tag", false), Kind::Builtin(Single::Etag));
        assert_eq!(classify_name(b"X-Foo", false), Kind::Generic);
        assert_eq!(classify_name(b"content_type", false), Kind::Generic);
        assert_eq!(classify_name(b"content_type", true), Kind::ContentType);
    }

    #[test]
    fn classify_every_builtin() {
        let all: &[(&[u8], Kind)] = &[
            (b"Server", Kind::Builtin(Single::Server)),
            (b"Date", Kind::Builtin(Single::Date)),
            (b"Content-Encoding", Kind::Builtin(Single::ContentEncoding)),
            (b"Location", Kind::Location),
            (b"Refresh", Kind::Builtin(Single::Refresh)),
            (b"Last-Modified", Kind::LastModified),
            (b"Content-Range", Kind::Builtin(Single::ContentRange)),
            (b"Accept-Ranges", Kind::Builtin(Single::AcceptRanges)),
            (b"WWW-Authenticate", Kind::Builtin(Single::WwwAuthenticate)),
            (b"Expires", Kind::Builtin(Single::Expires)),
            (b"ETag", Kind::Builtin(Single::Etag)),
            (b"Content-Length", Kind::ContentLength),
            (b"Content-Type", Kind::ContentType),
            (b"Link", Kind::Multi(Multi::Link)),
        ];
        for (name, kind) in all {
            assert_eq!(
                classify_name(name, false),
                *kind,
                "{}",
                String::from_utf8_lossy(name)
            );
        }
        for name in [
            &b"X-Gateway"[..],
            b"Dates",
            b"Serve",
            b"",
            b"Content-Lengths",
        ] {
            assert_eq!(classify_name(name, true), Kind::Generic);
        }
    }

    #[test]
    fn key_hash_and_match_read_underscores_as_dashes() {
        let k = OutKey::in_place(b"X_Foo_Bar", true);
        assert_eq!(k.hash(), hash_lc(b"x-foo-bar"));
        assert!(k.is(b"x-foo-BAR") && !k.is(b"X_Foo_Bar"));
        let k = OutKey::in_place(b"X_Foo", false);
        assert_eq!(k.hash(), hash_lc(b"X_Foo"));
        assert!(k.is(b"x_foo") && !k.is(b"x-foo"));
    }

    #[test]
    fn case_insensitive_bytes() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(eq_ignore_case(a, b), a.eq_ignore_ascii_case(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn names_match() {
        assert!(name_matches(b"content_type", b"Content-Type", true));
        assert!(!name_matches(b"content_type", b"Content-Type", false));
        assert!(name_matches(b"X-FOO", b"x-foo", false));
        assert!(!name_matches(b"X-FOO", b"x-fo", false));
    }

    #[test]
    fn hashes_like_nginx() {
        // ngx_hash_key_lc("Location")
        let mut h: ngx_uint_t = 0;
        for c in b"location" {
            h = h.wrapping_mul(31).wrapping_add(ngx_uint_t::from(*c));
        }
        assert_eq!(LOCATION_HASH, h);
    }
}
