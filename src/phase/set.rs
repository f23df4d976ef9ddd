//! set_by_lua*: computes a variable's value inside the rewrite module's
//! script engine (see ffi/script.rs); runs without a coroutine, cannot yield.

use mlua::{MultiValue, Value};

use super::{load, request_vm};
use crate::api::context::{Frame, Phase};
use crate::conf::SetByLua;
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::ffi::script::eval_complex;
use crate::sched;

pub fn run(r: Req, set: &SetByLua) -> Option<Vec<u8>> {
    let vm = request_vm(r)?;
    let f = load(vm, r, &set.handler).ok()?;
    let lua = &vm.lua;
    let args = lua.create_table().ok()?;
    for (i, cv) in set.args.iter().enumerate() {
        let v = eval_complex(r, *cv)?;
        args.raw_set(i + 1, lua.create_string(&v).ok()?).ok()?;
    }
    let ngx: mlua::Table = lua.globals().raw_get("ngx").ok()?;
    let saved: Value = ngx.raw_get("arg").ok()?;
    ngx.raw_set("arg", &args).ok()?;
    let res = sched::call(
        lua,
        Some(Frame {
            req: r,
            phase: Phase::Set,
        }),
        None,
        &f.func,
        MultiValue::new(),
    );
    let _ = ngx.raw_set("arg", saved);
    match res {
        Ok(mut values) => Some(match values.pop_front() {
            Some(Value::String(s)) => s.as_bytes().to_vec(),
            Some(Value::Integer(i)) => i.to_string().into_bytes(),
            Some(Value::Number(n)) => {
                let mut out = Vec::new();
                crate::ffi::fmt::push_number(&mut out, n);
                out
            }
            _ => Vec::new(),
        }),
        Err(e) => {
            log::error(
                nginx_sys::NGX_LOG_ERR as usize,
                r.log(),
                &format!("failed to run set_by_lua*: {e}"),
            );
            None
        }
    }
}
