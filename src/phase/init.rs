//! init_by_lua*: runs once in the master at configuration time, so that its
//! state (globals, preloaded modules) is inherited by every worker.

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
    let init = main.init.clone();
    let vm = module::vm(main).map_err(|e| format!("failed to create the Lua VM: {e}"))?;
    vm.set_package_paths(path.as_deref(), cpath.as_deref(), &prefix)
        .map_err(|e| format!("failed to set the Lua package path: {e}"))?;
    // `nginx -s reload` parses the configuration too; upstream skips init there.
    if phases::process_type() == nginx_sys::NGX_PROCESS_SIGNALLER as usize {
        return Ok(());
    }
    let Some(h) = init else { return Ok(()) };
    let f = load_main_handler(vm, &h)?;
    sched::call(&vm.lua, None, Some(Phase::Init), &f, mlua::MultiValue::new())
        .map(|_| ())
        .map_err(|e| format!("init_by_lua error: {e}"))
}
