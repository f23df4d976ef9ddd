//! Configuration: the main and location conf structs (plain data, no Lua
//! handles) and the directive table.

pub mod directives;
pub mod lua_block;
pub mod source;

use ngx::http::{Merge, MergeConfigError};

pub use source::{Handler, Source};

use crate::vm::LuaVm;

/// `http {}`-level state, one per configuration cycle.
#[derive(Default)]
pub struct MainConf {
    pub package_path: Option<Vec<u8>>,
    pub package_cpath: Option<Vec<u8>>,
    pub init: Option<Handler>,
    pub init_worker: Option<Handler>,
    pub exit_worker: Option<Handler>,
    pub rewrite_no_postpone: bool,
    pub access_no_postpone: bool,
    /// Which phase handlers postconfiguration must register.
    pub requires_rewrite: bool,
    pub requires_access: bool,
    pub requires_log: bool,
    /// header_filter_by_lua* / body_filter_by_lua* appear somewhere: our
    /// filters join nginx's chains.
    pub requires_header_filter: bool,
    pub requires_body_filter: bool,
    /// lua_max_pending_timers / lua_max_running_timers.
    pub max_pending_timers: Option<usize>,
    pub max_running_timers: Option<usize>,
    /// lua_regex_cache_max_entries / lua_regex_match_limit.
    pub regex_cache_max_entries: Option<usize>,
    pub regex_match_limit: Option<usize>,
    /// lua_shared_dict zones (in the cycle pool), in directive order.
    pub shm_zones: Vec<*mut crate::shm::Zone>,
    /// How many of them nginx has initialised; init_by_lua runs after the last.
    pub shm_zones_inited: usize,
    /// The cycle's Lua VM: created at configuration time in the master, so
    /// init_by_lua state is inherited by the workers; dropped with the cycle pool.
    pub vm: Option<LuaVm>,
}

impl MainConf {
    pub fn max_pending_timers(&self) -> usize {
        self.max_pending_timers.unwrap_or(1024)
    }
    pub fn max_running_timers(&self) -> usize {
        self.max_running_timers.unwrap_or(256)
    }
    pub fn regex_cache_max_entries(&self) -> usize {
        self.regex_cache_max_entries.unwrap_or(1024)
    }
    /// 0: PCRE2's default limit.
    pub fn regex_match_limit(&self) -> usize {
        self.regex_match_limit.unwrap_or(0)
    }
}

/// One set_by_lua* directive: its code and the (compiled) arguments passed
/// as ngx.arg. Lives in the cycle pool, referenced from the rewrite code.
pub struct SetByLua {
    pub handler: Handler,
    pub args: Vec<*mut nginx_sys::ngx_http_complex_value_t>,
}

/// `server {}` conf; inside `upstream {}` it holds balancer_by_lua* and the
/// peer-selection callbacks it wraps (see ffi/upstream.rs).
#[derive(Default)]
pub struct SrvConf {
    pub balancer: Option<Handler>,
    pub balancer_hooks: crate::ffi::upstream::Hooks,
    /// balancer_keepalive: how many idle connections enable_keepalive may
    /// cache for this upstream block in each worker (default: see
    /// ffi/upstream.rs).
    pub balancer_keepalive: Option<usize>,
}

impl Merge for SrvConf {
    fn merge(&mut self, _prev: &Self) -> Result<(), MergeConfigError> {
        Ok(())
    }
}

/// `location {}` conf.
#[derive(Default, Clone)]
pub struct LocConf {
    pub code_cache: Option<bool>,
    pub rewrite: Option<Handler>,
    pub access: Option<Handler>,
    pub content: Option<Handler>,
    pub log: Option<Handler>,
    pub header_filter: Option<Handler>,
    pub body_filter: Option<Handler>,
    pub need_request_body: Option<bool>,
    pub transform_underscores: Option<bool>,
    pub use_default_type: Option<bool>,
    /// lua_socket_* (times in milliseconds, sizes in bytes).
    pub socket_connect_timeout: Option<u64>,
    pub socket_send_timeout: Option<u64>,
    pub socket_read_timeout: Option<u64>,
    pub socket_send_lowat: Option<usize>,
    pub socket_buffer_size: Option<usize>,
    pub socket_pool_size: Option<usize>,
    pub socket_keepalive_timeout: Option<u64>,
    pub socket_log_errors: Option<bool>,
    /// lua_check_client_abort.
    pub check_client_abort: Option<bool>,
    /// lua_ssl_* (cosocket TLS) and the client context built from them at
    /// merge time (shared with the parent level when this one sets none).
    pub ssl: crate::net::ssl::Settings,
    pub ssl_ctx: Option<crate::net::ssl::Ctx>,
}

fn inherit<T: Clone>(mine: &mut Option<T>, prev: &Option<T>) {
    if mine.is_none() {
        mine.clone_from(prev);
    }
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &Self) -> Result<(), MergeConfigError> {
        inherit(&mut self.code_cache, &prev.code_cache);
        inherit(&mut self.rewrite, &prev.rewrite);
        inherit(&mut self.access, &prev.access);
        inherit(&mut self.log, &prev.log);
        inherit(&mut self.header_filter, &prev.header_filter);
        inherit(&mut self.body_filter, &prev.body_filter);
        inherit(&mut self.need_request_body, &prev.need_request_body);
        inherit(&mut self.transform_underscores, &prev.transform_underscores);
        inherit(&mut self.use_default_type, &prev.use_default_type);
        inherit(
            &mut self.socket_connect_timeout,
            &prev.socket_connect_timeout,
        );
        inherit(&mut self.socket_send_timeout, &prev.socket_send_timeout);
        inherit(&mut self.socket_read_timeout, &prev.socket_read_timeout);
        inherit(&mut self.socket_send_lowat, &prev.socket_send_lowat);
        inherit(&mut self.socket_buffer_size, &prev.socket_buffer_size);
        inherit(&mut self.socket_pool_size, &prev.socket_pool_size);
        inherit(
            &mut self.socket_keepalive_timeout,
            &prev.socket_keepalive_timeout,
        );
        inherit(&mut self.socket_log_errors, &prev.socket_log_errors);
        inherit(&mut self.check_client_abort, &prev.check_client_abort);
        self.ssl.merge(&prev.ssl);
        Ok(())
    }
}

impl LocConf {
    pub fn code_cache(&self) -> bool {
        self.code_cache.unwrap_or(true)
    }
    pub fn transform_underscores(&self) -> bool {
        self.transform_underscores.unwrap_or(true)
    }
    pub fn use_default_type(&self) -> bool {
        self.use_default_type.unwrap_or(true)
    }
    pub fn need_request_body(&self) -> bool {
        self.need_request_body.unwrap_or(false)
    }
    pub fn socket_connect_timeout(&self) -> u64 {
        self.socket_connect_timeout.unwrap_or(60_000)
    }
    pub fn socket_send_timeout(&self) -> u64 {
        self.socket_send_timeout.unwrap_or(60_000)
    }
    pub fn socket_read_timeout(&self) -> u64 {
        self.socket_read_timeout.unwrap_or(60_000)
    }
    pub fn socket_send_lowat(&self) -> usize {
        self.socket_send_lowat.unwrap_or(0)
    }
    /// Default: one memory page, as lua-nginx-module (4k/8k).
    pub fn socket_buffer_size(&self) -> usize {
        self.socket_buffer_size.unwrap_or(4096)
    }
    pub fn socket_pool_size(&self) -> usize {
        self.socket_pool_size.unwrap_or(30)
    }
    pub fn socket_keepalive_timeout(&self) -> u64 {
        self.socket_keepalive_timeout.unwrap_or(60_000)
    }
    pub fn check_client_abort(&self) -> bool {
        self.check_client_abort.unwrap_or(false)
    }
    pub fn socket_log_errors(&self) -> bool {
        self.socket_log_errors.unwrap_or(true)
    }
}
