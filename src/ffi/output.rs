//! The exported C entry of ngx.say/print's fast path (lualib/output.lua).

use std::ffi::{c_char, c_int};

use crate::api::output::{fast_output, Fast};

/// Sends `len` bytes at `data` (plus a newline when `newline` is set) for
/// the running request: 0 sent, 1 declined (the Lua side takes the full
/// path), 2 the output filters failed.
#[no_mangle]
pub extern "C" fn ngx_lua_rs_output(data: *const c_char, len: usize, newline: c_int) -> c_int {
    let bytes = if len == 0 || data.is_null() {
        &[][..]
    } else {
        // SAFETY: LuaJIT passes a Lua string's bytes and length; the string
        // is alive for the duration of the call.
        unsafe { std::slice::from_raw_parts(data as *const u8, len) }
    };
    // No panic may unwind into LuaJIT's FFI frame.
    let r = std::panic::catch_unwind(|| fast_output(bytes, newline != 0));
    match r {
        Ok(Fast::Done) => 0,
        Ok(Fast::FilterError) => 2,
        Ok(Fast::Declined) | Err(_) => 1,
    }
}
