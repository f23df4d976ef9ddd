//! UDP cosockets: ngx.socket.udp and the udpsock methods (setpeername,
//! send, receive, settimeout, close), as ngx_http_lua_socket_udp.c. The
//! socket is made in net/udp.rs; receive waits for the read event like the
//! TCP methods, through the shim in lualib/socket_udp.lua.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use mlua::{Lua, MultiValue, Table, UserData, Value};

use super::context::{frame, YIELDABLE};
use super::socket::{
    self, deliver, fail, integer_arg, number_arg, ret, send_data, string_arg, timeout_value,
    type_name, Lookup, Owner, Ret, ERR,
};
use super::{raise, raw_function, subtable, ApiResult};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::module;
use crate::net::addr::SockAddr;
use crate::net::conn::{strerror, Conn, Io, IoEvent, IoHandler};
use crate::net::resolve::{ResolveHandler, Resolved, Resolving};
use crate::net::udp;
use crate::sched::Waiter;

/// The largest datagram receive() returns.
const MAX_DATAGRAM: usize = 65536;

const MT: &str = "ngx_lua_rs.udp_socket_mt";

struct State {
    owner: Option<Owner>,
    conn: Option<Conn>,
    resolving: Option<Resolving>,
    /// settimeout's value; None: lua_socket_read_timeout.
    timeout: Option<u64>,
    conf_read_timeout: u64,
    log_errors: bool,
    /// The coroutine waiting in setpeername (resolving) or receive.
    waiter: Option<Waiter>,
    recv_size: usize,
}

impl State {
    fn read_timeout(&self) -> u64 {
        self.timeout.unwrap_or(self.conf_read_timeout)
    }

    fn close(&mut self) -> Option<Conn> {
        self.resolving = None;
        self.waiter = None;
        self.conn.take()
    }

    /// One datagram, or None when none has arrived yet.
    fn try_recv(&mut self) -> Option<Ret> {
        let Some(conn) = self.conn.as_ref() else {
            return Some(fail("closed"));
        };
        let mut buf = vec![0u8; self.recv_size];
        match conn.recv(&mut buf) {
            Io::Done(n) => {
                buf.truncate(n);
                Some(Ret::Data(buf))
            }
            // An empty datagram.
            Io::Eof => Some(Ret::Data(Vec::new())),
            Io::Again => None,
            Io::Error(e) => Some(fail(if e == 0 { "error".into() } else { strerror(e) })),
        }
    }

    fn log(&self, msg: &str) {
        if let Some(o) = self.owner {
            if o.alive && self.log_errors {
                log::error(ERR, o.req.log(), msg);
            }
        }
    }
}

pub struct UdpSock {
    me: Weak<UdpSock>,
    st: RefCell<State>,
}

struct UdpUd(Rc<UdpSock>);
impl UserData for UdpUd {}

impl UdpSock {
    fn connect(&self, st: &mut State, addr: &SockAddr, r: Req) -> Ret {
        let target: Weak<dyn IoHandler> = self.me.clone();
        match udp::connect(addr, r, target) {
            Ok(c) => {
                st.conn = Some(c);
                Ret::Int(1)
            }
            Err(0) => fail("error"),
            Err(e) => fail(strerror(e)),
        }
    }

    fn request_done(&self) {
        let closed = match self.st.try_borrow_mut() {
            Ok(mut st) => {
                if let Some(o) = st.owner.as_mut() {
                    o.alive = false;
                }
                st.close()
            }
            Err(_) => None,
        };
        drop(closed);
    }
}

impl IoHandler for UdpSock {
    fn on_io(self: Rc<Self>, ev: IoEvent) {
        if ev.write {
            return;
        }
        let done = {
            let Ok(mut st) = self.st.try_borrow_mut() else {
                return;
            };
            let Some(w) = st.waiter.take() else { return };
            if ev.timedout {
                st.log("lua udp socket read timed out");
                Some((w, fail("timeout")))
            } else {
                match st.try_recv() {
                    None => {
                        let t = st.read_timeout();
                        if st.conn.as_ref().is_some_and(|c| c.wait_read(t)) {
                            st.waiter = Some(w);
                            None
                        } else {
                            Some((w, fail("failed to handle read event")))
                        }
                    }
                    Some(r) => {
                        if let Some(c) = st.conn.as_ref() {
                            c.stop_read();
                        }
                        Some((w, r))
                    }
                }
            }
        };
        if let Some((w, r)) = done {
            deliver(w, r);
        }
    }
}

impl ResolveHandler for UdpSock {
    fn on_resolved(self: Rc<Self>, res: Resolved) {
        let done = {
            let Ok(mut st) = self.st.try_borrow_mut() else {
                return;
            };
            let st = &mut *st;
            st.resolving = None;
            let req = match st.owner {
                Some(o) if o.alive => o.req,
                _ => return,
            };
            let r = match res {
                Err(e) => fail(e),
                Ok(addr) => self.connect(st, &addr, req),
            };
            st.waiter.take().map(|w| (w, r))
        };
        if let Some((w, r)) = done {
            deliver(w, r);
        }
    }
}

/// The socket behind `self` (slot 1 of the object table).
fn sock_of(v: Option<&Value>, fname: &str) -> ApiResult<Option<Rc<UdpSock>>> {
    socket::object(v, fname, |s: &UdpUd| s.0.clone())
}

fn closed_log(lua: &Lua, what: &str, sock: Option<&Rc<UdpSock>>) {
    let Ok(f) = frame(lua, YIELDABLE) else { return };
    if !module::request_loc_conf(f.req.raw()).socket_log_errors() {
        return;
    }
    let u = sock
        .map(|s| Rc::as_ptr(s) as *const ())
        .unwrap_or(std::ptr::null());
    log::error(
        ERR,
        f.req.log(),
        &format!(
            "attempt to {what} data on a closed socket: u:{u:p}, c:{:p}",
            std::ptr::null::<()>()
        ),
    );
}

fn new_socket(lua: &Lua, args: MultiValue) -> ApiResult<Table> {
    if !args.is_empty() {
        return raise(format!("expecting zero arguments, but got {}", args.len()));
    }
    let f = frame(lua, YIELDABLE)?;
    let l = module::request_loc_conf(f.req.raw());
    let sock = Rc::new_cyclic(|me| UdpSock {
        me: me.clone(),
        st: RefCell::new(State {
            owner: None,
            conn: None,
            resolving: None,
            timeout: None,
            conf_read_timeout: l.socket_read_timeout(),
            log_errors: l.socket_log_errors(),
            waiter: None,
            recv_size: MAX_DATAGRAM,
        }),
    });
    let t = lua.create_table_with_capacity(3, 1)?;
    t.raw_set(1, lua.create_userdata(UdpUd(sock))?)?;
    let mt: Table = lua.named_registry_value(MT)?;
    t.set_metatable(Some(mt))?;
    Ok(t)
}

fn setpeername(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let n = args.len();
    if n != 2 && n != 3 {
        return raise(format!(
            "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the object), but seen {n}"
        ));
    }
    let f = frame(lua, YIELDABLE)?;
    let a: Vec<Value> = args.into_iter().collect();
    let sock = sock_of(a.first(), "setpeername")?;
    let Some(host) = string_arg(&a[1]) else {
        return raise(format!(
            "bad argument #2 to 'setpeername' (string expected, got {})",
            type_name(&a[1])
        ));
    };
    let port = match a.get(2) {
        None => 0,
        Some(v) => match integer_arg(v) {
            Some(p) if !(0..=65535).contains(&p) => {
                return ret(lua, fail(format!("bad port number: {p}")))
            }
            Some(p) => p as u16,
            None => {
                return raise(format!(
                    "bad argument #3 to 'setpeername' (number expected, got {})",
                    type_name(v)
                ))
            }
        },
    };
    let Some(sock) = sock else {
        return raise("bad udp socket");
    };
    let old = {
        let mut st = sock.st.borrow_mut();
        socket::check_owner(st.owner, &f)?;
        if st.waiter.is_some() {
            return ret(lua, fail("socket busy"));
        }
        st.close()
    };
    drop(old);
    let mut st = sock.st.borrow_mut();
    let st = &mut *st;
    if st.owner.is_none() {
        st.owner = Some(Owner {
            req: f.req,
            alive: true,
        });
        let weak = Rc::downgrade(&sock);
        socket::on_request_end(f.req, move || {
            if let Some(s) = weak.upgrade() {
                s.request_done();
            }
        });
    }
    let l = module::request_loc_conf(f.req.raw());
    st.conf_read_timeout = l.socket_read_timeout();
    st.log_errors = l.socket_log_errors();
    let target: Weak<dyn ResolveHandler> = sock.me.clone();
    let r = match socket::lookup(f.req, &host, port, target) {
        Lookup::Ready(addr) => sock.connect(st, &addr, f.req),
        Lookup::Failed(m) => fail(m),
        Lookup::Pending(p) => {
            st.resolving = Some(p);
            st.waiter = Waiter::current(lua);
            Ret::Wait
        }
    };
    ret(lua, r)
}

fn send(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    if args.len() != 2 {
        return raise(format!(
            "expecting 2 arguments (including the object), but got {}",
            args.len()
        ));
    }
    let f = frame(lua, YIELDABLE)?;
    let a: Vec<Value> = args.into_iter().collect();
    let sock = sock_of(a.first(), "send")?;
    let connected = sock.as_ref().is_some_and(|s| s.st.borrow().conn.is_some());
    if !connected {
        closed_log(lua, "send", sock.as_ref());
        return ret(lua, fail("closed"));
    }
    let Some(sock) = sock else {
        return ret(lua, fail("closed"));
    };
    let st = sock.st.borrow();
    socket::check_owner(st.owner, &f)?;
    if st.waiter.is_some() {
        return ret(lua, fail("socket busy"));
    }
    let data = send_data(lua, &a[1])?;
    let Some(conn) = st.conn.as_ref() else {
        return ret(lua, fail("closed"));
    };
    let r = match conn.send(&data) {
        Io::Done(n) if n == data.len() => Ret::Int(1),
        Io::Done(_) => fail("partial write"),
        Io::Again => fail(strerror(nginx_sys::EAGAIN as i32)),
        Io::Eof => fail("error"),
        Io::Error(e) => fail(if e == 0 { "error".into() } else { strerror(e) }),
    };
    drop(st);
    ret(lua, r)
}

fn receive(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    let n = args.len();
    if n != 1 && n != 2 {
        return raise(format!(
            "expecting 1 or 2 arguments (including the object), but got {n}"
        ));
    }
    let f = frame(lua, YIELDABLE)?;
    let a: Vec<Value> = args.into_iter().collect();
    let sock = sock_of(a.first(), "receive")?;
    let connected = sock.as_ref().is_some_and(|s| s.st.borrow().conn.is_some());
    if !connected {
        closed_log(lua, "receive", sock.as_ref());
        return ret(lua, fail("closed"));
    }
    let Some(sock) = sock else {
        return ret(lua, fail("closed"));
    };
    let mut st = sock.st.borrow_mut();
    socket::check_owner(st.owner, &f)?;
    if st.waiter.is_some() {
        return ret(lua, fail("socket busy"));
    }
    let size = match a.get(1) {
        None | Some(Value::Nil) => MAX_DATAGRAM,
        Some(v) => match number_arg(v) {
            Some(s) if s >= 0.0 => (s as usize).min(MAX_DATAGRAM),
            // luaL_optnumber's value cast to size_t: huge, so the maximum.
            Some(_) => MAX_DATAGRAM,
            None => {
                return raise(format!(
                    "bad argument #2 to 'receive' (number expected, got {})",
                    type_name(v)
                ))
            }
        },
    };
    st.recv_size = size;
    let r = match st.try_recv() {
        Some(r) => r,
        None => {
            let t = st.read_timeout();
            if st.conn.as_ref().is_some_and(|c| c.wait_read(t)) {
                st.waiter = Waiter::current(lua);
                Ret::Wait
            } else {
                fail("failed to handle read event")
            }
        }
    };
    drop(st);
    ret(lua, r)
}

fn settimeout(_lua: &Lua, args: MultiValue) -> ApiResult<()> {
    if args.len() != 2 {
        return raise(format!(
            "ngx.socket settimeout: expecting at least 2 arguments (including the object) but seen {}",
            args.len()
        ));
    }
    let a: Vec<Value> = args.into_iter().collect();
    if let Some(sock) = sock_of(a.first(), "settimeout")? {
        sock.st.borrow_mut().timeout = timeout_value(&a[1]);
    }
    Ok(())
}

fn close(lua: &Lua, args: MultiValue) -> ApiResult<MultiValue> {
    if args.len() != 1 {
        return raise(format!(
            "expecting 1 argument (including the object) but seen {}",
            args.len()
        ));
    }
    let f = frame(lua, YIELDABLE)?;
    let a: Vec<Value> = args.into_iter().collect();
    let Some(sock) = sock_of(a.first(), "close")? else {
        return ret(lua, fail("closed"));
    };
    let old = {
        let mut st = sock.st.borrow_mut();
        if st.conn.is_none() {
            return ret(lua, fail("closed"));
        }
        socket::check_owner(st.owner, &f)?;
        if st.waiter.is_some() {
            return ret(lua, fail("socket busy"));
        }
        st.close()
    };
    drop(old);
    ret(lua, Ret::Int(1))
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let mt = lua.create_table()?;
    lua.set_named_registry_value(MT, &mt)?;
    let socket = subtable(lua, ngx, "socket")?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/socket_udp.lua"))
        .set_name("=ngx_lua_rs.socket_udp")
        .into_function()?;
    let fns = lua.create_table()?;
    fns.raw_set("new", raw_function(lua, new_socket)?)?;
    fns.raw_set("setpeername", raw_function(lua, setpeername)?)?;
    fns.raw_set("send", raw_function(lua, send)?)?;
    fns.raw_set("receive", raw_function(lua, receive)?)?;
    fns.raw_set("settimeout", raw_function(lua, settimeout)?)?;
    fns.raw_set("close", raw_function(lua, close)?)?;
    let finish: mlua::Function = lua.named_registry_value(super::socket_tcp::SHIM_FINISH)?;
    shim.call::<()>((fns, socket, mt, finish))
}
