//! Flattening nested array tables into bytes (ngx.say/print, cosocket send)
//! through the Lua C API. Going through mlua values would create and drop a
//! reference per element, which dominated the cost of sending a redis
//! command (lua-resty-redis builds each request as a nested table).

use std::ffi::{c_int, CStr};

use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table};

/// What an element may be, beyond strings, numbers and array tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// ngx.say/print: nil, booleans and ngx.null print as words; holes in
    /// an array print as nil.
    Print,
    /// cosocket send: strings, numbers and tables only, no holes.
    Send,
    /// ngx.arg[1] in body filters: strings, numbers and tables; a hole is
    /// a "bad data type nil".
    Chunk,
}

const MAX_DEPTH: usize = 100;

/// Appends the flattened table to `out`; the error is the parenthesised
/// part of upstream's "bad argument" message ("non-array table found", ...).
pub fn flatten(lua: &Lua, t: &Table, out: &mut Vec<u8>, rules: Rules) -> Result<(), String> {
    let mut result = Ok(());
    // SAFETY: exec_raw runs the closure inside a protected call with the
    // table at stack index 1. walk() only calls C API functions that do not
    // raise on the values they are given (no metamethods: raw access only;
    // lua_tolstring is applied to strings only, so it never allocates), and
    // it leaves the stack as it found it.
    let r = unsafe {
        lua.exec_raw::<()>(t.clone(), |l| {
            result = walk(l, 1, out, 0, rules);
            ffi::lua_settop(l, 0);
        })
    };
    r.map_err(|e| e.to_string())?;
    result
}

/// As [`flatten`], for the table at absolute index `idx` of a running C
/// function's stack (see ffi/lua_stack.rs).
///
/// # Safety
/// `l` is the state a C function was called with and `idx` holds a table.
pub unsafe fn flatten_at(
    l: *mut lua_State,
    idx: c_int,
    out: &mut Vec<u8>,
    rules: Rules,
) -> Result<(), String> {
    // SAFETY: per the contract; walk leaves the stack as it found it.
    unsafe { walk(l, idx, out, 0, rules) }
}

unsafe fn walk(
    l: *mut lua_State,
    idx: c_int,
    out: &mut Vec<u8>,
    depth: usize,
    rules: Rules,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("nested table too deep".into());
    }
    let start = out.len();
    // SAFETY: as for `walk_checked`, whose contract this shares.
    if unsafe { walk_sequence(l, idx, out, depth) } {
        return Ok(());
    }
    // Anything unusual (holes, other keys, an element of another type, a
    // nested error) is judged by the full walk, which has the messages.
    out.truncate(start);
    // SAFETY: per this function's contract.
    unsafe { walk_checked(l, idx, out, depth, rules) }
}

/// The common case in one pass plus a key count: a table whose keys are
/// exactly 1..#t, holding strings, numbers and such tables. Returns false,
/// having left the stack as it found it, for anything else.
///
/// # Safety
/// As [`walk_checked`].
unsafe fn walk_sequence(l: *mut lua_State, idx: c_int, out: &mut Vec<u8>, depth: usize) -> bool {
    // SAFETY: `idx` holds a table; every push is popped before returning;
    // raw access only, lua_tolstring on strings only: nothing raises.
    unsafe {
        if ffi::lua_checkstack(l, 3) == 0 {
            return false;
        }
        let n = ffi::lua_objlen(l, idx);
        // #t keys, all of 1..#t present (checked below), and nothing else.
        let mut count = 0usize;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            count += 1;
            ffi::lua_pop(l, 1);
        }
        if count != n {
            return false;
        }
        // Room for typical elements (protocol pieces), so `out` rarely grows.
        out.reserve(n * 8 + 16);
        for i in 1..=n {
            ffi::lua_rawgeti_(l, idx, i as c_int);
            let ok = match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
                    out.extend_from_slice(std::slice::from_raw_parts(p, len));
                    true
                }
                ffi::LUA_TNUMBER => {
                    super::fmt::push_number(out, ffi::lua_tonumber(l, -1));
                    true
                }
                ffi::LUA_TTABLE => {
                    depth < MAX_DEPTH && walk_sequence(l, ffi::lua_gettop(l), out, depth + 1)
                }
                _ => false,
            };
            ffi::lua_pop(l, 1);
            if !ok {
                return false;
            }
        }
        true
    }
}

/// The full walk: validates every key and element, with upstream's error
/// for the first bad one.
///
/// # Safety
/// `l` is a running C function's state and `idx` the absolute index of a
/// table on its stack.
unsafe fn walk_checked(
    l: *mut lua_State,
    idx: c_int,
    out: &mut Vec<u8>,
    depth: usize,
    rules: Rules,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("nested table too deep".into());
    }
    // SAFETY: `idx` is an absolute index of a table on the stack; every push
    // below is popped before returning; see `flatten` for why nothing raises.
    unsafe {
        if ffi::lua_checkstack(l, 3) == 0 {
            return Err("stack overflow".into());
        }
        let mut max = 0usize;
        let mut count = 0usize;
        // The strings' total length, so `out` grows once.
        let mut bytes = 0usize;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            let k = if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                ffi::lua_tonumber(l, -2)
            } else {
                0.0
            };
            // A positive integer key (the cast check is cheaper than fract()).
            if k < 1.0 || (k as usize) as f64 != k {
                ffi::lua_pop(l, 2);
                return Err("non-array table found".into());
            }
            if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
                bytes += ffi::lua_objlen(l, -1);
            }
            max = max.max(k as usize);
            count += 1;
            ffi::lua_pop(l, 1);
        }
        if rules == Rules::Send && count != max {
            return Err("non-array table found".into());
        }
        out.reserve(bytes + 8);
        for i in 1..=max {
            ffi::lua_rawgeti_(l, idx, i as c_int);
            let ty = ffi::lua_type(l, -1);
            let r = match ty {
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
                    out.extend_from_slice(std::slice::from_raw_parts(p, len));
                    Ok(())
                }
                ffi::LUA_TNUMBER => {
                    super::fmt::push_number(out, ffi::lua_tonumber(l, -1));
                    Ok(())
                }
                ffi::LUA_TTABLE => walk_checked(l, ffi::lua_gettop(l), out, depth + 1, rules),
                ffi::LUA_TNIL if rules == Rules::Print => {
                    out.extend_from_slice(b"nil");
                    Ok(())
                }
                ffi::LUA_TBOOLEAN if rules == Rules::Print => {
                    out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                        b"true"
                    } else {
                        b"false"
                    });
                    Ok(())
                }
                ffi::LUA_TLIGHTUSERDATA
                    if rules == Rules::Print && ffi::lua_touserdata(l, -1).is_null() =>
                {
                    out.extend_from_slice(b"null");
                    Ok(())
                }
                _ => {
                    let name = CStr::from_ptr(ffi::lua_typename(l, ty)).to_string_lossy();
                    Err(format!("bad data type {name} found"))
                }
            };
            ffi::lua_pop(l, 1);
            r?;
        }
        Ok(())
    }
}
