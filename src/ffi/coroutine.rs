//! Resuming the scheduler's coroutines through the Lua C API.
//!
//! mlua's `Thread::resume` moves every argument and result through its
//! reference stack and a `MultiValue` and inspects the thread's frames for
//! its status; for a hello-world request that was a third of our Lua cost.
//! The scheduler only needs to push a few values, resume, and look at the
//! first one or two that come back, so it does that here directly.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};
use mlua::{LightUserData, Lua, MultiValue, Table, Value};

/// Where values that are not plain data cross between mlua and a raw stack
/// (the same registry key, for the C API and for mlua).
const SCRATCH: &std::ffi::CStr = c"ngx_lua_rs.co_scratch";
const SCRATCH_NAME: &str = "ngx_lua_rs.co_scratch";

extern "C" {
    /// LuaJIT's own traceback (lib_aux.c), which names frames as
    /// lua-nginx-module's tracebacks do ("in function 'f'"); mlua-sys's
    /// Lua 5.2 compat version would say "in local 'f'".
    #[link_name = "luaL_traceback"]
    fn luajit_traceback(
        l: *mut lua_State,
        l1: *mut lua_State,
        msg: *const std::ffi::c_char,
        level: c_int,
    );
}

/// What a resume hands the coroutine (what its yield returns).
pub enum Args {
    Values(MultiValue),
    /// Plain data made without mlua (a socket result delivered by an
    /// event): pushed straight onto the coroutine's stack.
    Plain(PlainList),
}

/// At most three plain values (a socket result is a value, or nil, an
/// error and partial data), held inline: a wake allocates nothing for them.
pub struct PlainList {
    vals: [Plain; 3],
    len: usize,
}

impl PlainList {
    /// The values; at most three are kept.
    pub fn of<const N: usize>(vals: [Plain; N]) -> Self {
        let mut list = PlainList {
            vals: [Plain::Nil, Plain::Nil, Plain::Nil],
            len: 0,
        };
        for v in vals.into_iter().take(3) {
            list.vals[list.len] = v;
            list.len += 1;
        }
        list
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

pub enum Plain {
    Nil,
    Bool(bool),
    Num(f64),
    Bytes(Vec<u8>),
    Light(LightUserData),
}

impl Default for Args {
    /// No values (and nothing for mlua to drop).
    fn default() -> Self {
        Args::Plain(PlainList::of([]))
    }
}

impl From<MultiValue> for Args {
    fn from(v: MultiValue) -> Self {
        Args::Values(v)
    }
}

/// How a resume ended; the counts are of values now on the coroutine stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    Yielded(usize),
    Returned(usize),
    /// The coroutine raised; its stack is kept for the traceback.
    Raised,
}

/// A scheduler coroutine's `lua_State`.
///
/// Only made from a live mlua `Thread` ([`RawCo::of`]) whose registry anchor
/// is kept by the request's coroutine slot (or the VM's thread cache) for as
/// long as the `RawCo` is used: the scheduler takes a fresh one from the slot
/// each time and never keeps it past the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCo(*mut lua_State);

impl RawCo {
    pub fn of(thread: &mlua::Thread) -> RawCo {
        RawCo(thread.state())
    }

    /// The coroutine's address, as `Thread::to_pointer` gives it.
    pub fn addr(self) -> usize {
        self.0 as usize
    }

    /// Pushes `args` for the next resume; returns how many were pushed.
    pub fn push_args(self, lua: &Lua, args: Args) -> mlua::Result<usize> {
        let args = match args {
            Args::Values(v) => v,
            Args::Plain(p) => return self.push_plain(p),
        };
        let n = args.len();
        // SAFETY: the coroutine is suspended or new (the scheduler resumes
        // only those), so its stack may be pushed to; checkstack grows it.
        if unsafe { ffi::lua_checkstack(self.0, n as c_int + 2) } == 0 {
            return Err(mlua::Error::runtime("coroutine stack overflow"));
        }
        if !args.iter().all(is_plain) {
            return self.push_through_table(lua, args);
        }
        for v in args {
            // SAFETY: room was made above; these pushes only copy plain data.
            unsafe {
                match v {
                    Value::Nil => ffi::lua_pushnil(self.0),
                    Value::Boolean(b) => ffi::lua_pushboolean(self.0, b as c_int),
                    Value::LightUserData(p) => ffi::lua_pushlightuserdata(self.0, p.0),
                    Value::Integer(i) => ffi::lua_pushnumber(self.0, i as f64),
                    Value::Number(x) => ffi::lua_pushnumber(self.0, x),
                    Value::String(s) => {
                        let b = s.as_bytes();
                        ffi::lua_pushlstring_(self.0, b.as_ptr().cast(), b.len());
                    }
                    _ => ffi::lua_pushnil(self.0),
                }
            }
        }
        Ok(n)
    }

    fn push_plain(self, args: PlainList) -> mlua::Result<usize> {
        let n = args.len();
        // SAFETY: as in push_args: a stopped coroutine, room checked first.
        unsafe {
            if ffi::lua_checkstack(self.0, n as c_int + 2) == 0 {
                return Err(mlua::Error::runtime("coroutine stack overflow"));
            }
            for v in args.vals.into_iter().take(n) {
                match v {
                    Plain::Nil => ffi::lua_pushnil(self.0),
                    Plain::Bool(b) => ffi::lua_pushboolean(self.0, b as c_int),
                    Plain::Num(x) => ffi::lua_pushnumber(self.0, x),
                    Plain::Bytes(b) => {
                        ffi::lua_pushlstring_(self.0, b.as_ptr().cast(), b.len());
                        crate::net::buffers::give(b);
                    }
                    Plain::Light(p) => ffi::lua_pushlightuserdata(self.0, p.0),
                }
            }
        }
        Ok(n)
    }

    /// Values mlua has to hand over (tables, functions, threads) go through
    /// a registry table.
    fn push_through_table(self, lua: &Lua, args: MultiValue) -> mlua::Result<usize> {
        let n = args.len();
        let t = lua.create_table_with_capacity(n, 0)?;
        for (i, v) in args.into_iter().enumerate() {
            t.raw_set(i + 1, v)?;
        }
        lua.set_named_registry_value(SCRATCH_NAME, t)?;
        // SAFETY: stack room for n + 2 was checked by push_args; the scratch
        // table is a plain table (raw reads, no metamethods) and is popped.
        unsafe {
            ffi::lua_getfield_(self.0, ffi::LUA_REGISTRYINDEX, SCRATCH.as_ptr());
            let t = ffi::lua_gettop(self.0);
            for i in 1..=n {
                ffi::lua_rawgeti_(self.0, t, i as c_int);
            }
            ffi::lua_remove(self.0, t);
        }
        lua.unset_named_registry_value(SCRATCH_NAME)?;
        Ok(n)
    }

    /// Resumes with the `nargs` values pushed last (and, for a new or reset
    /// coroutine, its function below them).
    pub fn resume(self, nargs: usize) -> Resumed {
        let mut nres: c_int = 0;
        // SAFETY: the coroutine is new or suspended with nargs values pushed;
        // lua_resume is protected (errors come back as a status).
        let rc =
            unsafe { ffi::lua_resume(self.0, std::ptr::null_mut(), nargs as c_int, &mut nres) };
        match rc {
            ffi::LUA_YIELD => Resumed::Yielded(nres.max(0) as usize),
            ffi::LUA_OK => Resumed::Returned(nres.max(0) as usize),
            _ => Resumed::Raised,
        }
    }

    /// The light userdata at stack slot `i` (1-based), if it is one.
    pub fn light_at(self, i: usize) -> Option<*mut c_void> {
        // SAFETY: reading a slot of a stopped coroutine; out-of-range slots
        // read as none.
        unsafe {
            if i as c_int > ffi::lua_gettop(self.0)
                || ffi::lua_type(self.0, i as c_int) != ffi::LUA_TLIGHTUSERDATA
            {
                return None;
            }
            Some(ffi::lua_touserdata(self.0, i as c_int))
        }
    }

    /// The number at stack slot `i`, if it is one.
    pub fn number_at(self, i: usize) -> Option<f64> {
        // SAFETY: as light_at.
        unsafe {
            if i as c_int > ffi::lua_gettop(self.0)
                || ffi::lua_type(self.0, i as c_int) != ffi::LUA_TNUMBER
            {
                return None;
            }
            Some(ffi::lua_tonumber(self.0, i as c_int))
        }
    }

    /// The `n` values on top of the stack as mlua values, popping them.
    pub fn take_values(self, lua: &Lua, n: usize) -> mlua::Result<MultiValue> {
        // SAFETY: the n values are on the (stopped) coroutine's stack; the
        // new table takes them with raw sets and goes to the registry, the
        // stack is left without them.
        unsafe {
            if ffi::lua_checkstack(self.0, 3) == 0 {
                return Err(mlua::Error::runtime("coroutine stack overflow"));
            }
            let base = ffi::lua_gettop(self.0) - n as c_int;
            ffi::lua_createtable(self.0, n as c_int, 0);
            for i in 1..=n as c_int {
                ffi::lua_pushvalue(self.0, base + i);
                ffi::lua_rawseti_(self.0, -2, i);
            }
            ffi::lua_setfield(self.0, ffi::LUA_REGISTRYINDEX, SCRATCH.as_ptr());
            ffi::lua_settop(self.0, base.max(0));
        }
        let t: Table = lua.named_registry_value(SCRATCH_NAME)?;
        lua.unset_named_registry_value(SCRATCH_NAME)?;
        (1..=n).map(|i| t.raw_get::<Value>(i)).collect()
    }

    /// Drops everything on the stack (the values a stop left there).
    pub fn clear(self) {
        // SAFETY: the coroutine is stopped; settop(0) only drops values.
        unsafe { ffi::lua_settop(self.0, 0) }
    }

    /// A coroutine that returned and whose values were cleared can run a
    /// new function (see `mlua::Thread::reset`, which does the same).
    pub fn is_reusable(self) -> bool {
        // SAFETY: status and top of a coroutine that is not running.
        unsafe { ffi::lua_status(self.0) == ffi::LUA_OK && ffi::lua_gettop(self.0) == 0 }
    }

    /// Calls the function registered under `func` with no arguments through
    /// `lua_pcall` on this (never resumed) thread, with the registered
    /// message handler `handler`; the first result read as a number.
    /// For handlers that cannot yield (filters, log, balancer): it is the
    /// call lua-nginx-module makes on its main thread for them.
    pub fn pcall_registered(self, handler: c_int, func: c_int) -> Result<Option<f64>, String> {
        // SAFETY: the thread is only used for such calls, which leave its
        // stack as they found it (nested calls included), so it is never
        // suspended; room is checked; both registry slots hold functions for
        // as long as their keys live; results and errors are read before the
        // settop that drops them.
        unsafe {
            let base = ffi::lua_gettop(self.0);
            if ffi::lua_checkstack(self.0, 4) == 0 {
                return Err("stack overflow".into());
            }
            ffi::lua_rawgeti_(self.0, ffi::LUA_REGISTRYINDEX, handler);
            ffi::lua_rawgeti_(self.0, ffi::LUA_REGISTRYINDEX, func);
            let rc = ffi::lua_pcall(self.0, 0, 1, base + 1);
            let out = if rc == 0 {
                Ok(match ffi::lua_type(self.0, -1) {
                    ffi::LUA_TNUMBER => Some(ffi::lua_tonumber(self.0, -1)),
                    ffi::LUA_TSTRING => {
                        let mut len = 0usize;
                        let p = ffi::lua_tolstring(self.0, -1, &mut len);
                        std::str::from_utf8(std::slice::from_raw_parts(p.cast::<u8>(), len))
                            .ok()
                            .and_then(|s| s.trim().parse().ok())
                    }
                    _ => None,
                })
            } else {
                let mut len = 0usize;
                let p = ffi::lua_tolstring(self.0, -1, &mut len);
                Err(if p.is_null() {
                    "unknown error".to_string()
                } else {
                    String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), len))
                        .into_owned()
                })
            };
            ffi::lua_settop(self.0, base);
            out
        }
    }

    /// Makes a reusable coroutine (see [`RawCo::is_reusable`]) run the
    /// function kept in the registry under `id` (a live `RegistryKey`).
    pub fn reset_from_registry(self, id: c_int) {
        // SAFETY: the coroutine is not running and its stack is empty; the
        // registry slot holds a function for as long as its key lives.
        unsafe {
            ffi::lua_settop(self.0, 0);
            ffi::lua_rawgeti_(self.0, ffi::LUA_REGISTRYINDEX, id);
        }
    }

    /// After [`Resumed::Raised`]: lua-nginx-module's report, the message
    /// (non-string errors are an "unknown reason") then
    /// "\nstack traceback:\n" and the coroutine's frames where it failed.
    pub fn error_report(self) -> String {
        // SAFETY: the coroutine failed: its error value is on top and its
        // frames are kept (Lua 5.1 leaves them for debuggers); the traceback
        // is pushed onto that same dead stack and read before the clear.
        unsafe {
            if ffi::lua_checkstack(self.0, 8) == 0 {
                return "unknown reason".into();
            }
            let msg = match ffi::lua_type(self.0, -1) {
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(self.0, -1, &mut len);
                    String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), len))
                        .into_owned()
                }
                _ => "unknown reason".into(),
            };
            luajit_traceback(self.0, self.0, std::ptr::null(), 0);
            let mut len = 0usize;
            let p = ffi::lua_tolstring(self.0, -1, &mut len);
            let tb = if p.is_null() {
                String::new()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), len))
                    .into_owned()
            };
            ffi::lua_settop(self.0, 0);
            let frames = tb.strip_prefix("stack traceback:").unwrap_or(&tb);
            format!("{msg}\nstack traceback:{frames}")
        }
    }
}

/// Values a raw push can copy without mlua's help.
fn is_plain(v: &Value) -> bool {
    matches!(
        v,
        Value::Nil
            | Value::Boolean(_)
            | Value::LightUserData(_)
            | Value::Integer(_)
            | Value::Number(_)
            | Value::String(_)
    )
}
