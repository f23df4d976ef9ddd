//! The few unsafe wrappers over nginx-sys that the rest of the crate calls.
//! Everything outside ffi/, sched/ (and later shm/, net/) is safe Rust.

pub mod alloc;
pub mod body;
pub mod cjson;
pub mod cnum;
pub mod conf;
pub mod coroutine;
pub mod fake;
pub mod filter;
pub mod fmt;
pub mod headers;
pub mod log;
pub mod lua_stack;
pub mod lua_table;
pub mod output;
pub mod pcre;
pub mod phases;
pub mod process;
pub mod req;
pub mod request;
pub mod script;
pub mod subrequest;
pub mod time;
pub mod upstream;
pub mod variables;

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f` and turns a panic into `fallback` plus an alert in `log`, so no
/// panic unwinds into nginx (every `extern "C"` entry point goes through here).
pub fn guard<T>(log: *mut nginx_sys::ngx_log_t, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            log::error(
                nginx_sys::NGX_LOG_ALERT as usize,
                log,
                &format!("lua-rs internal panic: {msg}"),
            );
            fallback
        }
    }
}

/// The cycle's log, for code that has no request.
pub fn cycle_log() -> *mut nginx_sys::ngx_log_t {
    // SAFETY: ngx_cycle is set by nginx before any module code runs and stays
    // valid for the process (we read it fresh every time, never cache it).
    unsafe {
        let cycle = nginx_sys::ngx_cycle;
        if cycle.is_null() {
            std::ptr::null_mut()
        } else {
            (*cycle).log
        }
    }
}

/// Borrows an `ngx_str_t` as bytes.
///
/// # Safety
/// `s.data` must point to `s.len` readable bytes that outlive the returned slice.
pub unsafe fn str_bytes<'a>(s: &nginx_sys::ngx_str_t) -> &'a [u8] {
    if s.len == 0 || s.data.is_null() {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(s.data, s.len) }
    }
}

/// The running cycle's prefix (with a trailing slash).
pub fn cycle_prefix() -> Vec<u8> {
    // SAFETY: see `cycle_log`.
    unsafe {
        let cycle = nginx_sys::ngx_cycle;
        if cycle.is_null() {
            Vec::new()
        } else {
            str_bytes(&(*cycle).prefix).to_vec()
        }
    }
}

/// The running cycle.
pub fn cycle() -> *mut nginx_sys::ngx_cycle_t {
    // SAFETY: a plain global nginx sets before module code runs.
    unsafe { nginx_sys::ngx_cycle }
}
