//! The C library's number conversions, for cjson: `%.*g` formatting (what
//! lua-cjson's fpconv does) and `strtod` for the number forms JSON itself
//! lacks (hexadecimal, `inf`, `nan`), which lua-cjson accepts through strtod.

use std::ffi::{c_char, c_int};

extern "C" {
    fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
    fn strtod(nptr: *const c_char, endptr: *mut *mut c_char) -> f64;
}

/// Appends `n` formatted with `"%.{precision}g"` (precision clamped to 1..=17).
pub fn push_g(out: &mut Vec<u8>, n: f64, precision: u32) {
    let prec = precision.clamp(1, 17) as c_int;
    let mut buf = [0u8; 40];
    // SAFETY: `buf` is 40 bytes and its size is passed; "%.*g" with a
    // precision of at most 17 writes at most 24 bytes plus the NUL (sign,
    // 17 digits, point, "e-308"). The format takes an int then a double,
    // which is what we pass.
    let len = unsafe {
        snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%.*g".as_ptr(),
            prec,
            n,
        )
    };
    if len > 0 {
        out.extend_from_slice(&buf[..(len as usize).min(buf.len() - 1)]);
    }
}

/// `strtod` over `s` (no NUL needed): the value and how many bytes it used
/// (0 when no number starts there). Only the first 400 bytes are looked at.
pub fn c_strtod(s: &[u8]) -> (f64, usize) {
    let mut buf = [0u8; 401];
    let n = s.len().min(400);
    buf[..n].copy_from_slice(&s[..n]);
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated (its last byte is never written), so
    // strtod stops inside it; `end` is set to a pointer into `buf`.
    let v = unsafe { strtod(buf.as_ptr().cast(), &mut end) };
    let used = (end as usize).saturating_sub(buf.as_ptr() as usize).min(n);
    (v, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(n: f64, p: u32) -> String {
        let mut v = Vec::new();
        push_g(&mut v, n, p);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats_like_printf() {
        assert_eq!(g(0.1, 14), "0.1");
        assert_eq!(g(1e100, 14), "1e+100");
        assert_eq!(g(-0.0, 14), "-0");
        assert_eq!(g(1.234567890123456, 14), "1.2345678901235");
        assert_eq!(g(2f64.powi(53), 14), "9.007199254741e+15");
        assert_eq!(g(2f64.powi(53), 16), "9007199254740992");
    }

    #[test]
    fn strtod_forms() {
        assert_eq!(c_strtod(b"0x10,"), (16.0, 4));
        assert_eq!(c_strtod(b"-inf]").1, 4);
        assert!(c_strtod(b"nan").0.is_nan());
        assert_eq!(c_strtod(b"x").1, 0);
        assert_eq!(c_strtod(b"1e5x"), (1e5, 3));
    }
}
