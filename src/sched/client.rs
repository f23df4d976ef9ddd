//! The client connection's events while a request's Lua code runs: nginx
//! delivers them to `r->read_event_handler` / `r->write_event_handler`,
//! which [`watch`] points here. A read goes to ngx.req.socket's socket when
//! it waits for data, else to the lua_check_client_abort test; a write goes
//! to the raw request socket when it waits to send, else to the
//! ngx.flush(true) waiters, else to what nginx would do by default.

use nginx_sys::ngx_http_request_t;

use super::RequestCtx;
use crate::api::context::Phase;
use crate::ffi::request::Req;
use crate::net::conn::IoEvent;
use crate::net::downstream;

/// Routes the request's read (or write) events here.
pub fn watch(r: Req, write: bool) {
    let h: nginx_sys::ngx_http_event_handler_pt =
        if write { Some(on_write) } else { Some(on_read) };
    downstream::set_handler(r, write, h);
}

/// nginx's default for a read event nobody waits for.
pub fn block_reading(r: Req) {
    // SAFETY: r is the live request nginx handed to the event handler.
    unsafe { nginx_sys::ngx_http_block_reading(r.raw()) }
}

/// Gives the downstream socket the event if it waits for it.
fn to_socket(r: Req, ctx: &RequestCtx, write: bool) -> bool {
    let h = ctx.downstream.borrow().as_ref().and_then(|w| w.upgrade());
    match h {
        Some(h) if h.waiting(write) => {
            let timedout = downstream::take_timedout(r, write);
            h.on_io(IoEvent { write, timedout });
            true
        }
        _ => false,
    }
}

unsafe extern "C" fn on_read(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls request event handlers with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        let Some(ctx) = RequestCtx::get(req) else {
            block_reading(req);
            return;
        };
        if !to_socket(req, ctx, false) {
            crate::api::abort::client_read(req, ctx);
        }
    })
}

unsafe extern "C" fn on_write(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls request event handlers with the live request.
    let Some(req) = (unsafe { Req::from_raw(r) }) else {
        return;
    };
    crate::ffi::guard(req.log(), (), || {
        let Some(ctx) = RequestCtx::get(req) else {
            return;
        };
        if to_socket(req, ctx, true) {
            return;
        }
        if !ctx.flushing.borrow().is_empty() {
            crate::api::output::flush_event(req, ctx);
            return;
        }
        // Nobody waits: nginx's default for the phase (an empty handler in
        // the content phase, the phase engine before it).
        if ctx.entry_phase.get() != Some(Phase::Content) {
            req.run_phases();
        }
    })
}
