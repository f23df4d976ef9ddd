//! TCP cosockets: ngx.socket.tcp / stream / connect and the tcpsock methods
//! (ngx_http_lua_socket_tcp.c's API). The nginx plumbing (connecting,
//! events, resolver, keepalive pools) is in net/; this file is the state
//! machine and the Lua-facing checks. Waiting methods return the wait marker
//! and lualib/socket_tcp.lua yields; the event that completes the operation
//! wakes the coroutine with the method's results.

use std::cell::RefCell;
use std::ffi::c_int;
use std::rc::{Rc, Weak};

use mlua::{Lua, MultiValue, Table, UserData, Value};

use super::context::{frame, frame_now, Frame, OUTPUT, YIELDABLE};
use super::socket::{
    self, arg_integer, arg_number, arg_push_scalar, arg_send_data, arg_string, deliver, fail,
    integer_arg, push_ret, push_scalar, to_lua, type_name, Lookup, Owner, Ret, ERR,
};
use super::{raise, raw_function, subtable, ApiResult};
use crate::ffi::log;
use crate::ffi::lua_stack::{self, c_method, c_method_with, Arg, Stack};
use crate::ffi::request::Req;
use crate::module;
use crate::net::addr::SockAddr;
use crate::net::buffers;
use crate::net::conn::{self, strerror, Conn, Connect, Io, IoEvent, IoHandler};
use crate::net::downstream;
use crate::net::resolve::{ResolveHandler, Resolved, Resolving};
use crate::net::ssl;
use crate::net::until::{Step, Until};
use crate::sched::{self, RequestCtx, Waiter};

/// Directive values captured when the socket connects.
#[derive(Clone, Copy)]
struct SockConf {
    connect_timeout: u64,
    send_timeout: u64,
    read_timeout: u64,
    send_lowat: usize,
    buffer_size: usize,
    pool_size: usize,
    keepalive_timeout: u64,
    log_errors: bool,
    check_client_abort: bool,
}

impl SockConf {
    fn of(r: Req) -> SockConf {
        let l = module::request_loc_conf(r.raw());
        SockConf {
            connect_timeout: l.socket_connect_timeout(),
            send_timeout: l.socket_send_timeout(),
            read_timeout: l.socket_read_timeout(),
            send_lowat: l.socket_send_lowat(),
            buffer_size: l.socket_buffer_size().max(1),
            pool_size: l.socket_pool_size(),
            keepalive_timeout: l.socket_keepalive_timeout(),
            log_errors: l.socket_log_errors(),
            check_client_abort: l.check_client_abort(),
        }
    }
}

struct UntilState {
    m: Until,
    /// A sized read found the pattern: the next call returns nil, nil, nil.
    ended: bool,
}

enum ReadOp {
    Line,
    All,
    Bytes(usize),
    Any(usize),
    Until(Rc<RefCell<UntilState>>, Option<usize>),
}

struct State {
    owner: Option<Owner>,
    conn: Option<Conn>,
    resolving: Option<Resolving>,
    /// The peer closed its side (reads fail with "closed").
    read_closed: bool,
    /// settimeout(s) overrides; None: the directive.
    t_connect: Option<u64>,
    t_send: Option<u64>,
    t_read: Option<u64>,
    conf: SockConf,
    addr_text: String,
    pool_key: Vec<u8>,
    pool_size: Option<usize>,
    reused: usize,
    /// Received, not yet consumed bytes: rbuf[rpos..].
    rbuf: Vec<u8>,
    rpos: usize,
    read_op: Option<ReadOp>,
    acc: Vec<u8>,
    read_waiter: Option<Waiter>,
    out: Vec<u8>,
    sent: usize,
    write_waiter: Option<Waiter>,
    conn_waiter: Option<Waiter>,
    /// Set for ngx.req.socket's sockets on the client connection.
    down: Option<Down>,
    /// A TLS handshake in progress (conn_waiter waits for it).
    ssl_pending: Option<SslPending>,
}

/// What to check and return when a pending TLS handshake ends.
struct SslPending {
    verify: bool,
    server_name: Vec<u8>,
    want_session: bool,
}

/// ngx.req.socket: the client connection, read as the request body (with
/// `rest` bytes to come) or raw.
struct Down {
    req: Req,
    raw: bool,
    rest: i64,
    /// r->keepalive before the body reader took the body over; restored
    /// once the whole body has been read.
    keepalive: bool,
}

impl Down {
    /// `n` body bytes were read.
    fn consumed(&mut self, n: usize, from_socket: bool) {
        if self.raw {
            return;
        }
        self.rest -= n as i64;
        downstream::body_consumed(self.req, if from_socket { n } else { 0 }, self.rest);
        if self.rest <= 0 {
            downstream::set_keepalive(self.req, self.keepalive);
        }
    }
}

impl State {
    fn connect_timeout(&self) -> u64 {
        self.t_connect.unwrap_or(self.conf.connect_timeout)
    }
    fn send_timeout(&self) -> u64 {
        self.t_send.unwrap_or(self.conf.send_timeout)
    }
    fn read_timeout(&self) -> u64 {
        self.t_read.unwrap_or(self.conf.read_timeout)
    }

    /// Drops the connection and everything tied to it.
    fn close(&mut self) -> Option<Conn> {
        self.resolving = None;
        self.read_op = None;
        self.read_waiter = None;
        self.write_waiter = None;
        self.conn_waiter = None;
        self.ssl_pending = None;
        self.rbuf.clear();
        self.rpos = 0;
        self.acc.clear();
        self.out.clear();
        self.sent = 0;
        self.read_closed = false;
        self.conn.take()
    }

    fn log(&self, msg: &str) {
        if let Some(o) = self.owner {
            if o.alive && self.conf.log_errors {
                log::error(ERR, o.req.log(), msg);
            }
        }
    }

    /// Takes from the buffer what the current read op wants; Some when done.
    fn consume(&mut self) -> Option<Ret> {
        let avail = &self.rbuf[self.rpos..];
        let op = self.read_op.as_mut()?;
        match op {
            ReadOp::Line => match avail.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    push_without_cr(&mut self.acc, &avail[..i]);
                    self.rpos += i + 1;
                    Some(Ret::Data(std::mem::take(&mut self.acc)))
                }
                None => {
                    push_without_cr(&mut self.acc, avail);
                    self.rpos = self.rbuf.len();
                    None
                }
            },
            ReadOp::All => {
                self.acc.extend_from_slice(avail);
                self.rpos = self.rbuf.len();
                None
            }
            ReadOp::Bytes(n) => {
                let take = (*n - self.acc.len()).min(avail.len());
                self.acc.extend_from_slice(&avail[..take]);
                self.rpos += take;
                (self.acc.len() == *n).then(|| Ret::Data(std::mem::take(&mut self.acc)))
            }
            ReadOp::Any(max) => {
                if avail.is_empty() {
                    return None;
                }
                let take = (*max).min(avail.len());
                self.acc.extend_from_slice(&avail[..take]);
                self.rpos += take;
                Some(Ret::Data(std::mem::take(&mut self.acc)))
            }
            ReadOp::Until(st, limit) => {
                let mut st = st.borrow_mut();
                let (n, step) = st.m.feed(avail, &mut self.acc, *limit);
                self.rpos += n;
                match step {
                    Step::NeedMore => None,
                    Step::Found => {
                        if limit.is_some() {
                            st.ended = true;
                        }
                        Some(Ret::Data(std::mem::take(&mut self.acc)))
                    }
                    Step::Full => Some(Ret::Data(std::mem::take(&mut self.acc))),
                }
            }
        }
    }

    /// Gives a delivered result's buffer back for the next read op, so a
    /// socket reading reply after reply does not allocate for each.
    fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.acc.capacity() == 0 {
            buf.clear();
            self.acc = buf;
        } else {
            buffers::give(buf);
        }
    }

    /// The result of a read op when the peer has closed.
    fn at_eof(&mut self) -> Ret {
        let mut partial = std::mem::take(&mut self.acc);
        match self.read_op.take() {
            Some(ReadOp::All) => Ret::Data(partial),
            Some(ReadOp::Until(st, _)) => {
                st.borrow_mut().m.flush(&mut partial);
                Ret::Fail("closed".into(), Some(partial))
            }
            _ => Ret::Fail("closed".into(), Some(partial)),
        }
    }

    /// Runs the read op as far as the data allows; None: wait for more.
    fn step_read(&mut self) -> Option<Ret> {
        loop {
            if let Some(r) = self.consume() {
                self.read_op = None;
                return Some(r);
            }
            if self.read_closed {
                return Some(self.at_eof());
            }
            let conn = self.conn.as_ref()?;
            self.rbuf.clear();
            self.rpos = 0;
            let mut want = self.conf.buffer_size;
            if let Some(d) = self.down.as_mut() {
                if !d.raw {
                    if d.rest <= 0 {
                        self.read_closed = true;
                        continue;
                    }
                    want = want.min(d.rest as usize);
                }
                // What nginx read past the request header comes first.
                let pre = downstream::take_preread(d.req, want);
                if !pre.is_empty() {
                    d.consumed(pre.len(), false);
                    self.rbuf = pre;
                    continue;
                }
            }
            buffers::ensure_room(&mut self.rbuf, want);
            match conn.recv_into(&mut self.rbuf, want) {
                Io::Done(n) => {
                    if let Some(d) = self.down.as_mut() {
                        d.consumed(n, true);
                    }
                }
                Io::Eof => {
                    self.rbuf.clear();
                    if let Some(d) = &self.down {
                        if self.conf.check_client_abort || (!d.raw && d.rest > 0) {
                            let partial = std::mem::take(&mut self.acc);
                            drop(self.close());
                            return Some(Ret::Fail("client aborted".into(), Some(partial)));
                        }
                    }
                    self.read_closed = true;
                }
                Io::Again => {
                    self.rbuf.clear();
                    return None;
                }
                Io::Error(e) => {
                    self.rbuf.clear();
                    let partial = std::mem::take(&mut self.acc);
                    let _closed = self.close();
                    return Some(Ret::Fail(strerror(e), Some(partial)));
                }
            }
        }
    }

    /// The result of a finished TLS handshake (the socket is closed when it
    /// failed, as upstream does).
    fn finish_ssl(&mut self, p: &SslPending) -> Ret {
        let Some(conn) = self.conn.as_ref() else {
            return fail("closed");
        };
        match ssl::finish(conn, p.verify, &p.server_name, p.want_session) {
            Ok(s) if p.want_session => Ret::Session(s),
            Ok(_) => Ret::Bool(true),
            Err(f) => {
                if let Some(m) = &f.log {
                    self.log(m);
                }
                drop(self.close());
                fail(f.err)
            }
        }
    }

    /// Writes as much of `out` as the socket takes; None: wait.
    fn step_send(&mut self) -> Option<Ret> {
        loop {
            let Some(conn) = self.conn.as_ref() else {
                return Some(fail("closed"));
            };
            if self.sent >= self.out.len() {
                let n = self.out.len() as i64;
                self.out.clear();
                self.sent = 0;
                return Some(Ret::Int(n));
            }
            match conn.send(&self.out[self.sent..]) {
                Io::Done(n) => self.sent += n,
                Io::Again | Io::Eof => return None,
                Io::Error(e) => {
                    let _closed = self.close();
                    return Some(fail(strerror(e)));
                }
            }
        }
    }
}

/// One cosocket object's state (behind the Lua table's slot 1).
pub struct TcpSock {
    me: Weak<TcpSock>,
    st: RefCell<State>,
}

impl Drop for TcpSock {
    fn drop(&mut self) {
        let st = self.st.get_mut();
        for buf in [&mut st.rbuf, &mut st.acc, &mut st.out] {
            buffers::give(std::mem::take(buf));
        }
    }
}

/// Registry names: the metatable of the userdata in a socket object's
/// slot 1 (which holds the Rc<TcpSock>), and the objects' own metatables.
const SOCK_UD_MT: &std::ffi::CStr = c"ngx_lua_rs.tcp_sock_ud";
const TCP_MT: &std::ffi::CStr = c"__tcp_cosocket_mt";
const REQ_MT: &std::ffi::CStr = c"ngx_lua_rs.req_socket_mt";
const RAW_REQ_MT: &std::ffi::CStr = c"ngx_lua_rs.raw_req_socket_mt";

struct UntilUd {
    sock: Rc<TcpSock>,
    st: Rc<RefCell<UntilState>>,
}
impl UserData for UntilUd {}

impl TcpSock {
    fn new(conf: SockConf) -> Rc<TcpSock> {
        Rc::new_cyclic(|me| TcpSock {
            me: me.clone(),
            st: RefCell::new(State {
                owner: None,
                conn: None,
                resolving: None,
                read_closed: false,
                t_connect: None,
                t_send: None,
                t_read: None,
                conf,
                addr_text: String::new(),
                pool_key: Vec::new(),
                pool_size: None,
                reused: 0,
                rbuf: Vec::new(),
                rpos: 0,
                read_op: None,
                acc: Vec::new(),
                read_waiter: None,
                out: Vec::new(),
                sent: 0,
                write_waiter: None,
                conn_waiter: None,
                down: None,
                ssl_pending: None,
            }),
        })
    }

    fn io_target(&self) -> Weak<dyn IoHandler> {
        self.me.clone()
    }

    /// The request ended: close what it left open.
    fn request_done(&self) {
        let closed = match self.st.try_borrow_mut() {
            Ok(mut st) => {
                st.down = None;
                if let Some(o) = st.owner.as_mut() {
                    o.alive = false;
                }
                st.close()
            }
            Err(_) => None,
        };
        drop(closed);
    }

    /// Connects to `addr` (after resolving); Wait when in progress.
    fn start_connect(&self, st: &mut State, addr: SockAddr, log: *mut nginx_sys::ngx_log_t) -> Ret {
        st.addr_text = addr.text.clone();
        match conn::connect(&addr, log, st.conf.log_errors, self.io_target()) {
            Connect::Connected(c) => {
                st.conn = Some(c);
                Ret::Int(1)
            }
            Connect::InProgress(c) => {
                if !c.wait_write(st.connect_timeout(), 0) {
                    return fail("failed to handle write event");
                }
                st.conn = Some(c);
                Ret::Wait
            }
            Connect::Errno(e) => fail(strerror(e)),
            Connect::Failed(m) => fail(m),
        }
    }
}

impl IoHandler for TcpSock {
    fn waiting(&self, write: bool) -> bool {
        match self.st.try_borrow() {
            Ok(st) if write => st.write_waiter.is_some(),
            Ok(st) => st.read_waiter.is_some(),
            Err(_) => false,
        }
    }

    fn on_io(self: Rc<Self>, ev: IoEvent) {
        let done = match self.st.try_borrow_mut() {
            Ok(mut st) => st.on_event(ev),
            Err(_) => None,
        };
        if let Some((w, ret)) = done {
            deliver(w, ret);
        }
    }
}

impl State {
    /// Advances the operation an event belongs to; Some when it is done.
    fn on_event(&mut self, ev: IoEvent) -> Option<(Waiter, Ret)> {
        if self.ssl_pending.is_some() && self.conn_waiter.is_some() {
            let p = self.ssl_pending.take()?;
            let w = self.conn_waiter.take()?;
            let ret = if ev.timedout {
                drop(self.close());
                fail("timeout")
            } else {
                self.finish_ssl(&p)
            };
            return Some((w, ret));
        }
        if let Some(w) = self.conn_waiter.take() {
            let ret = if ev.timedout {
                self.log(&format!(
                    "lua tcp socket connect timed out, when connecting to {}",
                    self.addr_text
                ));
                drop(self.close());
                fail("timeout")
            } else {
                match self.conn.as_ref().map(|c| c.test_connect()) {
                    Some(Ok(())) => {
                        if let Some(c) = self.conn.as_ref() {
                            c.stop_write();
                        }
                        Ret::Int(1)
                    }
                    Some(Err(e)) => {
                        drop(self.close());
                        fail(strerror(e))
                    }
                    None => fail("closed"),
                }
            };
            return Some((w, ret));
        }
        if ev.write {
            let w = self.write_waiter.take()?;
            if ev.timedout {
                self.log("lua tcp socket write timed out");
                drop(self.close());
                return Some((w, fail("timeout")));
            }
            return match self.step_send() {
                None => {
                    let (t, lowat) = (self.send_timeout(), self.conf.send_lowat);
                    if self.conn.as_ref().map(|c| c.wait_write(t, lowat)) == Some(true) {
                        self.write_waiter = Some(w);
                        None
                    } else {
                        drop(self.close());
                        Some((w, fail("failed to handle write event")))
                    }
                }
                Some(ret) => {
                    if let Some(c) = self.conn.as_ref() {
                        c.stop_write();
                    }
                    Some((w, ret))
                }
            };
        }
        let w = self.read_waiter.take()?;
        if ev.timedout {
            self.log("lua tcp socket read timed out");
            let mut partial = std::mem::take(&mut self.acc);
            if let Some(ReadOp::Until(u, _)) = self.read_op.take() {
                u.borrow_mut().m.flush(&mut partial);
            }
            return Some((w, Ret::Fail("timeout".into(), Some(partial))));
        }
        match self.step_read() {
            None => {
                let t = self.read_timeout();
                if self.conn.as_ref().map(|c| c.wait_read(t)) == Some(true) {
                    self.read_waiter = Some(w);
                    None
                } else {
                    drop(self.close());
                    Some((w, fail("failed to handle read event")))
                }
            }
            Some(ret) => {
                if let Some(c) = self.conn.as_ref() {
                    c.stop_read();
                }
                Some((w, ret))
            }
        }
    }
}

impl ResolveHandler for TcpSock {
    fn on_resolved(self: Rc<Self>, res: Resolved) {
        let done = {
            let Ok(mut st) = self.st.try_borrow_mut() else {
                return;
            };
            let st = &mut *st;
            st.resolving = None;
            let ret = match res {
                Err(e) => fail(e),
                Ok(addr) => {
                    let log = match st.owner {
                        Some(o) if o.alive => o.req.log(),
                        _ => return,
                    };
                    self.start_connect(st, addr, log)
                }
            };
            match ret {
                Ret::Wait => None,
                ret => st.conn_waiter.take().map(|w| (w, ret)),
            }
        };
        if let Some((w, ret)) = done {
            deliver(w, ret);
        }
    }
}

// ---- argument helpers ------------------------------------------------------

/// The socket behind `self` (slot 1 of the object table).
fn sock_of(lua: &Lua, v: Option<&Value>, fname: &str) -> ApiResult<Option<Rc<TcpSock>>> {
    match v {
        Some(Value::Table(t)) => Ok(lua_stack::object_in(lua, t)),
        other => raise(format!(
            "bad argument #1 to '{fname}' (table expected, got {})",
            other.map(type_name).unwrap_or("no value")
        )),
    }
}

/// [`sock_of`] for C-function methods: `self` is argument 1.
fn sock_arg(s: &Stack, fname: &str) -> ApiResult<Option<Rc<TcpSock>>> {
    match s.arg(1) {
        Arg::Table(t) => Ok(s.object_in_arg(t)),
        other => raise(format!(
            "bad argument #1 to '{fname}' (table expected, got {})",
            other.type_name()
        )),
    }
}

/// Checks that the socket may be used by the running request.
fn check_owner(st: &State, f: &Frame) -> ApiResult<()> {
    socket::check_owner(st.owner, f)
}

fn closed_log(st: &State, f: &Frame, what: &str) {
    if st.conf.log_errors {
        log::error(
            ERR,
            f.req.log(),
            &format!(
                "attempt to {what} data on a closed socket: u:{:p}, c:{:p}, ft:{} eof:{}",
                st as *const State,
                st.conn
                    .as_ref()
                    .map(|c| c.raw() as *const ())
                    .unwrap_or(std::ptr::null()),
                if st.read_closed { 4 } else { 0 },
                st.read_closed as u8
            ),
        );
    }
}

// ---- methods ------------------------------------------------------------------

fn new_socket(s: &Stack) -> ApiResult<c_int> {
    if !s.is_empty() {
        return raise(format!("expecting zero arguments, but got {}", s.len()));
    }
    let f = frame_now(YIELDABLE)?;
    s.push_object_from_upvalues(TcpSock::new(SockConf::of(f.req)));
    Ok(1)
}

fn connect(s: &Stack) -> ApiResult<c_int> {
    let n = s.len();
    if !(2..=4).contains(&n) {
        return raise(format!(
            "ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen {n}"
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let sock = sock_arg(s, "connect")?;
    let Some(host) = arg_string(&s.arg(2)) else {
        return raise(format!(
            "bad argument #2 to 'connect' (string expected, got {})",
            s.arg(2).type_name()
        ));
    };
    let (port_v, opts) = match n {
        4 => match s.arg(4) {
            Arg::Table(t) => (Some(s.arg(3)), Some(t)),
            Arg::Nil => (Some(s.arg(3)), None),
            other => {
                return raise(format!(
                    "bad argument #4 to 'connect' (table expected, got {})",
                    other.type_name()
                ))
            }
        },
        3 => match s.arg(3) {
            Arg::Table(t) => (None, Some(t)),
            v => (Some(v), None),
        },
        _ => (None, None),
    };
    let port = match port_v {
        Some(v) => match arg_integer(&v) {
            Some(p) if !(0..=65535).contains(&p) => {
                return Ok(push_ret(s, fail(format!("bad port number: {p}"))))
            }
            Some(p) => Some(p as u16),
            None => {
                return raise(format!(
                    "bad argument #3 to 'connect' (number expected, got {})",
                    v.type_name()
                ))
            }
        },
        None => None,
    };
    let mut pool_name: Option<Vec<u8>> = None;
    let mut pool_size: Option<usize> = None;
    if let Some(o) = opts {
        match s.field(o, "pool") {
            Arg::Nil => {}
            v @ (Arg::Str(_) | Arg::Num(_)) => {
                let mut out = Vec::new();
                arg_push_scalar(&mut out, &v);
                pool_name = Some(out);
            }
            v => return raise(format!("bad \"pool\" option type: {}", v.type_name())),
        }
        match s.field(o, "pool_size") {
            Arg::Nil => {}
            v @ Arg::Num(_) => {
                let n = arg_integer(&v).unwrap_or(0);
                if n <= 0 {
                    return raise(format!("bad \"pool_size\" option value: {n}"));
                }
                pool_size = Some(n as usize);
            }
            v => return raise(format!("bad \"pool_size\" option type: {}", v.type_name())),
        }
        match s.field(o, "backlog") {
            Arg::Nil => {}
            v @ Arg::Num(_) => {
                let b = arg_integer(&v).unwrap_or(0);
                if b < 0 {
                    return raise(format!("bad \"backlog\" option value: {b}"));
                }
            }
            v => return raise(format!("bad \"backlog\" option type: {}", v.type_name())),
        }
    }
    let Some(sock) = sock else {
        return raise("bad tcp socket");
    };
    let key = match (pool_name, port) {
        (Some(p), _) => p,
        (None, Some(p)) => {
            let mut k = Vec::with_capacity(host.len() + 6);
            k.extend_from_slice(&host);
            k.push(b':');
            crate::ffi::fmt::push_integer(&mut k, i64::from(p));
            k
        }
        (None, None) => host.clone(),
    };

    let old = {
        let mut st = sock.st.borrow_mut();
        check_owner(&st, &f)?;
        if st.conn_waiter.is_some() {
            return Ok(push_ret(s, fail("socket busy connecting")));
        }
        if st.read_waiter.is_some() {
            return Ok(push_ret(s, fail("socket busy reading")));
        }
        if st.write_waiter.is_some() {
            return Ok(push_ret(s, fail("socket busy writing")));
        }
        st.close()
    };
    drop(old);

    let ret = {
        let mut st = sock.st.borrow_mut();
        let st = &mut *st;
        if st.owner.is_none() {
            st.owner = Some(Owner {
                req: f.req,
                alive: true,
            });
            let weak = Rc::downgrade(&sock);
            if let Some(ctx) = RequestCtx::get_or_create(f.req) {
                ctx.on_drop.borrow_mut().push(Box::new(move || {
                    if let Some(s) = weak.upgrade() {
                        s.request_done();
                    }
                }));
            }
        }
        st.conf = SockConf::of(f.req);
        st.pool_key = key;
        st.pool_size = pool_size;
        st.reused = 0;

        let pooled = crate::phase::request_vm(f.req)
            .map(|vm| &vm.pools)
            .and_then(|p| p.get(&st.pool_key, sock.io_target(), f.req.log()));
        if let Some((c, reused)) = pooled {
            st.conn = Some(c);
            st.reused = reused + 1;
            Ret::Int(1)
        } else {
            match socket::lookup(f.req, &host, port.unwrap_or(0), sock.me.clone()) {
                Lookup::Ready(addr) => sock.start_connect(st, addr, f.req.log()),
                Lookup::Failed(m) => fail(m),
                Lookup::Pending(r) => {
                    st.resolving = Some(r);
                    Ret::Wait
                }
            }
        }
    };
    if let Ret::Wait = ret {
        let mut st = sock.st.borrow_mut();
        st.conn_waiter = Waiter::running();
    }
    Ok(push_ret(s, ret))
}

fn send(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 2 {
        return raise(format!(
            "expecting 2 arguments (including the object), but got {}",
            s.len()
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let sock = sock_arg(s, "send")?;
    // The last send's buffer, unless it still holds unsent bytes.
    let spare = sock
        .as_ref()
        .and_then(|k| k.st.try_borrow_mut().ok())
        .filter(|st| st.out.is_empty())
        .map(|mut st| std::mem::take(&mut st.out))
        .filter(|b| b.capacity() > 0)
        .unwrap_or_else(buffers::take);
    let data = arg_send_data(s, 2, spare)?;
    let Some(sock) = sock else {
        return Ok(push_ret(s, fail("closed")));
    };
    let mut st = sock.st.borrow_mut();
    if st.conn.is_none() {
        closed_log(&st, &f, "send");
        return Ok(push_ret(s, fail("closed")));
    }
    check_owner(&st, &f)?;
    if st.conn_waiter.is_some() {
        return Ok(push_ret(s, fail("socket busy connecting")));
    }
    if st.write_waiter.is_some() {
        return Ok(push_ret(s, fail("socket busy writing")));
    }
    match &st.down {
        Some(d) if !d.raw => return raise("attempt to write to request sockets"),
        Some(d) if downstream::output_pending(d.req) => {
            return Ok(push_ret(s, fail("socket busy writing")))
        }
        _ => {}
    }
    if data.is_empty() {
        return Ok(push_ret(s, Ret::Int(0)));
    }
    st.out = data;
    st.sent = 0;
    let ret = match st.step_send() {
        Some(r) => r,
        None => {
            let (t, lowat) = (st.send_timeout(), st.conf.send_lowat);
            if st.conn.as_ref().map(|c| c.wait_write(t, lowat)) == Some(true) {
                st.write_waiter = Waiter::running();
                Ret::Wait
            } else {
                let closed = st.close();
                drop(closed);
                fail("failed to handle write event")
            }
        }
    };
    drop(st);
    Ok(push_ret(s, ret))
}

/// Starts a read op on `sock` (after the argument checks).
/// Appends a line's bytes without its CRs (receive's "*l" drops them all),
/// in one copy when the only CR ends the line, as protocols send them.
fn push_without_cr(acc: &mut Vec<u8>, line: &[u8]) {
    let body = line.strip_suffix(b"\r").unwrap_or(line);
    if body.contains(&b'\r') {
        acc.extend(body.iter().filter(|&&b| b != b'\r'));
    } else {
        acc.extend_from_slice(body);
    }
}

/// Pushes a direct read's results, recycling the data's buffer.
fn push_read(s: &Stack, sock: Option<&Rc<TcpSock>>, ret: Ret) -> c_int {
    let Ret::Data(data) = ret else {
        return push_ret(s, ret);
    };
    s.push_bytes(&data);
    match sock.and_then(|k| k.st.try_borrow_mut().ok()) {
        Some(mut st) => st.recycle(data),
        None => buffers::give(data),
    }
    1
}

fn start_read(f: &Frame, sock: Option<&Rc<TcpSock>>, op: ReadOp) -> ApiResult<Ret> {
    let Some(sock) = sock else {
        return Ok(fail("closed"));
    };
    let mut st = sock.st.borrow_mut();
    if st.conn.is_none() || (st.read_closed && st.rpos >= st.rbuf.len()) {
        closed_log(&st, f, "receive");
        return Ok(fail("closed"));
    }
    check_owner(&st, f)?;
    if st.read_waiter.is_some() {
        return Ok(fail("socket busy reading"));
    }
    if st.conn_waiter.is_some() {
        return Ok(fail("socket busy connecting"));
    }
    if let ReadOp::Bytes(0) = op {
        return Ok(Ret::Data(Vec::new()));
    }
    st.read_op = Some(op);
    st.acc.clear();
    buffers::ensure(&mut st.acc);
    let ret = match st.step_read() {
        Some(r) => r,
        None => {
            let t = st.read_timeout();
            if st.conn.as_ref().map(|c| c.wait_read(t)) == Some(true) {
                st.read_waiter = Waiter::running();
                Ret::Wait
            } else {
                let closed = st.close();
                drop(closed);
                fail("failed to handle read event")
            }
        }
    };
    drop(st);
    Ok(ret)
}

fn receive(s: &Stack) -> ApiResult<c_int> {
    let n = s.len();
    if n != 1 && n != 2 {
        return raise(format!(
            "expecting 1 or 2 arguments (including the object), but got {n}"
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let sock = sock_arg(s, "receive")?;
    let op = match s.arg(2) {
        Arg::None => ReadOp::Line,
        v @ Arg::Num(_) => match arg_integer(&v) {
            Some(b) if b >= 0 => ReadOp::Bytes(b as usize),
            _ => return raise("bad argument #2 to 'receive' (bad pattern argument)"),
        },
        v @ Arg::Str(b) => {
            if let Some(num) = arg_integer(&v) {
                if num < 0 {
                    return raise("bad argument #2 to 'receive' (bad pattern argument)");
                }
                ReadOp::Bytes(num as usize)
            } else if b.len() != 2 || b[0] != b'*' {
                return raise(format!(
                    "bad argument #2 to 'receive' (bad pattern argument: {})",
                    String::from_utf8_lossy(b)
                ));
            } else if b[1] == b'l' {
                ReadOp::Line
            } else if b[1] == b'a' {
                ReadOp::All
            } else {
                return raise("bad argument #2 to 'receive' (bad pattern argument)");
            }
        }
        _ => return raise("bad argument #2 to 'receive' (bad pattern argument)"),
    };
    let ret = start_read(&f, sock.as_ref(), op)?;
    Ok(push_read(s, sock.as_ref(), ret))
}

fn receiveany(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 2 {
        return raise(format!(
            "expecting 2 arguments (including the object), but got {}",
            s.len()
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let sock = sock_arg(s, "receiveany")?;
    let max = match s.arg(2) {
        Arg::Bool(_) => None,
        v => arg_integer(&v),
    };
    let max = match max {
        Some(m) if m > 0 => m as usize,
        _ => return raise("bad argument #2 to 'receiveany' (bad max argument)"),
    };
    let ret = start_read(&f, sock.as_ref(), ReadOp::Any(max))?;
    Ok(push_read(s, sock.as_ref(), ret))
}

fn receiveuntil(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let n = args.len();
    if n != 2 && n != 3 {
        return raise(format!(
            "expecting 2 or 3 arguments (including the object), but got {n}"
        ));
    }
    let a: Vec<Value> = args.into_iter().collect();
    let mut inclusive = false;
    if n == 3 {
        match &a[2] {
            Value::Table(t) => match t.raw_get::<Value>("inclusive")? {
                Value::Nil => {}
                Value::Boolean(b) => inclusive = b,
                v => {
                    return raise(format!(
                        "bad \"inclusive\" option value type: {}",
                        type_name(&v)
                    ))
                }
            },
            other => {
                return raise(format!(
                    "bad argument #3 to 'receiveuntil' (table expected, got {})",
                    type_name(other)
                ))
            }
        }
    }
    let sock = sock_of(lua, a.first(), "receiveuntil")?;
    let pat: Vec<u8> = match &a[1] {
        Value::String(s) => s.as_bytes().to_vec(),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            let mut out = Vec::new();
            push_scalar(&mut out, v);
            out
        }
        other => {
            return raise(format!(
                "bad argument #2 to 'receiveuntil' (string expected, got {})",
                type_name(other)
            ))
        }
    };
    if pat.is_empty() {
        return to_lua(lua, fail("pattern is empty")).map_err(Into::into);
    }
    let Some(sock) = sock else {
        return raise("bad tcp socket");
    };
    let ud = UntilUd {
        sock,
        st: Rc::new(RefCell::new(UntilState {
            m: Until::new(&pat, inclusive),
            ended: false,
        })),
    };
    Ok(MultiValue::from_iter([Value::UserData(
        lua.create_userdata(ud)?,
    )]))
}

fn until_next(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let mut a: Vec<Value> = args.into_iter().collect();
    let ud = match a.first() {
        Some(Value::UserData(u)) => u.clone(),
        _ => return raise("bad receiveuntil iterator"),
    };
    let n = a.len() - 1;
    if n > 1 {
        return raise(format!("expecting 0 or 1 arguments, but seen {n}"));
    }
    let size = if n == 1 {
        match integer_arg(&a[1]) {
            Some(b) => Some(b.max(0) as usize),
            None => {
                return raise(format!(
                    "bad argument #1 to 'iterator' (number expected, got {})",
                    type_name(&a[1])
                ))
            }
        }
    } else {
        None
    };
    a.clear();
    let f = frame(lua, YIELDABLE)?;
    let (sock, st) = {
        let u = ud.borrow::<UntilUd>()?;
        (u.sock.clone(), u.st.clone())
    };
    {
        let mut s = st.borrow_mut();
        if s.ended {
            s.ended = false;
            return to_lua(lua, Ret::Nils).map_err(Into::into);
        }
    }
    let limit = size.filter(|&s| s > 0);
    let ret = start_read(&f, Some(&sock), ReadOp::Until(st, limit))?;
    Ok(to_lua(lua, ret)?)
}

fn close(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 1 {
        return raise(format!(
            "expecting 1 argument (including the object) but seen {}",
            s.len()
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let Some(sock) = sock_arg(s, "close")? else {
        return Ok(push_ret(s, fail("closed")));
    };
    let old = {
        let mut st = sock.st.borrow_mut();
        if st.conn.is_none() {
            return Ok(push_ret(s, fail("closed")));
        }
        check_owner(&st, &f)?;
        if st.read_waiter.is_some() {
            return Ok(push_ret(s, fail("socket busy reading")));
        }
        if st.write_waiter.is_some() {
            return Ok(push_ret(s, fail("socket busy writing")));
        }
        if st.down.is_some() {
            return Ok(push_ret(s, fail("attempt to close a request socket")));
        }
        st.close()
    };
    drop(old);
    Ok(push_ret(s, Ret::Int(1)))
}

fn timeout_arg(v: &Arg, fname: &str, i: usize) -> ApiResult<Option<u64>> {
    let Some(t) = arg_number(v) else {
        return raise(format!(
            "bad argument #{i} to '{fname}' (number expected, got {})",
            v.type_name()
        ));
    };
    let t = t as i64;
    if !(0..=i32::MAX as i64).contains(&t) {
        return raise("bad timeout value");
    }
    Ok((t > 0).then_some(t as u64))
}

fn settimeout(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 2 {
        return raise(format!(
            "ngx.socket settimeout: expecting 2 arguments (including the object) but seen {}",
            s.len()
        ));
    }
    let t = timeout_arg(&s.arg(2), "settimeout", 2)?;
    if let Some(sock) = sock_arg(s, "settimeout")? {
        let mut st = sock.st.borrow_mut();
        st.t_connect = t;
        st.t_send = t;
        st.t_read = t;
    }
    Ok(0)
}

fn settimeouts(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 4 {
        return raise(format!(
            "ngx.socket settimeouts: expecting 4 arguments (including the object) but seen {}",
            s.len()
        ));
    }
    let c = timeout_arg(&s.arg(2), "settimeouts", 2)?;
    let w = timeout_arg(&s.arg(3), "settimeouts", 3)?;
    let r = timeout_arg(&s.arg(4), "settimeouts", 4)?;
    if let Some(sock) = sock_arg(s, "settimeouts")? {
        let mut st = sock.st.borrow_mut();
        st.t_connect = c;
        st.t_send = w;
        st.t_read = r;
    }
    Ok(0)
}

fn option_of(name: &[u8]) -> Option<(u32, u32)> {
    use nginx_sys::{
        IPPROTO_TCP, SOL_SOCKET, SO_KEEPALIVE, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, TCP_NODELAY,
    };
    Some(match name {
        b"keepalive" => (SOL_SOCKET, SO_KEEPALIVE),
        b"reuseaddr" => (SOL_SOCKET, SO_REUSEADDR),
        b"tcp-nodelay" => (IPPROTO_TCP, TCP_NODELAY),
        b"sndbuf" => (SOL_SOCKET, SO_SNDBUF),
        b"rcvbuf" => (SOL_SOCKET, SO_RCVBUF),
        _ => return None,
    })
}

fn option_name(v: Option<&Value>) -> Result<Vec<u8>, Ret> {
    match v {
        None | Some(Value::Nil) => Err(fail("missing the \"option\" argument")),
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(other) => {
            let mut out = Vec::new();
            push_scalar(&mut out, other);
            Ok(out)
        }
    }
}

fn setoption(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let a: Vec<Value> = args.into_iter().collect();
    let Some(sock) = sock_of(lua, a.first(), "setoption")? else {
        return raise("bad tcp socket");
    };
    let name = match option_name(a.get(1)) {
        Ok(n) => n,
        Err(r) => return to_lua(lua, r).map_err(Into::into),
    };
    let value = match a.get(2) {
        None | Some(Value::Nil) => {
            return to_lua(lua, fail("missing the \"value\" argument")).map_err(Into::into)
        }
        Some(Value::Boolean(b)) => *b as i32,
        Some(v) => match integer_arg(v) {
            Some(i) => i as i32,
            None => {
                return raise(format!(
                    "bad argument #3 to 'setoption' (number expected, got {})",
                    type_name(v)
                ))
            }
        },
    };
    let Some((level, opt)) = option_of(&name) else {
        return to_lua(
            lua,
            fail(format!(
                "unsupported option {}",
                String::from_utf8_lossy(&name)
            )),
        )
        .map_err(Into::into);
    };
    let st = sock.st.borrow();
    let Some(c) = st.conn.as_ref() else {
        return to_lua(lua, fail("closed")).map_err(Into::into);
    };
    let ret = match c.set_int_option(level, opt, value) {
        Ok(()) => Ret::Bool(true),
        Err(e) => fail(strerror(e)),
    };
    drop(st);
    to_lua(lua, ret).map_err(Into::into)
}

fn getoption(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let a: Vec<Value> = args.into_iter().collect();
    let Some(sock) = sock_of(lua, a.first(), "getoption")? else {
        return raise("bad tcp socket");
    };
    let name = match option_name(a.get(1)) {
        Ok(n) => n,
        Err(r) => return to_lua(lua, r).map_err(Into::into),
    };
    let Some((level, opt)) = option_of(&name) else {
        return to_lua(
            lua,
            fail(format!(
                "unsupported option {}",
                String::from_utf8_lossy(&name)
            )),
        )
        .map_err(Into::into);
    };
    let st = sock.st.borrow();
    let Some(c) = st.conn.as_ref() else {
        return to_lua(lua, fail("closed")).map_err(Into::into);
    };
    let ret = match c.get_int_option(level, opt) {
        Ok(v) => Ret::Int(v as i64),
        Err(e) => fail(strerror(e)),
    };
    drop(st);
    to_lua(lua, ret).map_err(Into::into)
}

fn setkeepalive(s: &Stack) -> ApiResult<c_int> {
    let n = s.len();
    if !(1..=3).contains(&n) {
        return raise(format!(
            "expecting 1 to 3 arguments (including the object), but got {n}"
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let sock = sock_arg(s, "setkeepalive")?;
    let timeout = match s.arg(2) {
        Arg::None | Arg::Nil => None,
        v => match arg_integer(&v) {
            Some(t) if t >= 0 => Some(t as u64),
            Some(_) => return raise("bad argument #2 to 'setkeepalive' (invalid timeout)"),
            None => {
                return raise(format!(
                    "bad argument #2 to 'setkeepalive' (number expected, got {})",
                    v.type_name()
                ))
            }
        },
    };
    let size = match s.arg(3) {
        Arg::None | Arg::Nil => None,
        v => match arg_integer(&v) {
            Some(s) if s > 0 => Some(s as usize),
            Some(s) => return raise(format!("bad \"pool_size\" option value: {s}")),
            None => {
                return raise(format!(
                    "bad argument #3 to 'setkeepalive' (number expected, got {})",
                    v.type_name()
                ))
            }
        },
    };
    let Some(sock) = sock else {
        return Ok(push_ret(s, fail("closed")));
    };
    let mut st = sock.st.borrow_mut();
    if st.conn.is_none() {
        return Ok(push_ret(s, fail("closed")));
    }
    check_owner(&st, &f)?;
    if st.read_waiter.is_some() {
        return Ok(push_ret(s, fail("socket busy reading")));
    }
    if st.write_waiter.is_some() {
        return Ok(push_ret(s, fail("socket busy writing")));
    }
    if st.rpos < st.rbuf.len() {
        return Ok(push_ret(s, fail("unread data in buffer")));
    }
    if st.read_closed {
        let old = st.close();
        drop(old);
        return Ok(push_ret(s, fail("invalid connection")));
    }
    // The socket is closed from here on; connect sets a new key.
    let key = std::mem::take(&mut st.pool_key);
    let size = size.or(st.pool_size).unwrap_or(st.conf.pool_size);
    let timeout = timeout.unwrap_or(st.conf.keepalive_timeout);
    let reused = st.reused;
    let conn = st.close();
    drop(st);
    let vm = crate::phase::request_vm(f.req);
    let ret = match (conn, vm.map(|vm| &vm.pools)) {
        (Some(c), Some(pools)) => match pools.put(&key, size, c, reused, timeout) {
            Ok(()) => Ret::Int(1),
            Err(e) => fail(e),
        },
        _ => fail("closed"),
    };
    Ok(push_ret(s, ret))
}

fn getreusedtimes(s: &Stack) -> ApiResult<c_int> {
    if s.len() != 1 {
        return raise(format!(
            "expecting 1 argument (including the object), but got {}",
            s.len()
        ));
    }
    let f = frame_now(YIELDABLE)?;
    let Some(sock) = sock_arg(s, "getreusedtimes")? else {
        return Ok(push_ret(s, fail("closed")));
    };
    let st = sock.st.borrow();
    if st.conn.is_none() {
        return Ok(push_ret(s, fail("closed")));
    }
    check_owner(&st, &f)?;
    let n = st.reused as i64;
    drop(st);
    Ok(push_ret(s, Ret::Int(n)))
}

fn sslhandshake(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let n = args.len();
    if !(1..=6).contains(&n) {
        return raise(format!(
            "ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the object), but seen {n}"
        ));
    }
    let f = frame(lua, YIELDABLE)?;
    let a: Vec<Value> = args.into_iter().collect();
    let sock = sock_of(lua, a.first(), "sslhandshake")?;
    let truthy =
        |v: Option<&Value>| !matches!(v, None | Some(Value::Nil) | Some(Value::Boolean(false)));
    let session_ud = match a.get(1) {
        Some(Value::UserData(ud)) if ud.is::<socket::SslSessionUd>() => Some(ud.clone()),
        _ => None,
    };
    let want_session = !matches!(a.get(1), Some(Value::Boolean(false)));
    let server_name: Vec<u8> = match a.get(2) {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Vec::new(),
        Some(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => {
            let mut out = Vec::new();
            push_scalar(&mut out, v);
            out
        }
        Some(v) => {
            return raise(format!(
                "bad argument #3 to 'sslhandshake' (string expected, got {})",
                type_name(v)
            ))
        }
    };
    let verify = truthy(a.get(3));
    let status_req = truthy(a.get(4));
    let Some(sock) = sock else {
        return socket::ret(lua, fail("closed"));
    };
    let mut st = sock.st.borrow_mut();
    if st.conn.is_none() || st.read_closed {
        return socket::ret(lua, fail("closed"));
    }
    check_owner(&st, &f)?;
    if st.conn_waiter.is_some() {
        return socket::ret(lua, fail("socket busy connecting"));
    }
    if st.read_waiter.is_some() {
        return socket::ret(lua, fail("socket busy reading"));
    }
    if st.write_waiter.is_some() {
        return socket::ret(lua, fail("socket busy writing"));
    }
    if st.down.is_some() {
        return socket::ret(lua, fail("not supported for downstream sockets"));
    }
    let pending = SslPending {
        verify,
        server_name,
        want_session,
    };
    let Some(conn) = st.conn.as_ref() else {
        return socket::ret(lua, fail("closed"));
    };
    if ssl::handshaked(conn) {
        // A reused keepalive connection is in TLS already.
        if session_ud.is_some() {
            drop(st);
            return Ok(MultiValue::from_iter([a[1].clone()]));
        }
        let ret = match ssl::finish(conn, false, b"", want_session) {
            Ok(s) if want_session => Ret::Session(s),
            _ => Ret::Bool(true),
        };
        drop(st);
        return socket::ret(lua, ret);
    }
    let Some(ctx) = module::request_loc_conf(f.req.raw()).ssl_ctx else {
        return socket::ret(lua, fail("failed to create ssl connection"));
    };
    let started = {
        let sess = match &session_ud {
            Some(ud) => Some(ud.borrow::<socket::SslSessionUd>()?),
            None => None,
        };
        ssl::start(
            conn,
            ctx,
            sess.as_ref().map(|s| &s.0),
            &pending.server_name,
            status_req,
            st.connect_timeout(),
        )
    };
    let ret = match started {
        ssl::Start::Failed(m) => fail(m),
        ssl::Start::Done => st.finish_ssl(&pending),
        ssl::Start::Again => {
            st.ssl_pending = Some(pending);
            st.conn_waiter = Waiter::current(lua);
            Ret::Wait
        }
    };
    drop(st);
    socket::ret(lua, ret)
}

fn getfd(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let a: Vec<Value> = args.into_iter().collect();
    let Some(sock) = sock_of(lua, a.first(), "getfd")? else {
        return raise("bad tcp socket");
    };
    let st = sock.st.borrow();
    let fd = st.conn.as_ref().map(|c| c.fd() as i64).unwrap_or(-1);
    drop(st);
    to_lua(lua, Ret::Int(fd)).map_err(Into::into)
}

/// ngx.req.socket(raw?): the client connection as a read-only reader of
/// the request body, or (raw) as a full-duplex socket after the header.
fn req_socket(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    if args.len() > 1 {
        return raise(format!("expecting zero arguments, but got {}", args.len()));
    }
    let raw = !matches!(
        args.front(),
        None | Some(Value::Nil) | Some(Value::Boolean(false))
    );
    let f = frame(lua, OUTPUT)?;
    let r = f.req;
    if !r.is_main() {
        return raise("attempt to read the request body in a subrequest");
    }
    let info = downstream::body_info(r);
    if !raw && info.chunked {
        return to_lua(lua, fail("chunked request bodies not supported yet")).map_err(Into::into);
    }
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return raise("no ctx found");
    };
    let (mut rest, mut keepalive) = (0, false);
    if raw {
        match info.body_rest {
            Some(n) if n > 0 => {
                return to_lua(
                    lua,
                    fail("pending request body reading in some other thread"),
                )
                .map_err(Into::into)
            }
            Some(_) => {}
            None => {
                if !downstream::claim_body(r, 0) {
                    return raise("no memory");
                }
            }
        }
        if downstream::output_pending(r) {
            return to_lua(lua, fail("pending data to write")).map_err(Into::into);
        }
        if ctx.raw_socket.get() {
            return to_lua(lua, fail("duplicate call")).map_err(Into::into);
        }
        ctx.raw_socket.set(true);
        downstream::go_raw(r);
    } else {
        let why = if info.body_rest.is_some() {
            Some("request body already exists")
        } else if info.discarded {
            Some("request body discarded")
        } else if info.content_length <= 0 {
            Some("no body")
        } else if !downstream::answer_expect(r) {
            Some("test expect failed")
        } else {
            None
        };
        if let Some(why) = why {
            return to_lua(lua, fail(why)).map_err(Into::into);
        }
        rest = info.content_length;
        keepalive = downstream::keepalive(r);
        // Until the whole body is read, the connection cannot be reused.
        downstream::set_keepalive(r, false);
        if !downstream::claim_body(r, rest) {
            return raise("no memory");
        }
    }
    let Some(conn) = downstream::client(r) else {
        return raise("no connection");
    };
    conn.stop_read();
    if raw {
        conn.stop_write();
    }
    let sock = TcpSock::new(SockConf::of(r));
    {
        let mut st = sock.st.borrow_mut();
        st.owner = Some(Owner {
            req: r,
            alive: true,
        });
        st.conn = Some(conn);
        st.down = Some(Down {
            req: r,
            raw,
            rest,
            keepalive,
        });
    }
    let weak = Rc::downgrade(&sock);
    socket::on_request_end(r, move || {
        if let Some(s) = weak.upgrade() {
            s.request_done();
        }
    });
    let target: Weak<dyn IoHandler> = sock.io_target();
    *ctx.downstream.borrow_mut() = Some(target);
    sched::client::watch(r, false);
    if raw {
        sched::client::watch(r, true);
    }
    let mt = if raw { RAW_REQ_MT } else { REQ_MT };
    let t = lua_stack::new_object(lua, sock, SOCK_UD_MT, mt)?;
    Ok(MultiValue::from_iter([Value::Table(t)]))
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let ud_mt = lua_stack::install_object_type::<TcpSock>(lua, SOCK_UD_MT)?;
    let mt = lua.create_table()?;
    lua.set_named_registry_value(&TCP_MT.to_string_lossy(), &mt)?;
    lua_stack::register_table(lua, TCP_MT, &mt)?;
    let socket = subtable(lua, ngx, "socket")?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/socket_tcp.lua"))
        .set_name("=ngx_lua_rs.socket_tcp")
        .into_function()?;
    let fns = lua.create_table()?;
    fns.raw_set("new", c_method_with(lua, new_socket, &[&ud_mt, &mt])?)?;
    mt.raw_set("connect", c_method(lua, connect)?)?;
    mt.raw_set("send", c_method(lua, send)?)?;
    mt.raw_set("receive", c_method(lua, receive)?)?;
    mt.raw_set("receiveany", c_method(lua, receiveany)?)?;
    fns.raw_set("receiveuntil", raw_function(lua, receiveuntil)?)?;
    fns.raw_set("until_next", raw_function(lua, until_next)?)?;
    mt.raw_set("close", c_method(lua, close)?)?;
    mt.raw_set("settimeout", c_method(lua, settimeout)?)?;
    mt.raw_set("settimeouts", c_method(lua, settimeouts)?)?;
    fns.raw_set("setoption", raw_function(lua, setoption)?)?;
    fns.raw_set("getoption", raw_function(lua, getoption)?)?;
    mt.raw_set("setkeepalive", c_method(lua, setkeepalive)?)?;
    mt.raw_set("getreusedtimes", c_method(lua, getreusedtimes)?)?;
    fns.raw_set("getfd", raw_function(lua, getfd)?)?;
    fns.raw_set("sslhandshake", raw_function(lua, sslhandshake)?)?;
    fns.raw_set("req_socket", raw_function(lua, req_socket)?)?;
    let req_mt = lua.create_table()?;
    let raw_mt = lua.create_table()?;
    lua_stack::register_table(lua, REQ_MT, &req_mt)?;
    lua_stack::register_table(lua, RAW_REQ_MT, &raw_mt)?;
    let finish: mlua::Function = shim.call((
        fns,
        socket,
        mt,
        super::shim_raise(lua)?,
        sched::wait_marker(),
        subtable(lua, ngx, "req")?,
        req_mt,
        raw_mt,
    ))?;
    lua.set_named_registry_value(SHIM_FINISH, finish)
}

/// Registry name of lualib/socket_tcp.lua's `finish` (yield on the wait
/// marker, raise on the raise marker), which other cosocket shims reuse.
pub(crate) const SHIM_FINISH: &str = "ngx_lua_rs.socket_finish";
