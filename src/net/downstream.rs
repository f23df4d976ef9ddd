//! The client connection of a request, as ngx.req.socket, ngx.flush(true)
//! and lua_check_client_abort use it: the body bytes nginx read ahead with
//! the header, the request-body bookkeeping that keeps nginx's own body
//! reader away, pending output, and the broken-connection test.

use std::ptr::NonNull;

use nginx_sys::{ngx_connection_t, ngx_int_t, NGX_HTTP_LOWLEVEL_BUFFERED};

use super::conn::Conn;
use crate::ffi::log;
use crate::ffi::request::Req;

const AGAIN: ngx_int_t = nginx_sys::NGX_AGAIN as ngx_int_t;
const OK: ngx_int_t = nginx_sys::NGX_OK as ngx_int_t;

fn conn_ptr(r: Req) -> *mut ngx_connection_t {
    // SAFETY: a live request always has its connection.
    unsafe { r.get().connection }
}

/// The client connection, borrowed (never closed through the wrapper).
pub fn client(r: Req) -> Option<Conn> {
    let c = NonNull::new(conn_ptr(r))?;
    // SAFETY: the connection outlives the request that holds the wrapper
    // (the wrapper is dropped with the request's Lua state at the latest).
    Some(unsafe { Conn::borrowed(c) })
}

/// Takes up to `max` bytes nginx read past the request header (the start
/// of the body, or what a raw-socket client sent early).
pub fn take_preread(r: Req, max: usize) -> Vec<u8> {
    // SAFETY: header_in is the request's live header buffer; pos..last are
    // unread bytes in it; advancing pos consumes them as nginx's body reader
    // would.
    unsafe {
        let raw = r.get();
        let b = raw.header_in;
        if b.is_null() || max == 0 {
            return Vec::new();
        }
        let avail = (*b).last.offset_from((*b).pos).max(0) as usize;
        let n = avail.min(max);
        if n == 0 {
            return Vec::new();
        }
        let out = std::slice::from_raw_parts((*b).pos, n).to_vec();
        (*b).pos = (*b).pos.add(n);
        raw.request_length += n as i64;
        out
    }
}

/// What the request says about its body.
pub struct BodyInfo {
    pub content_length: i64,
    pub chunked: bool,
    pub discarded: bool,
    /// `r->request_body` exists, with this many bytes still unread.
    pub body_rest: Option<i64>,
}

pub fn body_info(r: Req) -> BodyInfo {
    // SAFETY: reading plain fields of the live request.
    unsafe {
        let raw = r.get();
        BodyInfo {
            content_length: raw.headers_in.content_length_n,
            chunked: raw.headers_in.chunked() != 0,
            discarded: raw.discard_body() != 0,
            body_rest: raw.request_body.as_ref().map(|rb| rb.rest),
        }
    }
}

/// Creates `r->request_body` (so nginx neither reads nor discards the body
/// itself) with `rest` bytes to come. False when out of memory.
pub fn claim_body(r: Req, rest: i64) -> bool {
    // SAFETY: pcalloc from the live request pool; the struct lives as long
    // as the request.
    unsafe {
        let raw = r.get();
        if raw.request_body.is_null() {
            let rb = nginx_sys::ngx_pcalloc(
                raw.pool,
                std::mem::size_of::<nginx_sys::ngx_http_request_body_t>(),
            ) as *mut nginx_sys::ngx_http_request_body_t;
            if rb.is_null() {
                return false;
            }
            raw.request_body = rb;
        }
        (*raw.request_body).rest = rest;
    }
    true
}

/// Records that `n` more body bytes were read from the socket.
pub fn body_consumed(r: Req, n: usize, rest: i64) {
    // SAFETY: fields of the live request.
    unsafe {
        let raw = r.get();
        raw.request_length += n as i64;
        if let Some(rb) = raw.request_body.as_mut() {
            rb.rest = rest;
        }
    }
}

pub fn keepalive(r: Req) -> bool {
    // SAFETY: a field of the live request.
    unsafe { r.get().keepalive() != 0 }
}

pub fn set_keepalive(r: Req, on: bool) {
    // SAFETY: a field of the live request.
    unsafe { r.get().set_keepalive(on as u32) }
}

/// Raw mode: nothing else may send a header or keep the connection.
pub fn go_raw(r: Req) {
    // SAFETY: fields of the live request.
    unsafe {
        let raw = r.get();
        raw.set_header_sent(1);
        raw.set_keepalive(0);
        raw.set_lingering_close(1);
    }
}

/// Output nginx has not written to the client yet.
pub fn output_pending(r: Req) -> bool {
    // SAFETY: the connection of the live request.
    unsafe { (*conn_ptr(r)).buffered() & NGX_HTTP_LOWLEVEL_BUFFERED != 0 }
}

/// Sends "100 Continue" when the client asked for it (ngx.req.socket reads
/// the body itself, so nginx's body reader will not). False on failure.
pub fn answer_expect(r: Req) -> bool {
    // SAFETY: fields of the live request and its connection; the expect
    // header value is nginx's, read only.
    unsafe {
        let raw = r.get();
        if raw.expect_tested() != 0 {
            return true;
        }
        raw.set_expect_tested(1);
        let h = raw.headers_in.expect;
        if h.is_null() || raw.http_version < nginx_sys::NGX_HTTP_VERSION_11 as usize {
            return true;
        }
        let v = crate::ffi::str_bytes(&(*h).value);
        if !v.eq_ignore_ascii_case(b"100-continue") {
            return true;
        }
        let msg = b"HTTP/1.1 100 Continue\r\n\r\n";
        let c = conn_ptr(r);
        let Some(send) = (*c).send else { return false };
        let n = send(c, msg.as_ptr() as *mut u8, msg.len());
        n == msg.len() as isize
    }
}

/// lua_check_client_abort's test of the client connection after a read
/// event: true when the client has gone (logged as nginx does).
pub fn client_gone(r: Req) -> bool {
    let c = conn_ptr(r);
    // SAFETY: the live request's connection; recv with MSG_PEEK leaves any
    // pending data in the socket.
    unsafe {
        if (*c).error() != 0 {
            return true;
        }
        let mut buf = [0u8; 1];
        let n = nginx_sys::recv(
            (*c).fd,
            buf.as_mut_ptr() as *mut _,
            1,
            nginx_sys::MSG_PEEK as i32,
        );
        let err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if n > 0 {
            return false;
        }
        let rev = (*c).read;
        if n == -1 {
            if err == nginx_sys::EAGAIN as i32 {
                return false;
            }
            (*rev).set_error(1);
        }
        (*rev).set_eof(1);
        let text = if n == -1 {
            let t = std::io::Error::from_raw_os_error(err).to_string();
            let t = t
                .rfind(" (os error")
                .map(|i| t[..i].to_string())
                .unwrap_or(t);
            format!(" ({err}: {t})")
        } else {
            String::new()
        };
        log::error(
            nginx_sys::NGX_LOG_INFO as usize,
            (*c).log,
            &format!("client prematurely closed connection{text}"),
        );
        true
    }
}

/// Marks the client connection failed (nginx then closes it).
pub fn set_error(r: Req) {
    // SAFETY: the live request's connection.
    unsafe { (*conn_ptr(r)).set_error(1) }
}

/// The state of ngx.flush(true)'s wait.
pub enum Flush {
    Done,
    Again,
    TimedOut,
    Failed,
}

/// Arms the client write event for a flush wait: `send_timeout` and
/// `send_lowat` of the location. False when the event cannot be armed.
pub fn flush_arm(r: Req) -> bool {
    // SAFETY: the live request's connection and core loc conf.
    unsafe {
        let c = conn_ptr(r);
        let wev = (*c).write;
        let clcf = *r
            .get()
            .loc_conf
            .add(nginx_sys::ngx_http_core_module.ctx_index)
            as *mut nginx_sys::ngx_http_core_loc_conf_t;
        if (*wev).delayed() == 0 {
            nginx_sys::ngx_add_timer(wev, (*clcf).send_timeout);
        }
        if nginx_sys::ngx_handle_write_event(wev, (*clcf).send_lowat) != OK {
            if (*wev).timer_set() != 0 {
                (*wev).set_delayed(0);
                nginx_sys::ngx_del_timer(wev);
            }
            return false;
        }
        true
    }
}

/// After a write event: writes what is pending; Done once nothing is left.
pub fn flush_step(r: Req) -> Flush {
    // SAFETY: the live request, its connection and write event.
    unsafe {
        let c = conn_ptr(r);
        let wev = (*c).write;
        if (*wev).timedout() != 0 {
            (*wev).set_timedout(0);
            if (*wev).delayed() == 0 {
                log::error(
                    nginx_sys::NGX_LOG_INFO as usize,
                    (*c).log,
                    "client timed out (110: Connection timed out)",
                );
                (*c).set_timedout(1);
                return Flush::TimedOut;
            }
            (*wev).set_delayed(0);
            if (*wev).ready() == 0 {
                return if flush_arm(r) {
                    Flush::Again
                } else {
                    Flush::Failed
                };
            }
        }
        if (*wev).ready() != 0 && (*wev).delayed() != 0 {
            return Flush::Again;
        }
        let rc = nginx_sys::ngx_http_output_filter(r.raw(), std::ptr::null_mut());
        if rc == nginx_sys::NGX_ERROR as ngx_int_t || rc > OK && rc != AGAIN {
            return Flush::Failed;
        }
        if (*c).buffered() & NGX_HTTP_LOWLEVEL_BUFFERED != 0 {
            return if flush_arm(r) {
                Flush::Again
            } else {
                Flush::Failed
            };
        }
        if (*wev).timer_set() != 0 {
            nginx_sys::ngx_del_timer(wev);
        }
        Flush::Done
    }
}

/// Whether the client connection timed out or failed (for the results of
/// an interrupted flush).
pub fn client_state(r: Req) -> (bool, bool) {
    // SAFETY: the live request's connection.
    unsafe {
        let c = conn_ptr(r);
        ((*c).timedout() != 0, (*c).error() != 0)
    }
}

/// `ev->timedout` of the client connection's read or write event, cleared.
pub fn take_timedout(r: Req, write: bool) -> bool {
    // SAFETY: the live request's connection events.
    unsafe {
        let c = conn_ptr(r);
        let ev = if write { (*c).write } else { (*c).read };
        let t = (*ev).timedout() != 0;
        if t {
            (*ev).set_timedout(0);
        }
        t
    }
}

/// Points the request's read or write event handler at `h`.
pub fn set_handler(r: Req, write: bool, h: nginx_sys::ngx_http_event_handler_pt) {
    // SAFETY: fields of the live request.
    unsafe {
        let raw = r.get();
        if write {
            raw.write_event_handler = h;
        } else {
            raw.read_event_handler = h;
        }
    }
}

/// Makes sure the client read event is watched (for the abort check).
pub fn watch_read(r: Req) -> bool {
    // SAFETY: the live request's read event.
    unsafe { nginx_sys::ngx_handle_read_event((*conn_ptr(r)).read, 0) == OK }
}

/// Posts the client write event again (to serve the next flush waiter).
pub fn repost_write(r: Req) {
    // SAFETY: the live request's write event; nginx removes posted events
    // of a connection when it closes it.
    unsafe {
        nginx_sys::ngx_post_event(
            (*conn_ptr(r)).write,
            std::ptr::addr_of_mut!(nginx_sys::ngx_posted_events),
        );
    }
}
