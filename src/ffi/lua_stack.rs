//! API functions as plain Lua C functions, reading their arguments from
//! the Lua stack and pushing their results there.
//!
//! An mlua callback turns every argument into an mlua value (a reference
//! slot for each string or table), collects them in a `MultiValue` and does
//! the same for the results; for the cosocket methods a redis request calls
//! a dozen times, that machinery cost more than the methods. Functions made
//! with [`c_function`] see a [`Stack`] instead and follow the raise-marker
//! protocol of `api::raw_function`, so the same Lua shims wrap them.

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua};

use crate::api::{raise_marker, raise_plain_marker, ApiError, ApiResult};
use crate::ffi::lua_table::{self, Rules};

/// One argument as the function sees it: plain data is copied out or
/// borrowed from the stack; tables are named by their stack index.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Past the last argument.
    None,
    Nil,
    Bool(bool),
    Num(f64),
    Str(&'a [u8]),
    Table(c_int),
    /// Any other type, by its Lua name ("function", "userdata"...).
    Other(&'static str),
}

impl Arg<'_> {
    /// luaL_typename's answer ("no value" past the last argument).
    pub fn type_name(&self) -> &'static str {
        match self {
            Arg::None => "no value",
            Arg::Nil => "nil",
            Arg::Bool(_) => "boolean",
            Arg::Num(_) => "number",
            Arg::Str(_) => "string",
            Arg::Table(_) => "table",
            Arg::Other(t) => t,
        }
    }
}

/// A running C function's view of its stack.
pub struct Stack {
    l: *mut lua_State,
    /// How many arguments it was called with.
    nargs: c_int,
}

impl Stack {
    pub fn len(&self) -> usize {
        self.nargs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.nargs == 0
    }

    /// Argument `i` (1-based).
    pub fn arg(&self, i: usize) -> Arg<'_> {
        let i = i as c_int;
        if i < 1 || i > self.nargs {
            return Arg::None;
        }
        // SAFETY: 1 <= i <= nargs is a valid stack slot; reading a string's
        // bytes does not convert or allocate, and the argument stays on the
        // stack (so the bytes stay alive) until the function returns, which
        // outlives the borrow of `self`.
        unsafe { arg_at(self.l, i) }
    }

    /// `t[key]` without metamethods, for an argument table at `table`.
    pub fn field(&self, table: c_int, key: &str) -> Arg<'_> {
        // SAFETY: `table` is the absolute index of a table argument (Arg::Table);
        // lua_rawget does not call metamethods; the value is left on the
        // stack above the arguments (so borrowed bytes stay alive) and the
        // stack keeps LUA_MINSTACK slots free for a C function.
        unsafe {
            if ffi::lua_checkstack(self.l, 2) == 0 {
                return Arg::Nil;
            }
            ffi::lua_pushlstring_(self.l, key.as_ptr().cast(), key.len());
            ffi::lua_rawget(self.l, table);
            arg_at(self.l, ffi::lua_gettop(self.l))
        }
    }

    /// Appends the flattened array table at `table` (see lua_table).
    pub fn flatten(&self, table: c_int, out: &mut Vec<u8>, rules: Rules) -> Result<(), String> {
        // SAFETY: `table` is the index of a table argument of this call.
        unsafe { lua_table::flatten_at(self.l, table, out, rules) }
    }

    pub fn push_nil(&self) {
        // SAFETY: a C function may push LUA_MINSTACK values; ours push at most 3.
        unsafe { ffi::lua_pushnil(self.l) }
    }

    pub fn push_bool(&self, b: bool) {
        // SAFETY: as push_nil.
        unsafe { ffi::lua_pushboolean(self.l, b as c_int) }
    }

    pub fn push_number(&self, n: f64) {
        // SAFETY: as push_nil.
        unsafe { ffi::lua_pushnumber(self.l, n) }
    }

    pub fn push_bytes(&self, b: &[u8]) {
        // SAFETY: as push_nil; Lua copies the bytes.
        unsafe { ffi::lua_pushlstring_(self.l, b.as_ptr().cast(), b.len()) }
    }

    /// One string, or an array of them when there are several.
    pub fn push_strings(&self, values: &[Vec<u8>]) {
        if let [one] = values {
            return self.push_bytes(one);
        }
        // SAFETY: a C function may push LUA_MINSTACK values; the table is
        // filled with raw sets and stays as the one pushed value.
        unsafe {
            ffi::lua_createtable(self.l, values.len() as c_int, 0);
            for (i, v) in values.iter().enumerate() {
                ffi::lua_pushlstring_(self.l, v.as_ptr().cast(), v.len());
                ffi::lua_rawseti_(self.l, -2, i as c_int + 1);
            }
        }
    }

    pub fn push_light(&self, p: mlua::LightUserData) {
        // SAFETY: as push_nil; the pointer is only stored, never read.
        unsafe { ffi::lua_pushlightuserdata(self.l, p.0) }
    }
}

/// Reads stack slot `i` (absolute) as an [`Arg`].
///
/// # Safety
/// `i` must be a valid index of `l`'s stack; a string's bytes are borrowed
/// for as long as the caller keeps the value on the stack.
unsafe fn arg_at<'a>(l: *mut lua_State, i: c_int) -> Arg<'a> {
    // SAFETY: per the contract above; lua_tolstring is only applied to
    // strings (no in-place conversion of numbers).
    unsafe {
        match ffi::lua_type(l, i) {
            ffi::LUA_TNIL => Arg::Nil,
            ffi::LUA_TBOOLEAN => Arg::Bool(ffi::lua_toboolean(l, i) != 0),
            ffi::LUA_TNUMBER => Arg::Num(ffi::lua_tonumber(l, i)),
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                let p = ffi::lua_tolstring(l, i, &mut len);
                Arg::Str(std::slice::from_raw_parts(p.cast::<u8>(), len))
            }
            ffi::LUA_TTABLE => Arg::Table(i),
            ffi::LUA_TFUNCTION => Arg::Other("function"),
            ffi::LUA_TTHREAD => Arg::Other("thread"),
            ffi::LUA_TUSERDATA | ffi::LUA_TLIGHTUSERDATA => Arg::Other("userdata"),
            _ => Arg::Other("cdata"),
        }
    }
}

/// What [`c_function`] wraps: a Rust fn item that reads its arguments,
/// pushes its results and returns how many; an error is returned as the
/// raise marker and message. Each fn item is its own zero-sized type, so
/// the trampolines are monomorphised per function and call it directly:
/// no function pointer to fetch from an upvalue on every call.
pub(crate) trait RawFn: Fn(&Stack) -> ApiResult<c_int> + Copy + 'static {}
impl<F: Fn(&Stack) -> ApiResult<c_int> + Copy + 'static> RawFn for F {}

/// The fn item of type F (which carries no data).
fn raw_fn<F: RawFn>() -> F {
    const {
        assert!(
            std::mem::size_of::<F>() == 0,
            "pass a fn item, not a pointer or a capturing closure"
        )
    };
    // SAFETY: F is zero-sized (checked above): reading it reads no bytes,
    // and a dangling aligned pointer is valid for such a read.
    unsafe { std::ptr::NonNull::<F>::dangling().as_ptr().read() }
}

/// How a RawFn call ended: its result count, or the error to raise (and
/// whether it takes the caller's position).
enum Called {
    Returned(c_int),
    Failed(String, bool),
}

/// Calls the RawFn F on the running C function's arguments.
///
/// # Safety
/// `l` is the state of a C function made by `c_function` or `c_method`.
unsafe fn call_raw_fn<F: RawFn>(l: *mut lua_State) -> (c_int, Called) {
    let f = raw_fn::<F>();
    // SAFETY: per the contract; panics stop at catch_unwind.
    unsafe {
        let nargs = ffi::lua_gettop(l);
        let stack = Stack { l, nargs };
        let called = match catch_unwind(AssertUnwindSafe(|| f(&stack))) {
            Ok(Ok(n)) => Called::Returned(n),
            Ok(Err(ApiError::Raise(m))) => Called::Failed(m, true),
            Ok(Err(ApiError::RaisePlain(m))) => Called::Failed(m, false),
            Ok(Err(ApiError::Lua(e))) => Called::Failed(e.to_string(), true),
            Err(_) => Called::Failed("internal error".to_string(), true),
        };
        (nargs, called)
    }
}

unsafe extern "C-unwind" fn trampoline<F: RawFn>(l: *mut lua_State) -> c_int {
    // SAFETY: only installed by `c_function`; nothing here raises a Lua
    // error, so no Rust frame is unwound by a longjmp.
    unsafe {
        let (nargs, called) = call_raw_fn::<F>(l);
        let (msg, positioned) = match called {
            Called::Returned(n) => return n,
            Called::Failed(m, positioned) => (m, positioned),
        };
        let marker = if positioned {
            raise_marker()
        } else {
            raise_plain_marker()
        };
        ffi::lua_settop(l, nargs);
        ffi::lua_pushlightuserdata(l, marker.0);
        ffi::lua_pushlstring_(l, msg.as_ptr().cast(), msg.len());
        2
    }
}

/// The running method's outcome once its Rust frames are gone.
enum Direct {
    Return(c_int),
    Yield,
    Raise,
}

unsafe extern "C-unwind" fn direct_trampoline<F: RawFn>(l: *mut lua_State) -> c_int {
    // SAFETY: installed only by `c_method`. The Rust call and everything it
    // owns end inside `run_direct` (panics stop at catch_unwind there);
    // what is left here are plain values, so lua_yield and lua_error (which
    // longjmp/unwind out of this frame) skip no destructor. A C function
    // may end with `return lua_yield(...)`.
    unsafe {
        match run_direct::<F>(l) {
            Direct::Return(n) => n,
            Direct::Yield => ffi::lua_yield(l, 1),
            Direct::Raise => ffi::lua_error(l),
        }
    }
}

/// Runs the method; on a wait leaves the wait marker alone on top, on an
/// error leaves the message (with the caller's position, as luaL_error
/// gives) on top.
///
/// # Safety
/// Called by `direct_trampoline` with its state.
unsafe fn run_direct<F: RawFn>(l: *mut lua_State) -> Direct {
    // SAFETY: per the contract (see direct_trampoline).
    unsafe {
        let (nargs, called) = call_raw_fn::<F>(l);
        let (msg, with_position) = match called {
            Called::Returned(n) => {
                let wait = crate::sched::wait_marker().0;
                if n == 1 && ffi::lua_touserdata(l, -1) == wait {
                    return Direct::Yield;
                }
                return Direct::Return(n);
            }
            Called::Failed(m, positioned) => (m, positioned),
        };
        ffi::lua_settop(l, nargs);
        if with_position {
            ffi::luaL_where(l, 1);
        }
        ffi::lua_pushlstring_(l, msg.as_ptr().cast(), msg.len());
        if with_position {
            ffi::lua_concat(l, 2);
        }
        Direct::Raise
    }
}

/// `f` as a method called straight from Lua code: errors are raised with
/// the caller's position and a returned wait marker yields the coroutine
/// (the event that ends the wait resumes it with the method's results), so
/// no Lua shim sits between the caller and the method.
pub(crate) fn c_method<F: RawFn>(lua: &Lua, _f: F) -> mlua::Result<Function> {
    // SAFETY: as in c_function, with the direct trampoline.
    unsafe {
        lua.exec_raw::<Function>((), |l| {
            ffi::lua_pushcclosure(l, direct_trampoline::<F>, 0);
        })
    }
}

/// [`c_method`] with `upvalues` (upvalue 1 on): a constructor finds its
/// object type's metatables there (see [`Stack::push_object_from_upvalues`])
/// instead of in the registry.
pub(crate) fn c_method_with<F: RawFn>(
    lua: &Lua,
    _f: F,
    upvalues: &[&mlua::Table],
) -> mlua::Result<Function> {
    let args: mlua::MultiValue = upvalues
        .iter()
        .map(|t| mlua::Value::Table((*t).clone()))
        .collect();
    let n = upvalues.len() as c_int;
    // SAFETY: as in c_function; exec_raw pushed the tables at 1..=n, which
    // become the closure's upvalues.
    unsafe {
        lua.exec_raw::<Function>(args, |l| {
            ffi::lua_pushcclosure(l, direct_trampoline::<F>, n);
        })
    }
}

/// `f` as a Lua function.
pub(crate) fn c_function<F: RawFn>(lua: &Lua, _f: F) -> mlua::Result<Function> {
    // SAFETY: exec_raw runs the closure in a protected call on a stack with
    // room; it leaves the new C function as the one result.
    unsafe {
        lua.exec_raw::<Function>((), |l| {
            ffi::lua_pushcclosure(l, trampoline::<F>, 0);
        })
    }
}

// ---- objects: an Rc<T> in a userdata of our own ------------------------------
//
// Cosocket objects are tables holding, in slot 1, a userdata with the Rust
// object. mlua's userdata would cost an mlua callback per creation and a
// borrow check per use; ours is a raw userdata holding an `ObjectCell<T>`
// (an Rc and T's TypeId), whose metatable frees it. The metatables live in
// the registry keyed by the address of a static name (a light userdata: no
// string to hash per use).
//
// A method recognises its object by the cell's size and TypeId rather than
// by comparing metatables: a userdata's contents are written only by C (here,
// on creation), and the check then costs two Lua API calls instead of five
// on every method call of a cosocket.

/// What an object's userdata holds.
#[repr(C)]
struct ObjectCell<T> {
    type_id: std::any::TypeId,
    rc: std::rc::Rc<T>,
}

impl<T> ObjectCell<T> {
    /// Lua's userdata blocks are 8-byte aligned.
    const FITS_USERDATA: () = assert!(std::mem::align_of::<ObjectCell<T>>() <= 8);
}

/// Writes a new object cell for `v` into a new userdata pushed on `l`.
///
/// # Safety
/// `l` has room for one more value. (An allocation failure raises.)
unsafe fn push_cell<T: 'static>(l: *mut lua_State, v: std::rc::Rc<T>) {
    #[allow(clippy::let_unit_value)]
    let () = ObjectCell::<T>::FITS_USERDATA;
    // SAFETY: the block is sized for the cell and (by Lua's allocator)
    // 8-byte aligned, enough for it (checked above); it is initialised
    // before anything can collect it.
    unsafe {
        let p = ffi::lua_newuserdata(l, std::mem::size_of::<ObjectCell<T>>()) as *mut ObjectCell<T>;
        std::ptr::write(
            p,
            ObjectCell {
                type_id: std::any::TypeId::of::<T>(),
                rc: v,
            },
        );
    }
}

/// The Rc<T> in the value at `idx`, if it is an object cell of type T.
///
/// # Safety
/// `idx` is a valid index of `l`.
unsafe fn cell_at<T: 'static>(l: *mut lua_State, idx: c_int) -> Option<std::rc::Rc<T>> {
    // SAFETY: lua_touserdata is null for everything but (light) userdata;
    // a light userdata's length reads 0, so a non-null pointer with the
    // cell's length is a full userdata block of that size, which we read
    // as a cell only once its TypeId field says it is T's.
    unsafe {
        let p = ffi::lua_touserdata(l, idx) as *const ObjectCell<T>;
        if p.is_null() || ffi::lua_objlen(l, idx) != std::mem::size_of::<ObjectCell<T>>() {
            return None;
        }
        ((*p).type_id == std::any::TypeId::of::<T>()).then(|| (*p).rc.clone())
    }
}

/// Pushes registry[key], `key` being a static name's address.
///
/// # Safety
/// `l` has room for one more value.
unsafe fn push_registered(l: *mut lua_State, key: &'static std::ffi::CStr) {
    // SAFETY: per the contract; a raw get on the registry never raises.
    unsafe {
        ffi::lua_pushlightuserdata(l, key.as_ptr() as *mut c_void);
        ffi::lua_rawget(l, ffi::LUA_REGISTRYINDEX);
    }
}

/// Stores `t` as registry[key] for [`Stack::push_object`]'s lookups.
pub(crate) fn register_table(
    lua: &Lua,
    key: &'static std::ffi::CStr,
    t: &mlua::Table,
) -> mlua::Result<()> {
    // SAFETY: exec_raw pushes `t` at index 1 of a protected call with room.
    unsafe {
        lua.exec_raw::<()>(t.clone(), |l| {
            ffi::lua_pushlightuserdata(l, key.as_ptr() as *mut c_void);
            ffi::lua_pushvalue(l, 1);
            ffi::lua_rawset(l, ffi::LUA_REGISTRYINDEX);
        })
    }
}

unsafe extern "C-unwind" fn drop_rc<T>(l: *mut lua_State) -> c_int {
    // SAFETY: installed only as the __gc of metatables that `new_object`
    // gives to userdata it initialised with an ObjectCell<T>; the metatable is
    // hidden (__metatable), so Lua code cannot call it again; Lua runs a
    // userdata's finaliser once.
    unsafe {
        let p = ffi::lua_touserdata(l, 1) as *mut ObjectCell<T>;
        if !p.is_null() {
            std::ptr::drop_in_place(p);
        }
    }
    0
}

/// Creates and registers (under `ud_mt`) the userdata metatable for
/// objects of type T; returns it for methods' upvalues.
pub(crate) fn install_object_type<T: 'static>(
    lua: &Lua,
    ud_mt: &'static std::ffi::CStr,
) -> mlua::Result<mlua::Table> {
    let mt = lua.create_table()?;
    // SAFETY: drop_rc follows the C function protocol and is only reached
    // as this metatable's __gc (see drop_rc).
    mt.raw_set("__gc", unsafe { lua.create_c_function(drop_rc::<T>)? })?;
    mt.raw_set("__metatable", false)?;
    register_table(lua, ud_mt, &mt)?;
    Ok(mt)
}

/// Pushes a new object table: slot 1 a userdata holding `v` (metatable
/// `ud_mt`), the table's own metatable the registry's `table_mt`.
///
/// # Safety
/// `l` has room for 3 more values; `ud_mt` was installed for T. (An
/// allocation failure raises a Lua error through the caller.)
unsafe fn push_object<T: 'static>(
    l: *mut lua_State,
    v: std::rc::Rc<T>,
    ud_mt: &'static std::ffi::CStr,
    table_mt: &'static std::ffi::CStr,
) {
    // SAFETY: per the contract.
    unsafe {
        ffi::lua_createtable(l, 3, 1);
        push_cell(l, v);
        push_registered(l, ud_mt);
        ffi::lua_setmetatable(l, -2);
        ffi::lua_rawseti_(l, -2, 1);
        push_registered(l, table_mt);
        ffi::lua_setmetatable(l, -2);
    }
}

impl Stack {
    /// Pushes a new object holding `v`, its userdata's metatable being
    /// upvalue 1 of the running C method and the object's upvalue 2 (see
    /// [`c_method_with`]).
    pub fn push_object_from_upvalues<T: 'static>(&self, v: std::rc::Rc<T>) {
        // SAFETY: a C function has LUA_MINSTACK slots; the userdata is
        // initialised before anything can collect it, and gets the
        // metatable whose __gc frees it (the constructor is made by
        // c_method_with with both metatables as its upvalues).
        unsafe {
            ffi::lua_createtable(self.l, 3, 1);
            push_cell(self.l, v);
            ffi::lua_pushvalue(self.l, ffi::lua_upvalueindex(1));
            ffi::lua_setmetatable(self.l, -2);
            ffi::lua_rawseti_(self.l, -2, 1);
            ffi::lua_pushvalue(self.l, ffi::lua_upvalueindex(2));
            ffi::lua_setmetatable(self.l, -2);
        }
    }

    /// The object of type T behind the argument table at `table` (its slot 1).
    pub fn object_in_arg<T: 'static>(&self, table: c_int) -> Option<std::rc::Rc<T>> {
        // SAFETY: `table` is a table argument; a C function has LUA_MINSTACK
        // free slots and this pushes one, popped before returning.
        unsafe {
            ffi::lua_rawgeti_(self.l, table, 1);
            let found = cell_at::<T>(self.l, -1);
            ffi::lua_settop(self.l, -2);
            found
        }
    }
}

/// A new object for mlua code: the registry's metatables (see [`push_object`]).
pub(crate) fn new_object<T: 'static>(
    lua: &Lua,
    v: std::rc::Rc<T>,
    ud_mt: &'static std::ffi::CStr,
    table_mt: &'static std::ffi::CStr,
) -> mlua::Result<mlua::Table> {
    // SAFETY: exec_raw's protected call has stack room; the table is its result.
    unsafe { lua.exec_raw::<mlua::Table>((), |l| push_object(l, v, ud_mt, table_mt)) }
}

/// The object of type T behind table `t` (its slot 1), for mlua code.
pub(crate) fn object_in<T: 'static>(lua: &Lua, t: &mlua::Table) -> Option<std::rc::Rc<T>> {
    let mut found = None;
    // SAFETY: exec_raw pushes `t` at index 1 of a protected call's stack.
    let _ = unsafe {
        lua.exec_raw::<()>(t.clone(), |l| {
            ffi::lua_rawgeti_(l, 1, 1);
            found = cell_at::<T>(l, 2);
            ffi::lua_settop(l, 0);
        })
    };
    found
}
