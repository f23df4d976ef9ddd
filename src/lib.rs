//! ngx-lua-rs: OpenResty's Lua platform (lua-nginx-module's directives and `ngx.*`
//! API) as one dynamic nginx module.
//!
//! This file only declares the module tree; see shared/DESIGN.md for the map.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod api;
pub mod cjson;
pub mod conf;
pub mod ffi;
pub mod module;
pub mod net;
pub mod phase;
pub mod sched;
pub mod shm;
pub mod vm;

/// Every Rust allocation, and through mlua's allocator every LuaJIT object,
/// goes to mimalloc: glibc's malloc/free was a sixth of the instructions of
/// a redis GET request (lua-nginx-module's LuaJIT uses its own allocator).
#[global_allocator]
static ALLOCATOR: ffi::alloc::MiAlloc = ffi::alloc::MiAlloc;

/// What `load_module` reads from the .so (ngx-rust's `ngx_modules!` plus an
/// order): as an aux filter module (what `config` declares for builds inside
/// an nginx tree) we go right before the copy filter, so our header and body
/// filters run after it (in-memory buffers) and before postpone, gzip and
/// chunked, as lua-nginx-module's do.
#[cfg(feature = "export-modules")]
#[allow(non_upper_case_globals)]
mod exports {
    use std::ffi::c_char;
    use std::ptr::{addr_of, null};

    #[no_mangle]
    pub static mut ngx_modules: [*const nginx_sys::ngx_module_t; 2] =
        [addr_of!(crate::ngx_http_lua_rs_module), null()];

    #[no_mangle]
    pub static mut ngx_module_names: [*const c_char; 2] =
        [c"ngx_http_lua_rs_module".as_ptr(), null()];

    #[no_mangle]
    pub static mut ngx_module_order: [*const c_char; 3] = [
        c"ngx_http_lua_rs_module".as_ptr(),
        c"ngx_http_copy_filter_module".as_ptr(),
        null(),
    ];
}

pub use module::ngx_http_lua_rs_module;
