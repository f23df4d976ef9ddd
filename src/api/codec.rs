//! String codecs of the `ngx` table: `ngx.md5`, `ngx.md5_bin`, `ngx.sha1_bin`,
//! `ngx.hmac_sha1`, `ngx.crc32_short`, `ngx.crc32_long`, `ngx.encode_base64`,
//! `ngx.decode_base64`, `ngx.escape_uri`, `ngx.unescape_uri` and
//! `ngx.quote_sql_str`.
//!
//! Argument handling follows what modern OpenResty runs: the functions
//! lua-resty-core implements in Lua (digests, crc32, base64, URI escaping) turn
//! `nil`/`false` into `""` and anything else that is not a string into
//! `tostring(v)`; the ones that stayed C functions in lua-nginx-module
//! (`hmac_sha1`, `quote_sql_str`) check their argument count and accept only
//! strings and numbers, with `luaL_checklstring`'s wording.
//!
//! The escaping helpers are `pub(crate)` because `ngx.encode_args`/`decode_args`
//! (and the request-args APIs built on them) share them.

use std::borrow::Cow;

use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD,
};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{KeyInit, Mac};
use md5::{Digest, Md5};
use mlua::{Function, Lua, LuaString, MultiValue, Table, Value};
use sha1::Sha1;

use super::{raise, ApiResult};

/// `ngx.escape_uri`'s `type` argument: which bytes get percent-encoded.
/// The numbering is lua-nginx-module's (0 to 6); 2 is the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EscapeKind {
    /// 0: a whole URI: space, `#`, `%`, `?`, controls, DEL and bytes >= 0x80.
    Uri = 0,
    /// 1: query arguments: as `Uri` plus `+`.
    Args = 1,
    /// 2 (the default): a URI component: everything but letters, digits and
    /// `-._~!*'()`.
    UriComponent = 2,
    /// 3: HTML attribute values: space, `"`, `#`, `%`, `'`, controls, DEL, high bytes.
    Html = 3,
    /// 4: `Refresh` header values: space, `"`, `'`, controls, DEL, high bytes.
    Refresh = 4,
    /// 5: memcached keys: space, `%` and controls only.
    Memcached = 5,
    /// 6: mail auth: same set as `Memcached`.
    MailAuth = 6,
}

impl EscapeKind {
    /// The kind for lua-nginx-module's numeric `type` (after truncation to an
    /// integer), or `None` outside 0..=6.
    pub(crate) fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            0 => Self::Uri,
            1 => Self::Args,
            2 => Self::UriComponent,
            3 => Self::Html,
            4 => Self::Refresh,
            5 => Self::Memcached,
            6 => Self::MailAuth,
            _ => return None,
        })
    }

    fn table(self) -> &'static [bool; 256] {
        match self {
            Self::Uri => &ESCAPE_URI,
            Self::Args => &ESCAPE_ARGS,
            Self::UriComponent => &ESCAPE_COMPONENT,
            Self::Html => &ESCAPE_HTML,
            Self::Refresh => &ESCAPE_REFRESH,
            Self::Memcached | Self::MailAuth => &ESCAPE_MEMCACHED,
        }
    }
}

/// Builds an escape table: the listed ASCII characters, plus optionally the
/// control characters (0x00-0x1f), DEL (0x7f) and the bytes >= 0x80.
const fn escape_set(chars: &[u8], controls: bool, del: bool, high: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (controls && i < 0x20) || (del && i == 0x7f) || (high && i >= 0x80);
        i += 1;
    }
    let mut j = 0;
    while j < chars.len() {
        t[chars[j] as usize] = true;
        j += 1;
    }
    t
}

/// Everything is escaped except ASCII letters, digits and `keep`.
const fn escape_all_but(keep: &[u8]) -> [bool; 256] {
    let mut t = [true; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() {
            t[i] = false;
        }
        i += 1;
    }
    let mut j = 0;
    while j < keep.len() {
        t[keep[j] as usize] = false;
        j += 1;
    }
    t
}

static ESCAPE_URI: [bool; 256] = escape_set(b" #%?", true, true, true);
static ESCAPE_ARGS: [bool; 256] = escape_set(b" #%+?", true, true, true);
static ESCAPE_COMPONENT: [bool; 256] = escape_all_but(b"-._~!*'()");
static ESCAPE_HTML: [bool; 256] = escape_set(b" \"#%'", true, true, true);
static ESCAPE_REFRESH: [bool; 256] = escape_set(b" \"'", true, true, true);
static ESCAPE_MEMCACHED: [bool; 256] = escape_set(b" %", true, false, false);

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Length of `src` once escaped as `kind`.
pub(crate) fn escaped_len(src: &[u8], kind: EscapeKind) -> usize {
    let table = kind.table();
    src.len() + 2 * src.iter().filter(|&&b| table[usize::from(b)]).count()
}

/// Appends `src` percent-encoded as `kind` (uppercase hex digits) to `out`.
pub(crate) fn escape_into(src: &[u8], kind: EscapeKind, out: &mut Vec<u8>) {
    let table = kind.table();
    for &b in src {
        if table[usize::from(b)] {
            out.extend_from_slice(&[
                b'%',
                HEX_UPPER[usize::from(b >> 4)],
                HEX_UPPER[usize::from(b & 0xf)],
            ]);
        } else {
            out.push(b);
        }
    }
}

/// Writes `src` escaped as `kind` into `dst`, which must hold exactly
/// [`escaped_len`] bytes; returns the number of bytes written.
fn escape_to_slice(src: &[u8], kind: EscapeKind, dst: &mut [u8]) -> usize {
    let table = kind.table();
    let mut n = 0;
    for &b in src {
        if table[usize::from(b)] {
            if let Some(d) = dst.get_mut(n..n + 3) {
                d.copy_from_slice(&[
                    b'%',
                    HEX_UPPER[usize::from(b >> 4)],
                    HEX_UPPER[usize::from(b & 0xf)],
                ]);
            }
            n += 3;
        } else {
            if let Some(d) = dst.get_mut(n) {
                *d = b;
            }
            n += 1;
        }
    }
    n.min(dst.len())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes a URI component as lua-nginx-module does: `%XX` with two hex
/// digits becomes that byte, a `%` not followed by two hex digits is kept
/// as is, and `+` becomes a space. Borrows when there is nothing to decode.
pub(crate) fn unescape_uri(src: &[u8]) -> Cow<'_, [u8]> {
    if !src.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(src);
    }
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        match b {
            b'%' => {
                let hi = src.get(i + 1).copied().and_then(hex_value);
                let lo = src.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// `ngx.quote_sql_str`'s quoting: MySQL-style backslash escapes for NUL,
/// backspace, newline, carriage return, tab, Ctrl-Z, backslash and both quote
/// characters, the whole wrapped in single quotes. Bytes >= 0x80 pass through.
pub(crate) fn quote_sql_str(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 2 + src.len() / 8);
    out.push(b'\'');
    for &b in src {
        let escaped = match b {
            0 => b'0',
            0x08 => b'b',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            26 => b'Z',
            b'\\' | b'\'' | b'"' => b,
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend_from_slice(&[b'\\', escaped]);
    }
    out.push(b'\'');
    out
}

/// The base64 decoder nginx's `ngx_decode_base64` amounts to once the input
/// is cut at its first `=`: standard alphabet, no padding, and non-zero
/// trailing bits tolerated.
const NGX_BASE64_DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 the way nginx does (and so `ngx.decode_base64`): everything
/// from the first `=` on is ignored, every byte before it must belong to the
/// standard alphabet, and a length of 1 modulo 4 is invalid. Writes into `dst`
/// (at least `base64::decoded_len_estimate(src.len())` bytes) and returns the
/// decoded length, or `None` for invalid input.
pub(crate) fn decode_base64_into(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let end = src.iter().position(|&b| b == b'=').unwrap_or(src.len());
    NGX_BASE64_DECODER.decode_slice(&src[..end], dst).ok()
}

/// Lowercase hex of `bytes` into `out` (which must be twice as long).
fn hex_lower_into(bytes: &[u8], out: &mut [u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_LOWER[usize::from(b >> 4)];
        pair[1] = HEX_LOWER[usize::from(b & 0xf)];
    }
}

/// MD5 of `src` as 32 lowercase hex digits.
pub(crate) fn md5_hex(src: &[u8]) -> [u8; 32] {
    let mut hex = [0u8; 32];
    hex_lower_into(&Md5::digest(src), &mut hex);
    hex
}

/// HMAC-SHA1 of `msg` under `key` (20 raw bytes).
pub(crate) fn hmac_sha1(key: &[u8], msg: &[u8]) -> Option<[u8; 20]> {
    let mut mac = hmac::Hmac::<Sha1>::new_from_slice(key).ok()?;
    mac.update(msg);
    let mut out = [0u8; 20];
    out.copy_from_slice(&mac.finalize().into_bytes());
    Some(out)
}

/// Lua's own name for a value's type (what `type(v)` says).
pub(crate) fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "cdata",
    }
}

/// `luaL_checklstring`: a string, or a number converted to one; anything else
/// raises `bad argument #<arg> to '<func>' (string expected, got <type>)`.
pub(crate) fn check_string(lua: &Lua, v: Value, arg: usize, func: &str) -> ApiResult<LuaString> {
    match v {
        Value::String(s) => Ok(s),
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v)? {
            Some(s) => Ok(s),
            None => raise(format!(
                "bad argument #{arg} to '{func}' (string expected, got number)"
            )),
        },
        other => raise(format!(
            "bad argument #{arg} to '{func}' (string expected, got {})",
            lua_type_name(&other)
        )),
    }
}

/// lua-resty-core's argument rule for the string codecs: strings as they are,
/// `nil` and `false` as `""`, anything else through (the original) `tostring`.
fn lenient_string(lua: &Lua, tostring: &Function, v: Value) -> ApiResult<LuaString> {
    match v {
        Value::String(s) => Ok(s),
        Value::Nil | Value::Boolean(false) => Ok(lua.create_string("")?),
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v)? {
            Some(s) => Ok(s),
            None => Ok(lua.create_string("")?),
        },
        other => Ok(tostring.call::<LuaString>(other)?),
    }
}

/// `ngx.escape_uri`'s `type`: lua-resty-core range-checks the number (0 to 6),
/// then the FFI call truncates it to a C int.
fn escape_kind_of(v: &Value) -> Option<EscapeKind> {
    match *v {
        Value::Integer(n) => EscapeKind::from_number(n),
        Value::Number(n) if (0.0..=6.0).contains(&n) => EscapeKind::from_number(n as i64),
        _ => None,
    }
}

/// Bytes up to this size are produced on the stack before becoming one Lua string.
const STACK_BUF: usize = 256;

/// Runs `fill` on a scratch buffer of `len` bytes (on the stack when small)
/// and returns a Lua string of the first `n` bytes, `n` being what `fill`
/// returns (clamped to `len`).
fn string_from_scratch(
    lua: &Lua,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> usize,
) -> mlua::Result<LuaString> {
    if len <= STACK_BUF {
        let mut buf = [0u8; STACK_BUF];
        let n = fill(&mut buf[..len]).min(len);
        lua.create_string(&buf[..n])
    } else {
        let mut buf = vec![0u8; len];
        let n = fill(&mut buf).min(len);
        lua.create_string(&buf[..n])
    }
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    // lua-resty-core captures `tostring` when it loads; so do we.
    let tostring: Function = lua.globals().raw_get("tostring")?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "md5",
        move |lua, s: Value| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let hex = md5_hex(&s.as_bytes());
            Ok(lua.create_string(hex)?)
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "md5_bin",
        move |lua, s: Value| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let digest = Md5::digest(&*s.as_bytes());
            Ok(lua.create_string(digest.as_slice())?)
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "sha1_bin",
        move |lua, s: Value| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let digest = Sha1::digest(&*s.as_bytes());
            Ok(lua.create_string(digest.as_slice())?)
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "crc32_short",
        move |lua, s: Value| -> ApiResult<u32> {
            let s = lenient_string(lua, &ts, s)?;
            Ok(crc32fast::hash(&s.as_bytes()))
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "crc32_long",
        move |lua, s: Value| -> ApiResult<u32> {
            let s = lenient_string(lua, &ts, s)?;
            Ok(crc32fast::hash(&s.as_bytes()))
        },
    )?;

    super::set(
        lua,
        ngx,
        "hmac_sha1",
        |lua, args: MultiValue| -> ApiResult<LuaString> {
            if args.len() != 2 {
                return raise(format!("expecting 2 arguments, but got {}", args.len()));
            }
            let mut args = args.into_iter();
            let key = check_string(lua, args.next().unwrap_or(Value::Nil), 1, "hmac_sha1")?;
            let msg = check_string(lua, args.next().unwrap_or(Value::Nil), 2, "hmac_sha1")?;
            match hmac_sha1(&key.as_bytes(), &msg.as_bytes()) {
                Some(mac) => Ok(lua.create_string(mac)?),
                None => raise("failed to compute HMAC-SHA1"),
            }
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "encode_base64",
        move |lua, (s, no_padding): (Value, Value)| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let no_padding = match no_padding {
                Value::Nil | Value::Boolean(false) => false,
                Value::Boolean(true) => true,
                other => {
                    return raise(format!(
                        "bad no_padding: boolean expected, got {}",
                        lua_type_name(&other)
                    ));
                }
            };
            let src = s.as_bytes();
            let engine = if no_padding {
                &STANDARD_NO_PAD
            } else {
                &STANDARD
            };
            let Some(len) = base64::encoded_len(src.len(), !no_padding) else {
                return raise("string too long");
            };
            Ok(string_from_scratch(lua, len, |buf| {
                engine.encode_slice(&src, buf).unwrap_or(0)
            })?)
        },
    )?;

    super::set(
        lua,
        ngx,
        "decode_base64",
        |lua, s: Value| -> ApiResult<Option<LuaString>> {
            let Value::String(s) = s else {
                return raise("string argument only");
            };
            let src = s.as_bytes();
            let mut ok = true;
            let out = string_from_scratch(lua, base64::decoded_len_estimate(src.len()), |buf| {
                decode_base64_into(&src, buf).unwrap_or_else(|| {
                    ok = false;
                    0
                })
            })?;
            Ok(ok.then_some(out))
        },
    )?;

    let ts = tostring.clone();
    super::set(
        lua,
        ngx,
        "escape_uri",
        move |lua, (s, kind): (Value, Value)| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let kind = match kind {
                Value::Nil => EscapeKind::UriComponent,
                Value::Integer(_) | Value::Number(_) => match escape_kind_of(&kind) {
                    Some(k) => k,
                    None => {
                        // lua-resty-core builds this message with `..`, which
                        // formats the number the way tostring does.
                        let shown = lua
                            .coerce_string(kind)?
                            .map(|s| s.to_string_lossy())
                            .unwrap_or_default();
                        return raise(format!("\"type\" {shown} out of range"));
                    }
                },
                _ => return raise("\"type\" is not a number"),
            };
            let src = s.as_bytes();
            let len = escaped_len(&src, kind);
            if len == src.len() {
                drop(src);
                return Ok(s);
            }
            Ok(string_from_scratch(lua, len, |buf| {
                escape_to_slice(&src, kind, buf)
            })?)
        },
    )?;

    let ts = tostring;
    super::set(
        lua,
        ngx,
        "unescape_uri",
        move |lua, s: Value| -> ApiResult<LuaString> {
            let s = lenient_string(lua, &ts, s)?;
            let src = s.as_bytes();
            match unescape_uri(&src) {
                Cow::Borrowed(_) => {
                    drop(src);
                    Ok(s)
                }
                Cow::Owned(v) => Ok(lua.create_string(v)?),
            }
        },
    )?;

    super::set(
        lua,
        ngx,
        "quote_sql_str",
        |lua, args: MultiValue| -> ApiResult<LuaString> {
            if args.len() != 1 {
                return raise("expecting one argument");
            }
            let s = check_string(
                lua,
                args.into_iter().next().unwrap_or(Value::Nil),
                1,
                "quote_sql_str",
            )?;
            Ok(lua.create_string(quote_sql_str(&s.as_bytes()))?)
        },
    )?;

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`decode_base64_into`] into a new vector.
    fn decode_base64(src: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; base64::decoded_len_estimate(src.len())];
        let n = decode_base64_into(src, &mut out)?;
        out.truncate(n);
        Some(out)
    }

    /// Base64 with the standard alphabet, with or without `=` padding.
    fn encode_base64(src: &[u8], no_padding: bool) -> String {
        if no_padding {
            STANDARD_NO_PAD.encode(src)
        } else {
            STANDARD.encode(src)
        }
    }

    fn esc(s: &[u8], kind: EscapeKind) -> Vec<u8> {
        let mut out = Vec::new();
        escape_into(s, kind, &mut out);
        assert_eq!(out.len(), escaped_len(s, kind));
        let mut buf = vec![0u8; out.len()];
        assert_eq!(escape_to_slice(s, kind, &mut buf), out.len());
        assert_eq!(buf, out);
        out
    }

    fn kept(kind: EscapeKind) -> String {
        (0u8..=255)
            .filter(|&b| !kind.table()[usize::from(b)])
            .map(char::from)
            .filter(|c| c.is_ascii_graphic())
            .collect()
    }

    #[test]
    fn digests_known_vectors() {
        assert_eq!(&md5_hex(b"hello"), b"5d41402abc4b2a76b9719d911017c592");
        assert_eq!(&md5_hex(b""), b"d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            Sha1::digest(b"abc").as_slice(),
            &[
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ]
        );
        // RFC 2202 test case 2.
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?").unwrap();
        let mut hex = [0u8; 40];
        hex_lower_into(&mac, &mut hex);
        assert_eq!(&hex, b"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(crc32fast::hash(b"hello"), 907060870);
        assert_eq!(crc32fast::hash(b"123456789"), 0xcbf43926);
        assert_eq!(crc32fast::hash(b""), 0);
    }

    #[test]
    fn escape_tables() {
        assert_eq!(
            kept(EscapeKind::UriComponent),
            "!'()*-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
        );
        assert_eq!(
            esc(b"a b/c?d=e&f+g", EscapeKind::UriComponent),
            b"a%20b%2Fc%3Fd%3De%26f%2Bg"
        );
        assert_eq!(
            esc("a 你".as_bytes(), EscapeKind::UriComponent),
            b"a%20%E4%BD%A0"
        );
        assert_eq!(
            esc(b"\x00\x1f\x7f\xff", EscapeKind::UriComponent),
            b"%00%1F%7F%FF"
        );
        assert_eq!(
            esc(b"/a b?c#d%e+f&g=h", EscapeKind::Uri),
            b"/a%20b%3Fc%23d%25e+f&g=h"
        );
        assert_eq!(esc(b"a b+c", EscapeKind::Args), b"a%20b%2Bc");
        assert_eq!(
            esc(b"<a href=\"x\">'#%", EscapeKind::Html),
            b"<a%20href=%22x%22>%27%23%25"
        );
        assert_eq!(
            esc(b"url=\"a b\"#'", EscapeKind::Refresh),
            b"url=%22a%20b%22#%27"
        );
        assert_eq!(
            esc(b"k e%y\n\x7f\x80", EscapeKind::Memcached),
            b"k%20e%25y%0A\x7f\x80"
        );
        assert_eq!(esc(b"a b%", EscapeKind::MailAuth), b"a%20b%25");
        assert_eq!(EscapeKind::from_number(6), Some(EscapeKind::MailAuth));
        assert_eq!(EscapeKind::from_number(7), None);
        assert_eq!(EscapeKind::from_number(-1), None);
    }

    #[test]
    fn unescape_rules() {
        assert_eq!(&*unescape_uri(b"a%20%e4%bd%a0"), "a 你".as_bytes());
        assert_eq!(&*unescape_uri(b"a+b"), b"a b");
        assert_eq!(&*unescape_uri(b"%zz%4"), b"%zz%4");
        assert_eq!(&*unescape_uri(b"%"), b"%");
        assert_eq!(&*unescape_uri(b"%%41"), b"%A");
        assert_eq!(&*unescape_uri(b"%3f%3F"), b"??");
        assert!(matches!(unescape_uri(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn base64_like_nginx() {
        assert_eq!(encode_base64(b"hello", false), "aGVsbG8=");
        assert_eq!(encode_base64(b"hello", true), "aGVsbG8");
        assert_eq!(encode_base64(b"", false), "");
        assert_eq!(encode_base64(b"a", false), "YQ==");
        assert_eq!(encode_base64(b"a", true), "YQ");
        assert_eq!(decode_base64(b"aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64(b"aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64(b"").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64(b"YQ").as_deref(), Some(&b"a"[..]));
        // nginx stops at the first '=' and ignores the rest.
        assert_eq!(decode_base64(b"YQ==!!garbage").as_deref(), Some(&b"a"[..]));
        // trailing bits that are not zero are tolerated.
        assert_eq!(decode_base64(b"YR").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64(b"Y"), None);
        assert_eq!(decode_base64(b"aGVs bG8="), None);
        assert_eq!(decode_base64(b"aGV-"), None);
        assert_eq!(decode_base64(b"aGVsbG8=\n"), Some(b"hello".to_vec()));
    }

    #[test]
    fn sql_quoting() {
        assert_eq!(quote_sql_str(b""), b"''");
        assert_eq!(quote_sql_str(b"abc"), b"'abc'");
        assert_eq!(
            quote_sql_str(b"a'b\"c\\d\n\r\t\x08\x1a\x00"),
            b"'a\\'b\\\"c\\\\d\\n\\r\\t\\b\\Z\\0'".to_vec()
        );
        assert_eq!(quote_sql_str("你'".as_bytes()), "'你\\''".as_bytes());
    }
}
