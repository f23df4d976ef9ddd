//! cjson's Lua side at the C API level: `encode` walks Lua tables on the
//! stack and `decode` pushes values as the reader produces them, with no
//! intermediate Lua values or registry references (the speed of lua-cjson's
//! C code). The JSON logic itself is the safe code in `crate::cjson`.
//!
//! The raw functions never raise: they return `value`, or `nil, message`
//! (plus `true` for argument errors that even cjson.safe raises), and the
//! small Lua wrappers in `crate::cjson` raise or not. Upvalues: 1 = the
//! instance (a userdata holding an `Option<Rc<Instance>>`), 2 = array_mt,
//! 3 = empty_array_mt.

use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, Table};

use crate::cjson::decode::{self, Sink};
use crate::cjson::encode::{self, ArrayScan, EncodeError, EncodeOptions, Shape};
use crate::cjson::{empty_array_ptr, Instance, Settings};

const UP_INSTANCE: c_int = ffi::lua_upvalueindex(1);
const UP_ARRAY_MT: c_int = ffi::lua_upvalueindex(2);
const UP_EMPTY_ARRAY_MT: c_int = ffi::lua_upvalueindex(3);

type Slot = Option<Rc<Instance>>;

/// Creates the raw `encode` and `decode` C closures of one instance.
pub fn functions(
    lua: &Lua,
    inst: Rc<Instance>,
    array_mt: &Table,
    empty_array_mt: &Table,
) -> mlua::Result<(Function, Function)> {
    // SAFETY: inside exec_raw the stack holds exactly the two metatables
    // (indices 1 and 2); we leave exactly the two closures on it. The
    // userdata is sized and (8-byte) aligned for a `Slot`, initialised with
    // ptr::write before anything can read it, and dropped once by __gc.
    unsafe {
        lua.exec_raw((array_mt, empty_array_mt), move |l| {
            let ud = ffi::lua_newuserdata(l, std::mem::size_of::<Slot>()) as *mut Slot;
            std::ptr::write(ud, Some(inst));
            ffi::lua_createtable(l, 0, 2);
            ffi::lua_pushcfunction(l, gc_instance);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            ffi::lua_pushboolean(l, 0);
            ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            ffi::lua_setmetatable(l, -2);
            for f in [encode_raw as ffi::lua_CFunction, decode_raw] {
                ffi::lua_pushvalue(l, 3);
                ffi::lua_pushvalue(l, 1);
                ffi::lua_pushvalue(l, 2);
                ffi::lua_pushcclosure(l, f, 3);
            }
            for _ in 0..3 {
                ffi::lua_remove(l, 1);
            }
        })
    }
}

unsafe extern "C-unwind" fn gc_instance(l: *mut lua_State) -> c_int {
    // SAFETY: only our instance userdata has this __gc (its metatable is
    // hidden by __metatable); take() makes a second call a no-op.
    unsafe {
        let p = ffi::lua_touserdata(l, 1) as *mut Slot;
        if !p.is_null() {
            drop((*p).take());
        }
    }
    0
}

/// The instance of the running closure.
///
/// # Safety
/// `l` is running one of the closures made by [`functions`].
unsafe fn instance<'a>(l: *mut lua_State) -> Option<&'a Instance> {
    // SAFETY: upvalue 1 is the Slot userdata (see `functions`), alive while
    // the closure runs.
    unsafe {
        let p = ffi::lua_touserdata(l, UP_INSTANCE) as *const Slot;
        p.as_ref()?.as_deref()
    }
}

/// Pushes `nil, msg` (and `true` when `hard`) and returns the count.
///
/// # Safety
/// `l` is a running C function's state.
unsafe fn fail(l: *mut lua_State, msg: &str, hard: bool) -> c_int {
    // SAFETY: a C function may push a few values (LUA_MINSTACK guarantees 20).
    unsafe {
        ffi::lua_pushnil(l);
        ffi::lua_pushlstring_(l, msg.as_ptr().cast(), msg.len());
        if hard {
            ffi::lua_pushboolean(l, 1);
            return 3;
        }
    }
    2
}

/// # Safety
/// `l` is a valid state; `t` a type tag it returned.
unsafe fn type_name(l: *mut lua_State, t: c_int) -> String {
    // SAFETY: lua_typename returns a static NUL-terminated string.
    unsafe {
        std::ffi::CStr::from_ptr(ffi::lua_typename(l, t))
            .to_string_lossy()
            .into_owned()
    }
}

// ---------------------------------------------------------------- encode

unsafe extern "C-unwind" fn encode_raw(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `functions`; every stack
    // access below stays within the slots lua_checkstack granted.
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            return fail(l, "bad argument #1 to 'encode' (expected 1 argument)", true);
        }
        let Some(inst) = instance(l) else {
            return fail(l, "BUG: Unable to fetch CJSON configuration", true);
        };
        let settings: Settings = inst.settings.get();
        let mut kept = if settings.keep_buffer {
            inst.buf.try_borrow_mut().ok()
        } else {
            None
        };
        let mut local = Vec::new();
        let out: &mut Vec<u8> = match kept.as_deref_mut() {
            Some(b) => {
                b.clear();
                b
            }
            None => &mut local,
        };
        let marker = 0u8;
        let enc = Encoder {
            l,
            opts: settings.encode,
            stack_base: std::ptr::addr_of!(marker) as usize,
        };
        let r = catch_unwind(AssertUnwindSafe(|| enc.value(out, 0).map(|_| ())));
        match r {
            Ok(Ok(())) => {
                ffi::lua_pushlstring_(l, out.as_ptr().cast(), out.len());
                1
            }
            Ok(Err(EncodeError(msg))) => {
                ffi::lua_settop(l, 1);
                fail(l, &msg, false)
            }
            Err(_) => {
                ffi::lua_settop(l, 1);
                fail(l, "cjson: internal error", false)
            }
        }
    }
}

struct Encoder {
    l: *mut lua_State,
    opts: EncodeOptions,
    /// Address of a local in `encode_raw`, to bound the C stack we use.
    stack_base: usize,
}

/// The most C stack one encode may use for its recursion over nested tables
/// (LuaJIT's 8000-slot limit for a C function would allow ~4000 levels).
const STACK_BUDGET: usize = 1 << 20;

impl Encoder {
    /// Writes the value on top of the stack; `Ok(false)` when it was
    /// skipped (an unsupported type with encode_skip_unsupported_value_types).
    fn value(&self, out: &mut Vec<u8>, depth: u32) -> Result<bool, EncodeError> {
        let l = self.l;
        // SAFETY: the value is at -1 (the argument or one pushed by the
        // caller); reading it does not change the stack.
        unsafe {
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => {
                    let mut len = 0;
                    let p = ffi::lua_tolstring(l, -1, &mut len);
                    encode::push_string(
                        out,
                        std::slice::from_raw_parts(p.cast(), len),
                        self.opts.escape_forward_slash,
                    );
                }
                ffi::LUA_TNUMBER => encode::push_number(out, ffi::lua_tonumber(l, -1), &self.opts)?,
                ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                    b"true".as_slice()
                } else {
                    b"false"
                }),
                ffi::LUA_TNIL => out.extend_from_slice(b"null"),
                ffi::LUA_TTABLE => self.table(out, depth + 1)?,
                ffi::LUA_TLIGHTUSERDATA => {
                    let p = ffi::lua_touserdata(l, -1);
                    if p.is_null() {
                        out.extend_from_slice(b"null");
                    } else if p == empty_array_ptr() {
                        out.extend_from_slice(b"[]");
                    }
                    // Any other lightuserdata writes nothing, as lua-cjson.
                }
                t => {
                    if self.opts.skip_unsupported {
                        return Ok(false);
                    }
                    return Err(encode::cannot(&type_name(l, t), "type not supported"));
                }
            }
        }
        Ok(true)
    }

    /// The table on top of the stack, `depth` counting it.
    fn table(&self, out: &mut Vec<u8>, depth: u32) -> Result<(), EncodeError> {
        let l = self.l;
        // SAFETY: the table is at -1; three more slots (key, value, and a
        // metatable) are checked for; every push is popped before return.
        unsafe {
            let marker = 0u8;
            let used = self
                .stack_base
                .abs_diff(std::ptr::addr_of!(marker) as usize);
            if depth > self.opts.max_depth || used > STACK_BUDGET || ffi::lua_checkstack(l, 3) == 0
            {
                return Err(encode::too_deep(depth));
            }
            let has_mt = ffi::lua_getmetatable(l, -1) != 0;
            if has_mt {
                let is_array = ffi::lua_rawequal(l, -1, UP_ARRAY_MT) != 0;
                let is_empty_array = ffi::lua_rawequal(l, -1, UP_EMPTY_ARRAY_MT) != 0;
                ffi::lua_pop(l, 1);
                if is_array {
                    let n = ffi::lua_objlen(l, -1).min(i32::MAX as usize) as u32;
                    return self.array(out, depth, n);
                }
                let shape = self.shape()?;
                return match shape {
                    Shape::Array(n) if n > 0 || !self.opts.empty_table_as_object => {
                        self.array(out, depth, n)
                    }
                    _ if is_empty_array => self.array(out, depth, 0),
                    _ => self.object(out, depth),
                };
            }
            match self.shape()? {
                Shape::Array(n) if n > 0 || !self.opts.empty_table_as_object => {
                    self.array(out, depth, n)
                }
                _ => self.object(out, depth),
            }
        }
    }

    /// Array or object, from the keys of the table on top of the stack.
    fn shape(&self) -> Result<Shape, EncodeError> {
        let l = self.l;
        let mut scan = ArrayScan::default();
        // SAFETY: lua_next over the table at -2 once the key is pushed;
        // the key is left in place (never converted) between iterations.
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                let k = if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                    Some(ffi::lua_tonumber(l, -2))
                } else {
                    None
                };
                if !scan.key(k) {
                    ffi::lua_pop(l, 2);
                    return Ok(Shape::Object);
                }
                ffi::lua_pop(l, 1);
            }
        }
        scan.finish(&self.opts)
    }

    fn array(&self, out: &mut Vec<u8>, depth: u32, n: u32) -> Result<(), EncodeError> {
        let l = self.l;
        out.push(b'[');
        let mut first = true;
        for i in 1..=n {
            let pos = out.len();
            if !first {
                out.push(b',');
            }
            // SAFETY: a slot was checked for in `table`; popped right after.
            let written = unsafe {
                ffi::lua_rawgeti_(l, -1, i as c_int);
                let r = self.value(out, depth);
                ffi::lua_pop(l, 1);
                r?
            };
            if written {
                first = false;
            } else {
                out.truncate(pos);
            }
        }
        out.push(b']');
        Ok(())
    }

    fn object(&self, out: &mut Vec<u8>, depth: u32) -> Result<(), EncodeError> {
        let l = self.l;
        out.push(b'{');
        let mut first = true;
        // SAFETY: lua_next over the table at -2 (key pushed); the key is
        // only read, never converted in place; the value is popped each turn.
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                let pos = out.len();
                if !first {
                    out.push(b',');
                }
                match ffi::lua_type(l, -2) {
                    ffi::LUA_TNUMBER => {
                        out.push(b'"');
                        encode::push_number(out, ffi::lua_tonumber(l, -2), &self.opts)?;
                        out.extend_from_slice(b"\":");
                    }
                    ffi::LUA_TSTRING => {
                        let mut len = 0;
                        let p = ffi::lua_tolstring(l, -2, &mut len);
                        encode::push_string(
                            out,
                            std::slice::from_raw_parts(p.cast(), len),
                            self.opts.escape_forward_slash,
                        );
                        out.push(b':');
                    }
                    t => {
                        return Err(encode::cannot(
                            &type_name(l, t),
                            "table key must be a number or string",
                        ))
                    }
                }
                let written = self.value(out, depth)?;
                if written {
                    first = false;
                } else {
                    out.truncate(pos);
                }
                ffi::lua_pop(l, 1);
            }
        }
        out.push(b'}');
        Ok(())
    }
}

// ---------------------------------------------------------------- decode

unsafe extern "C-unwind" fn decode_raw(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `functions`. The input
    // bytes belong to the string at index 1, which stays on the stack (and
    // so alive and unmoved) until we return.
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            return fail(l, "bad argument #1 to 'decode' (expected 1 argument)", true);
        }
        let t = ffi::lua_type(l, 1);
        if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
            let msg = format!(
                "bad argument #1 to 'decode' (string expected, got {})",
                type_name(l, t)
            );
            return fail(l, &msg, true);
        }
        let Some(inst) = instance(l) else {
            return fail(l, "BUG: Unable to fetch CJSON configuration", true);
        };
        let settings: Settings = inst.settings.get();
        let mut len = 0;
        let p = ffi::lua_tolstring(l, 1, &mut len);
        let data = std::slice::from_raw_parts(p.cast::<u8>(), len);
        let mut kept = inst.scratch.try_borrow_mut().ok();
        let mut local = Vec::new();
        let scratch: &mut Vec<u8> = match kept.as_deref_mut() {
            Some(b) => b,
            None => &mut local,
        };
        let mut sink = LuaSink {
            l,
            array_mt: settings.decode_array_with_array_mt,
            frames: Vec::new(),
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            decode::decode(data, settings.decode, scratch, &mut sink)
        }));
        // A huge document's scratch is not kept.
        if scratch.capacity() > 1 << 20 {
            *scratch = Vec::new();
        }
        match r {
            Ok(Ok(())) => 1,
            Ok(Err(e)) => {
                ffi::lua_settop(l, 1);
                fail(l, &e.0, false)
            }
            Err(_) => {
                ffi::lua_settop(l, 1);
                fail(l, "cjson: internal error", false)
            }
        }
    }
}

/// Members a container keeps on the stack before its table is made: small
/// containers (the common case) get a table of the exact size, with no
/// rehashing as it fills; bigger ones are filled as they come.
const MAX_PENDING: u32 = 64;

/// Stack slots kept free while reading: a member (key, value, nested
/// table) plus what `make_table` needs.
const ROOM: c_int = 6;

/// A container being read.
struct Frame {
    /// Stack index of its first pending value (where its table will go).
    base: c_int,
    /// Members read but not yet stored.
    pending: u32,
    /// Its table exists (at `base`) and members go straight into it.
    made: bool,
    array: bool,
}

/// Builds Lua values on the stack of a running `decode_raw`.
struct LuaSink {
    l: *mut lua_State,
    array_mt: bool,
    frames: Vec<Frame>,
}

impl LuaSink {
    fn begin(&mut self, array: bool) -> bool {
        // SAFETY: reserves ROOM slots (lua-cjson reserves 3 per level:
        // table, key, value; `make_table` may need 3 more); nothing is
        // pushed here.
        unsafe {
            if ffi::lua_checkstack(self.l, ROOM) == 0 {
                return false;
            }
            let base = ffi::lua_gettop(self.l) + 1;
            self.frames.push(Frame {
                base,
                pending: 0,
                made: false,
                array,
            });
        }
        true
    }

    /// Makes the innermost container's table from its pending members
    /// (the stack above `base`), leaving the table at `base`.
    fn make_table(&mut self) {
        let l = self.l;
        let array_mt = self.array_mt;
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        let n = f.pending as c_int;
        // SAFETY: the pending members are exactly the slots base..top (the
        // reader's event order); the table is inserted below them and they
        // are popped into it, so the stack ends at base. The last check
        // (in `begin` or `item`) left ROOM slots, the member read since used
        // at most 2, so the table and two pushvalue copies fit.
        unsafe {
            if f.array {
                ffi::lua_createtable(l, n, 0);
                if array_mt {
                    ffi::lua_pushvalue(l, UP_ARRAY_MT);
                    ffi::lua_setmetatable(l, -2);
                }
                ffi::lua_insert(l, f.base);
                for i in (1..=n).rev() {
                    ffi::lua_rawseti_(l, f.base, i);
                }
            } else {
                ffi::lua_createtable(l, 0, n);
                ffi::lua_insert(l, f.base);
                // In document order: with a repeated key the last one wins.
                for j in 0..n {
                    ffi::lua_pushvalue(l, f.base + 1 + 2 * j);
                    ffi::lua_pushvalue(l, f.base + 2 + 2 * j);
                    ffi::lua_rawset(l, f.base);
                }
                ffi::lua_settop(l, f.base);
            }
        }
        f.pending = 0;
        f.made = true;
    }

    /// A member was read (its value, and key, are on top).
    fn item(&mut self, index: i32) {
        let l = self.l;
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        if f.made {
            // SAFETY: stack is ..., table (at base), [key,] value.
            unsafe {
                if f.array {
                    ffi::lua_rawseti_(l, -2, index);
                } else {
                    ffi::lua_rawset(l, -3);
                }
            }
            return;
        }
        f.pending += 1;
        if f.pending >= MAX_PENDING {
            self.make_table();
            return;
        }
        // SAFETY: only asks for room for the next member (and a table).
        if unsafe { ffi::lua_checkstack(l, ROOM) } == 0 {
            self.make_table();
        }
    }

    fn end(&mut self) {
        if self.frames.last().is_some_and(|f| !f.made) {
            self.make_table();
        }
        self.frames.pop();
    }
}

impl Sink for LuaSink {
    fn begin_array(&mut self) -> bool {
        self.begin(true)
    }
    fn begin_object(&mut self) -> bool {
        self.begin(false)
    }
    fn end_array(&mut self) {
        self.end();
    }
    fn end_object(&mut self) {
        self.end();
    }
    fn key(&mut self, k: &[u8]) {
        // SAFETY: a slot is reserved (begin or item reserved 3).
        unsafe {
            ffi::lua_pushlstring_(self.l, k.as_ptr().cast(), k.len());
        }
    }
    fn string(&mut self, s: &[u8]) {
        // SAFETY: as `key` (or LUA_MINSTACK at top level).
        unsafe {
            ffi::lua_pushlstring_(self.l, s.as_ptr().cast(), s.len());
        }
    }
    fn number(&mut self, n: f64) {
        // SAFETY: as `string`.
        unsafe { ffi::lua_pushnumber(self.l, n) }
    }
    fn boolean(&mut self, b: bool) {
        // SAFETY: as `string`.
        unsafe { ffi::lua_pushboolean(self.l, c_int::from(b)) }
    }
    fn null(&mut self) {
        // SAFETY: as `string`.
        unsafe { ffi::lua_pushlightuserdata(self.l, std::ptr::null_mut()) }
    }
    fn array_item(&mut self, index: i32) {
        self.item(index);
    }
    fn object_item(&mut self) {
        self.item(0);
    }
}
