//! `ngx.encode_args` and `ngx.decode_args`, plus the query-string parser and
//! table builder that `ngx.req.get_uri_args` / `ngx.req.get_post_args` reuse.
//!
//! Semantics are lua-nginx-module's (`ngx_http_lua_parse_args`,
//! `ngx_http_lua_process_args_option`):
//! - decoding: pairs split on `&`, key and value split on the first `=`, both
//!   unescaped with `+` as space; a bare `key` gives `true`, `key=` gives `""`,
//!   pairs with an empty key are dropped; a repeated key collects its values
//!   into an array in input order. At most `max_args` pairs are read (default
//!   100, 0 means no limit); hitting the limit adds a second result,
//!   `"truncated"`.
//! - encoding: string keys only; string and number values become `key=value`,
//!   `true` a bare `key`, `false` nothing, an array of those repeats the key;
//!   keys and values are escaped as URI components (`%20` for a space).

use std::borrow::Cow;

use mlua::{Lua, LuaString, MultiValue, Table, Value};

use super::codec::{check_string, escape_into, lua_type_name, unescape_uri, EscapeKind};
use super::{raise, ApiResult};

/// lua-nginx-module's default cap on the number of parsed arguments.
pub(crate) const DEFAULT_MAX_ARGS: usize = 100;

/// One query argument: unescaped key, and `None` for a bare key (Lua `true`)
/// or `Some(value)` (possibly empty) for `key=value`.
pub(crate) type ArgPair<'a> = (Cow<'a, [u8]>, Option<Cow<'a, [u8]>>);

/// The result of [`parse_args`].
#[derive(Debug, Default)]
pub(crate) struct ParsedArgs<'a> {
    /// The pairs in input order, empty keys already dropped.
    pub pairs: Vec<ArgPair<'a>>,
    /// Whether reading stopped at the `max` limit (callers then return a
    /// second value, `"truncated"`, as lua-nginx-module does).
    pub truncated: bool,
}

/// Parses a query string (or an `application/x-www-form-urlencoded` body)
/// exactly as lua-nginx-module's `ngx_http_lua_parse_args` does.
///
/// `max` is the most pairs to read; 0 means no limit. As upstream counts, every
/// `&`-terminated piece (including an empty-key one that is then dropped)
/// counts towards `max`, and reaching `max` at a `&` stops reading and sets
/// `truncated`, even if nothing follows. The last, unterminated piece never
/// counts. Keys and values borrow from `input` unless they needed unescaping.
///
/// Note that `ngx.req.get_uri_args`'s FFI path in lua-resty-core counts
/// pieces up front (`#'&' + 1`, truncating when that exceeds `max`), which
/// selects the same pairs and sets the same flag.
pub(crate) fn parse_args(input: &[u8], max: usize) -> ParsedArgs<'_> {
    let mut parsed = ParsedArgs::default();
    let mut start = 0;
    let mut key: Option<Cow<'_, [u8]>> = None;
    let mut count = 0;

    fn push<'a>(pairs: &mut Vec<ArgPair<'a>>, key: Option<Cow<'a, [u8]>>, piece: Cow<'a, [u8]>) {
        let (k, v) = match key {
            Some(k) => (k, Some(piece)),
            None => (piece, None),
        };
        if !k.is_empty() {
            pairs.push((k, v));
        }
    }

    for (i, &b) in input.iter().enumerate() {
        match b {
            b'=' if key.is_none() => {
                key = Some(unescape_uri(&input[start..i]));
                start = i + 1;
            }
            b'&' => {
                push(
                    &mut parsed.pairs,
                    key.take(),
                    unescape_uri(&input[start..i]),
                );
                start = i + 1;
                count += 1;
                if max > 0 && count == max {
                    parsed.truncated = true;
                    return parsed;
                }
            }
            _ => {}
        }
    }

    if start != input.len() || key.is_some() {
        push(&mut parsed.pairs, key, unescape_uri(&input[start..]));
    }
    parsed
}

/// Stores parsed pairs into `t` the way lua-nginx-module does: the first value
/// of a key is stored as is (a string, or `true` for a bare key); a second one
/// turns the entry into an array `{first, second}`; later ones are appended.
/// Uses raw accesses, so metatables on `t` are not consulted.
pub(crate) fn fill_args_table(lua: &Lua, t: &Table, pairs: &[ArgPair<'_>]) -> mlua::Result<()> {
    for (k, v) in pairs {
        let key = lua.create_string(k)?;
        let value = match v {
            Some(v) => Value::String(lua.create_string(v)?),
            None => Value::Boolean(true),
        };
        match t.raw_get::<Value>(&key)? {
            Value::Nil => t.raw_set(key, value)?,
            Value::Table(list) => list.raw_set(list.raw_len() + 1, value)?,
            first => {
                let list = lua.create_table_with_capacity(4, 0)?;
                list.raw_set(1, first)?;
                list.raw_set(2, value)?;
                t.raw_set(key, list)?;
            }
        }
    }
    Ok(())
}

/// A new table holding `pairs` (see [`fill_args_table`]).
pub(crate) fn args_table(lua: &Lua, pairs: &[ArgPair<'_>]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    fill_args_table(lua, &t, pairs)?;
    Ok(t)
}

/// Appends `key` and `value` escaped as URI components, with the `&` separator.
fn push_pair(out: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    if !out.is_empty() {
        out.push(b'&');
    }
    escape_into(key, EscapeKind::UriComponent, out);
    if let Some(value) = value {
        out.push(b'=');
        escape_into(value, EscapeKind::UriComponent, out);
    }
}

/// Encodes a Lua table as a query string (`ngx.encode_args`, and the table
/// form of `ngx.req.set_uri_args` and of subrequest `args`). Entries come out
/// in `next()` order. Errors carry lua-nginx-module's messages.
pub(crate) fn encode_table(lua: &Lua, t: &Table) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut failure: Option<String> = None;
    t.for_each(|k: Value, v: Value| {
        let Value::String(key) = k else {
            failure = Some("attempt to use a non-string key in the \"args\" option table".into());
            return Err(mlua::Error::runtime("stop"));
        };
        let key = key.as_bytes();
        match v {
            Value::String(s) => push_pair(&mut out, &key, Some(&s.as_bytes())),
            Value::Integer(_) | Value::Number(_) => {
                let s = number_string(lua, v)?;
                push_pair(&mut out, &key, Some(&s.as_bytes()));
            }
            Value::Boolean(true) => push_pair(&mut out, &key, None),
            Value::Boolean(false) => {}
            Value::Table(list) => {
                list.for_each(|_: Value, item: Value| {
                    match item {
                        Value::Boolean(true) => push_pair(&mut out, &key, None),
                        Value::Boolean(false) => {}
                        Value::String(s) => push_pair(&mut out, &key, Some(&s.as_bytes())),
                        Value::Integer(_) | Value::Number(_) => {
                            let s = number_string(lua, item)?;
                            push_pair(&mut out, &key, Some(&s.as_bytes()));
                        }
                        other => {
                            failure = Some(format!(
                                "attempt to use {} as query arg value",
                                lua_type_name(&other)
                            ));
                            return Err(mlua::Error::runtime("stop"));
                        }
                    }
                    Ok(())
                })?;
            }
            other => {
                failure = Some(format!(
                    "attempt to use {} as query arg value",
                    lua_type_name(&other)
                ));
                return Err(mlua::Error::runtime("stop"));
            }
        }
        Ok(())
    })
    .or_else(|e| if failure.is_some() { Ok(()) } else { Err(e) })?;
    match failure {
        Some(msg) => raise(msg),
        None => Ok(out),
    }
}

/// A number as Lua's `lua_tolstring` writes it (`%.14g`).
fn number_string(lua: &Lua, v: Value) -> mlua::Result<LuaString> {
    lua.coerce_string(v)?
        .ok_or_else(|| mlua::Error::runtime("cannot convert number to string"))
}

/// `luaL_checkint`: a number or numeric string, truncated to a C `int`.
fn check_int(lua: &Lua, v: Value, arg: usize, func: &str) -> ApiResult<i32> {
    let n = match v {
        Value::Integer(i) => i as f64,
        Value::Number(n) => n,
        Value::String(_) => match lua.coerce_number(v.clone())? {
            Some(n) => n,
            None => {
                return raise(format!(
                    "bad argument #{arg} to '{func}' (number expected, got string)"
                ));
            }
        },
        other => {
            return raise(format!(
                "bad argument #{arg} to '{func}' (number expected, got {})",
                lua_type_name(&other)
            ))
        }
    };
    Ok(n as i64 as i32)
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    super::set(
        lua,
        ngx,
        "encode_args",
        |lua, args: MultiValue| -> ApiResult<LuaString> {
            if args.len() != 1 {
                return raise(format!("expecting 1 argument but seen {}", args.len()));
            }
            let t = match args.into_iter().next() {
                Some(Value::Table(t)) => t,
                other => {
                    let got = other.as_ref().map(lua_type_name).unwrap_or("no value");
                    return raise(format!(
                        "bad argument #1 to 'encode_args' (table expected, got {got})"
                    ));
                }
            };
            let encoded = encode_table(lua, &t)?;
            Ok(lua.create_string(encoded)?)
        },
    )?;

    super::set(
        lua,
        ngx,
        "decode_args",
        |lua, args: MultiValue| -> ApiResult<MultiValue> {
            let n = args.len();
            if n != 1 && n != 2 {
                return raise(format!("expecting 1 or 2 arguments but seen {n}"));
            }
            let mut args = args.into_iter();
            let s = check_string(lua, args.next().unwrap_or(Value::Nil), 1, "decode_args")?;
            let max = if n == 2 {
                // lua-nginx-module applies a limit only when it is positive.
                usize::try_from(check_int(
                    lua,
                    args.next().unwrap_or(Value::Nil),
                    2,
                    "decode_args",
                )?)
                .unwrap_or(0)
            } else {
                DEFAULT_MAX_ARGS
            };
            let bytes = s.as_bytes();
            let parsed = parse_args(&bytes, max);
            let t = args_table(lua, &parsed.pairs)?;
            let mut ret = MultiValue::new();
            ret.push_back(Value::Table(t));
            if parsed.truncated {
                ret.push_back(Value::String(lua.create_string("truncated")?));
            }
            Ok(ret)
        },
    )?;

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str, max: usize) -> (Vec<(String, Option<String>)>, bool) {
        let parsed = parse_args(input.as_bytes(), max);
        let pairs = parsed
            .pairs
            .iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    v.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
                )
            })
            .collect();
        (pairs, parsed.truncated)
    }

    fn p(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.to_string(), v.map(str::to_string))
    }

    #[test]
    fn basic_pairs() {
        assert_eq!(
            pairs("a=1&b=2&c", 100),
            (
                vec![p("a", Some("1")), p("b", Some("2")), p("c", None)],
                false
            )
        );
        assert_eq!(pairs("", 100), (vec![], false));
        assert_eq!(pairs("a=", 100), (vec![p("a", Some(""))], false));
        assert_eq!(pairs("a=b=c", 100), (vec![p("a", Some("b=c"))], false));
        assert_eq!(pairs("=x&=y&&&z", 100), (vec![p("z", None)], false));
        assert_eq!(pairs("a&", 100), (vec![p("a", None)], false));
        assert_eq!(pairs("&a", 100), (vec![p("a", None)], false));
        assert_eq!(pairs("=", 100), (vec![], false));
    }

    #[test]
    fn unescaping() {
        assert_eq!(
            pairs("a%20b=1%61+2", 100),
            (vec![p("a b", Some("1a 2"))], false)
        );
        assert_eq!(pairs("k=%zz%", 100), (vec![p("k", Some("%zz%"))], false));
        assert_eq!(pairs("%3D=%26", 100), (vec![p("=", Some("&"))], false));
        assert_eq!(pairs("+=+", 100), (vec![p(" ", Some(" "))], false));
        let parsed = parse_args(b"plain=value", 100);
        assert!(matches!(parsed.pairs[0].0, Cow::Borrowed(_)));
    }

    #[test]
    fn limits() {
        assert_eq!(pairs("a&b&c", 2), (vec![p("a", None), p("b", None)], true));
        assert_eq!(pairs("a&b", 2), (vec![p("a", None), p("b", None)], false));
        // upstream reports truncation at the max-th '&' even if nothing follows
        assert_eq!(pairs("a&b&", 2), (vec![p("a", None), p("b", None)], true));
        // empty-key pieces count too
        assert_eq!(pairs("=1&a&b", 2), (vec![p("a", None)], true));
        let many = (0..150)
            .map(|i| format!("k{i}={i}"))
            .collect::<Vec<_>>()
            .join("&");
        let (got, truncated) = pairs(&many, DEFAULT_MAX_ARGS);
        assert_eq!((got.len(), truncated), (100, true));
        let (got, truncated) = pairs(&many, 0);
        assert_eq!((got.len(), truncated), (150, false));
        assert_eq!(pairs("a&b&c", 1), (vec![p("a", None)], true));
    }

    #[test]
    fn encode_and_tables() {
        let lua = Lua::new();
        let t: Table = lua
            .load(r#"return {foo = 3, ["b r"] = "hello world"}"#)
            .eval()
            .unwrap();
        let s = String::from_utf8(encode_table(&lua, &t).ok().unwrap()).unwrap();
        let mut parts: Vec<&str> = s.split('&').collect();
        parts.sort();
        assert_eq!(parts, ["b%20r=hello%20world", "foo=3"]);

        let t: Table = lua
            .load(r#"return {baz = {32, "hello", true, false}}"#)
            .eval()
            .unwrap();
        assert_eq!(
            encode_table(&lua, &t).ok().unwrap(),
            b"baz=32&baz=hello&baz"
        );

        let t: Table = lua
            .load(r#"return {a = true, b = false, c = {}}"#)
            .eval()
            .unwrap();
        assert_eq!(encode_table(&lua, &t).ok().unwrap(), b"a");

        let t: Table = lua
            .load(r#"return {x = 1.5, ["a=&"] = "?/"}"#)
            .eval()
            .unwrap();
        let s = String::from_utf8(encode_table(&lua, &t).ok().unwrap()).unwrap();
        let mut parts: Vec<&str> = s.split('&').collect();
        parts.sort();
        assert_eq!(parts, ["a%3D%26=%3F%2F", "x=1.5"]);

        for (src, msg) in [
            (
                "return {1}",
                "attempt to use a non-string key in the \"args\" option table",
            ),
            (
                "return {a = print}",
                "attempt to use function as query arg value",
            ),
            (
                "return {a = {{}}}",
                "attempt to use table as query arg value",
            ),
        ] {
            let t: Table = lua.load(src).eval().unwrap();
            match encode_table(&lua, &t) {
                Err(crate::api::ApiError::Raise(m)) => assert_eq!(m, msg),
                _ => panic!("expected an error for {src}"),
            }
        }

        let parsed = parse_args(b"a=1&a=2&b&a", 100);
        let t = args_table(&lua, &parsed.pairs).unwrap();
        lua.globals().set("t", t).unwrap();
        let check: String = lua
            .load(r#"return type(t.a) .. #t.a .. t.a[1] .. t.a[2] .. tostring(t.a[3]) .. tostring(t.b)"#)
            .eval()
            .unwrap();
        assert_eq!(check, "table312truetrue");
    }
}
