//! Phase handlers, one file per phase, plus what rewrite, access and content
//! share: loading a handler's function and turning a coroutine's outcome into
//! the code nginx expects.

pub mod access;
mod access_like;
pub mod balancer;
pub mod body_filter;
pub mod content;
pub mod header_filter;
pub mod init;
pub mod init_worker;
pub mod log;
pub mod rewrite;
pub mod set;

use mlua::Function;
use nginx_sys::{
    ngx_int_t, NGX_DECLINED, NGX_DONE, NGX_ERROR, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_OK,
};

use crate::api::context::Phase;
use crate::api::output;
use crate::conf::{source::absolute_path, Handler, Source};
use crate::ffi::log as errlog;
use crate::ffi::request::Req;
use crate::module;
use crate::sched::{self, Outcome, RequestCtx};
use crate::vm::{Chunk, LuaVm};
use std::rc::Rc;

pub(crate) const DECLINED: ngx_int_t = NGX_DECLINED as ngx_int_t;
pub(crate) const DONE: ngx_int_t = NGX_DONE as ngx_int_t;
pub(crate) const OK: ngx_int_t = NGX_OK as ngx_int_t;
pub(crate) const ERROR: ngx_int_t = NGX_ERROR as ngx_int_t;
pub(crate) const HTTP_500: ngx_int_t = NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;

/// The Lua function a handler runs, or the status to answer with after
/// logging why not (404 for a missing file, 500 otherwise).
pub fn load(vm: &LuaVm, r: Req, h: &Handler) -> Result<Rc<Chunk>, ngx_int_t> {
    let cache = module::request_loc_conf(r.raw()).code_cache();
    if !cache {
        let _ = vm.reset_loaded_modules();
    }
    match &h.source {
        Source::Inline { slot } => vm.inline(*slot).ok_or(HTTP_500),
        Source::File { path, has_vars } => {
            let path = if *has_vars {
                let expanded = crate::api::var::expand(r, path);
                let prefix = crate::ffi::cycle_prefix();
                absolute_path(&prefix, &expanded)
            } else {
                path.clone()
            };
            match vm.load_file(&path, cache) {
                Ok(f) => Ok(f),
                Err(e) => {
                    errlog::error(
                        nginx_sys::NGX_LOG_ERR as usize,
                        r.log(),
                        &format!(
                            "failed to load external Lua file \"{}\": {}",
                            String::from_utf8_lossy(&path),
                            e.msg
                        ),
                    );
                    Err(if e.not_found {
                        nginx_sys::NGX_HTTP_NOT_FOUND as ngx_int_t
                    } else {
                        HTTP_500
                    })
                }
            }
        }
    }
}

/// The cycle's VM for a request.
pub fn request_vm<'a>(r: Req) -> Option<&'a LuaVm> {
    module::request_main_conf(r.raw()).vm.as_ref()
}

/// Turns the outcome of a rewrite/access/content run into the handler's
/// return code. `Yielded` maps to NGX_DONE; the caller handles the count.
pub fn outcome_rc(r: Req, phase: Phase, outcome: Outcome) -> ngx_int_t {
    let Some(ctx) = RequestCtx::get(r) else {
        return HTTP_500;
    };
    match outcome {
        Outcome::Yielded => DONE,
        Outcome::Finished => {
            if phase == Phase::Content {
                eof_rc(r, ctx)
            } else {
                DECLINED
            }
        }
        Outcome::Failed => {
            if r.header_sent() {
                // Deliver what was already output, then cut the connection
                // (the response stays unterminated, as upstream).
                r.send_buf(&[], false, true);
                ERROR
            } else {
                HTTP_500
            }
        }
        Outcome::Exec => {
            let target = ctx.exec.borrow_mut().take();
            let Some((uri, args)) = target else {
                return HTTP_500;
            };
            let rc = r.redirect(&uri, &args);
            if rc == ERROR {
                return HTTP_500;
            }
            if phase != Phase::Content {
                r.finalize(DONE);
            }
            DONE
        }
        Outcome::Exited(code) => exit_rc(r, ctx, phase, code as ngx_int_t),
    }
}

/// lua-nginx-module's ngx.exit semantics for the phase it ends.
fn exit_rc(r: Req, ctx: &RequestCtx, phase: Phase, code: ngx_int_t) -> ngx_int_t {
    if code == OK {
        return match phase {
            Phase::Content => eof_rc(r, ctx),
            Phase::Access => OK,
            _ => DECLINED,
        };
    }
    if code < 0 {
        return code;
    }
    let special = code >= 300 || code == 201 || code == 204;
    if r.header_sent() || ctx.eof.get() {
        let rc = eof_rc(r, ctx);
        return if rc == ERROR { ERROR } else { OK };
    }
    if special {
        return code;
    }
    if code >= 200 {
        r.set_status(code as usize);
    }
    eof_rc(r, ctx)
}

/// Sends headers if needed and the last buffer, once.
fn eof_rc(r: Req, ctx: &RequestCtx) -> ngx_int_t {
    match output::send_eof(r, ctx) {
        Ok(()) => OK,
        Err(output::OutputError) => ERROR,
    }
}

/// Resumes a request's waiting coroutine after its event fired: directly in
/// the content phase, through the phase engine in rewrite/access (lua-nginx-
/// module's protocol), then runs posted subrequests.
pub fn wake(r: Req, co: sched::Target, args: sched::Args) {
    let Some(ctx) = RequestCtx::get(r) else {
        return;
    };
    // Finalizing below may free the request.
    let posted = r.posted_requests();
    match ctx.entry_phase.get() {
        Some(Phase::Timer) => {
            if let Some(vm) = request_vm(r) {
                crate::api::timer::wake(&vm.lua, r, co, args);
            }
            return;
        }
        Some(Phase::Content) => {
            let Some(vm) = request_vm(r) else { return };
            let outcome = sched::resume(&vm.lua, r, co, args);
            if outcome != Outcome::Yielded {
                let rc = outcome_rc(r, Phase::Content, outcome);
                r.finalize(rc);
            }
        }
        Some(_) => {
            ctx.resume_ready.set(true);
            ctx.resume_co.set(co);
            ctx.resume_args.set(args);
            r.run_phases();
        }
        None => {}
    }
    posted.run();
}

/// The function of an http-level handler (init, init_worker, exit_worker),
/// which has no request to expand variables against.
pub fn load_main_handler(vm: &LuaVm, h: &Handler) -> Result<Function, String> {
    match &h.source {
        Source::Inline { slot } => vm
            .inline(*slot)
            .map(|c| c.func.clone())
            .ok_or_else(|| "lost inline code".to_string()),
        Source::File { path, .. } => vm
            .load_file(path, true)
            .map(|c| c.func.clone())
            .map_err(|e| e.msg),
    }
}
