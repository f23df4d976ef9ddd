//! An upstream TCP / unix-stream connection made with nginx's
//! `ngx_event_connect_peer`, whose read/write events (and their timers) are
//! delivered to a Rust [`IoHandler`].
//!
//! `c->data` points at a boxed [`Hook`] holding a weak reference to the
//! handler: the box never moves while the connection is open, and the event
//! handler upgrades the reference before calling out, so the handler may
//! close (drop) the connection from inside the callback.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::rc::{Rc, Weak};

use nginx_sys::{
    ngx_connection_error, ngx_connection_log_error_e_NGX_ERROR_ERR as LOG_ERROR_ERR,
    ngx_connection_log_error_e_NGX_ERROR_INFO as LOG_ERROR_INFO, ngx_connection_t,
    ngx_event_connect_peer, ngx_event_get_peer, ngx_event_t, ngx_handle_read_event,
    ngx_handle_write_event, ngx_int_t, ngx_log_t, ngx_msec_t, ngx_peer_connection_t, ngx_str_t,
    NGX_AGAIN, NGX_BUSY, NGX_DECLINED, NGX_OK,
};

use super::addr::SockAddr;

/// What woke a connection up.
#[derive(Clone, Copy, Debug)]
pub struct IoEvent {
    /// The write event (else the read event).
    pub write: bool,
    /// The event's timer expired.
    pub timedout: bool,
}

/// Receives a connection's events.
pub trait IoHandler {
    fn on_io(self: Rc<Self>, ev: IoEvent);

    /// Whether an operation waits for the read (or write) event; events
    /// of a borrowed connection are routed here only then.
    fn waiting(&self, _write: bool) -> bool {
        true
    }
}

struct Hook {
    target: Weak<dyn IoHandler>,
}

/// An open connection; dropping it closes the socket (and removes its
/// events and timers). A borrowed connection (the client connection of a
/// request, for ngx.req.socket) is never closed by us: its events reach
/// the request's handlers, which route them on.
pub struct Conn {
    c: NonNull<ngx_connection_t>,
    /// None: borrowed.
    hook: Option<Box<Hook>>,
}

/// The outcome of a read or write attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    Done(usize),
    Again,
    Eof,
    Error(i32),
}

pub enum Connect {
    /// Connected at once (typical for unix sockets).
    Connected(Conn),
    /// In progress: wait for the write event, then call [`Conn::test_connect`].
    InProgress(Conn),
    /// connect() failed with this errno (already logged by nginx).
    Errno(i32),
    /// Another failure, as the message Lua sees.
    Failed(&'static str),
}

const OK: ngx_int_t = NGX_OK as ngx_int_t;
const AGAIN: ngx_int_t = NGX_AGAIN as ngx_int_t;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Starts connecting to `addr`; `log` is the log of the request using the
/// connection (it must outlive the connection or be replaced first).
pub fn connect(
    addr: &SockAddr,
    log: *mut ngx_log_t,
    log_errors: bool,
    target: Weak<dyn IoHandler>,
) -> Connect {
    // SAFETY: an all-zero ngx_peer_connection_t is valid (nginx pcallocs it).
    let mut pc: ngx_peer_connection_t = unsafe { std::mem::zeroed() };
    let mut name = ngx_str_t {
        len: addr.text.len(),
        data: addr.text.as_ptr() as *mut u8,
    };
    pc.sockaddr = addr.as_ptr();
    pc.socklen = addr.len();
    pc.name = &mut name;
    pc.get = Some(ngx_event_get_peer);
    pc.log = log;
    pc.set_log_error(if log_errors {
        LOG_ERROR_ERR
    } else {
        LOG_ERROR_INFO
    });
    // SAFETY: pc is fully initialised; `name` and `addr` outlive the call
    // (nginx only reads them while connecting); the connection it returns is
    // ours until closed.
    let rc = unsafe { ngx_event_connect_peer(&mut pc) };
    if rc == NGX_DECLINED as ngx_int_t {
        return Connect::Errno(errno());
    }
    if rc == NGX_BUSY as ngx_int_t {
        return Connect::Failed("no live connection");
    }
    if rc != OK && rc != AGAIN {
        return Connect::Failed("connect peer error");
    }
    let Some(c) = NonNull::new(pc.connection) else {
        return Connect::Failed("connect peer error");
    };
    let conn = Conn::adopt(c, target, log);
    if rc == OK {
        // Drop the events nginx may have armed, so a level-triggered poll
        // does not spin while Lua does not use the socket.
        if !conn.handle_write(0) || !conn.handle_read() {
            return Connect::Failed("failed to handle write event");
        }
        Connect::Connected(conn)
    } else {
        Connect::InProgress(conn)
    }
}

unsafe extern "C" fn on_event(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this for the read/write event of a connection whose
    // c->data is our live Hook (set by Conn::adopt; the Hook is freed only
    // after the connection is closed or handed to another owner, which also
    // replaces the handlers).
    let (target, log, io) = unsafe {
        let c = (*ev).data as *mut ngx_connection_t;
        let hook = (*c).data as *const Hook;
        let timedout = (*ev).timedout() != 0;
        if timedout {
            (*ev).set_timedout(0);
        }
        (
            (*hook).target.upgrade(),
            (*c).log,
            IoEvent {
                write: (*ev).write() != 0,
                timedout,
            },
        )
    };
    let Some(target) = target else { return };
    crate::ffi::guard(log, (), move || target.on_io(io))
}

/// Gives a connection's events back to [`on_event`] (after nginx's SSL
/// handshake handler had them) and delivers a read event to its handler.
///
/// # Safety
/// `c` must be an open connection adopted by [`Conn::adopt`], still owned.
pub(super) unsafe fn reattach(c: *mut ngx_connection_t, timedout: bool) {
    // SAFETY: guaranteed by the caller: c->data is the connection's live Hook.
    let target = unsafe {
        (*(*c).read).handler = Some(on_event);
        (*(*c).write).handler = Some(on_event);
        (*(*c).read).set_timedout(0);
        let hook = (*c).data as *const Hook;
        if hook.is_null() {
            return;
        }
        (*hook).target.upgrade()
    };
    if let Some(t) = target {
        t.on_io(IoEvent {
            write: false,
            timedout,
        });
    }
}

impl Conn {
    /// Takes ownership of an open connection (from connect or a keepalive
    /// pool) and routes its events to `target`.
    pub(super) fn adopt(
        c: NonNull<ngx_connection_t>,
        target: Weak<dyn IoHandler>,
        log: *mut ngx_log_t,
    ) -> Conn {
        let mut hook = Box::new(Hook { target });
        // SAFETY: c is an open connection nobody else drives; its read and
        // write events are allocated with it.
        unsafe {
            let c = c.as_ptr();
            (*c).data = &mut *hook as *mut Hook as *mut c_void;
            (*(*c).read).handler = Some(on_event);
            (*(*c).write).handler = Some(on_event);
            (*c).log = log;
            (*(*c).read).log = log;
            (*(*c).write).log = log;
            (*c).set_idle(0);
        }
        Conn {
            c,
            hook: Some(hook),
        }
    }

    /// Wraps a connection owned by someone else (a request's client
    /// connection); dropping the wrapper leaves it open.
    ///
    /// # Safety
    /// `c` must stay open while the wrapper is used.
    pub unsafe fn borrowed(c: NonNull<ngx_connection_t>) -> Conn {
        Conn { c, hook: None }
    }

    /// Gives the connection up without closing it (to a keepalive pool,
    /// which installs its own handlers and data).
    pub(super) fn into_raw(self) -> NonNull<ngx_connection_t> {
        let c = self.c;
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again; the hook box is freed
        // here, and c->data is overwritten by the new owner right away.
        unsafe {
            (*c.as_ptr()).data = std::ptr::null_mut();
            drop(std::ptr::read(&me.hook));
        }
        c
    }

    pub fn raw(&self) -> *mut ngx_connection_t {
        self.c.as_ptr()
    }

    pub fn fd(&self) -> i32 {
        // SAFETY: the connection is open while we own it.
        unsafe { (*self.c.as_ptr()).fd }
    }

    /// Points the connection's logging at another log (the request's).
    pub fn set_log(&self, log: *mut ngx_log_t) {
        // SAFETY: as in `fd`.
        unsafe {
            let c = self.c.as_ptr();
            (*c).log = log;
            (*(*c).read).log = log;
            (*(*c).write).log = log;
        }
    }

    /// Reads into `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> Io {
        // SAFETY: c->recv is nginx's recv for this connection; it writes at
        // most buf.len() bytes into buf.
        let n = unsafe {
            let c = self.c.as_ptr();
            match (*c).recv {
                Some(f) => f(c, buf.as_mut_ptr(), buf.len()),
                None => return Io::Error(0),
            }
        };
        match n {
            n if n > 0 => Io::Done(n as usize),
            0 => Io::Eof,
            n if n == AGAIN => Io::Again,
            _ => Io::Error(errno()),
        }
    }

    /// Reads at most `max` bytes, appended to `buf` (its spare capacity is
    /// filled directly: no zeroing of a fresh buffer on every read).
    pub fn recv_into(&self, buf: &mut Vec<u8>, max: usize) -> Io {
        buf.reserve(max);
        let start = buf.len();
        // SAFETY: c->recv writes at most `max` bytes at the end of `buf`,
        // within the capacity reserved above; only the bytes it reports as
        // written become part of the vector.
        let n = unsafe {
            let c = self.c.as_ptr();
            match (*c).recv {
                Some(f) => f(c, buf.as_mut_ptr().add(start), max),
                None => return Io::Error(0),
            }
        };
        match n {
            n if n > 0 => {
                // SAFETY: recv initialised exactly n bytes past `start`.
                unsafe { buf.set_len(start + n as usize) };
                Io::Done(n as usize)
            }
            0 => Io::Eof,
            n if n == AGAIN => Io::Again,
            _ => Io::Error(errno()),
        }
    }

    /// Writes from `buf`.
    pub fn send(&self, buf: &[u8]) -> Io {
        // SAFETY: c->send reads at most buf.len() bytes from buf.
        let n = unsafe {
            let c = self.c.as_ptr();
            match (*c).send {
                Some(f) => f(c, buf.as_ptr() as *mut u8, buf.len()),
                None => return Io::Error(0),
            }
        };
        match n {
            n if n >= 0 => Io::Done(n as usize),
            n if n == AGAIN => Io::Again,
            _ => Io::Error(errno()),
        }
    }

    fn handle_read(&self) -> bool {
        // SAFETY: the connection's read event is live.
        unsafe { ngx_handle_read_event((*self.c.as_ptr()).read, 0) == OK }
    }

    fn handle_write(&self, lowat: usize) -> bool {
        // SAFETY: the connection's write event is live.
        unsafe { ngx_handle_write_event((*self.c.as_ptr()).write, lowat) == OK }
    }

    /// Waits for readability, with a timer when `timeout_ms > 0`.
    pub fn wait_read(&self, timeout_ms: u64) -> bool {
        if !self.handle_read() {
            return false;
        }
        if timeout_ms > 0 {
            // SAFETY: the read event is live; its timer goes with the connection.
            unsafe { nginx_sys::ngx_add_timer((*self.c.as_ptr()).read, timeout_ms as ngx_msec_t) };
        }
        true
    }

    /// Waits for writability (`lowat`: send low-water mark), with a timer
    /// when `timeout_ms > 0`.
    pub fn wait_write(&self, timeout_ms: u64, lowat: usize) -> bool {
        if !self.handle_write(lowat) {
            return false;
        }
        if timeout_ms > 0 {
            // SAFETY: the write event is live.
            unsafe { nginx_sys::ngx_add_timer((*self.c.as_ptr()).write, timeout_ms as ngx_msec_t) };
        }
        true
    }

    /// Removes the read timer.
    pub fn stop_read(&self) {
        // SAFETY: the read event is live.
        unsafe {
            let ev = (*self.c.as_ptr()).read;
            if (*ev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(ev);
            }
        }
    }

    /// Removes the write timer.
    pub fn stop_write(&self) {
        // SAFETY: the write event is live.
        unsafe {
            let ev = (*self.c.as_ptr()).write;
            if (*ev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(ev);
            }
        }
    }

    /// After an in-progress connect signalled: Ok, or the socket error
    /// (logged as nginx does: "connect() failed (111: Connection refused)").
    pub fn test_connect(&self) -> Result<(), i32> {
        let mut err: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as nginx_sys::socklen_t;
        // SAFETY: getsockopt writes an int into err.
        let rc = unsafe {
            nginx_sys::getsockopt(
                self.fd(),
                nginx_sys::SOL_SOCKET as i32,
                nginx_sys::SO_ERROR as i32,
                &mut err as *mut i32 as *mut c_void,
                &mut len,
            )
        };
        if rc == -1 {
            err = errno();
        }
        if err != 0 {
            // SAFETY: c is live; the text is a NUL-terminated literal.
            unsafe {
                ngx_connection_error(self.c.as_ptr(), err, c"connect() failed".as_ptr() as *mut _)
            };
            return Err(err);
        }
        Ok(())
    }

    /// setsockopt(level, name, value) with an int value.
    pub fn set_int_option(&self, level: u32, name: u32, value: i32) -> Result<(), i32> {
        // SAFETY: setsockopt reads one int.
        let rc = unsafe {
            nginx_sys::setsockopt(
                self.fd(),
                level as i32,
                name as i32,
                &value as *const i32 as *const c_void,
                std::mem::size_of::<i32>() as nginx_sys::socklen_t,
            )
        };
        if rc == -1 {
            Err(errno())
        } else {
            Ok(())
        }
    }

    /// getsockopt(level, name) of an int value.
    pub fn get_int_option(&self, level: u32, name: u32) -> Result<i32, i32> {
        let mut v: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as nginx_sys::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into v.
        let rc = unsafe {
            nginx_sys::getsockopt(
                self.fd(),
                level as i32,
                name as i32,
                &mut v as *mut i32 as *mut c_void,
                &mut len,
            )
        };
        if rc == -1 {
            Err(errno())
        } else {
            Ok(v)
        }
    }

    /// Whether the peer has closed or the connection failed already.
    pub fn broken(&self) -> bool {
        // SAFETY: the events are live.
        unsafe {
            let c = self.c.as_ptr();
            (*(*c).read).eof() != 0 || (*(*c).read).error() != 0 || (*(*c).write).error() != 0
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.hook.is_none() {
            return;
        }
        // SAFETY: we own the open connection; closing removes its timers and
        // events, so the hook (freed right after) is never reached again.
        unsafe { super::ssl::close_connection(self.c.as_ptr()) };
    }
}

/// The lowercase text of an errno, as lua-nginx-module reports it
/// ("connection refused", "no such file or directory").
pub fn strerror(err: i32) -> String {
    let s = std::io::Error::from_raw_os_error(err).to_string();
    // Rust appends " (os error N)".
    let s = match s.rfind(" (os error") {
        Some(i) => &s[..i],
        None => &s[..],
    };
    s.to_lowercase()
}
