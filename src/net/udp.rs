//! Connected datagram sockets (UDP and unix-dgram) for ngx.socket.udp: a
//! socket made with socket(2) + connect(2), wrapped in an nginx connection
//! whose read events go to an [`IoHandler`] like the TCP ones.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::rc::Weak;
use std::sync::atomic::{AtomicU64, Ordering};

use nginx_sys::{ngx_close_connection, ngx_get_connection, ngx_nonblocking, AF_UNIX};

use super::addr::SockAddr;
use super::conn::{Conn, IoHandler};
use crate::ffi::log;
use crate::ffi::request::Req;

const ALERT: usize = nginx_sys::NGX_LOG_ALERT as usize;
const CRIT: usize = nginx_sys::NGX_LOG_CRIT as usize;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// nginx's "(111: Connection refused)" suffix of a syscall failure.
fn os_error(what: &str, err: i32) -> String {
    let text = std::io::Error::from_raw_os_error(err).to_string();
    let text = match text.rfind(" (os error") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    format!("{what} ({err}: {text})")
}

/// Opens a datagram socket connected to `addr` for request `r` (whose log
/// it uses); Err carries the errno (the failure is logged as nginx does).
pub fn connect(addr: &SockAddr, r: Req, target: Weak<dyn IoHandler>) -> Result<Conn, i32> {
    let log = r.log();
    // SAFETY: plain socket syscalls on a fresh descriptor; the sockaddr
    // bytes are owned by `addr` for the duration of the calls.
    let family = unsafe { (*addr.as_ptr()).sa_family } as i32;
    // SAFETY: as above.
    let s = unsafe { nginx_sys::socket(family, nginx_sys::__socket_type_SOCK_DGRAM as i32, 0) };
    if s == -1 {
        let e = errno();
        log::error(ALERT, log, &os_error("socket() failed", e));
        return Err(e);
    }
    // SAFETY: s is a valid descriptor; nginx takes it over (and closes it
    // with the connection).
    let c = unsafe { ngx_get_connection(s, log) };
    let Some(c) = NonNull::new(c) else {
        // SAFETY: s is ours and unused.
        unsafe { nginx_sys::close(s) };
        return Err(0);
    };
    // From here on, closing the connection closes the socket too.
    let fail = |e: i32, what: &str, level: usize| {
        log::error(level, log, &os_error(what, e));
        // SAFETY: c is the connection just created, not yet used elsewhere.
        unsafe { ngx_close_connection(c.as_ptr()) };
        Err(e)
    };
    // SAFETY: s is a valid descriptor.
    if unsafe { ngx_nonblocking(s) } == -1 {
        return fail(errno(), "ioctl(FIONBIO) failed", ALERT);
    }
    if family == AF_UNIX as i32 {
        // Autobind, so the peer has an address to answer to.
        // SAFETY: a sockaddr with only the family set, of length sizeof(sa_family_t).
        let rc = unsafe {
            let mut a: nginx_sys::sockaddr = std::mem::zeroed();
            a.sa_family = AF_UNIX as _;
            nginx_sys::bind(
                s,
                nginx_sys::__CONST_SOCKADDR_ARG { __sockaddr__: &a },
                std::mem::size_of::<nginx_sys::sa_family_t>() as nginx_sys::socklen_t,
            )
        };
        if rc != 0 {
            return fail(errno(), "bind() failed", CRIT);
        }
    }
    // SAFETY: addr holds a valid sockaddr of addr.len() bytes.
    if unsafe {
        nginx_sys::connect(
            s,
            nginx_sys::__CONST_SOCKADDR_ARG {
                __sockaddr__: addr.as_ptr(),
            },
            addr.len(),
        )
    } == -1
    {
        return fail(errno(), "connect() failed", CRIT);
    }
    // SAFETY: c is our live connection; ngx_io and the connection counter
    // are nginx's process-wide tables, set up before any request runs.
    unsafe {
        let raw = c.as_ptr();
        (*raw).recv = nginx_sys::ngx_io.udp_recv;
        (*raw).send = nginx_sys::ngx_io.send;
        (*raw).data = std::ptr::null_mut::<c_void>();
        let counter = nginx_sys::ngx_connection_counter as *const AtomicU64;
        if !counter.is_null() {
            (*raw).number = (*counter).fetch_add(1, Ordering::Relaxed) as _;
        }
        // Datagram sockets are always ready to write.
        (*(*raw).write).set_ready(1);
    }
    let conn = Conn::adopt(c, target, log);
    if !conn.wait_read(0) {
        return Err(0);
    }
    Ok(conn)
}
