//! balancer_by_lua*: the upstream peer-selection hooks (lua-nginx-module's
//! `ngx_http_lua_balancer.c`) and what `ngx.balancer` changes in them.
//!
//! The directive wraps the upstream's `init_upstream` (round robin unless
//! another method came first); per request our `init_peer` wraps the
//! original one and puts our `get`/`free` in front of the original peer
//! callbacks. Modules configured later in the same `upstream {}` block
//! (`keepalive`) wrap ours in turn, so their connection cache sees the peer
//! Lua chose. `get` runs the Lua handler (phase/balancer.rs) on every try.
//!
//! `ngx.balancer.enable_keepalive` has its own cache of idle connections
//! per upstream block (in Hooks, so it outlives requests): `free` parks a
//! reusable connection there, the next `get` for the same peer takes it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::c_void;
use std::ptr;

use nginx_sys::{
    ngx_addr_t, ngx_array_push, ngx_conf_log_error, ngx_conf_t, ngx_connection_t, ngx_event_t,
    ngx_handle_read_event, ngx_http_conf_ctx_t, ngx_http_request_t, ngx_http_upstream_conf_t,
    ngx_http_upstream_init_peer_pt, ngx_http_upstream_init_pt, ngx_http_upstream_init_round_robin,
    ngx_http_upstream_module, ngx_http_upstream_server_t, ngx_http_upstream_srv_conf_t,
    ngx_http_upstream_state_t, ngx_http_upstream_t, ngx_int_t, ngx_msec_t, ngx_palloc,
    ngx_parse_addr_port, ngx_parse_url, ngx_pcalloc, ngx_peer_connection_t, ngx_str_t, ngx_uint_t,
    ngx_url_t, sockaddr, socklen_t,
};

use super::conf::Conf;
use super::request::Req;
use crate::conf::SrvConf;

const OK: ngx_int_t = nginx_sys::NGX_OK as ngx_int_t;
const ERROR: ngx_int_t = nginx_sys::NGX_ERROR as ngx_int_t;
const BUSY: ngx_int_t = nginx_sys::NGX_BUSY as ngx_int_t;
const DECLINED: ngx_int_t = nginx_sys::NGX_DECLINED as ngx_int_t;
const DONE: ngx_int_t = nginx_sys::NGX_DONE as ngx_int_t;
/// balancer_keepalive's default, as in lua-nginx-module.
const IDLE_CACHE_SIZE: usize = 32;

/// What balancer_by_lua* wraps in one `upstream {}` block (in its SrvConf,
/// which lives in the cycle pool as long as the upstream).
pub struct Hooks {
    orig_init_upstream: ngx_http_upstream_init_pt,
    orig_init_peer: ngx_http_upstream_init_peer_pt,
    /// The placeholder server added to an upstream without `server` lines:
    /// picking it means Lua set no peer.
    placeholder: *mut sockaddr,
    /// Idle connections parked by enable_keepalive (this worker's). Parked
    /// connections point at it (c->data), so it must not move: it lives in
    /// the SrvConf, allocated once in the cycle pool.
    idle: RefCell<IdleCache>,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            orig_init_upstream: None,
            orig_init_peer: None,
            placeholder: ptr::null_mut(),
            idle: RefCell::new(IdleCache::default()),
        }
    }
}

/// Idle upstream connections, most recently parked first. Lookups scan it:
/// it holds `balancer_keepalive` (default 32) entries at most, and a scan of
/// short byte keys is cheaper than keeping a hash index in step with the LRU.
#[derive(Default)]
struct IdleCache {
    items: VecDeque<Idle>,
}

struct Idle {
    c: *mut ngx_connection_t,
    /// See `conn_key`.
    key: Vec<u8>,
}

impl IdleCache {
    fn take(&mut self, key: &[u8]) -> Option<*mut ngx_connection_t> {
        let pos = self.items.iter().position(|i| i.key == key)?;
        self.items.remove(pos).map(|i| i.c)
    }

    fn forget(&mut self, c: *mut ngx_connection_t) {
        self.items.retain(|i| i.c != c);
    }
}

impl Drop for IdleCache {
    /// The cycle pool goes away (worker exit) with connections still parked
    /// (a graceful shutdown closes them earlier through `idle_read`): close
    /// them, since their c->data points here.
    fn drop(&mut self) {
        for i in self.items.drain(..) {
            // SAFETY: a parked connection is open and owned by the cache.
            unsafe { close_idle(i.c) };
        }
    }
}

/// Per-request, per-upstream peer data (request pool).
struct Peer {
    conf: *const SrvConf,
    request: *mut ngx_http_request_t,
    data: *mut c_void,
    get: nginx_sys::ngx_event_get_peer_pt,
    free: nginx_sys::ngx_event_free_peer_pt,
    set_session: nginx_sys::ngx_event_set_peer_session_pt,
    save_session: nginx_sys::ngx_event_save_peer_session_pt,
    /// Set by ngx.balancer.set_current_peer for the current try.
    sockaddr: *mut sockaddr,
    socklen: socklen_t,
    name: *mut ngx_str_t,
    more_tries: usize,
    total_tries: usize,
    last_state: ngx_uint_t,
    cloned_conf: bool,
    placeholder: *mut sockaddr,
    /// enable_keepalive for the current try: idle timeout, max requests per
    /// connection (0: no limit).
    keepalive: bool,
    keepalive_timeout: ngx_msec_t,
    keepalive_requests: ngx_uint_t,
    /// The TLS server name the connection is keyed on (request memory).
    host: ngx_str_t,
    /// bind_to_local_addr (request pool); kept across tries.
    local: *mut ngx_addr_t,
}

thread_local! {
    /// The peer data of the balancer handler running now (it cannot yield).
    static CURRENT: Cell<*mut Peer> = const { Cell::new(ptr::null_mut()) };
}

fn conf_warn(cf: &Conf, msg: &str) {
    // SAFETY: cf is live; "%*s" reads exactly len bytes.
    unsafe {
        ngx_conf_log_error(
            nginx_sys::NGX_LOG_WARN as usize,
            cf.raw(),
            0,
            c"%*s".as_ptr(),
            msg.len(),
            msg.as_ptr(),
        )
    }
}

/// Called by the balancer_by_lua* directive inside `upstream {}`.
pub fn install_balancer(cf: &Conf, hooks: &mut Hooks) -> Result<(), String> {
    // SAFETY: the directive runs in an upstream block, whose conf ctx holds
    // the upstream module's srv conf; arrays and urls live in the cycle pool.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        let uscf = *(*ctx).srv_conf.add(ngx_http_upstream_module.ctx_index)
            as *mut ngx_http_upstream_srv_conf_t;
        let servers = (*uscf).servers;
        if !servers.is_null() && (*servers).nelts == 0 {
            let us = ngx_array_push(servers) as *mut ngx_http_upstream_server_t;
            if us.is_null() {
                return Err("no memory".into());
            }
            ptr::write_bytes(us, 0, 1);
            let mut url: ngx_url_t = std::mem::zeroed();
            url.url = ngx_str_t {
                len: 7,
                data: c"0.0.0.1".as_ptr() as *mut u8,
            };
            url.default_port = 80;
            if ngx_parse_url((*cf.raw()).pool, &mut url) != OK || url.addrs.is_null() {
                return Err("failed to set up the balancer's placeholder server".into());
            }
            (*us).name = url.url;
            (*us).addrs = url.addrs;
            (*us).naddrs = url.naddrs;
            (*us).weight = 1;
            hooks.placeholder = (*url.addrs).sockaddr;
        }
        if (*uscf).peer.init_upstream.is_some() {
            conf_warn(cf, "load balancing method redefined");
            hooks.orig_init_upstream = (*uscf).peer.init_upstream;
        } else {
            hooks.orig_init_upstream = Some(ngx_http_upstream_init_round_robin);
        }
        (*uscf).peer.init_upstream = Some(init_upstream);
        (*uscf).flags = (nginx_sys::NGX_HTTP_UPSTREAM_CREATE
            | nginx_sys::NGX_HTTP_UPSTREAM_WEIGHT
            | nginx_sys::NGX_HTTP_UPSTREAM_MAX_FAILS
            | nginx_sys::NGX_HTTP_UPSTREAM_FAIL_TIMEOUT
            | nginx_sys::NGX_HTTP_UPSTREAM_DOWN) as ngx_uint_t;
    }
    Ok(())
}

/// Our SrvConf in an upstream's srv conf array.
///
/// # Safety
/// `us` must be an upstream block's conf (its srv_conf set).
unsafe fn srv_conf(us: *mut ngx_http_upstream_srv_conf_t) -> *mut SrvConf {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let sc = (*us).srv_conf;
        if sc.is_null() {
            return ptr::null_mut();
        }
        *sc.add(crate::module::ctx_index()) as *mut SrvConf
    }
}

unsafe extern "C" fn init_upstream(
    cf: *mut ngx_conf_t,
    us: *mut ngx_http_upstream_srv_conf_t,
) -> ngx_int_t {
    // SAFETY: nginx passes a live cf and the upstream conf this hook was installed on.
    crate::ffi::guard(unsafe { (*cf).log }, ERROR, || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let conf = srv_conf(us);
            if conf.is_null() {
                return ERROR;
            }
            let hooks = &mut (*conf).balancer_hooks;
            let orig = hooks
                .orig_init_upstream
                .unwrap_or(ngx_http_upstream_init_round_robin);
            if orig(cf, us) != OK {
                return ERROR;
            }
            hooks.orig_init_peer = (*us).peer.init;
            (*us).peer.init = Some(init_peer);
            OK
        }
    })
}

unsafe extern "C" fn init_peer(
    r: *mut ngx_http_request_t,
    us: *mut ngx_http_upstream_srv_conf_t,
) -> ngx_int_t {
    // SAFETY: nginx passes a live request with r->upstream set.
    let log = unsafe { (*(*r).connection).log };
    crate::ffi::guard(log, ERROR, || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let conf = srv_conf(us);
            if conf.is_null() {
                return ERROR;
            }
            let Some(orig) = (*conf).balancer_hooks.orig_init_peer else {
                return ERROR;
            };
            if orig(r, us) != OK {
                return ERROR;
            }
            let u = (*r).upstream;
            let bp = ngx_pcalloc((*r).pool, std::mem::size_of::<Peer>()) as *mut Peer;
            if bp.is_null() {
                return ERROR;
            }
            ptr::write(
                bp,
                Peer {
                    conf,
                    request: r,
                    data: (*u).peer.data,
                    get: (*u).peer.get,
                    free: (*u).peer.free,
                    set_session: (*u).peer.set_session,
                    save_session: (*u).peer.save_session,
                    sockaddr: ptr::null_mut(),
                    socklen: 0,
                    name: ptr::null_mut(),
                    more_tries: 0,
                    total_tries: 0,
                    last_state: 0,
                    cloned_conf: false,
                    placeholder: (*conf).balancer_hooks.placeholder,
                    keepalive: false,
                    keepalive_timeout: 0,
                    keepalive_requests: 0,
                    host: ngx_str_t {
                        len: 0,
                        data: ptr::null_mut(),
                    },
                    local: ptr::null_mut(),
                },
            );
            (*u).peer.data = bp as *mut c_void;
            (*u).peer.get = Some(get_peer);
            (*u).peer.free = Some(free_peer);
            (*u).peer.set_session = Some(set_session);
            (*u).peer.save_session = Some(save_session);
            OK
        }
    })
}

/// How the Lua handler ended (phase/balancer.rs).
pub enum Decision {
    /// Returned normally: use the peer it set, or the original method.
    Continue,
    /// `ngx.exit(code)`.
    Exit(ngx_int_t),
    /// An error, already logged.
    Failed,
}

/// Clears CURRENT even if the handler unwinds.
struct CurrentGuard(*mut Peer);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

unsafe extern "C" fn get_peer(pc: *mut ngx_peer_connection_t, data: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx passes the peer connection and the data init_peer set.
    let log = unsafe { (*pc).log };
    crate::ffi::guard(log, ERROR, || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let bp = data as *mut Peer;
            let Some(req) = Req::from_raw((*bp).request) else {
                return ERROR;
            };
            (*bp).sockaddr = ptr::null_mut();
            (*bp).socklen = 0;
            (*bp).name = ptr::null_mut();
            (*bp).more_tries = 0;
            (*bp).keepalive = false;
            (*bp).keepalive_timeout = 0;
            (*bp).keepalive_requests = 0;
            (*bp).total_tries += 1;
            let Some(h) = (*(*bp).conf).balancer.as_ref() else {
                return ERROR;
            };
            let decision = {
                let _restore = CurrentGuard(CURRENT.with(|c| c.replace(bp)));
                crate::phase::balancer::run(req, h)
            };
            match decision {
                Decision::Failed => return ERROR,
                Decision::Exit(code) => {
                    if code == ERROR || code == BUSY || code == DECLINED {
                        return code;
                    }
                    if code > OK {
                        return ERROR;
                    }
                }
                Decision::Continue => {}
            }
            if !(*bp).local.is_null() {
                (*pc).local = (*bp).local;
            }
            if !(*bp).sockaddr.is_null() && (*bp).socklen != 0 {
                (*pc).sockaddr = (*bp).sockaddr;
                (*pc).socklen = (*bp).socklen;
                (*pc).name = (*bp).name;
                (*pc).set_cached(0);
                (*pc).connection = ptr::null_mut();
                if (*bp).more_tries > 0 {
                    (*(*(*bp).request).upstream).peer.tries += (*bp).more_tries;
                }
                if (*bp).keepalive && reuse_idle(pc, bp) {
                    return DONE;
                }
                return OK;
            }
            let Some(orig) = (*bp).get else { return ERROR };
            let rc = orig(pc, (*bp).data);
            if rc == ERROR {
                return rc;
            }
            if !(*bp).placeholder.is_null() && (*pc).sockaddr == (*bp).placeholder {
                crate::ffi::log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    (*pc).log,
                    "lua balancer: no peer set",
                );
                return ERROR;
            }
            rc
        }
    })
}

unsafe extern "C" fn free_peer(
    pc: *mut ngx_peer_connection_t,
    data: *mut c_void,
    state: ngx_uint_t,
) {
    // SAFETY: as in get_peer.
    let log = unsafe { (*pc).log };
    crate::ffi::guard(log, (), || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let bp = data as *mut Peer;
            if !(*bp).sockaddr.is_null() && (*bp).socklen != 0 {
                (*bp).last_state = state;
                if (*pc).tries > 0 {
                    (*pc).tries -= 1;
                }
                if (*bp).keepalive && reusable(pc, bp, state) {
                    park_idle(pc, bp);
                }
                return;
            }
            if let Some(orig) = (*bp).free {
                orig(pc, (*bp).data, state);
            }
        }
    })
}

unsafe extern "C" fn set_session(pc: *mut ngx_peer_connection_t, data: *mut c_void) -> ngx_int_t {
    // SAFETY: as in get_peer.
    let log = unsafe { (*pc).log };
    crate::ffi::guard(log, OK, || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let bp = data as *mut Peer;
            if !(*bp).sockaddr.is_null() {
                return OK;
            }
            match (*bp).set_session {
                Some(f) => f(pc, (*bp).data),
                None => OK,
            }
        }
    })
}

unsafe extern "C" fn save_session(pc: *mut ngx_peer_connection_t, data: *mut c_void) {
    // SAFETY: as in get_peer.
    let log = unsafe { (*pc).log };
    crate::ffi::guard(log, (), || {
        // SAFETY: nginx calls this hook with live arguments of the types it was installed for;
        // the peer data is the Peer that init_peer put in the request pool.
        unsafe {
            let bp = data as *mut Peer;
            if !(*bp).sockaddr.is_null() {
                return;
            }
            if let Some(f) = (*bp).save_session {
                f(pc, (*bp).data)
            }
        }
    })
}

/// enable_keepalive's lookup, once Lua set the peer: hands over a parked
/// connection to the same peer address, from the same local address, made
/// for the same TLS server name.
///
/// # Safety
/// `pc` and `bp` are get_peer's live peer connection and peer data.
unsafe fn reuse_idle(pc: *mut ngx_peer_connection_t, bp: *mut Peer) -> bool {
    // SAFETY: guaranteed by the caller; a parked connection is open and
    // owned by the cache until taken out of it here.
    unsafe {
        let r = (*bp).request;
        let u = (*r).upstream;
        (*bp).host = ngx_str_t {
            len: 0,
            data: ptr::null_mut(),
        };
        if (*u).ssl() != 0 {
            let Some(name) = tls_name(r, u) else {
                // Without the name a connection could serve the wrong one.
                (*bp).keepalive = false;
                return false;
            };
            (*bp).host = name;
        }
        let key = conn_key(pc, super::str_bytes(&(*bp).host));
        let Some(c) = (*(*bp).conf).balancer_hooks.idle.borrow_mut().take(&key) else {
            return false;
        };
        let log = (*pc).log;
        (*c).set_idle(0);
        (*c).sent = 0;
        (*c).log = log;
        (*(*c).read).log = log;
        (*(*c).write).log = log;
        if !(*c).pool.is_null() {
            (*(*c).pool).log = log;
        }
        if (*(*c).read).timer_set() != 0 {
            nginx_sys::ngx_del_timer((*c).read);
        }
        (*pc).set_cached(1);
        (*pc).connection = c;
        true
    }
}

/// The server name a TLS connection is made for (proxy_ssl_name, else the
/// upstream's name) without its port, as ngx_http_upstream_ssl_name derives
/// it; None when proxy_ssl_name fails to evaluate.
///
/// # Safety
/// `r` is a live request and `u` its upstream.
unsafe fn tls_name(r: *mut ngx_http_request_t, u: *mut ngx_http_upstream_t) -> Option<ngx_str_t> {
    // SAFETY: guaranteed by the caller; the value is in request memory.
    unsafe {
        let conf = (*u).conf;
        let mut name = (*u).ssl_name;
        if !(*conf).ssl_name.is_null() {
            let mut v = ngx_str_t {
                len: 0,
                data: ptr::null_mut(),
            };
            if nginx_sys::ngx_http_complex_value(r, (*conf).ssl_name, &mut v) != OK {
                return None;
            }
            name = v;
        }
        let b = super::str_bytes(&name);
        let from = if b.first() == Some(&b'[') {
            b.iter().position(|&x| x == b']').unwrap_or(0)
        } else {
            0
        };
        if let Some(p) = b[from..].iter().position(|&x| x == b':') {
            name.len = from + p;
        }
        Some(name)
    }
}

/// A parked connection's identity: the peer's and the local sockaddr bytes
/// (length-prefixed; no local part when not bound) and the lower-cased TLS
/// server name.
///
/// # Safety
/// `pc` has its sockaddr (and local, when set) filled in.
unsafe fn conn_key(pc: *const ngx_peer_connection_t, host: &[u8]) -> Vec<u8> {
    // SAFETY: guaranteed by the caller; socklen bytes are readable.
    unsafe {
        let peer = std::slice::from_raw_parts((*pc).sockaddr as *const u8, (*pc).socklen as usize);
        let local = (*pc).local;
        let local: &[u8] = if local.is_null() || (*local).sockaddr.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts((*local).sockaddr as *const u8, (*local).socklen as usize)
        };
        let mut k = Vec::with_capacity(8 + peer.len() + local.len() + host.len());
        for part in [peer, local] {
            k.extend_from_slice(&(part.len() as u32).to_ne_bytes());
            k.extend_from_slice(part);
        }
        k.extend(host.iter().map(u8::to_ascii_lowercase));
        k
    }
}

/// Whether the connection of the finished try may serve another request (as
/// nginx's keepalive module decides).
///
/// # Safety
/// `pc` and `bp` are free_peer's live peer connection and peer data.
unsafe fn reusable(pc: *mut ngx_peer_connection_t, bp: *mut Peer, state: ngx_uint_t) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let c = (*pc).connection;
        if state & nginx_sys::NGX_PEER_FAILED as ngx_uint_t != 0 || c.is_null() {
            return false;
        }
        let (rev, wev) = ((*c).read, (*c).write);
        if (*rev).eof() != 0
            || (*rev).error() != 0
            || (*rev).timedout() != 0
            || (*wev).error() != 0
            || (*wev).timedout() != 0
        {
            return false;
        }
        if (*bp).keepalive_requests > 0 && (*c).requests >= (*bp).keepalive_requests {
            return false;
        }
        let u = (*(*bp).request).upstream;
        if (*u).keepalive() == 0 || (*u).request_body_sent() == 0 {
            return false;
        }
        if nginx_sys::ngx_terminate != 0 || nginx_sys::ngx_exiting != 0 {
            return false;
        }
        ngx_handle_read_event(rev, 0) == OK
    }
}

/// Moves the finished try's connection into the upstream's idle cache
/// (closing the least recently parked one when full); from here on its
/// events go to `idle_read`/`idle_write` and it logs to the cycle log, as
/// the request and its log may go away.
///
/// # Safety
/// As `reusable`, which returned true.
unsafe fn park_idle(pc: *mut ngx_peer_connection_t, bp: *mut Peer) {
    // SAFETY: guaranteed by the caller; the cache lives as long as the
    // upstream conf (cycle pool) and the connection now belongs to it.
    unsafe {
        let c = (*pc).connection;
        let conf = (*bp).conf;
        let cache = &(*conf).balancer_hooks.idle;
        let key = conn_key(pc, super::str_bytes(&(*bp).host));
        {
            let mut idle = cache.borrow_mut();
            while idle.items.len() >= (*conf).balancer_keepalive.unwrap_or(IDLE_CACHE_SIZE) {
                match idle.items.pop_back() {
                    Some(old) => close_idle(old.c),
                    None => break,
                }
            }
            idle.items.push_front(Idle { c, key });
        }
        (*pc).connection = ptr::null_mut();
        let (rev, wev) = ((*c).read, (*c).write);
        (*rev).set_delayed(0);
        nginx_sys::ngx_add_timer(rev, (*bp).keepalive_timeout);
        if (*wev).timer_set() != 0 {
            nginx_sys::ngx_del_timer(wev);
        }
        (*wev).handler = Some(idle_write);
        (*rev).handler = Some(idle_read);
        (*c).data = cache as *const RefCell<IdleCache> as *mut c_void;
        (*c).set_idle(1);
        let log = super::cycle_log();
        (*c).log = log;
        (*rev).log = log;
        (*wev).log = log;
        if !(*c).pool.is_null() {
            (*(*c).pool).log = log;
        }
        if (*rev).ready() != 0 {
            idle_read(rev);
        }
    }
}

/// A parked connection's read event: the peer sent data or closed, the
/// idle timeout fired, or nginx closes idle connections (`c->close`, at
/// shutdown). Anything but "nothing to read" closes it.
unsafe extern "C" fn idle_read(ev: *mut ngx_event_t) {
    // SAFETY: only installed by park_idle: ev->data is the parked
    // connection and its data the cache holding it.
    unsafe {
        let c = (*ev).data as *mut ngx_connection_t;
        crate::ffi::guard((*ev).log, (), || {
            if (*c).close() == 0 && (*ev).timedout() == 0 && nothing_to_read(c) {
                return;
            }
            let cache = (*c).data as *const RefCell<IdleCache>;
            (*cache).borrow_mut().forget(c);
            close_idle(c);
        })
    }
}

unsafe extern "C" fn idle_write(_ev: *mut ngx_event_t) {}

/// A one-byte MSG_PEEK says EAGAIN (and the read event is re-armed).
///
/// # Safety
/// `c` is an open connection.
unsafe fn nothing_to_read(c: *mut ngx_connection_t) -> bool {
    // SAFETY: guaranteed by the caller; MSG_PEEK consumes nothing.
    unsafe {
        let mut b = 0u8;
        let n = nginx_sys::recv(
            (*c).fd,
            &mut b as *mut u8 as *mut c_void,
            1,
            nginx_sys::MSG_PEEK as i32,
        );
        if n == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(nginx_sys::NGX_EAGAIN as i32)
        {
            (*(*c).read).set_ready(0);
            return ngx_handle_read_event((*c).read, 0) == OK;
        }
        false
    }
}

/// Closes a parked connection: drops TLS state without a close_notify
/// exchange, then its pool and the socket.
///
/// # Safety
/// `c` is an open connection no one else uses; it is gone after.
unsafe fn close_idle(c: *mut ngx_connection_t) {
    // SAFETY: guaranteed by the caller; with both shutdown flags set
    // ngx_ssl_shutdown neither writes nor waits.
    unsafe {
        if !(*c).ssl.is_null() {
            (*(*c).ssl).set_no_wait_shutdown(1);
            (*(*c).ssl).set_no_send_shutdown(1);
            let _ = nginx_sys::ngx_ssl_shutdown(c);
        }
        let pool = (*c).pool;
        (*c).pool = ptr::null_mut();
        if !pool.is_null() {
            nginx_sys::ngx_destroy_pool(pool);
        }
        nginx_sys::ngx_close_connection(c);
    }
}

/// Why an `ngx.balancer` call cannot act (returned to Lua as `nil, err`).
pub fn check(r: Req, in_balancer: bool) -> Result<(), &'static str> {
    // SAFETY: the request is alive (Req invariant).
    if unsafe { r.get().upstream.is_null() } {
        return Err("no upstream found");
    }
    if !in_balancer {
        return Err("API disabled in the current context");
    }
    if current().is_null() {
        return Err("no upstream peer data found");
    }
    Ok(())
}

fn current() -> *mut Peer {
    CURRENT.with(|c| c.get())
}

/// `set_current_peer(addr, port)`: `addr` is an IP address (with an
/// optional port) or `unix:/path`; host names are refused (no resolving).
pub fn set_current_peer(r: Req, addr: &[u8], port: u16) -> Result<(), String> {
    let bp = current();
    // SAFETY: bp is the running handler's peer data; the url is parsed into
    // request-pool memory, which outlives the upstream connection.
    unsafe {
        let pool = r.pool();
        let data = ngx_palloc(pool, addr.len().max(1)) as *mut u8;
        if data.is_null() {
            return Err("no memory".into());
        }
        ptr::copy_nonoverlapping(addr.as_ptr(), data, addr.len());
        let mut url: ngx_url_t = std::mem::zeroed();
        url.url = ngx_str_t {
            len: addr.len(),
            data,
        };
        url.default_port = port;
        url.set_uri_part(0);
        url.set_no_resolve(1);
        if ngx_parse_url(pool, &mut url) != OK {
            if !url.err.is_null() {
                return Err(std::ffi::CStr::from_ptr(url.err)
                    .to_string_lossy()
                    .into_owned());
            }
            return Err("failed to parse the address".into());
        }
        if url.addrs.is_null() || (*url.addrs).sockaddr.is_null() {
            return Err("no host allowed".into());
        }
        (*bp).sockaddr = (*url.addrs).sockaddr;
        (*bp).socklen = (*url.addrs).socklen;
        (*bp).name = &mut (*url.addrs).name;
    }
    Ok(())
}

/// `set_more_tries(count)`: returns the warning when capped by
/// `proxy_next_upstream_tries`.
pub fn set_more_tries(r: Req, count: i64) -> Option<&'static str> {
    let bp = current();
    // SAFETY: checked by `check`: r->upstream and bp are set.
    unsafe {
        let u = r.get().upstream;
        let mut max = (*(*u).conf).next_upstream_tries as i64;
        if max == 0 {
            max = 3;
        }
        let total = (*bp).total_tries as i64 + (*u).peer.tries as i64 - 1;
        let (count, warn) = if total + count > max {
            ((max - total).max(0), Some("reduced tries due to limit"))
        } else {
            (count.max(0), None)
        };
        (*bp).more_tries = count as usize;
        warn
    }
}

/// `get_last_failure()`: (state of the previous try: 0 none, 2 next,
/// 4 failed; its status).
pub fn last_failure(r: Req) -> (ngx_uint_t, ngx_uint_t) {
    let bp = current();
    // SAFETY: checked by `check`; upstream_states holds ngx_http_upstream_state_t.
    unsafe {
        let states = r.get().upstream_states;
        let status = if !states.is_null() && (*states).nelts > 1 {
            let elts = (*states).elts as *const ngx_http_upstream_state_t;
            (*elts.add((*states).nelts - 2)).status
        } else {
            0
        };
        ((*bp).last_state, status)
    }
}

/// `set_timeouts(connect, send, read)` in milliseconds (0 = keep): on a
/// per-request copy of the upstream conf, so other requests are unaffected.
pub fn set_timeouts(r: Req, connect: u64, send: u64, read: u64) -> Result<(), &'static str> {
    let bp = current();
    // SAFETY: checked by `check`; the copy lives in the request pool.
    unsafe {
        let u = r.get().upstream;
        if !(*bp).cloned_conf {
            let copy = ngx_palloc(r.pool(), std::mem::size_of::<ngx_http_upstream_conf_t>())
                as *mut ngx_http_upstream_conf_t;
            if copy.is_null() {
                return Err("no memory");
            }
            ptr::copy_nonoverlapping((*u).conf, copy, 1);
            (*u).conf = copy;
            (*bp).cloned_conf = true;
        }
        let c = (*u).conf;
        if connect > 0 {
            (*c).connect_timeout = connect as nginx_sys::ngx_msec_t;
        }
        if send > 0 {
            (*c).send_timeout = send as nginx_sys::ngx_msec_t;
        }
        if read > 0 {
            (*c).read_timeout = read as nginx_sys::ngx_msec_t;
        }
    }
    Ok(())
}

/// `recreate_request()`: rebuilds the upstream request (after Lua changed
/// headers or the body in the balancer).
pub fn recreate_request(r: Req) -> Result<(), Option<&'static str>> {
    // SAFETY: checked by `check`; create_request is the upstream module's.
    unsafe {
        let rr = r.get();
        let u = rr.upstream;
        let Some(create) = (*u).create_request else {
            return Err(None);
        };
        let body = if rr.request_body.is_null() {
            ptr::null_mut()
        } else {
            (*rr.request_body).bufs
        };
        if !(*u).request_bufs.is_null() && (*u).request_bufs != body {
            (*u).request_bufs = body;
        }
        if create(r.raw()) == OK {
            Ok(())
        } else {
            Err(None)
        }
    }
}

/// `enable_keepalive(idle_timeout, max_requests)`: park the connection to
/// the peer set in this run when its request is done with it.
pub fn enable_keepalive(timeout_ms: u64, max_requests: u64) -> Result<(), &'static str> {
    let bp = current();
    // SAFETY: checked by `check`: bp is the running handler's peer data.
    unsafe {
        if (*bp).sockaddr.is_null() || (*bp).socklen == 0 {
            return Err("no current peer set");
        }
        (*bp).keepalive = true;
        (*bp).keepalive_timeout = timeout_ms as ngx_msec_t;
        (*bp).keepalive_requests = max_requests as ngx_uint_t;
    }
    Ok(())
}

/// `bind_to_local_addr(addr)`: the local address ("ip" or "ip:port") the
/// upstream connection binds to. `Err(None)` when it does not parse.
pub fn bind_to_local_addr(r: Req, addr: &[u8]) -> Result<(), Option<&'static str>> {
    let bp = current();
    // SAFETY: checked by `check`; the address and its text live in the
    // request pool, which outlives the upstream connection.
    unsafe {
        let pool = r.pool();
        let size = std::mem::size_of::<ngx_addr_t>();
        let local = ngx_pcalloc(pool, size + addr.len().max(1)) as *mut ngx_addr_t;
        if local.is_null() {
            return Err(Some("no memory"));
        }
        let text = (local as *mut u8).add(size);
        ptr::copy_nonoverlapping(addr.as_ptr(), text, addr.len());
        // NGX_DECLINED (not an address) is an error too: lua-nginx-module
        // only checks for NGX_ERROR and would bind to an unset address.
        if ngx_parse_addr_port(pool, local, text, addr.len()) != OK {
            return Err(None);
        }
        (*local).name = ngx_str_t {
            len: addr.len(),
            data: text,
        };
        (*bp).local = local;
    }
    Ok(())
}

/// `set_upstream_tls(on)`: whether this request talks TLS to the peer.
/// Turning it on needs the SSL context proxy_pass https:// (or a variable
/// proxy_pass) creates: without one, connecting would fail in SSL_new()
/// (ctx unset) or dereference NULL (no ngx_ssl_t at all), so we refuse.
pub fn set_upstream_tls(r: Req, on: bool) -> Result<(), &'static str> {
    // SAFETY: checked by `check`; u->conf is the (possibly per-request) upstream conf.
    unsafe {
        let u = r.get().upstream;
        if on {
            let ssl = (*(*u).conf).ssl;
            if ssl.is_null() || (*ssl).ctx.is_null() {
                return Err("no SSL context for this upstream");
            }
        }
        (*u).set_ssl(on as u32);
        // Only used in log lines ("upstream: https://..."); static text, so
        // data and length agree whichever way the scheme was switched.
        let schema: &'static [u8] = if on { b"https://" } else { b"http://" };
        (*u).schema = ngx_str_t {
            len: schema.len(),
            data: schema.as_ptr() as *mut u8,
        };
    }
    Ok(())
}
