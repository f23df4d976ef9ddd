//! ngx.say/print's fast path as plain Lua C functions (lualib/output.lua).
//!
//! One string argument is the common case. A C function costs the Lua
//! interpreter a fraction of an mlua callback or of an FFI call (which
//! LuaJIT only makes cheap inside compiled traces, and output code rarely
//! runs in one), so the common case never reaches mlua.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua};

use crate::api::output::{fast_output, Fast};

/// `say_fast(s)` / `print_fast(s)`: sends `s` and returns 1, or nil and
/// "nginx output filter error"; returns false when it declines (another
/// argument shape, a refusal, an error to raise) and the Lua side takes
/// the full path, which the fast path has left untouched.
unsafe extern "C-unwind" fn output_fast(l: *mut lua_State, newline: bool) -> c_int {
    // SAFETY: LuaJIT calls C functions with a valid state and at least
    // LUA_MINSTACK free slots; the string's bytes stay alive (it is an
    // argument) during fast_output, which does not touch the Lua stack.
    unsafe {
        let mut fast = Fast::Declined;
        if ffi::lua_gettop(l) == 1 && ffi::lua_type(l, 1) == ffi::LUA_TSTRING {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, 1, &mut len);
            let data = std::slice::from_raw_parts(p.cast::<u8>(), len);
            // No panic may unwind into LuaJIT.
            fast =
                std::panic::catch_unwind(|| fast_output(data, newline)).unwrap_or(Fast::Declined);
        }
        match fast {
            Fast::Done => {
                ffi::lua_pushinteger(l, 1);
                1
            }
            Fast::FilterError => {
                ffi::lua_pushnil(l);
                ffi::lua_pushstring(l, c"nginx output filter error".as_ptr());
                2
            }
            Fast::Declined => {
                ffi::lua_pushboolean(l, 0);
                1
            }
        }
    }
}

unsafe extern "C-unwind" fn say_fast(l: *mut lua_State) -> c_int {
    // SAFETY: called by LuaJIT as a C function.
    unsafe { output_fast(l, true) }
}

unsafe extern "C-unwind" fn print_fast(l: *mut lua_State) -> c_int {
    // SAFETY: called by LuaJIT as a C function.
    unsafe { output_fast(l, false) }
}

/// The two fast-path functions, (say, print).
pub fn fast_functions(lua: &Lua) -> mlua::Result<(Function, Function)> {
    // SAFETY: both are C functions that follow the Lua C API protocol
    // (see output_fast) and never raise.
    unsafe {
        Ok((
            lua.create_c_function(say_fast)?,
            lua.create_c_function(print_fast)?,
        ))
    }
}
