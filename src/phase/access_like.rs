//! What rewrite_by_lua and access_by_lua share: both run inside nginx's phase
//! engine, so a wait returns NGX_DONE and the wake-up re-runs the phases,
//! which calls the handler again to resume the coroutine.

use nginx_sys::ngx_int_t;

use super::{load, outcome_rc, request_vm, DECLINED, DONE, HTTP_500};
use crate::api::context::Phase;
use crate::ffi::request::Req;
use crate::module;
use crate::sched::{self, Outcome, RequestCtx};

pub fn run(r: Req, phase: Phase) -> ngx_int_t {
    let lcf = module::request_loc_conf(r.raw());
    let handler = match phase {
        Phase::Rewrite => lcf.rewrite.as_ref(),
        _ => lcf.access.as_ref(),
    };
    let Some(handler) = handler else {
        return DECLINED;
    };
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return HTTP_500;
    };
    let done = match phase {
        Phase::Rewrite => &ctx.rewrite_done,
        _ => &ctx.access_done,
    };
    if done.get() {
        return DECLINED;
    }
    // `rewrite ... last` earlier in the phase: the location is looked up
    // again, and the new location's handlers run instead.
    if phase == Phase::Rewrite && r.uri_changed() && !ctx.active() {
        return DECLINED;
    }
    let Some(vm) = request_vm(r) else {
        return HTTP_500;
    };

    let outcome = if ctx.entry_phase.get() == Some(phase) && ctx.active() {
        // Called again while our coroutines wait: resume only when an event
        // has fired (the waker sets `resume_ready`), else keep waiting.
        if !ctx.resume_ready.replace(false) {
            return DONE;
        }
        let args = ctx.resume_args.take();
        sched::resume(&vm.lua, r, ctx.resume_co.get(), args)
    } else {
        if lcf.need_request_body() && !ctx.body_read.get() {
            if let Some(rc) = crate::api::req_body::read_for_phase(r, ctx) {
                return rc;
            }
        }
        let f = match load(vm, r, handler) {
            Ok(f) => f,
            Err(rc) => return rc,
        };
        crate::api::abort::arm(r);
        sched::run(&vm.lua, r, phase, &f)
    };
    if phase == Phase::Rewrite && outcome == Outcome::Exited(0) && r.uri_changed() {
        // ngx.req.set_uri(uri, true): nginx looks the location up again and
        // the new location's rewrite_by_lua runs afresh, with a new ngx.ctx.
        *ctx.ctx_table.borrow_mut() = None;
        return DECLINED;
    }
    if outcome != Outcome::Yielded {
        done.set(true);
    }
    outcome_rc(r, phase, outcome)
}
