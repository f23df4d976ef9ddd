//! The shared dict's hot operations as C functions for LuaJIT's FFI
//! (lualib/shdict.lua calls them through `ffi.C`, so loops stay compiled).
//! Plain C types only; they never panic across the boundary (a panic turns
//! into the "bad zone" code) and never call back into Lua.
//!
//! Return conventions: `RC_BAD_ZONE` (-1) for a pointer that is not an
//! initialised zone, `RC_NEED_BUF` (-2) from `get` when the caller's buffer
//! is too small (the needed size is in `*vlen`), otherwise 0 or a
//! `store::Error` code.

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::store::{self, Val, T_BOOLEAN, T_LIST, T_NIL, T_NUMBER, T_STRING};
use super::zone::{now_ms, Zone};

const RC_BAD_ZONE: c_int = -1;
const RC_NEED_BUF: c_int = -2;

fn guarded(f: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(RC_BAD_ZONE)
}

/// # Safety
/// `p` points at `len` readable bytes (or `len` is 0).
unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// The zone and key arguments of a call.
///
/// # Safety
/// `zone` as `Zone::from_ptr` requires; `key` has `klen` readable bytes.
unsafe fn zone_key<'a>(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
) -> Option<(&'a Zone, &'a [u8])> {
    // SAFETY: guaranteed by the caller.
    unsafe { Some((Zone::from_ptr(zone)?, bytes(key, klen))) }
}

/// # Safety
/// `out` is null or writable.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: guaranteed by the caller.
        unsafe { out.write(v) };
    }
}

/// get / get_stale. Returns the value type (0 nil, 1 boolean, 3 number,
/// 4 string, 5 list = "value is a list"); numbers and booleans in `*num`,
/// strings copied into `buf` with their length in `*vlen`.
///
/// # Safety
/// Pointers come from the Lua wrapper: `zone` from `ngx.shared.DICT[1]`,
/// `key` with `klen` bytes, `buf` with `buf_len` writable bytes, outs writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ngx_lua_rs_shdict_get(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
    stale: c_int,
    buf: *mut u8,
    buf_len: usize,
    vlen: *mut usize,
    num: *mut f64,
    flags: *mut c_int,
    is_stale: *mut c_int,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe { zone_key(zone, key, klen) }) else {
            return RC_BAD_ZONE;
        };
        let h = store::hash(key);
        let now = now_ms();
        z.with(|s| match s.get(h, key, stale != 0, now) {
            Ok(None) => T_NIL as c_int,
            Err(_) => T_LIST as c_int,
            Ok(Some(f)) => {
                // SAFETY: outs are writable; buf has buf_len bytes.
                unsafe {
                    put(flags, f.user_flags as c_int);
                    put(is_stale, f.stale as c_int);
                    match f.value_type {
                        T_STRING => {
                            put(vlen, f.bytes.len());
                            if f.bytes.len() > buf_len {
                                return RC_NEED_BUF;
                            }
                            if !f.bytes.is_empty() {
                                std::ptr::copy_nonoverlapping(f.bytes.as_ptr(), buf, f.bytes.len());
                            }
                            T_STRING as c_int
                        }
                        T_NUMBER => {
                            put(num, f.number());
                            T_NUMBER as c_int
                        }
                        T_BOOLEAN => {
                            put(num, f.boolean() as u8 as f64);
                            T_BOOLEAN as c_int
                        }
                        _ => RC_BAD_ZONE,
                    }
                }
            }
        })
        .unwrap_or(RC_BAD_ZONE)
    })
}

/// set / safe_set / add / safe_add / replace / delete. `vtype` as in get
/// (booleans as `num != 0`); `exptime_ms` <= 0 means never.
///
/// # Safety
/// As `ngx_lua_rs_shdict_get`; `str` has `slen` bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ngx_lua_rs_shdict_store(
    zone: *const c_void,
    op: c_int,
    key: *const u8,
    klen: usize,
    vtype: c_int,
    str: *const u8,
    slen: usize,
    num: f64,
    exptime_ms: i64,
    user_flags: c_int,
    forcible: *mut c_int,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe {
            put(forcible, 0);
            zone_key(zone, key, klen)
        }) else {
            return RC_BAD_ZONE;
        };
        let val = match vtype as u8 {
            T_NIL => Val::Nil,
            T_BOOLEAN => Val::Bool(num != 0.0),
            T_NUMBER => Val::Num(num),
            // SAFETY: the caller's contract.
            T_STRING => Val::Str(unsafe { bytes(str, slen) }),
            _ => return RC_BAD_ZONE,
        };
        let h = store::hash(key);
        let now = now_ms();
        let r = z.with(|s| s.store(op as u32, h, key, val, exptime_ms, user_flags as u32, now));
        match r {
            None => RC_BAD_ZONE,
            Some(Ok(f)) => {
                // SAFETY: the caller's contract.
                unsafe { put(forcible, f as c_int) };
                0
            }
            Some(Err((e, f))) => {
                // SAFETY: the caller's contract.
                unsafe { put(forcible, f as c_int) };
                e.code()
            }
        }
    })
}

/// incr: `*value` is the step on entry and the new value on success.
///
/// # Safety
/// As `ngx_lua_rs_shdict_get`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ngx_lua_rs_shdict_incr(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
    value: *mut f64,
    has_init: c_int,
    init: f64,
    init_ttl_ms: i64,
    forcible: *mut c_int,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe {
            put(forcible, 0);
            zone_key(zone, key, klen)
        }) else {
            return RC_BAD_ZONE;
        };
        if value.is_null() {
            return RC_BAD_ZONE;
        }
        // SAFETY: value is non-null and readable.
        let delta = unsafe { value.read() };
        let h = store::hash(key);
        let now = now_ms();
        let init = (has_init != 0).then_some(init);
        match z.with(|s| s.incr(h, key, delta, init, init_ttl_ms, now)) {
            None => RC_BAD_ZONE,
            Some(Ok((v, f))) => {
                // SAFETY: the caller's contract.
                unsafe {
                    value.write(v);
                    put(forcible, f as c_int);
                }
                0
            }
            Some(Err(e)) => e.code(),
        }
    })
}

/// ttl: 0 with the remaining ms in `*ttl_ms` (0 = never expires), or the
/// "not found" code.
///
/// # Safety
/// As `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_ttl(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
    ttl_ms: *mut i64,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe { zone_key(zone, key, klen) }) else {
            return RC_BAD_ZONE;
        };
        let h = store::hash(key);
        let now = now_ms();
        match z.with(|s| s.ttl(h, key, now)) {
            None => RC_BAD_ZONE,
            Some(None) => store::Error::NotFound.code(),
            Some(Some(t)) => {
                // SAFETY: the caller's contract.
                unsafe { put(ttl_ms, t) };
                0
            }
        }
    })
}

/// expire: 0, or the "not found" code.
///
/// # Safety
/// As `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_expire(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
    exptime_ms: i64,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe { zone_key(zone, key, klen) }) else {
            return RC_BAD_ZONE;
        };
        let h = store::hash(key);
        let now = now_ms();
        match z.with(|s| s.set_expire(h, key, exptime_ms, now)) {
            None => RC_BAD_ZONE,
            Some(true) => 0,
            Some(false) => store::Error::NotFound.code(),
        }
    })
}

/// llen: 0 with the length in `*len`, or the "value not a list" code.
///
/// # Safety
/// As `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_llen(
    zone: *const c_void,
    key: *const u8,
    klen: usize,
    len: *mut f64,
) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (pointers from the Lua wrapper).
        let Some((z, key)) = (unsafe { zone_key(zone, key, klen) }) else {
            return RC_BAD_ZONE;
        };
        let h = store::hash(key);
        let now = now_ms();
        match z.with(|s| s.llen(h, key, now)) {
            None => RC_BAD_ZONE,
            Some(Ok(n)) => {
                // SAFETY: the caller's contract.
                unsafe { put(len, n as f64) };
                0
            }
            Some(Err(e)) => e.code(),
        }
    })
}

/// flush_all.
///
/// # Safety
/// `zone` as in `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_flush_all(zone: *const c_void) -> c_int {
    guarded(|| {
        // SAFETY: the caller's contract (a zone pointer from the Lua wrapper).
        let Some(z) = (unsafe { Zone::from_ptr(zone) }) else {
            return RC_BAD_ZONE;
        };
        let now = now_ms();
        z.with(|s| s.flush_all(now)).map_or(RC_BAD_ZONE, |()| 0)
    })
}

/// capacity: the zone size in bytes (0 for a bad zone).
///
/// # Safety
/// `zone` as in `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_capacity(zone: *const c_void) -> usize {
    // SAFETY: the caller's contract (a zone pointer from the Lua wrapper).
    catch_unwind(|| unsafe { Zone::from_ptr(zone) }.map_or(0, Zone::capacity)).unwrap_or(0)
}

/// free_space: free slab pages in bytes (0 for a bad zone).
///
/// # Safety
/// `zone` as in `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_free_space(zone: *const c_void) -> usize {
    // SAFETY: the caller's contract (a zone pointer from the Lua wrapper).
    catch_unwind(|| unsafe { Zone::from_ptr(zone) }.map_or(0, Zone::free_space)).unwrap_or(0)
}

/// Whether `zone` is an initialised dict (the wrapper's zone check).
///
/// # Safety
/// `zone` as in `ngx_lua_rs_shdict_get`.
#[no_mangle]
pub unsafe extern "C" fn ngx_lua_rs_shdict_valid(zone: *const c_void) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { Zone::from_ptr(zone) }.is_some() as c_int
}
