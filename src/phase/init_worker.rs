//! init_worker_by_lua* and exit_worker_by_lua*: run in each worker at start
//! and exit. Worker start is also where rewrite/access handlers are moved to
//! the end of their phases.

use nginx_sys::ngx_cycle_t;

use super::load_main_handler;
use crate::api::context::Phase;
use crate::conf::Handler;
use crate::ffi::{log, phases};
use crate::module;
use crate::sched;

pub fn run(cycle: *mut ngx_cycle_t) {
    let Some(main) = module::cycle_main_conf(cycle) else {
        return;
    };
    if main.requires_rewrite && !main.rewrite_no_postpone {
        phases::postpone_to_phase_end(cycle, Some(super::rewrite::handler));
    }
    if main.requires_access && !main.access_no_postpone {
        phases::postpone_to_phase_end(cycle, Some(super::access::handler));
    }
    if let Some(h) = main.init_worker.as_ref() {
        run_bare(main, h, Phase::InitWorker, "init_worker_by_lua");
    }
}

pub fn run_exit(cycle: *mut ngx_cycle_t) {
    let Some(main) = module::cycle_main_conf(cycle) else {
        return;
    };
    if let Some(h) = main.exit_worker.as_ref() {
        run_bare(main, h, Phase::ExitWorker, "exit_worker_by_lua");
    }
}

fn run_bare(main: &crate::conf::MainConf, h: &Handler, phase: Phase, what: &str) {
    let Some(vm) = main.vm.as_ref() else { return };
    let res = load_main_handler(vm, h).and_then(|f| {
        sched::call(&vm.lua, None, Some(phase), &f, mlua::MultiValue::new()).map(|_| ())
    });
    if let Err(e) = res {
        log::error(
            nginx_sys::NGX_LOG_ERR as usize,
            crate::ffi::cycle_log(),
            &format!("{what} error: {e}"),
        );
    }
}
