//! `ngx.re.match`, `find`, `gmatch`, `sub`, `gsub` and the `ngx.re` module
//! (`split`, `opt`), on PCRE2 (the library nginx itself links).
//!
//! The Lua side (lualib/ngx_re.lua) calls the `ngx_lua_rs_re_*` C functions
//! of [`crate::ffi::pcre`] through LuaJIT's FFI, so a loop of `ngx.re.match`
//! stays JIT-compiled (DESIGN.md section 7). This file holds the pure parts
//! (option letters, replacement templates) and the wiring into the VM.
//!
//! Behaviour follows lua-nginx-module built with PCRE2 plus lua-resty-core's
//! resty/core/regex.lua and ngx/re.lua: compile errors are returned as
//! `nil, "pcre2_compile() failed: ... in \"...\""`, match errors as
//! `"pcre_exec() failed: <PCRE2 error code>"`, an unknown option letter is
//! raised as `unknown flag "x" (flags "...")`.

use mlua::{LightUserData, Lua, Table};

use crate::ffi::pcre::ReVm;

// Option bits shared with lualib/ngx_re.lua (keep in sync).
/// `o`: compile once, keep in the per-VM LRU cache.
pub const OPT_COMPILE_ONCE: u32 = 0x001;
/// `d`: DFA matching (longest match, no captures).
pub const OPT_DFA: u32 = 0x002;
/// `j`: PCRE2 JIT.
pub const OPT_JIT: u32 = 0x004;
/// `D`: duplicate group names; named captures become arrays.
pub const OPT_DUPNAMES: u32 = 0x008;
/// `U`: UTF-8 mode without checking the subject.
pub const OPT_NO_UTF8_CHECK: u32 = 0x010;
/// `i`
pub const OPT_CASELESS: u32 = 0x020;
/// `m`
pub const OPT_MULTILINE: u32 = 0x040;
/// `s`
pub const OPT_DOTALL: u32 = 0x080;
/// `x`
pub const OPT_EXTENDED: u32 = 0x100;
/// `a`
pub const OPT_ANCHORED: u32 = 0x200;
/// `u` (and `U`)
pub const OPT_UTF8: u32 = 0x400;
/// `J`: JavaScript compatibility.
pub const OPT_JAVASCRIPT: u32 = 0x800;

/// Parses an options string ("jo", "isx", ...). On an unknown letter returns
/// its byte index.
pub fn parse_options(opts: &[u8]) -> Result<u32, usize> {
    let mut bits = 0;
    for (i, c) in opts.iter().enumerate() {
        bits |= match c {
            b'o' => OPT_COMPILE_ONCE,
            b'j' => OPT_JIT,
            b'i' => OPT_CASELESS,
            b's' => OPT_DOTALL,
            b'm' => OPT_MULTILINE,
            b'u' => OPT_UTF8,
            b'U' => OPT_UTF8 | OPT_NO_UTF8_CHECK,
            b'x' => OPT_EXTENDED,
            b'd' => OPT_DFA,
            b'a' => OPT_ANCHORED,
            b'D' => OPT_DUPNAMES,
            b'J' => OPT_JAVASCRIPT,
            _ => return Err(i),
        };
    }
    Ok(bits)
}

/// One piece of a compiled replacement template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Bytes copied as they are.
    Lit(Vec<u8>),
    /// Capture group `n` (`$0` is the whole match).
    Cap(usize),
}

/// A `ngx.re.sub`/`gsub` replacement string: `$0`, `$1`, `${1}`, `$$`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    pub pieces: Vec<Piece>,
}

impl Template {
    /// Compiles a template with lua-nginx-module's grammar (its
    /// ngx_http_lua_script.c): `$` followed by digits (greedy) or by
    /// `{digits}`, `$$` for a dollar sign. Named references are refused. The
    /// error is the message upstream writes to the error log.
    pub fn parse(src: &[u8]) -> Result<Template, String> {
        let invalid = || {
            format!(
                "lua script: invalid capturing variable name found in \"{}\"",
                String::from_utf8_lossy(src)
            )
        };
        let mut pieces = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < src.len() {
            if src[i] != b'$' {
                lit.push(src[i]);
                i += 1;
                continue;
            }
            i += 1;
            let Some(&c) = src.get(i) else {
                return Err(invalid());
            };
            if c == b'$' {
                lit.push(b'$');
                i += 1;
                continue;
            }
            let bracket = c == b'{';
            if bracket {
                i += 1;
                if i == src.len() {
                    return Err(invalid());
                }
            }
            let start = i;
            let numeric = src[i].is_ascii_digit();
            let mut n: usize = 0;
            let mut closed = false;
            while i < src.len() {
                let ch = src[i];
                if bracket && ch == b'}' {
                    closed = true;
                    break;
                }
                let ok = if numeric {
                    ch.is_ascii_digit()
                } else {
                    ch.is_ascii_alphanumeric() || ch == b'_'
                };
                if !ok {
                    break;
                }
                if numeric {
                    n = n.saturating_mul(10).saturating_add(usize::from(ch - b'0'));
                }
                i += 1;
            }
            let name = &src[start..i];
            if closed {
                i += 1;
            }
            if bracket && !closed {
                return Err(format!(
                    "the closing bracket in \"{}\" variable is missing",
                    String::from_utf8_lossy(name)
                ));
            }
            if name.is_empty() {
                return Err(invalid());
            }
            if !numeric {
                return Err(format!(
                    "attempt to use named capturing variable \"{}\" (named captures not supported yet)",
                    String::from_utf8_lossy(name)
                ));
            }
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Cap(n));
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Template { pieces })
    }

    /// Appends the replacement for one match to `out`. `caps` holds
    /// `2 * count` offsets (`-1` for unset groups); groups at or past `count`
    /// expand to nothing, as upstream.
    pub fn expand(&self, subject: &[u8], caps: &[i32], count: usize, out: &mut Vec<u8>) {
        for p in &self.pieces {
            match p {
                Piece::Lit(b) => out.extend_from_slice(b),
                Piece::Cap(n) => {
                    if *n >= count {
                        continue;
                    }
                    let (Some(&from), Some(&to)) = (caps.get(2 * n), caps.get(2 * n + 1)) else {
                        continue;
                    };
                    if from < 0 || to < from {
                        continue;
                    }
                    if let Some(s) = subject.get(from as usize..to as usize) {
                        out.extend_from_slice(s);
                    }
                }
            }
        }
    }
}

/// Length of the UTF-8 character starting with `lead` (1 for anything that
/// is not a lead byte), to step over it after an empty match in UTF-8 mode.
pub fn utf8_char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

const NGX_RE_LUA: &str = include_str!("../../lualib/ngx_re.lua");

/// Installs `ngx.re.*`, and `ngx.re` / `resty.core.regex` into package.preload.
pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let vm = ReVm::new();
    let state = LightUserData(vm.as_ptr());
    lua.set_app_data(vm);
    let chunk = lua
        .load(NGX_RE_LUA)
        .set_name("=ngx_lua_rs.re")
        .into_function()?;
    let (re, module, core_regex): (Table, Table, Table) = chunk.call((ngx, state))?;
    ngx.raw_set("re", re)?;
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    preload.set(
        "ngx.re",
        lua.create_function(move |_, ()| Ok(module.clone()))?,
    )?;
    preload.set(
        "resty.core.regex",
        lua.create_function(move |_, ()| Ok(core_regex.clone()))?,
    )?;
    Ok(())
}

/// Applies `lua_regex_cache_max_entries` / `lua_regex_match_limit` (called
/// once the http block is parsed, before init_by_lua runs).
pub fn configure(lua: &Lua, cache_max_entries: usize, match_limit: usize) {
    if let Some(vm) = lua.app_data_ref::<ReVm>() {
        vm.configure(cache_max_entries, match_limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(parse_options(b""), Ok(0));
        assert_eq!(parse_options(b"jo"), Ok(OPT_JIT | OPT_COMPILE_ONCE));
        assert_eq!(parse_options(b"U"), Ok(OPT_UTF8 | OPT_NO_UTF8_CHECK));
        assert_eq!(
            parse_options(b"imsxadDJu"),
            Ok(OPT_CASELESS
                | OPT_MULTILINE
                | OPT_DOTALL
                | OPT_EXTENDED
                | OPT_ANCHORED
                | OPT_DFA
                | OPT_DUPNAMES
                | OPT_JAVASCRIPT
                | OPT_UTF8)
        );
        assert_eq!(parse_options(b"joq"), Err(2));
        assert_eq!(parse_options(b"I"), Err(0));
    }

    fn run(tpl: &str, subject: &str, caps: &[i32], count: usize) -> String {
        let t = Template::parse(tpl.as_bytes()).unwrap();
        let mut out = Vec::new();
        t.expand(subject.as_bytes(), caps, count, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn template_expansion() {
        // "hello, 1234" =~ /([0-9])[0-9]/ : $0 = "12", $1 = "1"
        let caps = [7, 9, 7, 8];
        assert_eq!(run("[$0][$1]", "hello, 1234", &caps, 2), "[12][1]");
        assert_eq!(run("${0}00", "hello, 1234", &caps, 2), "1200");
        assert_eq!(run("$$0 $$", "hello, 1234", &caps, 2), "$0 $");
        assert_eq!(run("$10x", "hello, 1234", &caps, 2), "x");
        assert_eq!(run("$2", "hello, 1234", &caps, 2), "");
        assert_eq!(run("plain", "", &[], 0), "plain");
        assert_eq!(run("", "", &[], 0), "");
        // An unset group expands to nothing.
        assert_eq!(run("<$1>", "ab", &[0, 1, -1, -1], 2), "<>");
    }

    #[test]
    fn template_pieces() {
        let t = Template::parse(b"a$1b${22}$$").unwrap();
        assert_eq!(
            t.pieces,
            vec![
                Piece::Lit(b"a".to_vec()),
                Piece::Cap(1),
                Piece::Lit(b"b".to_vec()),
                Piece::Cap(22),
                Piece::Lit(b"$".to_vec())
            ]
        );
    }

    #[test]
    fn template_errors() {
        let e = |s: &str| Template::parse(s.as_bytes()).unwrap_err();
        assert_eq!(
            e("abc$"),
            "lua script: invalid capturing variable name found in \"abc$\""
        );
        assert_eq!(
            e("${"),
            "lua script: invalid capturing variable name found in \"${\""
        );
        assert_eq!(
            e("${}"),
            "lua script: invalid capturing variable name found in \"${}\""
        );
        assert_eq!(
            e("$ x"),
            "lua script: invalid capturing variable name found in \"$ x\""
        );
        assert_eq!(e("${1"), "the closing bracket in \"1\" variable is missing");
        assert_eq!(
            e("${1a}"),
            "the closing bracket in \"1\" variable is missing"
        );
        assert_eq!(
            e("$name"),
            "attempt to use named capturing variable \"name\" (named captures not supported yet)"
        );
        assert_eq!(
            e("${name}x"),
            "attempt to use named capturing variable \"name\" (named captures not supported yet)"
        );
    }

    #[test]
    fn utf8_lengths() {
        assert_eq!(utf8_char_len(b'a'), 1);
        assert_eq!(utf8_char_len(0xC3), 2);
        assert_eq!(utf8_char_len(0xE4), 3);
        assert_eq!(utf8_char_len(0xF0), 4);
        assert_eq!(utf8_char_len(0x80), 1);
    }
}
