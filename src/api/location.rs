//! ngx.location.capture and ngx.location.capture_multi (lua-nginx-module's
//! ngx_http_lua_subrequest.c): options are checked here, the subrequests are
//! issued by ffi/subrequest.rs, and the Lua shim (lualib/location.lua)
//! yields until [`deliver`] resumes it with one response table per
//! subrequest: `{status, header, body, truncated}`.

use mlua::{Lua, MultiValue, Table, Value};

use super::context::{frame, Ctx, Phase};
use super::{raise, raw_function, ApiError, ApiResult};
use crate::ffi::log;
use crate::ffi::request::Req;
use crate::ffi::subrequest::{self, HeaderValue, SubResult, SubSpec, VarsAction};
use crate::sched::{self, RequestCtx, Waiter};

/// rewrite, access and content only (not server_rewrite, precontent, timers).
const CAPTURE_CTX: Ctx = Ctx::of(&[Phase::Rewrite, Phase::Access, Phase::Content]);

/// nginx's method bits and names (`ngx.HTTP_*`).
const METHODS: &[(usize, &[u8])] = &[
    (0x0002, b"GET"),
    (0x0004, b"HEAD"),
    (0x0008, b"POST"),
    (0x0010, b"PUT"),
    (0x0020, b"DELETE"),
    (0x0040, b"MKCOL"),
    (0x0080, b"COPY"),
    (0x0100, b"MOVE"),
    (0x0200, b"OPTIONS"),
    (0x0400, b"PROPFIND"),
    (0x0800, b"PROPPATCH"),
    (0x1000, b"LOCK"),
    (0x2000, b"UNLOCK"),
    (0x4000, b"PATCH"),
    (0x8000, b"TRACE"),
];

fn type_name(v: &Value) -> &'static str {
    super::socket::type_name(v)
}

/// A string or number option as bytes (what lua_tolstring accepts).
fn stringish(lua: &Lua, v: &Value) -> ApiResult<Option<Vec<u8>>> {
    Ok(match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => {
            lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
        }
        _ => None,
    })
}

/// One `{uri, opts?}` entry as a subrequest spec plus its `ctx` table.
fn parse_query(lua: &Lua, r: Req, index: usize, q: Value) -> ApiResult<(SubSpec, Option<Table>)> {
    let q = match q {
        Value::Table(t) => t,
        Value::Nil => return raise("only array-like tables are allowed"),
        other => {
            return raise(format!(
                "the query argument {index} is not a table, but a {}",
                type_name(&other)
            ))
        }
    };
    let nargs = q.raw_len();
    if nargs != 1 && nargs != 2 {
        return raise(format!(
            "query argument {index} expecting one or two arguments"
        ));
    }
    let uri_v: Value = q.raw_get(1)?;
    let mut spec = SubSpec {
        uri: Vec::new(),
        args: Vec::new(),
        method: (0x0002, b"GET"),
        body: None,
        always_forward_body: false,
        vars_action: VarsAction::Fresh,
        vars: Vec::new(),
        headers: Vec::new(),
    };
    let mut extra_args = Vec::new();
    let mut ctx_table = None;
    let mut method_bit = 0x0002usize;
    if nargs == 2 {
        let opts = match q.raw_get::<Value>(2)? {
            Value::Table(t) => t,
            other => {
                return raise(format!(
                    "expecting table as the 2nd argument for subrequest {index}, but got {}",
                    type_name(&other)
                ))
            }
        };
        match opts.get::<Value>("args")? {
            Value::Nil => {}
            Value::Table(t) => extra_args = super::args::encode_table(lua, &t)?,
            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                extra_args = stringish(lua, &v)?.unwrap_or_default()
            }
            _ => return raise("Bad args option value"),
        }
        match opts.get::<Value>("vars")? {
            Value::Nil => {}
            Value::Table(t) => {
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    let Value::String(k) = k else {
                        return raise(
                            "attempt to use a non-string key in the \"vars\" option table",
                        );
                    };
                    let Some(v) = stringish(lua, &v)? else {
                        return raise(format!(
                            "attempt to use bad variable value type {}",
                            type_name(&v)
                        ));
                    };
                    spec.vars.push((k.as_bytes().to_vec(), v));
                }
            }
            _ => return raise("Bad vars option value"),
        }
        let mut share = false;
        match opts.get::<Value>("share_all_vars")? {
            Value::Nil => {}
            Value::Boolean(b) => share = b,
            _ => return raise("Bad share_all_vars option value"),
        }
        let mut copy = false;
        match opts.get::<Value>("copy_all_vars")? {
            Value::Nil => {}
            Value::Boolean(b) => copy = b,
            _ => return raise("Bad copy_all_vars option value"),
        }
        spec.vars_action = if share {
            VarsAction::Share
        } else if copy {
            VarsAction::Copy
        } else {
            VarsAction::Fresh
        };
        spec.always_forward_body = !matches!(
            opts.get::<Value>("always_forward_body")?,
            Value::Nil | Value::Boolean(false)
        );
        match opts.get::<Value>("method")? {
            Value::Nil => {}
            Value::Integer(i) => method_bit = i as usize,
            Value::Number(n) => method_bit = n as usize,
            Value::String(s) => {
                let name = s.as_bytes();
                match METHODS.iter().find(|(_, n)| *n == &name[..]) {
                    Some((bit, _)) => method_bit = *bit,
                    None => return raise("Bad http request method"),
                }
            }
            _ => return raise("Bad http request method"),
        }
        match opts.get::<Value>("ctx")? {
            Value::Nil => {}
            Value::Table(t) => ctx_table = Some(t),
            other => {
                return raise(format!(
                    "Bad ctx option value type {}, expected a Lua table",
                    type_name(&other)
                ))
            }
        }
        match opts.get::<Value>("body")? {
            Value::Nil => {}
            v => match stringish(lua, &v)? {
                Some(b) => spec.body = Some(b),
                None => return raise("Bad http request body"),
            },
        }
        match opts.get::<Value>("headers")? {
            Value::Nil => {}
            Value::Table(t) => {
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    let Some(k) = stringish(lua, &k)? else {
                        return raise(
                            "attempt to use a non-string key in the \"headers\" option table",
                        );
                    };
                    let values = match &v {
                        Value::Table(list) => {
                            let mut out = Vec::new();
                            for item in list.sequence_values::<Value>() {
                                let item = item?;
                                match stringish(lua, &item)? {
                                    Some(b) => out.push(b),
                                    None => {
                                        return raise(format!(
                                            "attempt to use bad header value type {}",
                                            type_name(&item)
                                        ))
                                    }
                                }
                            }
                            out
                        }
                        other => match stringish(lua, other)? {
                            Some(b) => vec![b],
                            None => {
                                return raise(format!(
                                    "attempt to use bad header value type {}",
                                    type_name(other)
                                ))
                            }
                        },
                    };
                    spec.headers.push((k, values));
                }
            }
            other => {
                return raise(format!(
                    "Bad headers option value type {}, expected a Lua table",
                    type_name(&other)
                ))
            }
        }
    }
    let Some(uri) = stringish(lua, &uri_v)? else {
        return raise(format!(
            "bad argument #1 to 'capture' (string expected, got {})",
            type_name(&uri_v)
        ));
    };
    let Some((path, mut args)) = subrequest::parse_unsafe_uri(r, &uri) else {
        return raise(format!(
            "unsafe uri in argument #1: {}",
            String::from_utf8_lossy(&uri)
        ));
    };
    if !extra_args.is_empty() {
        if !args.is_empty() {
            args.push(b'&');
        }
        args.extend_from_slice(&extra_args);
    }
    spec.uri = path;
    spec.args = args;
    match METHODS.iter().find(|(bit, _)| *bit == method_bit) {
        Some(&m) => spec.method = m,
        None => {
            log::error(
                nginx_sys::NGX_LOG_ERR as usize,
                r.log(),
                &format!("unsupported HTTP method: {method_bit}"),
            );
            return raise(format!(
                "failed to adjust the subrequest: {}",
                nginx_sys::NGX_ERROR
            ));
        }
    }
    Ok((spec, ctx_table))
}

/// Issues the subrequests; the shim then yields until they are all done.
fn capture_start(lua: &Lua, args: MultiValue) -> ApiResult<()> {
    if args.len() != 1 {
        return raise(format!(
            "only one argument is expected, but got {}",
            args.len()
        ));
    }
    let reqs = match args.front() {
        Some(Value::Table(t)) => t.clone(),
        Some(other) => {
            return raise(format!(
                "bad argument #1 to 'capture_multi' (table expected, got {})",
                type_name(other)
            ))
        }
        None => return raise("bad argument #1 to 'capture_multi' (table expected, got no value)"),
    };
    let n = reqs.raw_len();
    if n == 0 {
        return raise("at least one subrequest should be specified");
    }
    let f = frame(lua, CAPTURE_CTX)?;
    let r = f.req;
    let Some(ctx) = RequestCtx::get_or_create(r) else {
        return raise("no ctx found");
    };
    let Some(waiter) = Waiter::current(lua) else {
        return raise("no co ctx found");
    };
    let Some(thread_ptr) = ctx.cos.borrow().get(waiter.co).map(|c| c.thread_ptr) else {
        return raise("no co ctx found");
    };
    let Some(cap) = subrequest::begin(r, waiter, thread_ptr, n) else {
        return raise("no memory");
    };
    for index in 0..n {
        let issued =
            parse_query(lua, r, index, reqs.raw_get(index + 1)?).and_then(|(spec, ctx_table)| {
                let sr = subrequest::create(r, cap, index, &spec).map_err(ApiError::Raise)?;
                if let Some(t) = ctx_table {
                    let Some(sctx) = RequestCtx::get_or_create(sr) else {
                        return raise("no memory");
                    };
                    *sctx.ctx_table.borrow_mut() = Some(lua.create_registry_value(&t)?);
                }
                Ok(())
            });
        if let Err(e) = issued {
            subrequest::abandon(r, cap);
            return Err(e);
        }
    }
    Ok(())
}

/// A response as the table the shim returns.
fn response_table(lua: &Lua, res: SubResult) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    t.raw_set("status", res.status)?;
    t.raw_set("truncated", res.truncated)?;
    t.raw_set("body", lua.create_string(&res.body)?)?;
    let h = lua.create_table_with_capacity(0, res.headers.len() + 5)?;
    for (k, v) in res.headers {
        let key = lua.create_string(&k)?;
        let val = lua.create_string(&v)?;
        match h.raw_get::<Value>(&key)? {
            Value::Nil => h.raw_set(key, val)?,
            Value::Table(list) => list.raw_push(val)?,
            old => {
                let list = lua.create_table_with_capacity(4, 0)?;
                list.raw_push(old)?;
                list.raw_push(val)?;
                h.raw_set(key, list)?;
            }
        }
    }
    for (k, v) in res.overrides {
        match v {
            HeaderValue::Str(s) => h.raw_set(k, lua.create_string(&s)?)?,
            HeaderValue::Num(n) => h.raw_set(k, n as f64)?,
        }
    }
    t.raw_set("header", h)?;
    Ok(t)
}

/// Resumes the coroutine that waits in a capture with the responses, in
/// the order the subrequests were given.
pub fn deliver(waiter: Waiter, results: Vec<SubResult>) {
    let Some(vm) = crate::phase::request_vm(waiter.req) else {
        return;
    };
    let lua = &vm.lua;
    let mut values = MultiValue::new();
    for res in results {
        match response_table(lua, res) {
            Ok(t) => values.push_back(Value::Table(t)),
            Err(e) => {
                log::error(
                    nginx_sys::NGX_LOG_ERR as usize,
                    waiter.req.log(),
                    &format!("lua failed to build the subrequest response: {e}"),
                );
                values.push_back(Value::Nil);
            }
        }
    }
    waiter.wake(values);
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    super::subtable(lua, ngx, "location")?;
    let shim: mlua::Function = lua
        .load(include_str!("../../lualib/location.lua"))
        .set_name("=ngx_lua_rs.location")
        .into_function()?;
    shim.call::<()>((
        raw_function(lua, capture_start)?,
        super::shim_raise(lua)?,
        sched::wait_marker(),
    ))
}
