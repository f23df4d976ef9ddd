//! ngx-lua-rs: OpenResty's Lua platform (lua-nginx-module's directives and `ngx.*`
//! API) as one dynamic nginx module.
//!
//! This file only declares the module tree; see shared/DESIGN.md for the map.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod api;
pub mod conf;
pub mod ffi;
pub mod module;
pub mod net;
pub mod phase;
pub mod sched;
pub mod vm;

#[cfg(feature = "export-modules")]
ngx::ngx_modules!(ngx_http_lua_rs_module);

pub use module::ngx_http_lua_rs_module;
