//! Reordering nginx's phase engine: lua-nginx-module runs rewrite_by_lua and
//! access_by_lua at the *end* of their phases (after ngx_http_rewrite_module's
//! `set`/`rewrite`, after allow/deny), unless `*_no_postpone` is on.

// These wrappers take nginx's raw pointers by design: the cycle pointer is the live cycle nginx passes to init_process.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use nginx_sys::{
    ngx_cycle_t, ngx_http_conf_ctx_t, ngx_http_core_main_conf_t, ngx_http_core_module,
    ngx_http_handler_pt, ngx_http_module,
};

/// Moves `handler` to the last position of the phase it is registered in.
pub fn postpone_to_phase_end(cycle: *mut ngx_cycle_t, handler: ngx_http_handler_pt) {
    // SAFETY: called from init_process, after nginx built the phase engine of
    // this cycle; entries of one phase are contiguous and share `checker` and
    // `next` (the first index of the following phase), so rotating inside the
    // phase keeps the engine consistent.
    unsafe {
        let http = *(*cycle).conf_ctx.add(ngx_http_module.index) as *mut ngx_http_conf_ctx_t;
        if http.is_null() {
            return;
        }
        let cmcf = *(*http).main_conf.add(ngx_http_core_module.ctx_index)
            as *mut ngx_http_core_main_conf_t;
        let ph = (*cmcf).phase_engine.handlers;
        if ph.is_null() {
            return;
        }
        let mut i = 0usize;
        // The engine ends with an entry whose checker is null.
        while (*ph.add(i)).checker.is_some() {
            let e = &*ph.add(i);
            if e.handler.map(|f| f as usize) == handler.map(|f| f as usize) {
                let end = e.next - 1;
                if end > i {
                    let saved = *ph.add(i);
                    std::ptr::copy(ph.add(i + 1), ph.add(i), end - i);
                    *ph.add(end) = saved;
                }
                return;
            }
            i += 1;
        }
    }
}

/// nginx's process type (master, worker, single, signaller, helper).
pub fn process_type() -> usize {
    // SAFETY: a plain global written by nginx before modules run.
    unsafe { nginx_sys::ngx_process }
}
