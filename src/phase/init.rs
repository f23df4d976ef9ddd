//! init_by_lua*: runs once in the master at configuration time, so that its
//! state (globals, preloaded modules) is inherited by every worker. With
//! lua_shared_dict zones it runs after nginx has set the zones up (from the
//! last zone's init, see shm::zone), as lua-nginx-module does, so it can use
//! the dicts.

use super::load_main_handler;
use crate::api::context::Phase;
use crate::conf::MainConf;
use crate::ffi::conf::Conf;
use crate::ffi::phases;
use crate::module;
use crate::sched;

pub fn run(cf: &Conf, main: &mut MainConf) -> Result<(), String> {
    let prefix = cf.prefix();
    let path = main.package_path.clone();
    let cpath = main.package_cpath.clone();
    let zones = main.shm_zones.clone();
    let (regex_cache, regex_limit) = (main.regex_cache_max_entries(), main.regex_match_limit());
    let vm = module::vm(main).map_err(|e| format!("failed to create the Lua VM: {e}"))?;
    crate::api::re::configure(&vm.lua, regex_cache, regex_limit);
    vm.set_package_paths(path.as_deref(), cpath.as_deref(), &prefix)
        .map_err(|e| format!("failed to set the Lua package path: {e}"))?;
    crate::api::shdict::install(&vm.lua, &zones)
        .map_err(|e| format!("failed to set up ngx.shared: {e}"))?;
    // `nginx -s reload` parses the configuration too; upstream skips init there.
    if phases::process_type() == nginx_sys::NGX_PROCESS_SIGNALLER as usize {
        return Ok(());
    }
    if !main.shm_zones.is_empty() {
        return Ok(());
    }
    run_init(main)
}

/// Runs the init_by_lua* handler, if any.
pub fn run_init(main: &mut MainConf) -> Result<(), String> {
    let init = main.init.clone();
    let vm = module::vm(main).map_err(|e| format!("failed to create the Lua VM: {e}"))?;
    let Some(h) = init else { return Ok(()) };
    let f = load_main_handler(vm, &h)?;
    sched::call(
        &vm.lua,
        None,
        Some(Phase::Init),
        &f,
        mlua::MultiValue::new(),
    )
    .map(|_| ())
    .map_err(|e| format!("init_by_lua error: {e}"))
}
