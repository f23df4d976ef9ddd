//! Process-level facts nginx keeps in globals: pid, worker slot, counts.

use nginx_sys::{ngx_core_conf_t, ngx_core_module};

pub fn pid() -> i64 {
    // SAFETY: plain globals written by nginx at process start.
    unsafe { nginx_sys::ngx_pid as i64 }
}

/// The worker's index, None outside worker (and single) processes.
pub fn worker_id() -> Option<i64> {
    let ty = super::phases::process_type() as u32;
    if ty != nginx_sys::NGX_PROCESS_WORKER && ty != nginx_sys::NGX_PROCESS_SINGLE {
        return None;
    }
    // SAFETY: as above.
    Some(unsafe { nginx_sys::ngx_worker as i64 })
}

pub fn worker_count() -> i64 {
    // SAFETY: the core module's conf exists in every cycle.
    unsafe {
        let cycle = nginx_sys::ngx_cycle;
        if cycle.is_null() {
            return 1;
        }
        let ccf = *(*cycle).conf_ctx.add(ngx_core_module.index) as *const ngx_core_conf_t;
        if ccf.is_null() {
            1
        } else {
            (*ccf).worker_processes as i64
        }
    }
}

pub fn exiting() -> bool {
    // SAFETY: plain globals.
    unsafe { nginx_sys::ngx_exiting != 0 || nginx_sys::ngx_quit != 0 }
}
