//! Per-worker keepalive pools of idle cosocket connections, keyed by
//! "host:port", the socket path or a user pool name. Owned by the worker's
//! Lua VM (a LuaVm field), so a reload drops them with the VM.
//!
//! An idle connection's events go to [`idle_event`], which closes it when
//! the peer sends data or closes, on its keepalive timeout, or when nginx
//! closes idle connections at shutdown (`c->close`). A closed entry stays in
//! its pool as a dead slot until the next pool operation purges it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::rc::Weak;

use nginx_sys::{ngx_connection_t, ngx_event_t, ngx_handle_read_event, ngx_int_t, ngx_log_t};

use super::conn::{Conn, IoHandler};

struct Idle {
    c: Cell<*mut ngx_connection_t>,
    reused: usize,
}

struct Pool {
    size: usize,
    idle: VecDeque<Box<Idle>>,
}

impl Pool {
    fn purge(&mut self) {
        self.idle.retain(|i| !i.c.get().is_null());
    }
}

/// FNV-1a: pool keys are short and set by the configuration's Lua code, so
/// SipHash's flooding resistance bought nothing and cost ~150 instructions
/// per lookup (a pool is looked up twice per request of a keepalive client).
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
pub struct Pools {
    pools: RefCell<HashMap<Vec<u8>, Pool, std::hash::BuildHasherDefault<KeyHasher>>>,
}

/// Why a connection could not be pooled (the message Lua sees).
pub type PutError = &'static str;

impl Pools {
    /// Takes the most recently pooled live connection for `key`, with how
    /// many times it was reused before (the new owner adds one).
    pub fn get(
        &self,
        key: &[u8],
        target: Weak<dyn IoHandler>,
        log: *mut ngx_log_t,
    ) -> Option<(Conn, usize)> {
        let mut pools = self.pools.borrow_mut();
        let pool = pools.get_mut(key)?;
        while let Some(item) = pool.idle.pop_back() {
            let Some(c) = NonNull::new(item.c.get()) else {
                continue;
            };
            // SAFETY: a live idle connection is open and only driven by
            // idle_event through this item; adopt() replaces its handlers and
            // data before `item` is freed.
            unsafe {
                let rev = (*c.as_ptr()).read;
                if (*rev).timer_set() != 0 {
                    nginx_sys::ngx_del_timer(rev);
                }
            }
            let conn = Conn::adopt(c, target, log);
            return Some((conn, item.reused));
        }
        None
    }

    /// Pools `conn` under `key` (creating the pool with `size` slots when it
    /// does not exist); the least recently pooled connection is closed when
    /// the pool is full. `timeout_ms == 0` means no idle timeout.
    pub fn put(
        &self,
        key: &[u8],
        size: usize,
        conn: Conn,
        reused: usize,
        timeout_ms: u64,
    ) -> Result<(), PutError> {
        if conn.broken() {
            return Err("invalid connection");
        }
        let mut pools = self.pools.borrow_mut();
        // Look up before inserting: entry() would copy the key every time.
        if !pools.contains_key(key) {
            let pool = Pool {
                size: size.max(1),
                idle: VecDeque::new(),
            };
            pools.insert(key.to_vec(), pool);
        }
        let Some(pool) = pools.get_mut(key) else {
            return Err("no pool");
        };
        pool.purge();
        while pool.idle.len() >= pool.size {
            if let Some(old) = pool.idle.pop_front() {
                close_item(&old);
            }
        }
        let c = conn.into_raw();
        let item = Box::new(Idle {
            c: Cell::new(c.as_ptr()),
            reused,
        });
        // SAFETY: we own the open connection now; its data points at the
        // boxed item, which stays at this address inside the pool until the
        // connection is taken back or closed.
        unsafe {
            let c = c.as_ptr();
            let log = crate::ffi::cycle_log();
            (*c).data = &*item as *const Idle as *mut c_void;
            (*(*c).read).handler = Some(idle_event);
            (*(*c).write).handler = Some(idle_write_event);
            (*c).log = log;
            (*(*c).read).log = log;
            (*(*c).write).log = log;
            (*c).set_idle(1);
            let wev = (*c).write;
            if (*wev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(wev);
            }
            let rev = (*c).read;
            if (*rev).timer_set() != 0 {
                nginx_sys::ngx_del_timer(rev);
            }
            if ngx_handle_read_event(rev, 0) != nginx_sys::NGX_OK as ngx_int_t {
                super::ssl::close_connection(c);
                return Err("failed to handle read event");
            }
            if timeout_ms > 0 {
                nginx_sys::ngx_add_timer(rev, timeout_ms as nginx_sys::ngx_msec_t);
            }
            if (*rev).ready() != 0 && should_close(c) {
                super::ssl::close_connection(c);
                return Ok(());
            }
        }
        pool.idle.push_back(item);
        Ok(())
    }

    /// Live idle connections in the pool for `key` (for tests and stats).
    pub fn idle_count(&self, key: &[u8]) -> usize {
        self.pools
            .borrow()
            .get(key)
            .map(|p| p.idle.iter().filter(|i| !i.c.get().is_null()).count())
            .unwrap_or(0)
    }
}

impl Drop for Pools {
    fn drop(&mut self) {
        for pool in self.pools.get_mut().values() {
            for item in &pool.idle {
                close_item(item);
            }
        }
    }
}

fn close_item(item: &Idle) {
    let c = item.c.replace(ptr::null_mut());
    if !c.is_null() {
        // SAFETY: a non-null item connection is open and owned by the pool.
        unsafe { super::ssl::close_connection(c) };
    }
}

/// Whether an idle connection must be closed: peer data, EOF or an error
/// (a one-byte MSG_PEEK that does not say EAGAIN), shutdown or timeout.
///
/// # Safety
/// `c` must be an open pooled connection.
unsafe fn should_close(c: *mut ngx_connection_t) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe {
        if (*c).close() != 0 || (*(*c).read).timedout() != 0 {
            return true;
        }
        let mut b = 0u8;
        let n = nginx_sys::recv(
            (*c).fd,
            &mut b as *mut u8 as *mut c_void,
            1,
            nginx_sys::MSG_PEEK as i32,
        );
        let again = n == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(nginx_sys::NGX_EAGAIN as i32);
        if again {
            (*(*c).read).set_ready(0);
            return ngx_handle_read_event((*c).read, 0) != nginx_sys::NGX_OK as ngx_int_t;
        }
        true
    }
}

unsafe extern "C" fn idle_event(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this for the read event of a pooled connection,
    // whose data is its live Idle item (see Pools::put).
    unsafe {
        let c = (*ev).data as *mut ngx_connection_t;
        let item = (*c).data as *const Idle;
        crate::ffi::guard((*c).log, (), || {
            if should_close(c) {
                close_item(&*item);
            }
        })
    }
}

unsafe extern "C" fn idle_write_event(_ev: *mut ngx_event_t) {}
