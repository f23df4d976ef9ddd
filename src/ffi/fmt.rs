//! Number formatting as Lua does it (`%.14g`), via the C library.

extern "C" {
    fn snprintf(buf: *mut std::ffi::c_char, n: usize, fmt: *const std::ffi::c_char, ...) -> i32;
}

/// Appends `n` formatted like Lua's `tostring(n)`.
pub fn push_number(out: &mut Vec<u8>, n: f64) {
    // %.14g prints integers of up to 14 digits in full. (The cast check
    // avoids fract(), a libm call; -0.0 must still print as "-0".)
    if n.abs() < 1e14 && (n as i64) as f64 == n && !(n == 0.0 && n.is_sign_negative()) {
        push_integer(out, n as i64);
        return;
    }
    let mut buf = [0u8; 32];
    // SAFETY: the buffer is 32 bytes and we pass its size; "%.14g" with one
    // double argument writes at most ~24 bytes plus NUL.
    let len = unsafe { snprintf(buf.as_mut_ptr() as *mut _, buf.len(), c"%.14g".as_ptr(), n) };
    if len > 0 {
        out.extend_from_slice(&buf[..(len as usize).min(buf.len() - 1)]);
    }
}

/// Appends `v` in decimal without an intermediate String.
pub fn push_integer(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(format_integer(v, &mut buf));
}

/// `v` in decimal, written at the end of `buf` (i64::MIN takes all 20).
pub fn format_integer(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut m = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: f64) -> String {
        let mut v = Vec::new();
        push_number(&mut v, n);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn like_lua() {
        assert_eq!(f(3.0), "3");
        assert_eq!(f(-2.0), "-2");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(1e100), "1e+100");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(f64::INFINITY), "inf");
        assert_eq!(f(99999999999999.0), "99999999999999");
        assert_eq!(f(123456789012345.0), "1.2345678901234e+14");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(-99999999999999.0), "-99999999999999");
        assert_eq!(f(f64::NAN).trim_start_matches('-'), "nan");
    }

    #[test]
    fn integers() {
        let mut b = [0u8; 20];
        assert_eq!(format_integer(0, &mut b), b"0");
        assert_eq!(format_integer(8589934591, &mut b), b"8589934591");
        assert_eq!(format_integer(-12, &mut b), b"-12");
        assert_eq!(format_integer(i64::MIN, &mut b), b"-9223372036854775808");
        let mut v = b"x=".to_vec();
        push_integer(&mut v, 65535);
        assert_eq!(v, b"x=65535");
    }
}
