//! TLS for cosockets over nginx's OpenSSL wrappers: the per-location client
//! `ngx_ssl_t` built at configuration time from the lua_ssl_* directives,
//! the client handshake on a cosocket connection (`ngx_ssl_create_connection`
//! then `ngx_ssl_handshake`, waiting on the connection's events when it says
//! NGX_AGAIN), the post-handshake verification and the sessions handed to
//! Lua for resumption. After a successful handshake nginx switches
//! `c->recv`/`c->send` to its SSL versions, so conn.rs's I/O needs nothing
//! more; closing goes through [`close_connection`].

use std::ffi::{c_char, c_long, c_void, CStr};
use std::ptr::{self, NonNull};

use nginx_sys::{
    ngx_array_t, ngx_connection_t, ngx_int_t, ngx_msec_t, ngx_pool_cleanup_add, ngx_ssl_t,
    ngx_str_t, ngx_uint_t, NGX_AGAIN, NGX_OK, NGX_SSL_BUFFER, NGX_SSL_CLIENT, SSL_SESSION,
};

use super::conn::Conn;
use crate::ffi::conf::Conf;

const OK: ngx_int_t = NGX_OK as ngx_int_t;

/// The lua_ssl_* settings of a location (merged).
#[derive(Clone, Default)]
pub struct Settings {
    /// NGX_SSL_* bits.
    pub protocols: Option<ngx_uint_t>,
    pub ciphers: Option<Vec<u8>>,
    pub trusted_certificate: Option<Vec<u8>>,
    pub verify_depth: Option<usize>,
    pub crl: Option<Vec<u8>>,
    pub certificates: Vec<Vec<u8>>,
    pub certificate_keys: Vec<Vec<u8>>,
}

impl Settings {
    /// Whether any lua_ssl_* directive appears at this level.
    pub fn any(&self) -> bool {
        self.protocols.is_some()
            || self.ciphers.is_some()
            || self.trusted_certificate.is_some()
            || self.verify_depth.is_some()
            || self.crl.is_some()
            || !self.certificates.is_empty()
            || !self.certificate_keys.is_empty()
    }

    pub fn merge(&mut self, prev: &Settings) {
        fn inherit<T: Clone>(mine: &mut Option<T>, prev: &Option<T>) {
            if mine.is_none() {
                mine.clone_from(prev);
            }
        }
        inherit(&mut self.protocols, &prev.protocols);
        inherit(&mut self.ciphers, &prev.ciphers);
        inherit(&mut self.trusted_certificate, &prev.trusted_certificate);
        inherit(&mut self.verify_depth, &prev.verify_depth);
        inherit(&mut self.crl, &prev.crl);
        if self.certificates.is_empty() && self.certificate_keys.is_empty() {
            self.certificates.clone_from(&prev.certificates);
            self.certificate_keys.clone_from(&prev.certificate_keys);
        }
    }
}

/// A client SSL context (an `ngx_ssl_t` in the cycle pool, freed with it).
#[derive(Clone, Copy, Debug)]
pub struct Ctx(NonNull<ngx_ssl_t>);

/// The protocol bits of lua_ssl_protocols' names.
pub fn protocol_bit(name: &[u8]) -> Option<ngx_uint_t> {
    Some(match name {
        b"SSLv2" => nginx_sys::NGX_SSL_SSLv2,
        b"SSLv3" => nginx_sys::NGX_SSL_SSLv3,
        b"TLSv1" => nginx_sys::NGX_SSL_TLSv1,
        b"TLSv1.1" => nginx_sys::NGX_SSL_TLSv1_1,
        b"TLSv1.2" => nginx_sys::NGX_SSL_TLSv1_2,
        b"TLSv1.3" => nginx_sys::NGX_SSL_TLSv1_3,
        _ => return None,
    } as ngx_uint_t)
}

/// An ngx_str_t viewing `b` (nginx only reads it during the call).
fn ngx_str(b: &[u8]) -> ngx_str_t {
    ngx_str_t {
        len: b.len(),
        data: b.as_ptr() as *mut u8,
    }
}

/// `b` followed by a NUL (nginx hands these strings to OpenSSL as C
/// strings), and an ngx_str_t of `b` over it; keep the Vec alive while the
/// ngx_str_t is used.
fn c_str(b: &[u8]) -> (Vec<u8>, ngx_str_t) {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    let s = ngx_str_t {
        len: b.len(),
        data: v.as_mut_ptr(),
    };
    (v, s)
}

/// Builds the client context for `s` at configuration time.
pub fn create(conf: &Conf, s: &Settings) -> Option<Ctx> {
    let cf = conf.raw();
    // SAFETY: cf is the live configuration; the ngx_ssl_t is allocated from
    // its (cycle) pool, and the pool cleanup registered right after creation
    // frees the SSL_CTX with the pool. Every ngx_str_t passed points at
    // bytes that outlive the call; the arrays are filled consistently.
    unsafe {
        let pool = (*cf).pool;
        let ssl = nginx_sys::ngx_pcalloc(pool, std::mem::size_of::<ngx_ssl_t>()) as *mut ngx_ssl_t;
        let ssl = NonNull::new(ssl)?;
        let p = ssl.as_ptr();
        (*p).log = (*cf).log;
        let protocols = s.protocols.unwrap_or(
            (nginx_sys::NGX_SSL_TLSv1
                | nginx_sys::NGX_SSL_TLSv1_1
                | nginx_sys::NGX_SSL_TLSv1_2
                | nginx_sys::NGX_SSL_TLSv1_3) as ngx_uint_t,
        );
        if nginx_sys::ngx_ssl_create(p, protocols, ptr::null_mut()) != OK {
            return None;
        }
        let cln = ngx_pool_cleanup_add(pool, 0);
        if cln.is_null() {
            nginx_sys::ngx_ssl_cleanup_ctx(p as *mut c_void);
            return None;
        }
        (*cln).handler = Some(nginx_sys::ngx_ssl_cleanup_ctx);
        (*cln).data = p as *mut c_void;

        if !s.certificates.is_empty() || !s.certificate_keys.is_empty() {
            if s.certificates.len() != s.certificate_keys.len() {
                conf.error(
                    "the number of \"lua_ssl_certificate\" and \"lua_ssl_certificate_key\" directives does not match",
                );
                return None;
            }
            let cbufs: Vec<_> = s.certificates.iter().map(|c| c_str(c)).collect();
            let kbufs: Vec<_> = s.certificate_keys.iter().map(|k| c_str(k)).collect();
            let mut certs: Vec<ngx_str_t> = cbufs.iter().map(|b| b.1).collect();
            let mut keys: Vec<ngx_str_t> = kbufs.iter().map(|b| b.1).collect();
            let mut ca = array_of(&mut certs, pool);
            let mut ka = array_of(&mut keys, pool);
            if nginx_sys::ngx_ssl_certificates(cf, p, &mut ca, &mut ka, ptr::null_mut()) != OK {
                return None;
            }
        }

        let ciphers: &[u8] = s.ciphers.as_deref().unwrap_or(b"DEFAULT");
        let (_cbuf, mut c) = c_str(ciphers);
        if nginx_sys::ngx_ssl_ciphers(cf, p, &mut c, 0) != OK {
            return None;
        }
        if let Some(t) = &s.trusted_certificate {
            let (_tbuf, mut t) = c_str(t);
            let depth = s.verify_depth.unwrap_or(1) as ngx_int_t;
            if nginx_sys::ngx_ssl_trusted_certificate(cf, p, &mut t, depth) != OK {
                return None;
            }
        }
        if let Some(crl) = &s.crl {
            let (_crlbuf, mut crl) = c_str(crl);
            if nginx_sys::ngx_ssl_crl(cf, p, &mut crl) != OK {
                return None;
            }
        }
        Some(Ctx(ssl))
    }
}

/// An ngx_array_t over `v` (read-only use by nginx during one call).
fn array_of(v: &mut [ngx_str_t], pool: *mut nginx_sys::ngx_pool_t) -> ngx_array_t {
    ngx_array_t {
        elts: v.as_mut_ptr() as *mut c_void,
        nelts: v.len() as ngx_uint_t,
        size: std::mem::size_of::<ngx_str_t>(),
        nalloc: v.len() as ngx_uint_t,
        pool,
    }
}

/// A TLS session (one reference to an `SSL_SESSION`), freed on drop.
pub struct Session(NonNull<SSL_SESSION>);

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: we own one reference (from ngx_ssl_get_session).
        unsafe { nginx_sys::SSL_SESSION_free(self.0.as_ptr()) };
    }
}

/// How a handshake started.
pub enum Start {
    /// Finished at once: call [`finish`].
    Done,
    /// Waiting: the connection's handler gets a read event (timed out or
    /// not) when the handshake ends; then call [`finish`].
    Again,
    Failed(&'static str),
}

/// Whether the connection has completed a TLS handshake.
pub fn handshaked(conn: &Conn) -> bool {
    // SAFETY: the connection is open; c->ssl is null or nginx's live state.
    unsafe {
        let c = conn.raw();
        !(*c).ssl.is_null() && (*(*c).ssl).handshaked() != 0
    }
}

/// Starts a client handshake on `conn` with `ctx`, resuming `session` and
/// sending `server_name` as SNI; `timeout_ms` bounds the wait.
pub fn start(
    conn: &Conn,
    ctx: Ctx,
    session: Option<&Session>,
    server_name: &[u8],
    status_req: bool,
    timeout_ms: u64,
) -> Start {
    let c = conn.raw();
    // SAFETY: c is an open cosocket connection we own; c->data is its Hook
    // (conn.rs), which the completion handler below reads back. The pool
    // created here is destroyed by close_connection.
    unsafe {
        if (*c).pool.is_null() {
            // A pool of its own, so a pooled SSL connection outlives the request.
            (*c).pool = nginx_sys::ngx_create_pool(128, crate::ffi::cycle_log());
            if (*c).pool.is_null() {
                return Start::Failed("no memory");
            }
        }
        if !(*c).ssl.is_null() {
            // A failed earlier attempt left its state: start afresh.
            shutdown(c);
        }
        let flags = (NGX_SSL_BUFFER | NGX_SSL_CLIENT) as ngx_uint_t;
        if nginx_sys::ngx_ssl_create_connection(ctx.0.as_ptr(), c, flags) != OK {
            return Start::Failed("failed to create ssl connection");
        }
        (*c).set_sendfile(0);
        let ssl = (*(*c).ssl).connection;
        if let Some(s) = session {
            if nginx_sys::ngx_ssl_set_session(c, s.0.as_ptr()) != OK {
                return Start::Failed("ssl set session failed");
            }
        }
        if !server_name.is_empty() {
            // A Lua string stops at its first NUL for C, as upstream's does.
            let end = server_name
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(server_name.len());
            let mut name = server_name[..end].to_vec();
            name.push(0);
            if nginx_sys::SSL_ctrl(
                ssl,
                nginx_sys::SSL_CTRL_SET_TLSEXT_HOSTNAME as i32,
                nginx_sys::TLSEXT_NAMETYPE_host_name as c_long,
                name.as_mut_ptr() as *mut c_void,
            ) == 0
            {
                return Start::Failed("SSL_set_tlsext_host_name failed");
            }
        }
        if status_req {
            nginx_sys::SSL_ctrl(
                ssl,
                nginx_sys::SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE as i32,
                nginx_sys::TLSEXT_STATUSTYPE_ocsp as c_long,
                ptr::null_mut(),
            );
        }
        let rc = nginx_sys::ngx_ssl_handshake(c);
        if rc == NGX_AGAIN as ngx_int_t {
            let wev = (*c).write;
            if (*wev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(wev);
            }
            let rev = (*c).read;
            if timeout_ms > 0 {
                nginx_sys::ngx_add_timer(rev, timeout_ms as ngx_msec_t);
            }
            (*(*c).ssl).handler = Some(handshake_done);
            return Start::Again;
        }
        Start::Done
    }
}

/// nginx's handshake handler calls this when an asynchronous handshake
/// ends (or its read timer expires): give the events back to conn.rs and
/// tell the socket with a read event.
unsafe extern "C" fn handshake_done(c: *mut ngx_connection_t) {
    // SAFETY: c is the cosocket connection whose handshake we started; its
    // c->data is still our Hook.
    let log = unsafe { (*c).log };
    crate::ffi::guard(log, (), || {
        // SAFETY: as above; reattach's contract holds for this connection.
        unsafe {
            let timedout = (*(*c).read).timedout() != 0;
            super::conn::reattach(c, timedout);
        }
    })
}

/// A failed verification: the message Lua sees and the error log line.
pub struct Failure {
    pub err: String,
    pub log: Option<String>,
}

/// After the handshake ended: checks it succeeded and, with `verify`, the
/// peer's certificate chain and (`server_name` non-empty) its host name;
/// the session for resumption when `want_session`.
pub fn finish(
    conn: &Conn,
    verify: bool,
    server_name: &[u8],
    want_session: bool,
) -> Result<Option<Session>, Failure> {
    let c = conn.raw();
    // SAFETY: the connection is open; c->ssl is nginx's live state when set.
    unsafe {
        let rev = (*c).read;
        if (*rev).timer_set() != 0 {
            nginx_sys::ngx_del_timer(rev);
        }
        if (*c).ssl.is_null() || (*(*c).ssl).handshaked() == 0 {
            return Err(Failure {
                err: "handshake failed".into(),
                log: None,
            });
        }
        if verify {
            let ssl = (*(*c).ssl).connection;
            let rc = nginx_sys::SSL_get_verify_result(ssl);
            if rc != nginx_sys::X509_V_OK as c_long {
                let p: *const c_char = nginx_sys::X509_verify_cert_error_string(rc);
                let text = if p.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                };
                return Err(Failure {
                    err: format!("{rc}: {text}"),
                    log: Some(format!("lua ssl certificate verify error: ({rc}: {text})")),
                });
            }
            if !server_name.is_empty() {
                let mut name = ngx_str(server_name);
                if nginx_sys::ngx_ssl_check_host(c, &mut name) != OK {
                    return Err(Failure {
                        err: "certificate host mismatch".into(),
                        log: Some(format!(
                            "lua ssl certificate does not match host \"{}\"",
                            String::from_utf8_lossy(server_name)
                        )),
                    });
                }
            }
        }
        if !want_session {
            return Ok(None);
        }
        Ok(NonNull::new(nginx_sys::ngx_ssl_get_session(c)).map(Session))
    }
}

/// Whether the last handshake resumed a session.
pub fn session_reused(conn: &Conn) -> bool {
    // SAFETY: as in `handshaked`.
    unsafe {
        let c = conn.raw();
        !(*c).ssl.is_null() && nginx_sys::SSL_session_reused((*(*c).ssl).connection) != 0
    }
}

/// Drops a connection's TLS state without a close_notify exchange (as
/// lua-nginx-module does before closing a cosocket).
///
/// # Safety
/// `c` must be an open connection.
unsafe fn shutdown(c: *mut ngx_connection_t) {
    // SAFETY: guaranteed by the caller; with both flags set ngx_ssl_shutdown
    // neither writes nor waits: it frees the SSL object and restores
    // c->recv/c->send.
    unsafe {
        if (*c).ssl.is_null() {
            return;
        }
        (*(*c).ssl).set_no_wait_shutdown(1);
        (*(*c).ssl).set_no_send_shutdown(1);
        let _ = nginx_sys::ngx_ssl_shutdown(c);
    }
}

/// Closes a cosocket connection: its TLS state, its pool, then the socket.
///
/// # Safety
/// `c` must be an open connection owned by the caller; it is gone after.
pub(super) unsafe fn close_connection(c: *mut ngx_connection_t) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        shutdown(c);
        let pool = (*c).pool;
        (*c).pool = ptr::null_mut();
        if !pool.is_null() {
            nginx_sys::ngx_destroy_pool(pool);
        }
        nginx_sys::ngx_close_connection(c);
    }
}

/// Gives a merged location conf its client context: its own when it sets
/// lua_ssl_* itself, else the parent's (created on first need and kept by
/// the parent for its other children), as lua-nginx-module does.
/// Returns false on failure (logged by nginx).
pub fn merge_ctx(
    cf: &Conf,
    own: bool,
    conf: &mut crate::conf::LocConf,
    prev: &mut crate::conf::LocConf,
) -> bool {
    if conf.ssl_ctx.is_some() {
        return true;
    }
    if !own {
        if let Some(ctx) = prev.ssl_ctx {
            conf.ssl_ctx = Some(ctx);
            return true;
        }
    }
    let Some(ctx) = create(cf, &conf.ssl) else {
        return false;
    };
    conf.ssl_ctx = Some(ctx);
    if !own {
        prev.ssl_ctx = Some(ctx);
    }
    true
}
