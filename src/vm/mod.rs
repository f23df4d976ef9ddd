//! The Lua VM of a configuration cycle: creation, `package.path`/`cpath`, the
//! code cache (inline chunks compiled at configuration time, files on first
//! use), and the embedded Lua modules.

mod paths;
mod preload;

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;

use mlua::{Function, Lua, LuaOptions, RegistryKey, StdLib, Table};

use crate::api;

pub use paths::expand_package_path;

/// A handler's compiled code. The registry key lets the scheduler put the
/// function on a coroutine's stack without going through an mlua handle.
pub struct Chunk {
    pub func: Function,
    pub key: RegistryKey,
}

/// One Lua VM (one per worker after fork: each inherits the master's copy).
pub struct LuaVm {
    pub lua: Lua,
    /// The scheduler's reusable coroutines and the thread filters, log and
    /// balancer handlers run on (sched::call_chunk).
    pub sched: crate::sched::VmState,
    /// Idle cosocket connections (setkeepalive), this worker's.
    pub pools: crate::net::pool::Pools,
    inline: RefCell<Vec<Rc<Chunk>>>,
    files: RefCell<HashMap<Vec<u8>, Rc<Chunk>>>,
    /// package.loaded's keys when the first request ran; with
    /// lua_code_cache off, modules loaded later are dropped per request.
    baseline_modules: RefCell<Option<Vec<Vec<u8>>>>,
}

/// Why a Lua file could not be loaded.
pub struct LoadError {
    pub msg: String,
    /// The file does not exist (the request gets a 404, as upstream).
    pub not_found: bool,
}

impl LuaVm {
    pub fn new() -> mlua::Result<LuaVm> {
        // SAFETY: OpenResty code needs the `ffi`/`jit` libraries and Lua C
        // modules, which the safe constructor refuses. catch_rust_panics stays
        // on: turning it off makes mlua replace pcall/xpcall with C functions,
        // and code inside a C-function pcall cannot yield (ngx.sleep inside
        // pcall must work). A panic in a callback then surfaces as a Lua error.
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::new()) };
        let ngx = lua.create_table()?;
        lua.globals().raw_set("ngx", &ngx)?;
        api::inject_all(&lua, &ngx)?;
        let sched = crate::sched::install(&lua)?;
        preload::install(&lua)?;
        add_system_paths(&lua)?;
        install_coroutine_wrappers(&lua)?;
        Ok(LuaVm {
            lua,
            sched,
            pools: Default::default(),
            inline: RefCell::new(Vec::new()),
            files: RefCell::new(HashMap::new()),
            baseline_modules: RefCell::new(None),
        })
    }

    /// Compiles inline code; returns the slot to run it from. The error is
    /// Lua's message (it names the chunk and line).
    pub fn compile_inline(&self, code: &[u8], chunkname: &str) -> Result<usize, String> {
        let f = self
            .lua
            .load(code)
            .set_name(chunkname)
            .into_function()
            .map_err(lua_message)?;
        let chunk = self.chunk(f).map_err(lua_message)?;
        let mut inline = self.inline.borrow_mut();
        inline.push(chunk);
        Ok(inline.len() - 1)
    }

    fn chunk(&self, func: Function) -> mlua::Result<Rc<Chunk>> {
        let key = self.lua.create_registry_value(&func)?;
        Ok(Rc::new(Chunk { func, key }))
    }

    pub fn inline(&self, slot: usize) -> Option<Rc<Chunk>> {
        self.inline.borrow().get(slot).cloned()
    }

    /// Loads a Lua file (absolute path), from the cache when `cache` is on.
    pub fn load_file(&self, path: &[u8], cache: bool) -> Result<Rc<Chunk>, LoadError> {
        if cache {
            if let Some(f) = self.files.borrow().get(path) {
                return Ok(f.clone());
            }
        }
        let shown = String::from_utf8_lossy(path).into_owned();
        let mut code = std::fs::read(std::ffi::OsStr::from_bytes(path)).map_err(|e| LoadError {
            msg: format!("cannot open {shown}"),
            not_found: e.kind() == std::io::ErrorKind::NotFound,
        })?;
        // luaL_loadfile skips a first line starting with '#'; keep its newline
        // so line numbers stay right.
        if code.first() == Some(&b'#') {
            let end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
            code.drain(..end);
        }
        let f = self
            .lua
            .load(&code[..])
            .set_name(format!("@{shown}"))
            .into_function()
            .map_err(|e| LoadError {
                msg: lua_message(e),
                not_found: false,
            })?;
        let f = self.chunk(f).map_err(|e| LoadError {
            msg: lua_message(e),
            not_found: false,
        })?;
        if cache {
            self.files.borrow_mut().insert(path.to_vec(), f.clone());
        }
        Ok(f)
    }

    /// With lua_code_cache off: forgets modules required since the first
    /// request, so each request loads them afresh (upstream gives each
    /// request a new VM; we keep one and reset what `require` cached).
    pub fn reset_loaded_modules(&self) -> mlua::Result<()> {
        let loaded: Table = self.lua.globals().get::<Table>("package")?.get("loaded")?;
        let mut baseline = self.baseline_modules.borrow_mut();
        let Some(keep) = baseline.as_ref() else {
            let keys = loaded
                .pairs::<mlua::LuaString, mlua::Value>()
                .filter_map(|kv| kv.ok())
                .map(|(k, _)| k.as_bytes().to_vec())
                .collect();
            *baseline = Some(keys);
            return Ok(());
        };
        let stale: Vec<mlua::LuaString> = loaded
            .pairs::<mlua::LuaString, mlua::Value>()
            .filter_map(|kv| kv.ok())
            .map(|(k, _)| k)
            .filter(|k| !keep.iter().any(|b| b.as_slice() == &*k.as_bytes()))
            .collect();
        for k in stale {
            loaded.raw_set(k, mlua::Value::Nil)?;
        }
        Ok(())
    }

    /// Applies `lua_package_path` / `lua_package_cpath`.
    pub fn set_package_paths(
        &self,
        path: Option<&[u8]>,
        cpath: Option<&[u8]>,
        prefix: &[u8],
    ) -> mlua::Result<()> {
        let package: Table = self.lua.globals().get("package")?;
        for (key, value) in [("path", path), ("cpath", cpath)] {
            if let Some(v) = value {
                let current: mlua::LuaString = package.get(key)?;
                let expanded = expand_package_path(v, &current.as_bytes(), prefix);
                package.set(key, self.lua.create_string(expanded)?)?;
            }
        }
        Ok(())
    }
}

/// Makes coroutine.resume/wrap pass scheduler waits up (lualib/coroutine.lua).
fn install_coroutine_wrappers(lua: &Lua) -> mlua::Result<()> {
    let chunk = lua
        .load(include_str!("../../lualib/coroutine.lua"))
        .set_name("=ngx_lua_rs.coroutine")
        .into_function()?;
    chunk.call::<()>((
        crate::sched::wait_marker(),
        crate::sched::exit_marker(),
        crate::sched::exec_marker(),
        crate::sched::spawn_marker(),
        crate::sched::thread_wait_marker(),
    ))
}

/// Appends the distribution's module directories to the default search paths.
fn add_system_paths(lua: &Lua) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    for (key, extra) in [("path", paths::SYSTEM_PATH), ("cpath", paths::SYSTEM_CPATH)] {
        let current: mlua::LuaString = package.get(key)?;
        let mut v = current.as_bytes().to_vec();
        if !v.is_empty() && v.last() != Some(&b';') {
            v.push(b';');
        }
        v.extend_from_slice(extra.as_bytes());
        package.set(key, lua.create_string(v)?)?;
    }
    Ok(())
}

/// The text of a Lua error without mlua's decorations.
pub fn lua_message(e: mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message,
        mlua::Error::RuntimeError(m) => m,
        mlua::Error::CallbackError { cause, .. } => lua_message((*cause).clone()),
        other => other.to_string(),
    }
}
