//! Writing to nginx's error log from Rust strings.

// These wrappers take nginx's raw pointers by design: log pointers come from nginx (request, connection or cycle logs) and are live for the call.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use nginx_sys::{ngx_log_error_core, ngx_log_t, ngx_uint_t};

/// Logs `msg` at `level` (an NGX_LOG_* value) if the log accepts that level.
pub fn error(level: usize, log: *mut ngx_log_t, msg: &str) {
    error_bytes(level, log, msg.as_bytes());
}

pub fn error_bytes(level: usize, log: *mut ngx_log_t, msg: &[u8]) {
    if log.is_null() {
        return;
    }
    // SAFETY: `log` is a live nginx log (request, connection or cycle log);
    // "%*s" reads exactly `len` bytes from `msg`.
    unsafe {
        if (*log).log_level < level as ngx_uint_t {
            return;
        }
        ngx_log_error_core(
            level as ngx_uint_t,
            log,
            0,
            c"%*s".as_ptr(),
            msg.len(),
            msg.as_ptr(),
        );
    }
}

/// Whether `log` would record a message at `level`.
pub fn enabled(level: usize, log: *mut ngx_log_t) -> bool {
    // SAFETY: see `error_bytes`.
    !log.is_null() && unsafe { (*log).log_level >= level as ngx_uint_t }
}
