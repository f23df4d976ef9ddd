//! Host name resolution for cosockets through nginx's resolver (the
//! location's `resolver` directive), delivering the chosen address to a Rust
//! [`ResolveHandler`].

use std::cell::{Cell, RefCell};
use std::ffi::{c_void, CStr};
use std::rc::{Rc, Weak};

use nginx_sys::{
    ngx_msec_t, ngx_resolve_name, ngx_resolve_name_done, ngx_resolve_start, ngx_resolver_ctx_t,
    ngx_resolver_strerror, ngx_resolver_t, NGX_OK,
};

use super::addr::SockAddr;

pub type Resolved = Result<SockAddr, String>;

pub trait ResolveHandler {
    fn on_resolved(self: Rc<Self>, res: Resolved);
}

struct Hook {
    target: Weak<dyn ResolveHandler>,
    name: Vec<u8>,
    port: u16,
    /// The nginx resolver ctx while the query runs.
    ctx: Cell<*mut ngx_resolver_ctx_t>,
    /// Set once `start` returned: results go to `target`; before that they
    /// are kept in `early` (nginx may answer from its cache synchronously).
    armed: Cell<bool>,
    early: RefCell<Option<Resolved>>,
}

/// A running query; dropping it cancels the query.
pub struct Resolving {
    hook: Box<Hook>,
}

pub enum Start {
    /// No `resolver` is configured.
    NoResolver,
    /// nginx failed to start the query (message for Lua).
    Failed(String),
    /// Answered at once.
    Done(Resolved),
    /// Wait for `on_resolved`.
    Pending(Resolving),
}

/// Starts resolving `name` with the location's resolver.
pub fn start(
    resolver: &Resolver,
    name: &[u8],
    port: u16,
    target: Weak<dyn ResolveHandler>,
) -> Start {
    let Resolver {
        ptr: resolver,
        timeout,
    } = *resolver;
    if resolver.is_null() {
        return Start::NoResolver;
    }
    let mut hook = Box::new(Hook {
        target,
        name: name.to_vec(),
        port,
        ctx: Cell::new(std::ptr::null_mut()),
        armed: Cell::new(false),
        early: RefCell::new(None),
    });
    // SAFETY: `resolver` is the location's live resolver; `temp` is only read
    // by ngx_resolve_start; the ctx it returns is ours until
    // ngx_resolve_name_done. ctx->name points into the boxed hook, which
    // outlives the query (Drop cancels it first).
    unsafe {
        let mut temp: ngx_resolver_ctx_t = std::mem::zeroed();
        temp.name.len = hook.name.len();
        temp.name.data = hook.name.as_mut_ptr();
        let ctx = ngx_resolve_start(resolver, &mut temp);
        if ctx.is_null() {
            return Start::Failed("failed to start the resolver".into());
        }
        if ctx as isize == -1 {
            return Start::NoResolver;
        }
        (*ctx).name.len = hook.name.len();
        (*ctx).name.data = hook.name.as_mut_ptr();
        (*ctx).handler = Some(on_resolved);
        (*ctx).data = &mut *hook as *mut Hook as *mut c_void;
        (*ctx).timeout = timeout;
        hook.ctx.set(ctx);
        if ngx_resolve_name(ctx) != NGX_OK as nginx_sys::ngx_int_t {
            // nginx frees the ctx itself on this failure.
            hook.ctx.set(std::ptr::null_mut());
            return Start::Failed(format!(
                "{} could not be resolved",
                String::from_utf8_lossy(&hook.name)
            ));
        }
    }
    if let Some(res) = hook.early.borrow_mut().take() {
        return Start::Done(res);
    }
    hook.armed.set(true);
    Start::Pending(Resolving { hook })
}

unsafe extern "C" fn on_resolved(ctx: *mut ngx_resolver_ctx_t) {
    // SAFETY: nginx calls this with the ctx we started; its data is our
    // boxed hook, alive until the query is done or cancelled.
    let hook_ptr = unsafe { (*ctx).data as *const Hook };
    crate::ffi::guard(crate::ffi::cycle_log(), (), || {
        let (target, res) = {
            // SAFETY: see above; the hook is not touched after the target is
            // called (which may free it).
            let hook = unsafe { &*hook_ptr };
            // SAFETY: ctx is live until ngx_resolve_name_done below.
            let res = unsafe { result(ctx, hook) };
            // SAFETY: done with the ctx (nginx allows this in the handler).
            unsafe { ngx_resolve_name_done(ctx) };
            hook.ctx.set(std::ptr::null_mut());
            if !hook.armed.get() {
                *hook.early.borrow_mut() = Some(res);
                return;
            }
            (hook.target.upgrade(), res)
        };
        if let Some(t) = target {
            t.on_resolved(res);
        }
    })
}

/// # Safety
/// `ctx` must be a resolver ctx passed to its handler.
unsafe fn result(ctx: *mut ngx_resolver_ctx_t, hook: &Hook) -> Resolved {
    let name = String::from_utf8_lossy(&hook.name).into_owned();
    // SAFETY: guaranteed by the caller; addrs has naddrs entries.
    unsafe {
        let state = (*ctx).state;
        if state != 0 {
            let text = CStr::from_ptr(ngx_resolver_strerror(state) as *const _)
                .to_string_lossy()
                .into_owned();
            return Err(format!("{name} could not be resolved ({state}: {text})"));
        }
        let n = (*ctx).naddrs;
        if n == 0 || (*ctx).addrs.is_null() {
            return Err("name cannot be resolved to a address".into());
        }
        let i = if n == 1 {
            0
        } else {
            (nginx_sys::random() as usize) % n
        };
        let a = &*(*ctx).addrs.add(i);
        SockAddr::from_raw(a.sockaddr, a.socklen, hook.port)
            .ok_or_else(|| "resolver not working".to_string())
    }
}

impl Drop for Resolving {
    fn drop(&mut self) {
        let ctx = self.hook.ctx.replace(std::ptr::null_mut());
        if !ctx.is_null() {
            // SAFETY: the query is still running; this cancels it.
            unsafe { ngx_resolve_name_done(ctx) };
        }
    }
}

/// A location's `resolver` (null when it has none) and `resolver_timeout`.
#[derive(Clone, Copy)]
pub struct Resolver {
    ptr: *mut ngx_resolver_t,
    timeout: ngx_msec_t,
}

impl Resolver {
    /// The resolver of a request's location.
    pub fn of(r: crate::ffi::request::Req) -> Resolver {
        // SAFETY: r is a live request (or fake request) whose loc_conf array
        // holds the core module's location conf.
        unsafe {
            let clcf = *(*r.raw())
                .loc_conf
                .add(nginx_sys::ngx_http_core_module.ctx_index)
                as *mut nginx_sys::ngx_http_core_loc_conf_t;
            if clcf.is_null() {
                return Resolver {
                    ptr: std::ptr::null_mut(),
                    timeout: 0,
                };
            }
            let t = (*clcf).resolver_timeout;
            let timeout = if t == ngx_msec_t::MAX { 30_000 } else { t };
            Resolver {
                ptr: (*clcf).resolver,
                timeout,
            }
        }
    }
}
