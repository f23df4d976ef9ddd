//! nginx's cached clock (`ngx_cached_time`, refreshed by `ngx_time_update`),
//! which the `ngx.time`/`ngx.now`/`ngx.today`/... family reads instead of
//! asking the system, exactly as lua-nginx-module does.

use std::ptr::{addr_of, read_volatile};

use nginx_sys::{ngx_cached_time, ngx_time_t, ngx_time_update};

/// One snapshot of nginx's cached time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachedTime {
    /// Seconds since the Unix epoch.
    pub sec: i64,
    /// Milliseconds within `sec` (0..=999).
    pub msec: u64,
    /// Offset of local time from UTC, in minutes.
    pub gmtoff: i64,
}

/// Reads the time nginx cached at its last `ngx_time_update()`.
///
/// Only a process that has not initialised nginx's clock (e.g. a unit test)
/// sees a null `ngx_cached_time`; it then gets the system clock with a zero
/// UTC offset.
pub fn cached() -> CachedTime {
    // SAFETY: `ngx_cached_time` is a pointer global that nginx (single-threaded
    // per worker) repoints at one of its slots on every time update; we read the
    // pointer and then the slot it designates, both volatile as nginx declares
    // them, and copy the slot out. The slots are static arrays that live for the
    // whole process, so a non-null pointer is always valid to read.
    let slot: ngx_time_t = unsafe {
        let tp: *mut ngx_time_t = read_volatile(addr_of!(ngx_cached_time));
        if tp.is_null() {
            return system_time();
        }
        read_volatile(tp)
    };
    CachedTime {
        sec: slot.sec,
        msec: slot.msec as u64,
        gmtoff: slot.gmtoff as i64,
    }
}

/// Refreshes nginx's cached time from the system clock (`ngx.update_time()`).
pub fn update() {
    // SAFETY: `ngx_time_update` takes no arguments and is what nginx itself
    // calls from its event loop on this same thread. It is only meaningful once
    // nginx initialised its clock (`ngx_time_init`), which precedes any
    // configuration parsing and so any Lua code; before that we do nothing.
    unsafe {
        if !read_volatile(addr_of!(ngx_cached_time)).is_null() {
            ngx_time_update();
        }
    }
}

fn system_time() -> CachedTime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    CachedTime {
        sec: now.as_secs() as i64,
        msec: u64::from(now.subsec_millis()),
        gmtoff: 0,
    }
}
