//! set_by_lua* plugs into ngx_http_rewrite_module's script engine, as `set`
//! does: our code computes a value onto the engine's stack, then nginx's own
//! `ngx_http_script_set_var_code` stores it in the variable. That keeps
//! set_by_lua in order with `set`, `if` and `rewrite` in the same location.

// These wrappers take nginx's raw pointers by design: pointers here are the request and compiled values nginx hands to script codes, live for the call.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::mem::size_of;

use nginx_sys::{
    ngx_array_create, ngx_array_push_n, ngx_array_t, ngx_flag_t, ngx_http_add_variable,
    ngx_http_compile_complex_value, ngx_http_compile_complex_value_t, ngx_http_complex_value,
    ngx_http_complex_value_t, ngx_http_conf_ctx_t, ngx_http_get_variable_index, ngx_http_request_t,
    ngx_http_script_engine_t, ngx_http_script_set_var_code, ngx_http_script_var_code_t,
    ngx_http_variable_value_t, ngx_int_t, ngx_module_t, ngx_str_t, ngx_uint_t,
    ngx_variable_value_t, NGX_HTTP_VAR_CHANGEABLE,
};

use super::conf::Conf;
use super::request::Req;
use crate::conf::SetByLua;

extern "C" {
    // Defined by nginx (always built in); not declared in its headers.
    static mut ngx_http_rewrite_module: ngx_module_t;
}

/// ngx_http_rewrite_module's location conf; its layout has been stable since
/// nginx 1.0 (ngx_http_rewrite_module.c).
#[repr(C)]
struct RewriteLocConf {
    codes: *mut ngx_array_t,
    stack_size: ngx_uint_t,
    log: ngx_flag_t,
    uninitialized_variable_warn: ngx_flag_t,
}

/// The code we place in the rewrite module's code array.
#[repr(C)]
struct SetCode {
    code: unsafe extern "C" fn(*mut ngx_http_script_engine_t),
    run: SetFn,
    data: *const SetByLua,
}

/// Computes the value for one set_by_lua directive; None on failure (the
/// request then gets a 500, as upstream).
pub type SetFn = fn(r: Req, data: &SetByLua) -> Option<Vec<u8>>;

unsafe extern "C" fn set_code(e: *mut ngx_http_script_engine_t) {
    // SAFETY: the engine runs our code with ip at our SetCode, sp pointing at
    // free stack slots (stack_size >= 10), and a live request.
    unsafe {
        let code = &*((*e).ip as *const SetCode);
        (*e).ip = (*e).ip.add(size_of::<SetCode>());
        let Some(r) = Req::from_raw((*e).request) else {
            return;
        };
        // `data` lives in the cycle pool, as long as the code array itself.
        let (run, data) = (code.run, &*code.data);
        let value = super::guard(r.log(), None, || run(r, data));
        let Some(value) = value.and_then(|v| r.pool_str(&v)) else {
            (*e).ip = exit_code_ptr();
            (*e).status = nginx_sys::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
            return;
        };
        let mut vv: ngx_variable_value_t = std::mem::zeroed();
        vv.set_len(value.len as u32);
        vv.set_valid(1);
        vv.data = value.data;
        *(*e).sp = vv;
        (*e).sp = (*e).sp.add(1);
    }
}

/// nginx's `ngx_http_script_exit` is a pointer to a NULL code: pointing ip at
/// any NULL code pointer stops the engine.
fn exit_code_ptr() -> *mut u8 {
    static EXIT: usize = 0;
    std::ptr::addr_of!(EXIT) as *mut u8
}

unsafe extern "C" fn empty_var(
    r: *mut ngx_http_request_t,
    v: *mut ngx_http_variable_value_t,
    _d: usize,
) -> ngx_int_t {
    let _ = r;
    // SAFETY: nginx passes a value slot to fill.
    unsafe {
        *v = std::mem::zeroed();
        (*v).set_valid(1);
        (*v).data = c"".as_ptr() as *mut u8;
    }
    nginx_sys::NGX_OK as ngx_int_t
}

/// Compiles a directive argument that may hold variables.
pub fn compile_complex(
    cf: &Conf,
    value: &ngx_str_t,
) -> Result<*mut ngx_http_complex_value_t, String> {
    // SAFETY: cf is live; the compiled value is allocated in cf->pool.
    unsafe {
        let cv = nginx_sys::ngx_pcalloc((*cf.raw()).pool, size_of::<ngx_http_complex_value_t>())
            as *mut ngx_http_complex_value_t;
        if cv.is_null() {
            return Err("no memory".into());
        }
        let mut v = *value;
        let mut ccv: ngx_http_compile_complex_value_t = std::mem::zeroed();
        ccv.cf = cf.raw();
        ccv.value = &mut v;
        ccv.complex_value = cv;
        if ngx_http_compile_complex_value(&mut ccv) != nginx_sys::NGX_OK as ngx_int_t {
            return Err(String::new());
        }
        Ok(cv)
    }
}

/// Evaluates a compiled value for a request.
pub fn eval_complex(r: Req, cv: *mut ngx_http_complex_value_t) -> Option<Vec<u8>> {
    // SAFETY: cv was compiled at configuration time; the result lives in the
    // request pool and is copied out at once.
    unsafe {
        let mut out = ngx_str_t {
            len: 0,
            data: std::ptr::null_mut(),
        };
        if ngx_http_complex_value(r.raw(), cv, &mut out) != nginx_sys::NGX_OK as ngx_int_t {
            return None;
        }
        Some(super::str_bytes(&out).to_vec())
    }
}

/// Appends "compute with Lua, then store into $var" to the rewrite module's
/// code for the location being configured.
pub fn add_set_code(
    cf: &Conf,
    var: &[u8],
    run: SetFn,
    data: *const SetByLua,
) -> Result<(), String> {
    let Some(name) = var.strip_prefix(b"$") else {
        return Err(format!(
            "invalid variable name \"{}\"",
            String::from_utf8_lossy(var)
        ));
    };
    // SAFETY: cf is live inside a server/location block of http; the rewrite
    // module's loc conf exists there. The code array holds raw bytes; each
    // push may move it, so each struct is written right after its push.
    unsafe {
        let ctx = (*cf.raw()).ctx as *mut ngx_http_conf_ctx_t;
        let rlcf = *(*ctx)
            .loc_conf
            .add((*std::ptr::addr_of!(ngx_http_rewrite_module)).ctx_index)
            as *mut RewriteLocConf;
        let mut vname = ngx_str_t {
            len: name.len(),
            data: name.as_ptr() as *mut u8,
        };
        let pool_name = nginx_sys::ngx_pnalloc((*cf.raw()).pool, name.len()) as *mut u8;
        if pool_name.is_null() {
            return Err("no memory".into());
        }
        std::ptr::copy_nonoverlapping(name.as_ptr(), pool_name, name.len());
        vname.data = pool_name;
        let v = ngx_http_add_variable(cf.raw(), &mut vname, NGX_HTTP_VAR_CHANGEABLE as ngx_uint_t);
        if v.is_null() {
            return Err(String::new());
        }
        let index = ngx_http_get_variable_index(cf.raw(), &mut vname);
        if index < 0 {
            return Err(String::new());
        }
        if (*v).get_handler.is_none() {
            (*v).get_handler = Some(empty_var);
            (*v).data = index as usize;
        }
        if (*rlcf).codes.is_null() {
            (*rlcf).codes = ngx_array_create((*cf.raw()).pool, 64, 1);
            if (*rlcf).codes.is_null() {
                return Err("no memory".into());
            }
        }
        let p = ngx_array_push_n((*rlcf).codes, size_of::<SetCode>()) as *mut SetCode;
        if p.is_null() {
            return Err("no memory".into());
        }
        p.write_unaligned(SetCode {
            code: set_code,
            run,
            data,
        });
        let p = ngx_array_push_n((*rlcf).codes, size_of::<ngx_http_script_var_code_t>())
            as *mut ngx_http_script_var_code_t;
        if p.is_null() {
            return Err("no memory".into());
        }
        p.write_unaligned(ngx_http_script_var_code_t {
            code: Some(ngx_http_script_set_var_code),
            index: index as usize,
        });
    }
    Ok(())
}
