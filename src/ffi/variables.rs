//! nginx variables: read any, write the changeable ones, and regex captures.

use nginx_sys::{
    ngx_hash_find, ngx_hash_strlow, ngx_http_core_main_conf_t, ngx_http_core_module,
    ngx_http_get_variable, ngx_http_variable_t, ngx_str_t, ngx_variable_value_t,
    NGX_HTTP_VAR_CHANGEABLE, NGX_HTTP_VAR_INDEXED,
};

use super::request::Req;

/// Lower-cases `name` into the request pool and hashes it as nginx does.
fn lowcase(r: Req, name: &[u8]) -> Option<(ngx_str_t, usize)> {
    let mut s = r.pool_str(name)?;
    if s.len == 0 {
        return Some((s, 0));
    }
    // SAFETY: s.data holds s.len bytes in the request pool; lowering in place.
    let key = unsafe { ngx_hash_strlow(s.data, s.data, s.len) };
    s.len = name.len();
    Some((s, key))
}

/// The value of `$name`, or None when it is undefined or not found.
pub fn get<'a>(r: Req, name: &[u8]) -> Option<&'a [u8]> {
    let (mut lname, key) = lowcase(r, name)?;
    // SAFETY: the request is alive; the returned value lives in the request
    // pool (or static memory) for the rest of the request.
    unsafe {
        let v = ngx_http_get_variable(r.raw(), &mut lname, key);
        if v.is_null() || (*v).not_found() != 0 {
            return None;
        }
        let len = (*v).len() as usize;
        if len == 0 {
            return Some(&[]);
        }
        Some(std::slice::from_raw_parts((*v).data, len))
    }
}

/// Whether `$name` is a variable nginx knows about.
pub fn exists(r: Req, name: &[u8]) -> bool {
    find(r, name).is_some() || is_prefix_variable(name)
}

fn is_prefix_variable(name: &[u8]) -> bool {
    let lower: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
    [
        "http_",
        "sent_http_",
        "sent_trailer_",
        "cookie_",
        "arg_",
        "upstream_http_",
        "upstream_trailer_",
        "upstream_cookie_",
    ]
    .iter()
    .any(|p| lower.starts_with(p.as_bytes()))
}

fn find(r: Req, name: &[u8]) -> Option<*mut ngx_http_variable_t> {
    let (lname, key) = lowcase(r, name)?;
    // SAFETY: the core main conf of the request; variables_hash is built at
    // configuration time and read-only afterwards.
    unsafe {
        let raw = r.get();
        let cmcf =
            *raw.main_conf.add(ngx_http_core_module.ctx_index) as *mut ngx_http_core_main_conf_t;
        let v = ngx_hash_find(&mut (*cmcf).variables_hash, key, lname.data, lname.len)
            as *mut ngx_http_variable_t;
        (!v.is_null()).then_some(v)
    }
}

/// Why a variable could not be written.
pub enum SetError {
    NotFound,
    NotChangeable,
    NoMemory,
}

/// Writes `$name` (None unsets it).
pub fn set(r: Req, name: &[u8], value: Option<&[u8]>) -> Result<(), SetError> {
    let Some(v) = find(r, name) else {
        return Err(SetError::NotFound);
    };
    // SAFETY: v is a live variable definition; values we store are copied into
    // the request pool, as nginx requires.
    unsafe {
        let flags = (*v).flags as u32;
        if flags & NGX_HTTP_VAR_CHANGEABLE == 0 {
            return Err(SetError::NotChangeable);
        }
        let mut vv: ngx_variable_value_t = std::mem::zeroed();
        match value {
            Some(bytes) => {
                let s = r.pool_str(bytes).ok_or(SetError::NoMemory)?;
                vv.set_len(s.len as u32);
                vv.set_valid(1);
                vv.data = s.data;
            }
            None => {
                vv.set_not_found(1);
            }
        }
        if let Some(set_handler) = (*v).set_handler {
            let p = nginx_sys::ngx_palloc(r.pool(), std::mem::size_of::<ngx_variable_value_t>())
                as *mut ngx_variable_value_t;
            if p.is_null() {
                return Err(SetError::NoMemory);
            }
            *p = vv;
            set_handler(r.raw(), p, (*v).data);
            return Ok(());
        }
        if flags & NGX_HTTP_VAR_INDEXED != 0 {
            let raw = r.get();
            *raw.variables.add((*v).index) = vv;
            return Ok(());
        }
        Err(SetError::NotChangeable)
    }
}

/// Regex capture `$n` of the last match (None if there is no such group).
pub fn capture<'a>(r: Req, n: usize) -> Option<&'a [u8]> {
    // SAFETY: captures/ncaptures/captures_data describe the last regex match
    // of this request and live in its pool.
    unsafe {
        let raw = r.get();
        if raw.captures.is_null() || n * 2 + 1 >= raw.ncaptures {
            return None;
        }
        let start = *raw.captures.add(n * 2);
        let end = *raw.captures.add(n * 2 + 1);
        if start < 0 || end < start || raw.captures_data.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(
            raw.captures_data.add(start as usize),
            (end - start) as usize,
        ))
    }
}
