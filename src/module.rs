//! The nginx module: `ngx_module_t`, its http context, postconfiguration
//! (phase handler registration) and process hooks. Conf lookups live here
//! because they need the module's index.

// These wrappers take nginx's raw pointers by design: request and cycle pointers are the live ones nginx passes to our hooks.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::{c_char, c_void};
use std::ptr::{self, addr_of, addr_of_mut};

use nginx_sys::{
    ngx_array_push, ngx_conf_t, ngx_cycle_t, ngx_http_conf_ctx_t, ngx_http_core_loc_conf_t,
    ngx_http_core_main_conf_t, ngx_http_core_module, ngx_http_handler_pt, ngx_http_module_t,
    ngx_http_phases_NGX_HTTP_ACCESS_PHASE as ACCESS_PHASE,
    ngx_http_phases_NGX_HTTP_LOG_PHASE as LOG_PHASE,
    ngx_http_phases_NGX_HTTP_REWRITE_PHASE as REWRITE_PHASE, ngx_http_request_t, ngx_int_t,
    ngx_module_t, ngx_uint_t, NGX_ERROR, NGX_HTTP_MODULE, NGX_OK,
};
use ngx::core::Pool;
use ngx::http::Merge;

use crate::conf::{directives, LocConf, MainConf, SrvConf};
use crate::ffi::conf::Conf;
use crate::phase;
use crate::vm::LuaVm;

static NGX_HTTP_LUA_RS_MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: None,
    postconfiguration: Some(postconfiguration),
    create_main_conf: Some(create_main_conf),
    init_main_conf: None,
    create_srv_conf: Some(create_srv_conf),
    merge_srv_conf: Some(merge_srv_conf),
    create_loc_conf: Some(create_loc_conf),
    merge_loc_conf: Some(merge_loc_conf),
};

/// The module nginx loads.
#[used]
#[allow(non_upper_case_globals)]
#[cfg_attr(not(feature = "export-modules"), no_mangle)]
pub static mut ngx_http_lua_rs_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(NGX_HTTP_LUA_RS_MODULE_CTX) as *mut c_void,
    // Only the address of the static table is taken.
    commands: addr_of_mut!(directives::COMMANDS) as *mut _,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    init_process: Some(init_process),
    exit_process: Some(exit_process),
    ..ngx_module_t::default()
};

pub(crate) fn ctx_index() -> usize {
    // SAFETY: ctx_index is written once by nginx when the module is loaded,
    // before any configuration callback runs.
    unsafe { (*addr_of!(ngx_http_lua_rs_module)).ctx_index }
}

const CONF_ERROR: *mut c_char = usize::MAX as *mut c_char;

unsafe fn alloc_conf<T: Default>(cf: *mut ngx_conf_t) -> *mut c_void {
    // SAFETY: cf->pool is the cycle's pool; `allocate` registers a cleanup that
    // drops the value when the pool (the cycle) goes away.
    unsafe { Pool::from_ngx_pool((*cf).pool).allocate(T::default()) as *mut c_void }
}

unsafe extern "C" fn create_main_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    // SAFETY: nginx passes a live cf.
    crate::ffi::guard(unsafe { (*cf).log }, ptr::null_mut(), || unsafe {
        alloc_conf::<MainConf>(cf)
    })
}

unsafe extern "C" fn create_srv_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    // SAFETY: nginx passes a live cf.
    crate::ffi::guard(unsafe { (*cf).log }, ptr::null_mut(), || unsafe {
        alloc_conf::<SrvConf>(cf)
    })
}

unsafe extern "C" fn create_loc_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    // SAFETY: nginx passes a live cf.
    crate::ffi::guard(unsafe { (*cf).log }, ptr::null_mut(), || unsafe {
        alloc_conf::<LocConf>(cf)
    })
}

unsafe extern "C" fn merge_srv_conf(
    _cf: *mut ngx_conf_t,
    _p: *mut c_void,
    _c: *mut c_void,
) -> *mut c_char {
    ptr::null_mut()
}

unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut c_void,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes two LocConf pointers this module created.
    crate::ffi::guard(unsafe { (*cf).log }, CONF_ERROR, || unsafe {
        let (conf, prev) = (&mut *(conf as *mut LocConf), &mut *(prev as *mut LocConf));
        let own_ssl = conf.ssl.any();
        if conf.merge(prev).is_err() {
            return CONF_ERROR;
        }
        if !crate::net::ssl::merge_ctx(&Conf::new(cf), own_ssl, conf, prev) {
            return CONF_ERROR;
        }
        ptr::null_mut()
    })
}

/// The http main conf being configured. (The conf lives in nginx's cycle
/// pool, not in `cf`; configuration is single-threaded and no two of these
/// borrows are held at once.)
#[allow(clippy::mut_from_ref)]
pub fn main_conf_mut(cf: &Conf) -> &mut MainConf {
    // SAFETY: directives of this module run inside `http {}`, where cf->ctx is
    // an ngx_http_conf_ctx_t and our main conf slot was filled by create_main_conf.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        &mut *(*(*ctx).main_conf.add(ctx_index()) as *mut MainConf)
    }
}

/// The server conf of the block being configured (inside `upstream {}`:
/// the upstream's own, which the balancer reads back per request).
#[allow(clippy::mut_from_ref)]
pub fn srv_conf_mut(cf: &Conf) -> &mut SrvConf {
    // SAFETY: as in main_conf_mut; srv_conf exists in server and upstream blocks.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        &mut *(*(*ctx).srv_conf.add(ctx_index()) as *mut SrvConf)
    }
}

/// The location conf of the block being configured.
#[allow(clippy::mut_from_ref)]
pub fn loc_conf_mut(cf: &Conf) -> &mut LocConf {
    // SAFETY: as in main_conf_mut; loc_conf exists in http, server and location blocks.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        &mut *(*(*ctx).loc_conf.add(ctx_index()) as *mut LocConf)
    }
}

/// The cycle's VM, created on first use at configuration time.
pub fn vm(main: &mut MainConf) -> mlua::Result<&LuaVm> {
    if main.vm.is_none() {
        main.vm = Some(LuaVm::new()?);
    }
    main.vm
        .as_ref()
        .ok_or_else(|| mlua::Error::runtime("no Lua VM"))
}

/// Makes this location's content handler ours (content_by_lua*).
pub fn set_content_handler(cf: &Conf) {
    // SAFETY: core's loc conf exists wherever content_by_lua is allowed.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        let clcf =
            *(*ctx).loc_conf.add(ngx_http_core_module.ctx_index) as *mut ngx_http_core_loc_conf_t;
        (*clcf).handler = Some(phase::content::handler);
    }
}

/// Our main conf for a request.
pub fn request_main_conf<'a>(r: *mut ngx_http_request_t) -> &'a MainConf {
    // SAFETY: r is a live request of an http server configured with this module.
    unsafe { &*(*(*r).main_conf.add(ctx_index()) as *const MainConf) }
}

/// Our location conf for a request.
pub fn request_loc_conf<'a>(r: *mut ngx_http_request_t) -> &'a LocConf {
    // SAFETY: as above.
    unsafe { &*(*(*r).loc_conf.add(ctx_index()) as *const LocConf) }
}

/// Our main conf in a cycle, if the cycle has an http block that created it.
pub fn cycle_main_conf<'a>(cycle: *mut ngx_cycle_t) -> Option<&'a MainConf> {
    // SAFETY: conf_ctx[ngx_http_module.index] is the http conf ctx when an
    // http block exists (null otherwise).
    unsafe {
        let http =
            *(*cycle).conf_ctx.add(nginx_sys::ngx_http_module.index) as *mut ngx_http_conf_ctx_t;
        if http.is_null() {
            return None;
        }
        let mc = *(*http).main_conf.add(ctx_index()) as *const MainConf;
        mc.as_ref()
    }
}

unsafe fn push_phase_handler(
    cmcf: *mut ngx_http_core_main_conf_t,
    phase: u32,
    h: ngx_http_handler_pt,
    first: bool,
) -> bool {
    // SAFETY: cmcf->phases[phase].handlers is an ngx_array_t of handler pointers.
    unsafe {
        let arr = &mut (*cmcf).phases[phase as usize].handlers;
        let slot = ngx_array_push(arr) as *mut ngx_http_handler_pt;
        if slot.is_null() {
            return false;
        }
        if first && arr.nelts > 1 {
            let elts = arr.elts as *mut ngx_http_handler_pt;
            ptr::copy(elts, elts.add(1), arr.nelts - 1);
            *elts = h;
        } else {
            *slot = h;
        }
        true
    }
}

unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
    // SAFETY: nginx passes a live cf in the http context.
    let (conf, log) = unsafe { (Conf::new(cf), (*cf).log) };
    crate::ffi::guard(log, NGX_ERROR as ngx_int_t, || {
        let main = main_conf_mut(&conf);
        // SAFETY: the core module's main conf exists in every http block.
        let ok = unsafe {
            let ctx = (*cf).ctx as *mut ngx_http_conf_ctx_t;
            let cmcf = *(*ctx).main_conf.add(ngx_http_core_module.ctx_index)
                as *mut ngx_http_core_main_conf_t;
            (!main.requires_rewrite
                || push_phase_handler(cmcf, REWRITE_PHASE, Some(phase::rewrite::handler), false))
                && (!main.requires_access
                    || push_phase_handler(cmcf, ACCESS_PHASE, Some(phase::access::handler), false))
                && (!main.requires_log
                    || push_phase_handler(cmcf, LOG_PHASE, Some(phase::log::handler), true))
        };
        if !ok {
            return NGX_ERROR as ngx_int_t;
        }
        crate::ffi::filter::install(main.requires_header_filter, main.requires_body_filter);
        match phase::init::run(&conf, main) {
            Ok(()) => NGX_OK as ngx_int_t,
            Err(msg) => {
                conf.error(&msg);
                NGX_ERROR as ngx_int_t
            }
        }
    })
}

unsafe extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    // SAFETY: nginx passes the live cycle.
    let log = unsafe { (*cycle).log };
    crate::ffi::guard(log, NGX_OK as ngx_int_t, || {
        phase::init_worker::run(cycle);
        NGX_OK as ngx_int_t
    })
}

unsafe extern "C" fn exit_process(cycle: *mut ngx_cycle_t) {
    // SAFETY: nginx passes the live cycle.
    let log = unsafe { (*cycle).log };
    crate::ffi::guard(log, (), || phase::init_worker::run_exit(cycle))
}
