//! balancer_by_lua*: picks the upstream peer for each try (called from the
//! upstream's get-peer hook, ffi/upstream.rs); cannot yield.

use nginx_sys::ngx_int_t;

use super::{load, request_vm};
use crate::api::context::{Frame, Phase};
use crate::conf::Handler;
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::ffi::upstream::Decision;
use crate::sched::{self, RequestCtx};

pub fn run(r: Req, h: &Handler) -> Decision {
    let (Some(vm), Some(ctx)) = (request_vm(r), RequestCtx::get_or_create(r)) else {
        return Decision::Failed;
    };
    let Ok(f) = load(vm, r, h) else {
        return Decision::Failed;
    };
    // ngx.exit here records a code read below; the request's own exit code
    // (from earlier phases) is kept aside meanwhile.
    let saved = ctx.exit_code.replace(None);
    let frame = Frame {
        req: r,
        phase: Phase::Balancer,
    };
    let res = sched::call_chunk(&vm.sched, frame, &f);
    let code = ctx.exit_code.replace(saved);
    if let Err(e) = res {
        log::error(
            nginx_sys::NGX_LOG_ERR as usize,
            r.log(),
            &format!("failed to run balancer_by_lua*: {e}"),
        );
        return Decision::Failed;
    }
    match code {
        Some(c) if c != 0 => Decision::Exit(c as ngx_int_t),
        _ => Decision::Continue,
    }
}
