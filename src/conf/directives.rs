//! The directive table and its setters. Each `extern "C"` setter is a guarded
//! shim over a safe Rust function; `cmd->post` tells a shared setter which
//! directive it serves.

use std::ffi::{c_char, c_void};
use std::ptr;

use nginx_sys::{
    ngx_command_t, ngx_conf_t, ngx_str_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_2MORE,
    NGX_CONF_BLOCK, NGX_CONF_FLAG, NGX_CONF_NOARGS, NGX_CONF_TAKE1, NGX_CONF_TAKE2,
    NGX_HTTP_LIF_CONF, NGX_HTTP_LOC_CONF, NGX_HTTP_MAIN_CONF, NGX_HTTP_SIF_CONF, NGX_HTTP_SRV_CONF,
};

use super::source::{absolute_path, inline_chunkname, Handler, Source};
use super::{LocConf, MainConf};
use crate::ffi::conf::Conf;
use crate::module;

/// Which `*_by_lua*` slot a directive fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Init,
    InitWorker,
    ExitWorker,
    Rewrite,
    Access,
    Content,
    Log,
    HeaderFilter,
    BodyFilter,
    Balancer,
}

impl Slot {
    /// The tag used in chunk names and messages: "content_by_lua".
    fn tag(self) -> &'static str {
        match self {
            Slot::Init => "init_by_lua",
            Slot::InitWorker => "init_worker_by_lua",
            Slot::ExitWorker => "exit_worker_by_lua",
            Slot::Rewrite => "rewrite_by_lua",
            Slot::Access => "access_by_lua",
            Slot::Content => "content_by_lua",
            Slot::Log => "log_by_lua",
            Slot::HeaderFilter => "header_filter_by_lua",
            Slot::BodyFilter => "body_filter_by_lua",
            Slot::Balancer => "balancer_by_lua",
        }
    }
}

/// Boolean directives stored in LocConf / MainConf.
#[derive(Clone, Copy, Debug)]
pub enum FlagField {
    CodeCache,
    NeedRequestBody,
    TransformUnderscores,
    UseDefaultType,
    RewriteNoPostpone,
    AccessNoPostpone,
    SocketLogErrors,
    CheckClientAbort,
}

/// Numeric directives stored in MainConf.
#[derive(Clone, Copy, Debug)]
pub enum NumField {
    MaxPendingTimers,
    MaxRunningTimers,
    SocketPoolSize,
    RegexCacheMaxEntries,
    RegexMatchLimit,
}

/// Time directives (stored in milliseconds) in LocConf.
#[derive(Clone, Copy, Debug)]
pub enum MsecField {
    SocketConnectTimeout,
    SocketSendTimeout,
    SocketReadTimeout,
    SocketKeepaliveTimeout,
}

/// Size directives (bytes) in LocConf.
#[derive(Clone, Copy, Debug)]
pub enum SizeField {
    SocketSendLowat,
    SocketBufferSize,
}

/// lua_ssl_* directives (LocConf::ssl).
#[derive(Clone, Copy, Debug)]
pub enum SslField {
    Protocols,
    Ciphers,
    TrustedCertificate,
    VerifyDepth,
    Crl,
    Certificate,
    CertificateKey,
}

/// String directives stored in MainConf.
#[derive(Clone, Copy, Debug)]
pub enum StrField {
    PackagePath,
    PackageCpath,
}

#[derive(Clone, Copy)]
enum Form {
    Inline,
    Block,
    File,
}

const NGX_CONF_OK: *mut c_char = ptr::null_mut();
const NGX_CONF_ERROR: *mut c_char = usize::MAX as *mut c_char;

fn conf_result(cf: &Conf, r: Result<(), String>) -> *mut c_char {
    match r {
        Ok(()) => NGX_CONF_OK,
        Err(msg) => {
            if !msg.is_empty() {
                cf.error(&msg);
            }
            NGX_CONF_ERROR
        }
    }
}

macro_rules! setter {
    ($name:ident, $body:expr) => {
        unsafe extern "C" fn $name(
            cf: *mut ngx_conf_t,
            cmd: *mut ngx_command_t,
            _conf: *mut c_void,
        ) -> *mut c_char {
            // SAFETY: nginx calls directive setters with a live cf and cmd.
            let (cf, post, log) = unsafe { (Conf::new(cf), (*cmd).post, (*cf).log) };
            crate::ffi::guard(log, NGX_CONF_ERROR, || {
                let r = $body(&cf, post);
                conf_result(&cf, r)
            })
        }
    };
}

setter!(set_by_lua_inline, |cf: &Conf, post| by_lua(
    cf,
    slot(post),
    Form::Inline
));
setter!(set_by_lua_block, |cf: &Conf, post| by_lua(
    cf,
    slot(post),
    Form::Block
));
setter!(set_by_lua_file, |cf: &Conf, post| by_lua(
    cf,
    slot(post),
    Form::File
));
setter!(set_set_by_lua_inline, |cf: &Conf, _post| set_by_lua(
    cf,
    Form::Inline
));
setter!(set_set_by_lua_block, |cf: &Conf, _post| set_by_lua(
    cf,
    Form::Block
));
setter!(set_set_by_lua_file, |cf: &Conf, _post| set_by_lua(
    cf,
    Form::File
));
setter!(set_flag, |cf: &Conf, post| flag(cf, flag_field(post)));
setter!(set_str, |cf: &Conf, post| string(cf, str_field(post)));
setter!(set_num, |cf: &Conf, post| number(cf, num_field(post)));
setter!(set_msec, |cf: &Conf, post| msec(cf, msec_field(post)));
setter!(set_size, |cf: &Conf, post| size(cf, size_field(post)));
setter!(set_ssl, |cf: &Conf, post| ssl(cf, ssl_field(post)));
setter!(set_balancer_keepalive, |cf: &Conf, _post| {
    balancer_keepalive(cf)
});
setter!(set_shared_dict, |cf: &Conf, _post| crate::shm::zone::add(
    cf,
    module::main_conf_mut(cf)
));

fn slot(post: *mut c_void) -> Slot {
    // SAFETY: `post` of the by_lua commands always points at one of the SLOT_* statics.
    unsafe { *(post as *const Slot) }
}
fn flag_field(post: *mut c_void) -> FlagField {
    // SAFETY: `post` of flag commands always points at one of the FLAG_* statics.
    unsafe { *(post as *const FlagField) }
}
fn num_field(post: *mut c_void) -> NumField {
    // SAFETY: `post` of numeric commands always points at one of the NUM_* statics.
    unsafe { *(post as *const NumField) }
}
fn msec_field(post: *mut c_void) -> MsecField {
    // SAFETY: `post` of time commands always points at one of the MSEC_* statics.
    unsafe { *(post as *const MsecField) }
}
fn size_field(post: *mut c_void) -> SizeField {
    // SAFETY: `post` of size commands always points at one of the SIZE_* statics.
    unsafe { *(post as *const SizeField) }
}
fn ssl_field(post: *mut c_void) -> SslField {
    // SAFETY: `post` of lua_ssl_* commands always points at one of the SSL_* statics.
    unsafe { *(post as *const SslField) }
}
fn str_field(post: *mut c_void) -> StrField {
    // SAFETY: `post` of string commands always points at one of the STR_* statics.
    unsafe { *(post as *const StrField) }
}

fn by_lua(cf: &Conf, slot: Slot, form: Form) -> Result<(), String> {
    let directive = String::from_utf8_lossy(cf.arg(0)).into_owned();
    let line = cf.line();
    let main = module::main_conf_mut(cf);
    let existing = match slot {
        Slot::Init => main.init.is_some(),
        Slot::InitWorker => main.init_worker.is_some(),
        Slot::ExitWorker => main.exit_worker.is_some(),
        Slot::Balancer => module::srv_conf_mut(cf).balancer.is_some(),
        _ => {
            let loc = module::loc_conf_mut(cf);
            match slot {
                Slot::Rewrite => loc.rewrite.is_some(),
                Slot::Access => loc.access.is_some(),
                Slot::Content => loc.content.is_some(),
                Slot::HeaderFilter => loc.header_filter.is_some(),
                Slot::BodyFilter => loc.body_filter.is_some(),
                _ => loc.log.is_some(),
            }
        }
    };
    if existing {
        return Err(format!("\"{directive}\" directive is duplicate"));
    }

    let handler = match form {
        Form::File => {
            let path = cf.arg(1).to_vec();
            if path.is_empty() {
                return Err(format!(
                    "invalid location config: no runnable Lua code in \"{directive}\""
                ));
            }
            let has_vars = path.contains(&b'$');
            let path = if has_vars {
                path
            } else {
                absolute_path(&cf.prefix(), &path)
            };
            let chunkname = format!("@{}", String::from_utf8_lossy(&path));
            Handler {
                source: Source::File { path, has_vars },
                chunkname,
            }
        }
        Form::Inline | Form::Block => {
            let code = match form {
                Form::Block => cf.read_lua_block()?,
                _ => cf.arg(1).to_vec(),
            };
            if code.iter().all(u8::is_ascii_whitespace) && matches!(form, Form::Inline) {
                return Err(format!(
                    "invalid location config: no runnable Lua code in \"{directive}\""
                ));
            }
            let chunkname = inline_chunkname(slot.tag(), &cf.file_basename(), line);
            let vm = module::vm(main).map_err(|e| format!("failed to create the Lua VM: {e}"))?;
            let slot_id = vm
                .compile_inline(&code, &chunkname)
                .map_err(|e| format!("failed to load inlined Lua code: {e}"))?;
            Handler {
                source: Source::Inline { slot: slot_id },
                chunkname,
            }
        }
    };

    match slot {
        Slot::Init => main.init = Some(handler),
        Slot::InitWorker => main.init_worker = Some(handler),
        Slot::ExitWorker => main.exit_worker = Some(handler),
        Slot::Rewrite => {
            main.requires_rewrite = true;
            module::loc_conf_mut(cf).rewrite = Some(handler);
        }
        Slot::Access => {
            main.requires_access = true;
            module::loc_conf_mut(cf).access = Some(handler);
        }
        Slot::Log => {
            main.requires_log = true;
            module::loc_conf_mut(cf).log = Some(handler);
        }
        Slot::Content => {
            module::loc_conf_mut(cf).content = Some(handler);
            module::set_content_handler(cf);
        }
        Slot::HeaderFilter => {
            main.requires_header_filter = true;
            module::loc_conf_mut(cf).header_filter = Some(handler);
        }
        Slot::BodyFilter => {
            // The header filter asks for in-memory buffers on its behalf.
            main.requires_header_filter = true;
            main.requires_body_filter = true;
            module::loc_conf_mut(cf).body_filter = Some(handler);
        }
        Slot::Balancer => {
            let srv = module::srv_conf_mut(cf);
            srv.balancer = Some(handler);
            crate::ffi::upstream::install_balancer(cf, &mut srv.balancer_hooks)?;
        }
    }
    Ok(())
}

/// `set_by_lua $var "code" [args]`, `set_by_lua_block $var { code }`,
/// `set_by_lua_file $var path [args]`.
fn set_by_lua(cf: &Conf, form: Form) -> Result<(), String> {
    let directive = String::from_utf8_lossy(cf.arg(0)).into_owned();
    let line = cf.line();
    let var = cf.arg(1).to_vec();
    let arg_start = 3;
    let handler = match form {
        Form::File => {
            let path = cf.arg(2).to_vec();
            let has_vars = path.contains(&b'$');
            let path = if has_vars {
                path
            } else {
                absolute_path(&cf.prefix(), &path)
            };
            let chunkname = format!("@{}", String::from_utf8_lossy(&path));
            Handler {
                source: Source::File { path, has_vars },
                chunkname,
            }
        }
        Form::Inline | Form::Block => {
            let code = match form {
                Form::Block => cf.read_lua_block()?,
                _ => cf.arg(2).to_vec(),
            };
            let chunkname = inline_chunkname("set_by_lua", &cf.file_basename(), line);
            let main = module::main_conf_mut(cf);
            let vm = module::vm(main).map_err(|e| format!("failed to create the Lua VM: {e}"))?;
            let slot = vm
                .compile_inline(&code, &chunkname)
                .map_err(|e| format!("failed to load inlined Lua code: {e}"))?;
            Handler {
                source: Source::Inline { slot },
                chunkname,
            }
        }
    };
    let mut args = Vec::new();
    if !matches!(form, Form::Block) {
        for a in cf.args().iter().skip(arg_start) {
            args.push(crate::ffi::script::compile_complex(cf, a)?);
        }
    }
    let _ = directive;
    // SAFETY: cf->pool is the cycle pool; `allocate` drops the value with it,
    // and the rewrite code referencing it lives exactly as long.
    let data = unsafe {
        ngx::core::Pool::from_ngx_pool((*cf.raw()).pool).allocate(super::SetByLua { handler, args })
    };
    if data.is_null() {
        return Err("no memory".into());
    }
    crate::ffi::script::add_set_code(cf, &var, crate::phase::set::run, data)
}

fn flag(cf: &Conf, field: FlagField) -> Result<(), String> {
    let v = cf.arg(1);
    let on = if v.eq_ignore_ascii_case(b"on") {
        true
    } else if v.eq_ignore_ascii_case(b"off") {
        false
    } else {
        return Err(format!(
            "invalid value \"{}\" in \"{}\" directive, it must be \"on\" or \"off\"",
            String::from_utf8_lossy(v),
            String::from_utf8_lossy(cf.arg(0))
        ));
    };
    let dup = match field {
        FlagField::RewriteNoPostpone => {
            module::main_conf_mut(cf).rewrite_no_postpone = on;
            false
        }
        FlagField::AccessNoPostpone => {
            module::main_conf_mut(cf).access_no_postpone = on;
            false
        }
        _ => {
            let loc: &mut LocConf = module::loc_conf_mut(cf);
            let slot = match field {
                FlagField::CodeCache => &mut loc.code_cache,
                FlagField::NeedRequestBody => &mut loc.need_request_body,
                FlagField::TransformUnderscores => &mut loc.transform_underscores,
                FlagField::SocketLogErrors => &mut loc.socket_log_errors,
                FlagField::CheckClientAbort => &mut loc.check_client_abort,
                _ => &mut loc.use_default_type,
            };
            let dup = slot.is_some();
            *slot = Some(on);
            dup
        }
    };
    if dup {
        return Err("is duplicate".into());
    }
    Ok(())
}

fn number(cf: &Conf, field: NumField) -> Result<(), String> {
    let raw = cf.arg(1);
    let n: usize = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            format!(
                "invalid number \"{}\" in \"{}\" directive",
                String::from_utf8_lossy(raw),
                String::from_utf8_lossy(cf.arg(0))
            )
        })?;
    let slot = match field {
        NumField::MaxPendingTimers => &mut module::main_conf_mut(cf).max_pending_timers,
        NumField::MaxRunningTimers => &mut module::main_conf_mut(cf).max_running_timers,
        NumField::RegexCacheMaxEntries => &mut module::main_conf_mut(cf).regex_cache_max_entries,
        NumField::RegexMatchLimit => &mut module::main_conf_mut(cf).regex_match_limit,
        NumField::SocketPoolSize => {
            if n == 0 {
                return Err(format!(
                    "invalid number \"0\" in \"{}\" directive",
                    String::from_utf8_lossy(cf.arg(0))
                ));
            }
            &mut module::loc_conf_mut(cf).socket_pool_size
        }
    };
    if slot.is_some() {
        return Err("is duplicate".into());
    }
    *slot = Some(n);
    Ok(())
}

/// `balancer_keepalive <n>` in `upstream {}`: a positive integer, as
/// nginx's ngx_atoi reads it (digits only).
fn balancer_keepalive(cf: &Conf) -> Result<(), String> {
    let name = String::from_utf8_lossy(cf.arg(0)).into_owned();
    if module::srv_conf_mut(cf).balancer_keepalive.is_some() {
        return Err(format!("\"{name}\" directive is duplicate"));
    }
    let raw = cf.arg(1);
    let n = std::str::from_utf8(raw)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            format!(
                "invalid value \"{}\" in \"{name}\" directive",
                String::from_utf8_lossy(raw)
            )
        })?;
    module::srv_conf_mut(cf).balancer_keepalive = Some(n);
    Ok(())
}

/// nginx's time syntax ("500ms", "1m30s", "60" = seconds) in milliseconds.
pub fn parse_msec(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d as u64)?);
            continue;
        }
        let n = num.take()?;
        let scale: u64 = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'y' => 365 * 86_400_000,
            'M' => 30 * 86_400_000,
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            's' => 1000,
            ' ' => continue,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(scale)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n.checked_mul(1000)?)?;
    }
    Some(total)
}

/// nginx's size syntax ("512", "4k", "1m") in bytes.
pub fn parse_size(v: &[u8]) -> Option<usize> {
    let (digits, scale) = match v.last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1024),
        b'm' | b'M' => (&v[..v.len() - 1], 1024 * 1024),
        b'g' | b'G' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_mul(scale)
}

fn msec(cf: &Conf, field: MsecField) -> Result<(), String> {
    let v = parse_msec(cf.arg(1)).ok_or_else(|| "invalid value".to_string())?;
    let loc = module::loc_conf_mut(cf);
    let slot = match field {
        MsecField::SocketConnectTimeout => &mut loc.socket_connect_timeout,
        MsecField::SocketSendTimeout => &mut loc.socket_send_timeout,
        MsecField::SocketReadTimeout => &mut loc.socket_read_timeout,
        MsecField::SocketKeepaliveTimeout => &mut loc.socket_keepalive_timeout,
    };
    if slot.is_some() {
        return Err("is duplicate".into());
    }
    *slot = Some(v);
    Ok(())
}

fn size(cf: &Conf, field: SizeField) -> Result<(), String> {
    let v = parse_size(cf.arg(1)).ok_or_else(|| "invalid value".to_string())?;
    let loc = module::loc_conf_mut(cf);
    let slot = match field {
        SizeField::SocketSendLowat => &mut loc.socket_send_lowat,
        SizeField::SocketBufferSize => &mut loc.socket_buffer_size,
    };
    if slot.is_some() {
        return Err("is duplicate".into());
    }
    *slot = Some(v);
    Ok(())
}

fn string(cf: &Conf, field: StrField) -> Result<(), String> {
    let main: &mut MainConf = module::main_conf_mut(cf);
    let slot = match field {
        StrField::PackagePath => &mut main.package_path,
        StrField::PackageCpath => &mut main.package_cpath,
    };
    if slot.is_some() {
        return Err("is duplicate".into());
    }
    *slot = Some(cf.arg(1).to_vec());
    Ok(())
}

fn ssl(cf: &Conf, field: SslField) -> Result<(), String> {
    let name = String::from_utf8_lossy(cf.arg(0)).into_owned();
    let s = &mut module::loc_conf_mut(cf).ssl;
    let dup = match field {
        SslField::Protocols => {
            let mut bits = 0;
            for a in &cf.args()[1..] {
                // SAFETY: nginx's argument strings are valid for their length.
                let v = unsafe { std::slice::from_raw_parts(a.data, a.len) };
                match crate::net::ssl::protocol_bit(v) {
                    Some(b) => bits |= b,
                    None => {
                        return Err(format!(
                            "invalid value \"{}\" in \"{name}\" directive",
                            String::from_utf8_lossy(v)
                        ))
                    }
                }
            }
            s.protocols.replace(bits).is_some()
        }
        SslField::Ciphers => s.ciphers.replace(cf.arg(1).to_vec()).is_some(),
        SslField::TrustedCertificate => s.trusted_certificate.replace(cf.arg(1).to_vec()).is_some(),
        SslField::Crl => s.crl.replace(cf.arg(1).to_vec()).is_some(),
        SslField::VerifyDepth => {
            let v = cf.arg(1);
            let n: usize = std::str::from_utf8(v)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    format!(
                        "invalid number \"{}\" in \"{name}\" directive",
                        String::from_utf8_lossy(v)
                    )
                })?;
            s.verify_depth.replace(n).is_some()
        }
        SslField::Certificate => {
            s.certificates.push(cf.arg(1).to_vec());
            false
        }
        SslField::CertificateKey => {
            s.certificate_keys.push(cf.arg(1).to_vec());
            false
        }
    };
    if dup {
        return Err("is duplicate".into());
    }
    Ok(())
}

static SLOT_INIT: Slot = Slot::Init;
static SLOT_INIT_WORKER: Slot = Slot::InitWorker;
static SLOT_EXIT_WORKER: Slot = Slot::ExitWorker;
static SLOT_REWRITE: Slot = Slot::Rewrite;
static SLOT_ACCESS: Slot = Slot::Access;
static SLOT_CONTENT: Slot = Slot::Content;
static SLOT_LOG: Slot = Slot::Log;
static SLOT_HEADER_FILTER: Slot = Slot::HeaderFilter;
static SLOT_BODY_FILTER: Slot = Slot::BodyFilter;
static SLOT_BALANCER: Slot = Slot::Balancer;

static FLAG_CODE_CACHE: FlagField = FlagField::CodeCache;
static FLAG_NEED_BODY: FlagField = FlagField::NeedRequestBody;
static FLAG_UNDERSCORES: FlagField = FlagField::TransformUnderscores;
static FLAG_DEFAULT_TYPE: FlagField = FlagField::UseDefaultType;
static FLAG_REWRITE_NO_POSTPONE: FlagField = FlagField::RewriteNoPostpone;
static FLAG_ACCESS_NO_POSTPONE: FlagField = FlagField::AccessNoPostpone;

static NUM_MAX_PENDING: NumField = NumField::MaxPendingTimers;
static NUM_MAX_RUNNING: NumField = NumField::MaxRunningTimers;
static NUM_SOCKET_POOL_SIZE: NumField = NumField::SocketPoolSize;
static NUM_REGEX_CACHE: NumField = NumField::RegexCacheMaxEntries;
static NUM_REGEX_MATCH_LIMIT: NumField = NumField::RegexMatchLimit;
static FLAG_SOCKET_LOG_ERRORS: FlagField = FlagField::SocketLogErrors;
static FLAG_CHECK_CLIENT_ABORT: FlagField = FlagField::CheckClientAbort;
static MSEC_CONNECT: MsecField = MsecField::SocketConnectTimeout;
static MSEC_SEND: MsecField = MsecField::SocketSendTimeout;
static MSEC_READ: MsecField = MsecField::SocketReadTimeout;
static MSEC_KEEPALIVE: MsecField = MsecField::SocketKeepaliveTimeout;
static SIZE_SEND_LOWAT: SizeField = SizeField::SocketSendLowat;
static SIZE_BUFFER: SizeField = SizeField::SocketBufferSize;

static SSL_PROTOCOLS: SslField = SslField::Protocols;
static SSL_CIPHERS: SslField = SslField::Ciphers;
static SSL_TRUSTED: SslField = SslField::TrustedCertificate;
static SSL_DEPTH: SslField = SslField::VerifyDepth;
static SSL_CRL: SslField = SslField::Crl;
static SSL_CERT: SslField = SslField::Certificate;
static SSL_CERT_KEY: SslField = SslField::CertificateKey;

static STR_PATH: StrField = StrField::PackagePath;
static STR_CPATH: StrField = StrField::PackageCpath;

const MAIN: u32 = NGX_HTTP_MAIN_CONF;
const ANY_LOC: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_HTTP_LIF_CONF;
const LOC: u32 = NGX_HTTP_LOC_CONF | NGX_HTTP_LIF_CONF;
const UPS: u32 = nginx_sys::NGX_HTTP_UPS_CONF;
const SSL_CTX: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;
const SET_CTX: u32 = NGX_HTTP_SRV_CONF | NGX_HTTP_SIF_CONF | NGX_HTTP_LOC_CONF | NGX_HTTP_LIF_CONF;

type Setter = unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char;

/// `name` must end with a NUL byte: nginx compares directive names with strcmp.
const fn cmd(name: &'static [u8], ty: u32, set: Setter, post: *const c_void) -> ngx_command_t {
    assert!(
        !name.is_empty() && name[name.len() - 1] == 0,
        "directive names must end with a NUL"
    );
    ngx_command_t {
        name: ngx_str_t {
            len: name.len() - 1,
            data: name.as_ptr() as *mut u8,
        },
        type_: ty as ngx_uint_t,
        set: Some(set),
        conf: 0,
        offset: 0,
        post: post as *mut c_void,
    }
}

macro_rules! p {
    ($s:ident) => {
        ptr::addr_of!($s) as *const c_void
    };
}

macro_rules! by_lua_family {
    ($base:literal, $ctx:expr, $slot:ident) => {
        [
            cmd(
                concat!($base, "\0").as_bytes(),
                $ctx | NGX_CONF_TAKE1,
                set_by_lua_inline,
                p!($slot),
            ),
            cmd(
                concat!($base, "_block\0").as_bytes(),
                $ctx | NGX_CONF_BLOCK | NGX_CONF_NOARGS,
                set_by_lua_block,
                p!($slot),
            ),
            cmd(
                concat!($base, "_file\0").as_bytes(),
                $ctx | NGX_CONF_TAKE1,
                set_by_lua_file,
                p!($slot),
            ),
        ]
    };
}

const N_COMMANDS: usize = 9 * 3 + 3 + 3 + 6 + 2 + 2 + 1 + 8 + 1 + 2 + 7 + 1;

/// The module's directives; nginx wants a mutable, null-terminated array.
pub static mut COMMANDS: [ngx_command_t; N_COMMANDS] = {
    let init = by_lua_family!("init_by_lua", MAIN, SLOT_INIT);
    let init_worker = by_lua_family!("init_worker_by_lua", MAIN, SLOT_INIT_WORKER);
    let exit_worker = by_lua_family!("exit_worker_by_lua", MAIN, SLOT_EXIT_WORKER);
    let rewrite = by_lua_family!("rewrite_by_lua", ANY_LOC, SLOT_REWRITE);
    let access = by_lua_family!("access_by_lua", ANY_LOC, SLOT_ACCESS);
    let content = by_lua_family!("content_by_lua", LOC, SLOT_CONTENT);
    let log = by_lua_family!("log_by_lua", ANY_LOC, SLOT_LOG);
    let header_filter = by_lua_family!("header_filter_by_lua", ANY_LOC, SLOT_HEADER_FILTER);
    let body_filter = by_lua_family!("body_filter_by_lua", ANY_LOC, SLOT_BODY_FILTER);
    [
        init[0],
        init[1],
        init[2],
        init_worker[0],
        init_worker[1],
        init_worker[2],
        exit_worker[0],
        exit_worker[1],
        exit_worker[2],
        rewrite[0],
        rewrite[1],
        rewrite[2],
        access[0],
        access[1],
        access[2],
        content[0],
        content[1],
        content[2],
        log[0],
        log[1],
        log[2],
        header_filter[0],
        header_filter[1],
        header_filter[2],
        body_filter[0],
        body_filter[1],
        body_filter[2],
        cmd(
            b"balancer_by_lua_block\0",
            UPS | NGX_CONF_BLOCK | NGX_CONF_NOARGS,
            set_by_lua_block,
            p!(SLOT_BALANCER),
        ),
        cmd(
            b"balancer_by_lua_file\0",
            UPS | NGX_CONF_TAKE1,
            set_by_lua_file,
            p!(SLOT_BALANCER),
        ),
        cmd(
            b"balancer_keepalive\0",
            UPS | NGX_CONF_TAKE1,
            set_balancer_keepalive,
            ptr::null(),
        ),
        cmd(
            b"set_by_lua\0",
            SET_CTX | NGX_CONF_2MORE,
            set_set_by_lua_inline,
            ptr::null(),
        ),
        cmd(
            b"set_by_lua_block\0",
            SET_CTX | NGX_CONF_BLOCK | NGX_CONF_TAKE1,
            set_set_by_lua_block,
            ptr::null(),
        ),
        cmd(
            b"set_by_lua_file\0",
            SET_CTX | NGX_CONF_2MORE,
            set_set_by_lua_file,
            ptr::null(),
        ),
        cmd(
            b"lua_code_cache\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_CODE_CACHE),
        ),
        cmd(
            b"lua_need_request_body\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_NEED_BODY),
        ),
        cmd(
            b"lua_transform_underscores_in_response_headers\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_UNDERSCORES),
        ),
        cmd(
            b"lua_use_default_type\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_DEFAULT_TYPE),
        ),
        cmd(
            b"rewrite_by_lua_no_postpone\0",
            MAIN | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_REWRITE_NO_POSTPONE),
        ),
        cmd(
            b"access_by_lua_no_postpone\0",
            MAIN | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_ACCESS_NO_POSTPONE),
        ),
        cmd(
            b"lua_max_pending_timers\0",
            MAIN | NGX_CONF_TAKE1,
            set_num,
            p!(NUM_MAX_PENDING),
        ),
        cmd(
            b"lua_max_running_timers\0",
            MAIN | NGX_CONF_TAKE1,
            set_num,
            p!(NUM_MAX_RUNNING),
        ),
        cmd(
            b"lua_package_path\0",
            MAIN | NGX_CONF_TAKE1,
            set_str,
            p!(STR_PATH),
        ),
        cmd(
            b"lua_package_cpath\0",
            MAIN | NGX_CONF_TAKE1,
            set_str,
            p!(STR_CPATH),
        ),
        cmd(
            b"lua_socket_connect_timeout\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_msec,
            p!(MSEC_CONNECT),
        ),
        cmd(
            b"lua_socket_send_timeout\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_msec,
            p!(MSEC_SEND),
        ),
        cmd(
            b"lua_socket_read_timeout\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_msec,
            p!(MSEC_READ),
        ),
        cmd(
            b"lua_socket_keepalive_timeout\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_msec,
            p!(MSEC_KEEPALIVE),
        ),
        cmd(
            b"lua_socket_send_lowat\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_size,
            p!(SIZE_SEND_LOWAT),
        ),
        cmd(
            b"lua_socket_buffer_size\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_size,
            p!(SIZE_BUFFER),
        ),
        cmd(
            b"lua_socket_pool_size\0",
            ANY_LOC | NGX_CONF_TAKE1,
            set_num,
            p!(NUM_SOCKET_POOL_SIZE),
        ),
        cmd(
            b"lua_socket_log_errors\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_SOCKET_LOG_ERRORS),
        ),
        cmd(
            b"lua_check_client_abort\0",
            ANY_LOC | NGX_CONF_FLAG,
            set_flag,
            p!(FLAG_CHECK_CLIENT_ABORT),
        ),
        cmd(
            b"lua_regex_cache_max_entries\0",
            MAIN | NGX_CONF_TAKE1,
            set_num,
            p!(NUM_REGEX_CACHE),
        ),
        cmd(
            b"lua_regex_match_limit\0",
            MAIN | NGX_CONF_TAKE1,
            set_num,
            p!(NUM_REGEX_MATCH_LIMIT),
        ),
        cmd(
            b"lua_ssl_protocols\0",
            SSL_CTX | NGX_CONF_1MORE,
            set_ssl,
            p!(SSL_PROTOCOLS),
        ),
        cmd(
            b"lua_ssl_ciphers\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_CIPHERS),
        ),
        cmd(
            b"lua_ssl_trusted_certificate\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_TRUSTED),
        ),
        cmd(
            b"lua_ssl_verify_depth\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_DEPTH),
        ),
        cmd(
            b"lua_ssl_crl\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_CRL),
        ),
        cmd(
            b"lua_ssl_certificate\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_CERT),
        ),
        cmd(
            b"lua_ssl_certificate_key\0",
            SSL_CTX | NGX_CONF_TAKE1,
            set_ssl,
            p!(SSL_CERT_KEY),
        ),
        cmd(
            b"lua_shared_dict\0",
            MAIN | NGX_CONF_TAKE2,
            set_shared_dict,
            ptr::null(),
        ),
        ngx_command_t {
            name: ngx_str_t {
                len: 0,
                data: ptr::null_mut(),
            },
            type_: 0,
            set: None,
            conf: 0,
            offset: 0,
            post: ptr::null_mut(),
        },
    ]
};
