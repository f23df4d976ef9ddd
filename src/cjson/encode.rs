//! The JSON writer's pieces, with no Lua in them: string escaping, numbers
//! (with the NaN/Infinity policy), the array-or-object decision for a table's
//! keys, and lua-cjson's error messages. The Lua binding walks tables and
//! calls these; tests drive them from a [`super::value::Json`].

use super::number;

/// What to do with NaN and +-Infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidNumbers {
    /// Error (the default).
    Off,
    /// Write `NaN`, `Infinity`, `-Infinity`.
    On,
    /// Write `null`.
    Null,
}

/// Writing options (a subset of an instance's settings).
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub sparse_convert: bool,
    pub sparse_ratio: i32,
    pub sparse_safe: i32,
    pub max_depth: u32,
    pub invalid_numbers: InvalidNumbers,
    pub precision: u32,
    pub empty_table_as_object: bool,
    pub escape_forward_slash: bool,
    pub skip_unsupported: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            max_depth: 1000,
            invalid_numbers: InvalidNumbers::Off,
            precision: 14,
            empty_table_as_object: true,
            escape_forward_slash: true,
            skip_unsupported: false,
        }
    }
}

/// An encoding failure, with lua-cjson's message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

/// `Cannot serialise <type>: <reason>`.
pub fn cannot(type_name: &str, reason: &str) -> EncodeError {
    EncodeError(format!("Cannot serialise {type_name}: {reason}"))
}

/// Nesting deeper than allowed (`depth` counts the table being entered).
pub fn too_deep(depth: u32) -> EncodeError {
    EncodeError(format!("Cannot serialise, excessive nesting ({depth})"))
}

/// For each byte: 0 = copy as is, otherwise the escape's second character
/// (`u` means `\u00XX`).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[8] = b'b';
    t[9] = b't';
    t[10] = b'n';
    t[12] = b'f';
    t[13] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[0x7f] = b'u';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string. Bytes >= 0x80 pass through untouched (no
/// UTF-8 validation, as lua-cjson).
pub fn push_string(out: &mut Vec<u8>, s: &[u8], escape_slash: bool) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in s.iter().enumerate() {
        let e = ESCAPE[b as usize];
        if e == 0 || (b == b'/' && !escape_slash) {
            continue;
        }
        out.extend_from_slice(&s[run..i]);
        run = i + 1;
        if e == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
    }
    out.extend_from_slice(&s[run..]);
    out.push(b'"');
}

/// Appends a number (a value or an object key's text).
pub fn push_number(out: &mut Vec<u8>, n: f64, opts: &EncodeOptions) -> Result<(), EncodeError> {
    if !n.is_finite() {
        match opts.invalid_numbers {
            InvalidNumbers::Off => return Err(cannot("number", "must not be NaN or Infinity")),
            InvalidNumbers::On => {
                out.extend_from_slice(if n.is_nan() {
                    b"NaN".as_slice()
                } else if n < 0.0 {
                    b"-Infinity"
                } else {
                    b"Infinity"
                });
                return Ok(());
            }
            InvalidNumbers::Null => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    number::format(out, n, opts.precision);
    Ok(())
}

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `[...]` with elements 1..=n (n = 0: the table is empty).
    Array(u32),
    Object,
}

/// Looks at a table's keys one by one to decide [`Shape`].
#[derive(Debug, Default)]
pub struct ArrayScan {
    max: f64,
    items: f64,
}

impl ArrayScan {
    /// One key: `Some(n)` for a number key, `None` for any other type.
    /// Returns false as soon as the table cannot be an array.
    pub fn key(&mut self, k: Option<f64>) -> bool {
        match k {
            // Past i32 (and +inf) lua-cjson's C int overflows; treat as a
            // non-array key.
            Some(k) if k >= 1.0 && k.floor() == k && k <= f64::from(i32::MAX) => {
                if k > self.max {
                    self.max = k;
                }
                self.items += 1.0;
                true
            }
            _ => false,
        }
    }

    /// After every key was accepted: an array, unless excessively sparse
    /// (then an object when `sparse_convert`, else an error).
    pub fn finish(self, opts: &EncodeOptions) -> Result<Shape, EncodeError> {
        let ratio = f64::from(opts.sparse_ratio);
        let sparse = opts.sparse_ratio > 0
            && self.max > self.items * ratio
            && self.max > f64::from(opts.sparse_safe);
        if sparse {
            if !opts.sparse_convert {
                return Err(cannot("table", "excessively sparse array"));
            }
            return Ok(Shape::Object);
        }
        Ok(Shape::Array(self.max as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &[u8], slash: bool) -> String {
        let mut v = Vec::new();
        push_string(&mut v, x, slash);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(s(b"a/b", true), r#""a\/b""#);
        assert_eq!(s(b"a/b", false), r#""a/b""#);
        assert_eq!(s(b"\"\\\n\r\t\x08\x0c", true), r#""\"\\\n\r\t\b\f""#);
        assert_eq!(
            s(b"\x00\x01\x1f\x7f", true),
            r#""\u0000\u0001\u001f\u007f""#
        );
        assert_eq!(s("é€".as_bytes(), true), "\"é€\"");
        assert_eq!(s(b"", true), "\"\"");
    }

    fn scan(keys: &[f64], opts: &EncodeOptions) -> Result<Shape, EncodeError> {
        let mut a = ArrayScan::default();
        for &k in keys {
            if !a.key(Some(k)) {
                return Ok(Shape::Object);
            }
        }
        a.finish(opts)
    }

    #[test]
    fn shapes() {
        let o = EncodeOptions::default();
        assert_eq!(scan(&[], &o), Ok(Shape::Array(0)));
        assert_eq!(scan(&[1.0, 2.0, 3.0], &o), Ok(Shape::Array(3)));
        assert_eq!(scan(&[0.0], &o), Ok(Shape::Object));
        assert_eq!(scan(&[1.5], &o), Ok(Shape::Object));
        assert_eq!(scan(&[-1.0], &o), Ok(Shape::Object));
        // max <= safe (10): always an array
        assert_eq!(scan(&[10.0], &o), Ok(Shape::Array(10)));
        assert_eq!(
            scan(&[11.0], &o),
            Err(cannot("table", "excessively sparse array"))
        );
        // 2 items, max 4: 4 > 2*2 is false
        assert_eq!(
            scan(&[1.0, 20.0], &o),
            Err(cannot("table", "excessively sparse array"))
        );
        assert_eq!(
            scan(
                &[11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
                &o
            ),
            Ok(Shape::Array(20))
        );
        let conv = EncodeOptions {
            sparse_convert: true,
            ..o
        };
        assert_eq!(scan(&[11.0], &conv), Ok(Shape::Object));
        let never = EncodeOptions {
            sparse_ratio: 0,
            ..o
        };
        assert_eq!(scan(&[1000.0], &never), Ok(Shape::Array(1000)));
    }

    #[test]
    fn numbers() {
        let o = EncodeOptions::default();
        let mut v = Vec::new();
        assert_eq!(
            push_number(&mut v, f64::NAN, &o),
            Err(cannot("number", "must not be NaN or Infinity"))
        );
        let on = EncodeOptions {
            invalid_numbers: InvalidNumbers::On,
            ..o
        };
        push_number(&mut v, f64::NAN, &on).unwrap();
        push_number(&mut v, f64::NEG_INFINITY, &on).unwrap();
        let null = EncodeOptions {
            invalid_numbers: InvalidNumbers::Null,
            ..o
        };
        push_number(&mut v, f64::INFINITY, &null).unwrap();
        assert_eq!(v, b"NaN-Infinitynull");
    }
}
