//! PCRE2 for `ngx.re.*`: compiled-regex handles, the per-VM compile-once
//! cache, and the `ngx_lua_rs_re_*` C functions that lualib/ngx_re.lua calls
//! through LuaJIT's FFI (so the calls are JIT-compiled, DESIGN.md section 7).
//!
//! Which PCRE2: the system's libpcre2-8, linked dynamically. Both nginx
//! builds we load into (Debian's /usr/sbin/nginx and the vendored one) link
//! libpcre2-8.so.0 themselves, so at run time this is the very library
//! nginx already mapped: no second copy (the `pcre2` crate's pcre2-sys may
//! build and bundle its own static PCRE2), and the ~20 functions we need are
//! declared below. Build dependency: Debian's libpcre2-dev (already required
//! to build nginx).
//!
//! Ownership: a [`Regex`] is heap-allocated and reference counted. Lua owns
//! one reference to a regex it compiled without `o` (released eagerly, or by
//! an `ffi.gc` finalizer); the cache owns one reference to each cached regex,
//! and Lua code that keeps a cached regex across Lua callbacks (gmatch
//! iterators, gsub with a function) takes its own reference, so an eviction
//! never frees a regex in use. Nothing here calls back into Lua, longjmps or
//! lets a panic escape.

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use lru::LruCache;

use crate::api::re::{self as api, Template};

#[repr(C)]
pub struct Pcre2Code {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct Pcre2MatchData {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct Pcre2MatchContext {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct Pcre2JitStack {
    _opaque: [u8; 0],
}

#[link(name = "pcre2-8")]
unsafe extern "C" {
    fn pcre2_compile_8(
        pattern: *const u8,
        length: usize,
        options: u32,
        errorcode: *mut c_int,
        erroroffset: *mut usize,
        ccontext: *mut c_void,
    ) -> *mut Pcre2Code;
    fn pcre2_code_free_8(code: *mut Pcre2Code);
    fn pcre2_get_error_message_8(errorcode: c_int, buffer: *mut u8, bufflen: usize) -> c_int;
    fn pcre2_pattern_info_8(code: *const Pcre2Code, what: u32, where_: *mut c_void) -> c_int;
    fn pcre2_jit_compile_8(code: *mut Pcre2Code, options: u32) -> c_int;
    fn pcre2_match_data_create_from_pattern_8(
        code: *const Pcre2Code,
        gcontext: *mut c_void,
    ) -> *mut Pcre2MatchData;
    fn pcre2_match_data_free_8(md: *mut Pcre2MatchData);
    fn pcre2_get_ovector_pointer_8(md: *mut Pcre2MatchData) -> *mut usize;
    fn pcre2_get_ovector_count_8(md: *mut Pcre2MatchData) -> u32;
    fn pcre2_match_8(
        code: *const Pcre2Code,
        subject: *const u8,
        length: usize,
        startoffset: usize,
        options: u32,
        md: *mut Pcre2MatchData,
        mcontext: *mut Pcre2MatchContext,
    ) -> c_int;
    fn pcre2_jit_match_8(
        code: *const Pcre2Code,
        subject: *const u8,
        length: usize,
        startoffset: usize,
        options: u32,
        md: *mut Pcre2MatchData,
        mcontext: *mut Pcre2MatchContext,
    ) -> c_int;
    fn pcre2_dfa_match_8(
        code: *const Pcre2Code,
        subject: *const u8,
        length: usize,
        startoffset: usize,
        options: u32,
        md: *mut Pcre2MatchData,
        mcontext: *mut Pcre2MatchContext,
        workspace: *mut c_int,
        wscount: usize,
    ) -> c_int;
    fn pcre2_match_context_create_8(gcontext: *mut c_void) -> *mut Pcre2MatchContext;
    fn pcre2_match_context_free_8(mcontext: *mut Pcre2MatchContext);
    fn pcre2_set_match_limit_8(mcontext: *mut Pcre2MatchContext, value: u32) -> c_int;
    fn pcre2_jit_stack_create_8(
        startsize: usize,
        maxsize: usize,
        gcontext: *mut c_void,
    ) -> *mut Pcre2JitStack;
    fn pcre2_jit_stack_free_8(stack: *mut Pcre2JitStack);
    fn pcre2_jit_stack_assign_8(
        mcontext: *mut Pcre2MatchContext,
        callback: *const c_void,
        data: *mut c_void,
    );
}

const PCRE2_ANCHORED: u32 = 0x8000_0000;
const PCRE2_NO_UTF_CHECK: u32 = 0x4000_0000;
const PCRE2_ALLOW_EMPTY_CLASS: u32 = 0x0000_0001;
const PCRE2_ALT_BSUX: u32 = 0x0000_0002;
const PCRE2_CASELESS: u32 = 0x0000_0008;
const PCRE2_DOTALL: u32 = 0x0000_0020;
const PCRE2_DUPNAMES: u32 = 0x0000_0040;
const PCRE2_EXTENDED: u32 = 0x0000_0080;
const PCRE2_MATCH_UNSET_BACKREF: u32 = 0x0000_0200;
const PCRE2_MULTILINE: u32 = 0x0000_0400;
const PCRE2_UTF: u32 = 0x0008_0000;
const PCRE2_JIT_COMPLETE: u32 = 0x0000_0001;
const PCRE2_INFO_CAPTURECOUNT: u32 = 4;
const PCRE2_INFO_NAMECOUNT: u32 = 17;
const PCRE2_INFO_NAMEENTRYSIZE: u32 = 18;
const PCRE2_INFO_NAMETABLE: u32 = 19;
const PCRE2_UNSET: usize = usize::MAX;
const PCRE2_ERROR_NOMATCH: c_int = -1;
const PCRE2_ERROR_NOMEMORY: c_int = -48;
const PCRE2_ERROR_BADOFFSET: c_int = -33;

/// lua-nginx-module's minimum JIT stack (ngx.re.opt("jit_stack_size")).
const MIN_JIT_STACK_SIZE: usize = 32 * 1024;
/// DFA workspace, in ints.
const DFA_WORKSPACE: usize = 1000;

/// PCRE2 compile options for our option bits (see api::re::OPT_*).
pub fn pcre2_options(opts: u32) -> u32 {
    let map = [
        (api::OPT_CASELESS, PCRE2_CASELESS),
        (api::OPT_MULTILINE, PCRE2_MULTILINE),
        (api::OPT_DOTALL, PCRE2_DOTALL),
        (api::OPT_EXTENDED, PCRE2_EXTENDED),
        (api::OPT_ANCHORED, PCRE2_ANCHORED),
        (api::OPT_UTF8, PCRE2_UTF),
        (api::OPT_DUPNAMES, PCRE2_DUPNAMES),
        // PCRE2 replaced PCRE_JAVASCRIPT_COMPAT with these three.
        (
            api::OPT_JAVASCRIPT,
            PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF,
        ),
    ];
    map.iter()
        .filter(|(ours, _)| opts & ours != 0)
        .fold(0, |acc, (_, p)| acc | p)
}

/// A compiled regex. The first fields are read by lualib/ngx_re.lua through
/// its `ngx_lua_rs_regex_t` cdef: keep the two in sync.
#[repr(C)]
pub struct Regex {
    /// Number of capture groups (0 in DFA mode).
    pub ncaptures: c_int,
    /// Named groups and PCRE2's name table (2-byte group number, then the
    /// NUL-terminated name, `name_entry_size` bytes per entry).
    pub name_count: c_int,
    pub name_entry_size: c_int,
    /// `2 * (ncaptures + 1)` offsets of the last match; -1 for unset groups.
    pub captures: *mut c_int,
    pub name_table: *const u8,
    code: *mut Pcre2Code,
    md: *mut Pcre2MatchData,
    refs: usize,
    match_options: u32,
    /// JIT-compiled and needs no UTF-8 check of the subject: matched with
    /// pcre2_jit_match, which skips pcre2_match's argument checks.
    jit_direct: bool,
    dfa: bool,
    utf: bool,
    caps: Vec<c_int>,
    template: Option<Template>,
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: code and md were created by PCRE2 for this regex only and
        // are freed exactly once, here (both functions accept null).
        unsafe {
            pcre2_match_data_free_8(self.md);
            pcre2_code_free_8(self.code);
        }
    }
}

/// `ngx_lua_rs_re_out_t`: where `ngx_lua_rs_re_subst` leaves its result.
#[repr(C)]
pub struct ReOut {
    pub data: *const u8,
    pub len: usize,
}

/// The regex state of one Lua VM (owned by the VM through api::re).
pub struct ReState {
    /// Bumped whenever a regex leaves the cache: lualib/ngx_re.lua keeps a
    /// Lua-table index of cached handles (so a hit costs no FFI call) and
    /// drops it when this changes.
    generation: c_int,
    cache: LruCache<Vec<u8>, NonNull<Regex>>,
    max_entries: usize,
    warned: bool,
    /// Set once anything was cached (ngx.re.opt refuses to change the JIT
    /// stack after that, like lua-resty-core).
    ever_cached: bool,
    mctx: *mut Pcre2MatchContext,
    jit_stack: *mut Pcre2JitStack,
    key: Vec<u8>,
    out: Vec<u8>,
}

impl ReState {
    fn cache_key(&mut self, kind: c_int, pat: &[u8], opts: c_int, tpl: &[u8]) {
        let k = &mut self.key;
        k.clear();
        k.push(kind as u8);
        k.extend_from_slice(&opts.to_le_bytes());
        k.extend_from_slice(&(pat.len() as u64).to_le_bytes());
        k.extend_from_slice(pat);
        k.extend_from_slice(tpl);
    }

    /// Evicts the least recently used regex.
    fn evict(&mut self) {
        if let Some((_, re)) = self.cache.pop_lru() {
            self.generation = self.generation.wrapping_add(1);
            release(re.as_ptr());
        }
    }

    fn release_all(&mut self) {
        while !self.cache.is_empty() {
            self.evict();
        }
    }
}

/// Owns a VM's regex state (kept in the VM's app data by api::re; Lua
/// reaches it through [`ReVm::as_ptr`], passed to every FFI call).
pub struct ReVm(NonNull<ReState>);

impl ReVm {
    pub fn new() -> ReVm {
        // SAFETY: a null general context means "use malloc"; the result may
        // be null (out of memory), which pcre2_match accepts as "defaults".
        let mctx = unsafe { pcre2_match_context_create_8(ptr::null_mut()) };
        let st = Box::new(ReState {
            generation: 0,
            cache: LruCache::unbounded(),
            max_entries: 1024,
            warned: false,
            ever_cached: false,
            mctx,
            jit_stack: ptr::null_mut(),
            key: Vec::new(),
            out: Vec::new(),
        });
        ReVm(NonNull::from(Box::leak(st)))
    }

    /// The state's address, for the Lua side (stable: it is boxed).
    pub fn as_ptr(&self) -> *mut c_void {
        self.0.as_ptr() as *mut c_void
    }

    /// Applies lua_regex_cache_max_entries and lua_regex_match_limit.
    pub fn configure(&self, max_entries: usize, match_limit: usize) {
        // SAFETY: the state lives as long as self; configuration runs
        // outside any FFI call, so no other reference to it is live.
        let st = unsafe { &mut *self.0.as_ptr() };
        st.max_entries = max_entries;
        while st.cache.len() > max_entries {
            st.evict();
        }
        if match_limit > 0 && !st.mctx.is_null() {
            // SAFETY: mctx is our live match context.
            unsafe {
                pcre2_set_match_limit_8(st.mctx, u32::try_from(match_limit).unwrap_or(u32::MAX))
            };
        }
    }
}

impl Default for ReVm {
    fn default() -> Self {
        ReVm::new()
    }
}

impl Drop for ReVm {
    /// Frees the state and its cached regexes (regexes Lua still references
    /// live on until their finalizers release them).
    fn drop(&mut self) {
        // SAFETY: the box leaked in new() is reclaimed once, here.
        let mut st = unsafe { Box::from_raw(self.0.as_ptr()) };
        st.release_all();
        // SAFETY: both were created by PCRE2 for this state (null is accepted).
        unsafe {
            pcre2_match_context_free_8(st.mctx);
            pcre2_jit_stack_free_8(st.jit_stack);
        }
    }
}

fn release(re: *mut Regex) {
    if re.is_null() {
        return;
    }
    // SAFETY: `re` is a live Regex from Box::into_raw; its reference count
    // says how many owners remain, and the last one frees it.
    unsafe {
        (*re).refs -= 1;
        if (*re).refs == 0 {
            drop(Box::from_raw(re));
        }
    }
}

/// Borrows `len` bytes at `p` (a Lua string or buffer the caller keeps alive
/// for the call).
///
///
/// # Safety
/// `p` must point to `len` readable bytes, or be null with any length.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// Runs `f`, turning a panic into `fallback` and an alert (no unwinding
/// into LuaJIT). Cheap on the hot path: the log is looked up only on panic.
fn guarded<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            super::log::error(
                nginx_sys::NGX_LOG_ALERT as usize,
                super::cycle_log(),
                "lua-rs internal panic in ngx.re",
            );
            fallback
        }
    }
}

fn pcre2_error_message(code: c_int) -> Vec<u8> {
    let mut buf = [0u8; 128];
    // SAFETY: PCRE2 writes at most `buf.len()` bytes, NUL included, and
    // returns the message length or a negative error.
    let n = unsafe { pcre2_get_error_message_8(code, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return format!("error {code}").into_bytes();
    }
    buf[..(n as usize).min(buf.len())].to_vec()
}

fn pattern_info<T: Default>(code: *const Pcre2Code, what: u32) -> Option<T> {
    let mut v = T::default();
    // SAFETY: `what` selects a field whose type is T (u32 counts or a
    // pointer), which PCRE2 writes into `v`.
    let rc = unsafe { pcre2_pattern_info_8(code, what, &mut v as *mut T as *mut c_void) };
    (rc == 0).then_some(v)
}

/// Compiles `pat`; the error is upstream's message.
fn compile(pat: &[u8], opts: u32) -> Result<Box<Regex>, Vec<u8>> {
    let mut errcode: c_int = 0;
    let mut erroff: usize = 0;
    // SAFETY: `pat` is readable for its length; PCRE2 copies what it needs.
    let code = unsafe {
        pcre2_compile_8(
            pat.as_ptr(),
            pat.len(),
            pcre2_options(opts),
            &mut errcode,
            &mut erroff,
            ptr::null_mut(),
        )
    };
    if code.is_null() {
        let mut m = b"pcre2_compile() failed: ".to_vec();
        m.extend_from_slice(&pcre2_error_message(errcode));
        m.extend_from_slice(b" in \"");
        m.extend_from_slice(pat);
        m.push(b'"');
        if erroff < pat.len() {
            // Upstream prints the rest of the pattern with %s (up to a NUL).
            let rest = &pat[erroff..];
            let rest = &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())];
            m.extend_from_slice(b" at \"");
            m.extend_from_slice(rest);
            m.push(b'"');
        }
        return Err(m);
    }
    let dfa = opts & api::OPT_DFA != 0;
    let mut re = Box::new(Regex {
        ncaptures: 0,
        name_count: 0,
        name_entry_size: 0,
        captures: ptr::null_mut(),
        name_table: ptr::null(),
        code,
        md: ptr::null_mut(),
        refs: 1,
        match_options: if opts & api::OPT_NO_UTF8_CHECK != 0 {
            PCRE2_NO_UTF_CHECK
        } else {
            0
        },
        jit_direct: false,
        dfa,
        utf: opts & api::OPT_UTF8 != 0,
        caps: Vec::new(),
        template: None,
    });
    if opts & api::OPT_JIT != 0 {
        // SAFETY: `code` is a live compiled pattern.
        let rc = unsafe { pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE) };
        // pcre2_jit_match checks nothing: fine unless the subject's UTF-8
        // must be validated ("u" without "U"), or in DFA mode (no JIT).
        re.jit_direct =
            rc == 0 && !dfa && (opts & api::OPT_UTF8 == 0 || opts & api::OPT_NO_UTF8_CHECK != 0);
        if rc != 0 {
            super::log::error_bytes(
                nginx_sys::NGX_LOG_INFO as usize,
                super::cycle_log(),
                &[
                    format!("pcre2_jit_compile() failed: {rc} in \"").as_bytes(),
                    pat,
                    b"\", ignored",
                ]
                .concat(),
            );
        }
    }
    let Some(ncap) = pattern_info::<u32>(code, PCRE2_INFO_CAPTURECOUNT) else {
        return Err(b"pcre2_pattern_info() failed".to_vec());
    };
    let Some(name_count) = pattern_info::<u32>(code, PCRE2_INFO_NAMECOUNT) else {
        return Err(b"cannot acquire named subpattern count".to_vec());
    };
    if name_count > 0 {
        let size = pattern_info::<u32>(code, PCRE2_INFO_NAMEENTRYSIZE)
            .ok_or_else(|| b"cannot acquire named subpattern entry size".to_vec())?;
        let table = pattern_info::<*const u8>(code, PCRE2_INFO_NAMETABLE)
            .ok_or_else(|| b"cannot acquire named subpattern table".to_vec())?;
        re.name_count = name_count as c_int;
        re.name_entry_size = size as c_int;
        re.name_table = table;
    }
    // SAFETY: `code` is live; the match data is sized for its groups.
    re.md = unsafe { pcre2_match_data_create_from_pattern_8(code, ptr::null_mut()) };
    if re.md.is_null() {
        return Err(b"no memory".to_vec());
    }
    re.ncaptures = if dfa { 0 } else { ncap as c_int };
    re.caps = vec![-1; 2 * (re.ncaptures as usize + 1)];
    re.captures = re.caps.as_mut_ptr();
    Ok(re)
}

/// Matches `subj` from byte `pos`: the number of groups set (as PCRE2's
/// pcre2_match returns it; 1 in DFA mode), or a negative PCRE2 error
/// (PCRE2_ERROR_NOMATCH = -1). Fills `re.caps`.
fn exec(mctx: *mut Pcre2MatchContext, re: &mut Regex, subj: &[u8], pos: usize) -> c_int {
    let rc = if re.dfa {
        let mut ws = [0 as c_int; DFA_WORKSPACE];
        // SAFETY: code/md are live and belong to `re`; subj is readable for
        // its length; ws is a writable workspace of the stated size.
        unsafe {
            pcre2_dfa_match_8(
                re.code,
                subj.as_ptr(),
                subj.len(),
                pos,
                re.match_options,
                re.md,
                mctx,
                ws.as_mut_ptr(),
                ws.len(),
            )
        }
    } else if re.jit_direct {
        if pos > subj.len() {
            return PCRE2_ERROR_BADOFFSET;
        }
        // SAFETY: as above; the code was JIT-compiled and the offset is
        // within the subject (the checks pcre2_jit_match leaves to us).
        unsafe { pcre2_jit_match_8(re.code, subj.as_ptr(), subj.len(), pos, 0, re.md, mctx) }
    } else {
        // SAFETY: as above.
        unsafe {
            pcre2_match_8(
                re.code,
                subj.as_ptr(),
                subj.len(),
                pos,
                re.match_options,
                re.md,
                mctx,
            )
        }
    };
    if rc < 0 {
        return rc;
    }
    // SAFETY: md is live; its ovector holds `count` pairs.
    let (ov, count) = unsafe {
        (
            pcre2_get_ovector_pointer_8(re.md),
            pcre2_get_ovector_count_8(re.md) as usize,
        )
    };
    let pairs = re.caps.len() / 2;
    // DFA: pair 0 is the longest match; rc 0 means "more matches than fit".
    let set = if re.dfa {
        1
    } else if rc == 0 {
        pairs
    } else {
        rc as usize
    };
    for i in 0..pairs {
        let (from, to) = if i < set && i < count {
            // SAFETY: i < count pairs in the ovector.
            unsafe { (*ov.add(2 * i), *ov.add(2 * i + 1)) }
        } else {
            (PCRE2_UNSET, PCRE2_UNSET)
        };
        let conv = |v: usize| if v == PCRE2_UNSET { -1 } else { v as c_int };
        re.caps[2 * i] = conv(from);
        re.caps[2 * i + 1] = conv(to);
    }
    if re.dfa {
        1
    } else {
        set.min(pairs) as c_int
    }
}

/// `ngx.re.sub`/`gsub` with a template, all in Rust: returns the number of
/// substitutions (0: subject unchanged) or a negative PCRE2 error; the
/// result is left in `st.out`.
fn subst(st: &mut ReState, re: &mut Regex, subj: &[u8], global: bool) -> c_int {
    st.out.clear();
    let len = subj.len();
    let (mut pos, mut cp, mut count) = (0usize, 0usize, 0 as c_int);
    loop {
        let rc = exec(st.mctx, re, subj, pos);
        if rc == PCRE2_ERROR_NOMATCH {
            break;
        }
        if rc < 0 {
            return rc;
        }
        count += 1;
        let (from, to) = (re.caps[0].max(0) as usize, re.caps[1].max(0) as usize);
        if from >= cp {
            st.out
                .extend_from_slice(subj.get(cp..from).unwrap_or_default());
        }
        if let Some(t) = &re.template {
            t.expand(subj, &re.caps, rc as usize, &mut st.out);
        }
        cp = to;
        pos = to;
        if from == to {
            pos += subj
                .get(pos)
                .map_or(1, |&c| if re.utf { api::utf8_char_len(c) } else { 1 });
            if pos > len {
                break;
            }
        }
        if !global {
            break;
        }
    }
    if count > 0 && cp < len {
        st.out.extend_from_slice(&subj[cp..]);
    }
    count
}

fn write_err(err: *mut u8, errlen: usize, msg: &[u8]) {
    if err.is_null() || errlen == 0 {
        return;
    }
    // Upstream's buffer is MAX_ERR_MSG_LEN (128) with room for the NUL.
    let n = msg.len().min(errlen - 1);
    // SAFETY: the caller's buffer holds `errlen` writable bytes.
    unsafe {
        ptr::copy_nonoverlapping(msg.as_ptr(), err, n);
        *err.add(n) = 0;
    }
}

/// Option letters to bits; `-(i + 1)` for an unknown letter at byte `i`.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_parse_opts(opts: *const u8, len: usize) -> c_int {
    guarded(-1, || {
        // SAFETY: a Lua string of `len` bytes.
        match api::parse_options(unsafe { bytes(opts, len) }) {
            Ok(bits) => bits as c_int,
            Err(i) => -(i as c_int) - 1,
        }
    })
}

/// Compiles a regex (one reference, owned by the caller), or writes the
/// error message into `err` and returns null.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_compile(
    _st: *mut ReState,
    pat: *const u8,
    len: usize,
    opts: c_int,
    err: *mut u8,
    errlen: usize,
) -> *mut Regex {
    guarded(ptr::null_mut(), || {
        // SAFETY: a Lua string of `len` bytes.
        match compile(unsafe { bytes(pat, len) }, opts as u32) {
            Ok(re) => Box::into_raw(re),
            Err(msg) => {
                write_err(err, errlen, &msg);
                ptr::null_mut()
            }
        }
    })
}

/// Attaches a compiled replacement template; -1 (after logging upstream's
/// message) if it is invalid.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_set_template(
    re: *mut Regex,
    tpl: *const u8,
    len: usize,
) -> c_int {
    guarded(-1, || {
        // SAFETY: `re` is a live regex the caller owns; `tpl` a Lua string.
        let (re, tpl) = unsafe { (&mut *re, bytes(tpl, len)) };
        match Template::parse(tpl) {
            Ok(t) => {
                re.template = Some(t);
                0
            }
            Err(msg) => {
                super::log::error(nginx_sys::NGX_LOG_ERR as usize, super::cycle_log(), &msg);
                -1
            }
        }
    })
}

/// The cached regex for (kind, pattern, options, template), or null. The
/// pointer is borrowed: valid until the cache evicts it.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_cache_get(
    st: *mut ReState,
    kind: c_int,
    pat: *const u8,
    len: usize,
    opts: c_int,
    tpl: *const u8,
    tpl_len: usize,
) -> *mut Regex {
    guarded(ptr::null_mut(), || {
        // SAFETY: `st` is the VM's state (see new_state); the strings are Lua's.
        let (st, pat, tpl) = unsafe { (&mut *st, bytes(pat, len), bytes(tpl, tpl_len)) };
        if st.cache.is_empty() {
            return ptr::null_mut();
        }
        st.cache_key(kind, pat, opts, tpl);
        match st.cache.get(st.key.as_slice()) {
            Some(re) => re.as_ptr(),
            None => ptr::null_mut(),
        }
    })
}

/// Caches `re`, taking over the caller's reference: 1 if cached, 0 if
/// caching is disabled (the caller keeps its reference). When the cache is
/// full the least recently used entry goes, with upstream's one-time warning.
#[allow(clippy::too_many_arguments)]
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_cache_put(
    st: *mut ReState,
    kind: c_int,
    pat: *const u8,
    len: usize,
    opts: c_int,
    tpl: *const u8,
    tpl_len: usize,
    re: *mut Regex,
) -> c_int {
    guarded(0, || {
        // SAFETY: as in ngx_lua_rs_re_cache_get.
        let (st, pat, tpl) = unsafe { (&mut *st, bytes(pat, len), bytes(tpl, tpl_len)) };
        let Some(re) = NonNull::new(re) else { return 0 };
        if st.max_entries == 0 {
            return 0;
        }
        if st.cache.len() >= st.max_entries {
            if !st.warned {
                st.warned = true;
                super::log::error(
                    nginx_sys::NGX_LOG_WARN as usize,
                    super::cycle_log(),
                    &format!("lua exceeding regex cache max entries ({})", st.max_entries),
                );
            }
            st.evict();
        }
        st.cache_key(kind, pat, opts, tpl);
        let key = st.key.clone();
        if let Some((_, old)) = st.cache.push(key, re) {
            if old != re {
                st.generation = st.generation.wrapping_add(1);
                release(old.as_ptr());
            }
        }
        st.ever_cached = true;
        1
    })
}

/// Where the cache generation lives (see [`ReState`]); stable for the VM's life.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_generation(st: *mut ReState) -> *const c_int {
    // SAFETY: the VM's state, boxed: the field's address never changes.
    unsafe { ptr::addr_of!((*st).generation) }
}

/// 1 while nothing was ever cached.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_cache_empty(st: *mut ReState) -> c_int {
    // SAFETY: the VM's state.
    guarded(1, || c_int::from(!unsafe { &*st }.ever_cached))
}

/// Takes one more reference to `re` and returns it.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_retain(re: *mut Regex) -> *mut Regex {
    if !re.is_null() {
        // SAFETY: a live regex (the caller holds or borrows a reference).
        unsafe { (*re).refs += 1 };
    }
    re
}

/// Drops one reference (the last one frees the regex).
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_release(re: *mut Regex) {
    guarded((), || release(re))
}

/// Matches from byte offset `pos`; see [`exec`].
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_exec(
    st: *mut ReState,
    re: *mut Regex,
    subj: *const u8,
    len: usize,
    pos: c_int,
) -> c_int {
    guarded(PCRE2_ERROR_NOMEMORY, || {
        // SAFETY: the VM's state, a live regex, a Lua string.
        let (st, re, subj) = unsafe { (&*st, &mut *re, bytes(subj, len)) };
        exec(st.mctx, re, subj, pos.max(0) as usize)
    })
}

/// Substitutes with the regex's template; see [`subst`]. On success
/// `out` points at the result, valid until the next call.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_subst(
    st: *mut ReState,
    re: *mut Regex,
    subj: *const u8,
    len: usize,
    global: c_int,
    out: *mut ReOut,
) -> c_int {
    guarded(PCRE2_ERROR_NOMEMORY, || {
        // SAFETY: the VM's state, a live regex, a Lua string, the caller's
        // out struct.
        let (st, re, subj) = unsafe { (&mut *st, &mut *re, bytes(subj, len)) };
        let n = subst(st, re, subj, global != 0);
        if !out.is_null() {
            // SAFETY: see above.
            unsafe {
                (*out).data = st.out.as_ptr();
                (*out).len = st.out.len();
            }
        }
        n
    })
}

/// `ngx.re.opt("jit_stack_size", size)`: 0, or -1 with a message in `err`.
///
/// # Safety
/// Called by lualib/ngx_re.lua only: `st` is its VM's state, regex
/// pointers are live handles it holds or borrows, strings and buffers are
/// readable/writable for the lengths given.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ngx_lua_rs_re_set_jit_stack_size(
    st: *mut ReState,
    size: c_int,
    err: *mut u8,
    errlen: usize,
) -> c_int {
    guarded(-1, || {
        // SAFETY: the VM's state.
        let st = unsafe { &mut *st };
        let size = (size.max(0) as usize).max(MIN_JIT_STACK_SIZE);
        // SAFETY: the old stack (if any) is ours and no match is running;
        // the new one is assigned to our match context.
        unsafe {
            pcre2_jit_stack_free_8(st.jit_stack);
            st.jit_stack = pcre2_jit_stack_create_8(MIN_JIT_STACK_SIZE, size, ptr::null_mut());
            if st.jit_stack.is_null() {
                write_err(err, errlen, b"pcre jit stack allocation failed");
                return -1;
            }
            if !st.mctx.is_null() {
                pcre2_jit_stack_assign_8(st.mctx, ptr::null(), st.jit_stack as *mut c_void);
            }
        }
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(p: &str, opts: &str) -> Box<Regex> {
        compile(p.as_bytes(), api::parse_options(opts.as_bytes()).unwrap())
            .unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(&e)))
    }

    #[test]
    fn compile_error_message() {
        let e = compile(b"(abc", 0).err().unwrap();
        assert_eq!(
            String::from_utf8(e).unwrap(),
            "pcre2_compile() failed: missing closing parenthesis in \"(abc\""
        );
        let e = compile(b"a**b", 0).err().unwrap();
        let e = String::from_utf8(e).unwrap();
        assert!(
            e.starts_with("pcre2_compile() failed: ") && e.ends_with(" in \"a**b\" at \"*b\""),
            "{e}"
        );
    }

    #[test]
    fn match_and_captures() {
        let mut re = compiled(r"^/api/v(\d+)/users/(\d+)$", "jo");
        assert_eq!(re.ncaptures, 2);
        let rc = exec(ptr::null_mut(), &mut re, b"/api/v2/users/42", 0);
        assert_eq!(rc, 3);
        assert_eq!(re.caps, vec![0, 16, 6, 7, 14, 16]);
        assert_eq!(
            exec(ptr::null_mut(), &mut re, b"/api/v2/users/x", 0),
            PCRE2_ERROR_NOMATCH
        );
        let mut re = compiled("(a)|(b)", "");
        assert_eq!(exec(ptr::null_mut(), &mut re, b"b", 0), 3);
        assert_eq!(re.caps, vec![0, 1, -1, -1, 0, 1]);
        assert_eq!(exec(ptr::null_mut(), &mut re, b"a", 0), 2);
        assert_eq!(re.caps, vec![0, 1, 0, 1, -1, -1]);
    }

    #[test]
    fn substitution() {
        let vm = ReVm::new();
        // SAFETY: a fresh state, owned by `vm` for the whole test.
        let st = unsafe { &mut *(vm.as_ptr() as *mut ReState) };
        let mut re = compiled("[0-9]", "");
        re.template = Some(Template::parse(b"<$0>").unwrap());
        assert_eq!(subst(st, &mut re, b"a1b22", true), 3);
        assert_eq!(st.out, b"a<1>b<2><2>");
        assert_eq!(subst(st, &mut re, b"a1b22", false), 1);
        assert_eq!(st.out, b"a<1>b22");
        let mut re = compiled("x*", "");
        re.template = Some(Template::parse(b"-").unwrap());
        assert_eq!(subst(st, &mut re, b"abc", true), 4);
        assert_eq!(st.out, b"-a-b-c-");
        let mut re = compiled("", "u");
        re.template = Some(Template::parse(b"-").unwrap());
        assert_eq!(subst(st, &mut re, "é!".as_bytes(), true), 3);
        assert_eq!(st.out, "-é-!-".as_bytes());
        drop(vm);
    }
}
