//! Numbers as lua-cjson writes and reads them: `%.{precision}g` out (an
//! integral value prints without a fraction), `strtod`'s forms in.

use crate::ffi::cnum;

const POW10: [f64; 18] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17,
];

/// Appends `n` as `printf("%.{precision}g", n)` would (precision 1..=17).
pub fn format(out: &mut Vec<u8>, n: f64, precision: u32) {
    let p = precision.clamp(1, 17) as usize;
    // Integral values below 10^precision print all their digits and no
    // exponent under %g: write them directly (the common case).
    if n.fract() == 0.0 && n.abs() < POW10[p] && !(n == 0.0 && n.is_sign_negative()) {
        push_int(out, n as i64);
        return;
    }
    if p > 15 || !push_short(out, n, p) {
        cnum::push_g(out, n, precision);
    }
}

/// `%.{p}g` from the shortest round-trip digits, when there are at most `p`
/// of them and `p <= 15`: then they are also the `p`-digit rounding (they
/// are within half an ulp, under 1.2e-16 relative, of the value, while
/// `p`-digit neighbours are at least 1e-15 relative apart) with trailing
/// zeros dropped, which is what %g prints. Returns false to leave the job to
/// printf.
fn push_short(out: &mut Vec<u8>, n: f64, p: usize) -> bool {
    use std::io::Write;
    if !n.is_finite() {
        return false;
    }
    let mut buf = [0u8; 40];
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    if write!(cur, "{n:e}").is_err() {
        return false;
    }
    let len = cur.position() as usize;
    let text = &buf[..len];
    // "-d.ddde-x": sign, digits (with an optional point), exponent.
    let (neg, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let Some(e_at) = text.iter().position(|&b| b == b'e') else {
        return false;
    };
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &b in &text[..e_at] {
        if b.is_ascii_digit() {
            if nd == digits.len() {
                return false;
            }
            digits[nd] = b;
            nd += 1;
        }
    }
    let Some(exp) = std::str::from_utf8(&text[e_at + 1..])
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
    else {
        return false;
    };
    if nd == 0 || nd > p {
        return false;
    }
    let digits = &digits[..nd];
    if neg {
        out.push(b'-');
    }
    if exp < -4 || exp >= p as i32 {
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        push_int(out, i64::from(a));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if nd <= int_len {
            out.extend_from_slice(digits);
            out.resize(out.len() + int_len - nd, b'0');
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-exp - 1) as usize, b'0');
        out.extend_from_slice(digits);
    }
    true
}

/// Decimal digits of `v` (its own copy of ffi::fmt's: the fuzz target
/// compiles src/cjson standalone, with only ffi::cnum beside it).
fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// A number read from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parsed {
    pub value: f64,
    /// Bytes consumed.
    pub len: usize,
    /// No fraction or exponent (lua-cjson names such a token T_INTEGER).
    pub integer: bool,
}

/// Reads the longest number `strtod` would read at the start of `s`
/// (C locale): optional sign, then decimal digits with optional fraction and
/// exponent, hexadecimal (`0x...`), `inf`/`infinity` or `nan`. `None` when
/// no number starts there.
pub fn parse(s: &[u8]) -> Option<Parsed> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    if matches!(at(0), b'+' | b'-') {
        i = 1;
    }
    let c = at(i);
    let hex = c == b'0' && (at(i + 1) | 0x20) == b'x';
    if hex || matches!(c | 0x20, b'i' | b'n') {
        let (value, len) = cnum::c_strtod(s);
        if len == 0 {
            return None;
        }
        let integer = hex && !s[..len].iter().any(|&b| b == b'.' || (b | 0x20) == b'p');
        return Some(Parsed {
            value,
            len,
            integer,
        });
    }
    let int_start = i;
    while at(i).is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut integer = true;
    let mut frac_digits = 0;
    if at(i) == b'.' {
        let mut j = i + 1;
        while at(j).is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits + frac_digits > 0 {
            i = j;
            integer = false;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if at(i) | 0x20 == b'e' {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        let exp_start = j;
        while at(j).is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            integer = false;
        }
    }
    let span = &s[..i];
    if integer && int_digits <= 15 {
        // Exact in a double: no rounding to get right.
        let mut v: u64 = 0;
        for &d in &span[int_start..] {
            v = v * 10 + u64::from(d - b'0');
        }
        let f = v as f64;
        let value = if span[0] == b'-' { -f } else { f };
        return Some(Parsed {
            value,
            len: i,
            integer,
        });
    }
    if let Some(value) = fast_decimal(span, int_start) {
        return Some(Parsed {
            value,
            len: i,
            integer,
        });
    }
    // The span is ASCII digits, sign, '.', 'e' only: valid UTF-8, and a form
    // Rust's correctly rounded parser accepts (as glibc's strtod rounds).
    let text = std::str::from_utf8(span).ok()?;
    let value = text.parse::<f64>().ok().or_else(|| {
        let (v, len) = cnum::c_strtod(span);
        (len == span.len()).then_some(v)
    })?;
    Some(Parsed {
        value,
        len: i,
        integer,
    })
}

/// `d+.d*` with at most 15 significant digits and no exponent: the digits
/// and the power of ten are exact doubles, so one IEEE division rounds
/// correctly (Clinger's fast path), as strtod would.
fn fast_decimal(span: &[u8], int_start: usize) -> Option<f64> {
    let digits = &span[int_start..];
    if digits.len() > 16 {
        return None;
    }
    let mut m: u64 = 0;
    let mut frac: Option<usize> = None;
    for (k, &d) in digits.iter().enumerate() {
        match d {
            b'0'..=b'9' => m = m * 10 + u64::from(d - b'0'),
            b'.' if frac.is_none() => frac = Some(digits.len() - k - 1),
            _ => return None,
        }
    }
    let f = frac.unwrap_or(0);
    if digits.len() - usize::from(frac.is_some()) > 15 {
        return None;
    }
    let v = m as f64 / POW10[f];
    Some(if span[0] == b'-' { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: f64, p: u32) -> String {
        let mut v = Vec::new();
        format(&mut v, n, p);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formatting() {
        assert_eq!(f(3.0, 14), "3");
        assert_eq!(f(-2.0, 14), "-2");
        assert_eq!(f(-0.0, 14), "-0");
        assert_eq!(f(0.0, 14), "0");
        assert_eq!(f(3.25, 14), "3.25");
        assert_eq!(f(1e100, 14), "1e+100");
        assert_eq!(f(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(f(12345678901234.0, 14), "12345678901234");
        assert_eq!(f(123456789012345.0, 15), "123456789012345");
        assert_eq!(f(1e14, 14), "1e+14");
        assert_eq!(f(0.1 + 0.2, 14), "0.3");
        assert_eq!(f(0.1 + 0.2, 16), "0.3");
        assert_eq!(f(0.1 + 0.2, 17), "0.30000000000000004");
        assert_eq!(f(1.0 / 3.0, 3), "0.333");
        assert_eq!(f(f64::MIN_POSITIVE, 14), "2.2250738585072e-308");
        assert_eq!(f(i64::MIN as f64, 14), "-9.2233720368548e+18");
    }

    fn p(s: &str) -> Option<(f64, usize, bool)> {
        parse(s.as_bytes()).map(|r| (r.value, r.len, r.integer))
    }

    #[test]
    fn parsing() {
        assert_eq!(p("123,"), Some((123.0, 3, true)));
        assert_eq!(p("-0]"), Some((-0.0, 2, true)));
        assert!(p("-0").unwrap().0.is_sign_negative());
        assert_eq!(p("1.5e3x"), Some((1500.0, 5, false)));
        assert_eq!(p("1.e2"), Some((100.0, 4, false)));
        assert_eq!(p("1e"), Some((1.0, 1, true)));
        assert_eq!(p("1e+"), Some((1.0, 1, true)));
        assert_eq!(p("-.5"), Some((-0.5, 3, false)));
        assert_eq!(p("-"), None);
        assert_eq!(p("-x"), None);
        assert_eq!(p("."), None);
        assert_eq!(p("+7"), Some((7.0, 2, true)));
        assert_eq!(p("0x1F"), Some((31.0, 4, true)));
        assert_eq!(p("0x"), Some((0.0, 1, true)));
        assert_eq!(p("010"), Some((10.0, 3, true)));
        assert_eq!(p("Infinity"), Some((f64::INFINITY, 8, false)));
        assert_eq!(p("-inf,"), Some((f64::NEG_INFINITY, 4, false)));
        assert!(p("NaN").unwrap().0.is_nan());
        assert_eq!(p("nul"), None);
        assert_eq!(
            p("1234567890123456789012345678901234567890"),
            Some((1.2345678901234568e39, 40, true))
        );
        assert_eq!(p("9007199254740993"), Some((9007199254740992.0, 16, true)));
        assert_eq!(p("1e400"), Some((f64::INFINITY, 5, false)));
        assert_eq!(p("2.2250738585072014e-308").unwrap().0, f64::MIN_POSITIVE);
    }
}
