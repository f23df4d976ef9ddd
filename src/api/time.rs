//! Time functions of the `ngx` table: `ngx.time`, `ngx.now`, `ngx.today`,
//! `ngx.localtime`, `ngx.utctime`, `ngx.update_time`, `ngx.http_time`,
//! `ngx.cookie_time` and `ngx.parse_http_time`.
//!
//! Like lua-nginx-module, the clock is nginx's cached time (no system call;
//! `ngx.update_time()` refreshes it), read through [`crate::ffi::time`]. The
//! formatting and parsing are the plain functions below, which reproduce
//! nginx's `ngx_gmtime`, `ngx_http_time`, `ngx_http_cookie_time` and
//! `ngx_parse_http_time` (including their clamping of out-of-range times).

use std::io::Write;

use mlua::{Lua, LuaString, Table, Value};

use super::{raise, ApiResult};
use crate::ffi::time as clock;

/// A broken-down UTC time, as nginx's `ngx_tm_t` holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    /// Full year (1970 to 9999).
    pub year: u32,
    /// Month, 1 to 12.
    pub mon: u32,
    /// Day of the month, 1 to 31.
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// Day of the week, 0 = Sunday.
    pub wday: u32,
}

/// The last second nginx can format: 9999-12-31 23:59:59 UTC (days since the epoch).
const MAX_DAYS: i64 = 2_932_896;

/// Splits seconds since the epoch into a UTC date and time like `ngx_gmtime`:
/// negative times count as the epoch, and anything after 9999-12-31 23:59:59
/// as that second.
pub fn gmtime(t: i64) -> Tm {
    let t = t.max(0);
    let (days, secs) = match t / 86_400 {
        d if d > MAX_DAYS => (MAX_DAYS, 86_399),
        d => (d, t % 86_400),
    };
    let (year, mon, mday) = civil_from_days(days);
    Tm {
        year: year as u32,
        mon,
        mday,
        hour: (secs / 3600) as u32,
        min: (secs % 3600 / 60) as u32,
        sec: (secs % 60) as u32,
        // 1970-01-01 was a Thursday.
        wday: ((4 + days) % 7) as u32,
    }
}

/// Proleptic Gregorian date of `days` since 1970-01-01 (non-negative here),
/// counted in 400-year eras starting on March 1st so that leap days fall at
/// the end of each year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // March = 0
    let mday = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(mon <= 2);
    (year, mon, mday)
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn weekday_name(tm: &Tm) -> &'static str {
    WEEKDAYS.get(tm.wday as usize).copied().unwrap_or("???")
}

fn month_name(tm: &Tm) -> &'static str {
    MONTHS
        .get(tm.mon.wrapping_sub(1) as usize)
        .copied()
        .unwrap_or("???")
}

/// A small fixed buffer that formatted text is written into (no allocation).
pub struct TimeBuf {
    buf: [u8; 40],
    len: usize,
}

impl TimeBuf {
    fn format(args: std::fmt::Arguments<'_>) -> Self {
        let mut buf = [0u8; 40];
        let mut rest: &mut [u8] = &mut buf;
        // Every format below fits in 40 bytes; a failed write just truncates.
        let _ = rest.write_fmt(args);
        let len = 40 - rest.len();
        TimeBuf { buf, len }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// `yyyy-mm-dd`.
pub fn format_date(tm: &Tm) -> TimeBuf {
    TimeBuf::format(format_args!("{:04}-{:02}-{:02}", tm.year, tm.mon, tm.mday))
}

/// `yyyy-mm-dd hh:mm:ss`.
pub fn format_datetime(tm: &Tm) -> TimeBuf {
    TimeBuf::format(format_args!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec
    ))
}

/// An HTTP date, e.g. `Thu, 18 Nov 2010 11:27:35 GMT` (`ngx.http_time`).
pub fn http_time(t: i64) -> TimeBuf {
    let tm = gmtime(t);
    TimeBuf::format(format_args!(
        "{}, {:02} {} {:4} {:02}:{:02}:{:02} GMT",
        weekday_name(&tm),
        tm.mday,
        month_name(&tm),
        tm.year,
        tm.hour,
        tm.min,
        tm.sec
    ))
}

/// A cookie `expires` date, e.g. `Thu, 18-Nov-10 11:27:35 GMT`
/// (`ngx.cookie_time`): two-digit years up to 2037, four digits after, as
/// nginx writes them for old browsers.
pub fn cookie_time(t: i64) -> TimeBuf {
    let tm = gmtime(t);
    let (year, width) = if tm.year > 2037 {
        (tm.year, 4)
    } else {
        (tm.year % 100, 2)
    };
    TimeBuf::format(format_args!(
        "{}, {:02}-{}-{:0width$} {:02}:{:02}:{:02} GMT",
        weekday_name(&tm),
        tm.mday,
        month_name(&tm),
        year,
        tm.hour,
        tm.min,
        tm.sec,
    ))
}

/// Parses an HTTP date as nginx's `ngx_parse_http_time` does, accepting the
/// RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`)
/// forms. Like nginx it is lenient: the weekday, the trailing zone and the
/// letters of the month name past what tells months apart are not checked.
/// Returns seconds since the epoch, or `None` for malformed input.
pub fn parse_http_time(s: &[u8]) -> Option<i64> {
    #[derive(PartialEq)]
    enum Fmt {
        Rfc822,
        Rfc850,
        Isoc,
    }
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let digit = |i: usize| at(i).is_ascii_digit().then(|| u64::from(at(i) - b'0'));
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let remaining = |p: usize| s.len().saturating_sub(p);

    // The weekday ends at ',' (RFC 1123 / RFC 850) or ' ' (asctime).
    let sep = s.iter().position(|&b| b == b',' || b == b' ')?;
    let mut fmt = if s[sep] == b' ' {
        Some(Fmt::Isoc)
    } else {
        None
    };
    let mut p = sep + 1;
    while p < s.len() && s[p] == b' ' {
        p += 1;
    }
    if remaining(p) < 18 {
        return None;
    }

    let mut day = 0;
    if fmt.is_none() {
        day = two(p)?;
        p += 2;
        fmt = match at(p) {
            b' ' if remaining(p) >= 18 => Some(Fmt::Rfc822),
            b'-' => Some(Fmt::Rfc850),
            _ => return None,
        };
        p += 1;
    }
    let fmt = fmt?;

    // Months are told apart by as few letters as possible, as nginx does.
    let month: u64 = match at(p) {
        b'J' if at(p + 1) == b'a' => 0,
        b'J' if at(p + 2) == b'n' => 5,
        b'J' => 6,
        b'F' => 1,
        b'M' if at(p + 2) == b'r' => 2,
        b'M' => 4,
        b'A' if at(p + 1) == b'p' => 3,
        b'A' => 7,
        b'S' => 8,
        b'O' => 9,
        b'N' => 10,
        b'D' => 11,
        _ => return None,
    };
    p += 3;
    match fmt {
        Fmt::Rfc822 if at(p) != b' ' => return None,
        Fmt::Rfc850 if at(p) != b'-' => return None,
        _ => {}
    }
    p += 1;

    let mut year = 0;
    match fmt {
        Fmt::Rfc822 => {
            year = two(p)? * 100 + two(p + 2)?;
            p += 4;
        }
        Fmt::Rfc850 => {
            year = two(p)?;
            year += if year < 70 { 2000 } else { 1900 };
            p += 2;
        }
        Fmt::Isoc => {
            if at(p) == b' ' {
                p += 1;
            }
            day = digit(p)?;
            p += 1;
            if at(p) != b' ' {
                day = day * 10 + digit(p)?;
                p += 1;
            }
            if remaining(p) < 14 {
                return None;
            }
        }
    }

    if at(p) != b' ' {
        return None;
    }
    p += 1;
    let hour = two(p)?;
    if at(p + 2) != b':' {
        return None;
    }
    let min = two(p + 3)?;
    if at(p + 5) != b':' {
        return None;
    }
    let sec = two(p + 6)?;
    p += 8;

    if fmt == Fmt::Isoc {
        if at(p) != b' ' {
            return None;
        }
        year = two(p + 1)? * 100 + two(p + 3)?;
    }

    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    const MDAY: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day == 29 && month == 1 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        if !leap {
            return None;
        }
    } else if day > MDAY[month as usize] {
        return None;
    }

    // Gauss' day count from March 1st of year 0, then relative to the epoch:
    // months are renumbered March = 1 .. February = 12, January and February
    // belonging to the previous year. The arithmetic wraps like nginx's
    // unsigned one, so odd inputs (years before 1970, year 0) give nginx's answer.
    let (month, year) = if month <= 1 {
        (month + 11, year.wrapping_sub(1))
    } else {
        (month - 1, year)
    };
    let days = 365u64
        .wrapping_mul(year)
        .wrapping_add(year / 4)
        .wrapping_sub(year / 100)
        .wrapping_add(year / 400)
        .wrapping_add(367 * month / 12)
        .wrapping_sub(30)
        .wrapping_add(day)
        .wrapping_sub(1)
        .wrapping_sub(719_527)
        .wrapping_add(31 + 28);
    let time = days
        .wrapping_mul(86_400)
        .wrapping_add(hour * 3600 + min * 60 + sec);
    Some(time as i64)
}

/// How LuaJIT's FFI hands a Lua number to a C `long`: truncation toward
/// zero, and (as x86-64 does) the minimum `long` for NaN, infinities and
/// values out of range.
fn number_to_c_long(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_finite() && (-LIMIT..LIMIT).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// The `sec` argument of `ngx.http_time`/`ngx.cookie_time` (numbers only).
fn seconds_arg(v: &Value) -> Option<i64> {
    match *v {
        Value::Integer(i) => Some(i),
        Value::Number(n) => Some(number_to_c_long(n)),
        _ => None,
    }
}

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    super::set(lua, ngx, "time", |_, ()| -> ApiResult<i64> {
        Ok(clock::cached().sec)
    })?;

    super::set(lua, ngx, "now", |_, ()| -> ApiResult<f64> {
        let t = clock::cached();
        Ok(t.sec as f64 + t.msec as f64 / 1000.0)
    })?;

    super::set(lua, ngx, "update_time", |_, ()| -> ApiResult<()> {
        clock::update();
        Ok(())
    })?;

    super::set(lua, ngx, "today", |lua, ()| -> ApiResult<LuaString> {
        let t = clock::cached();
        let tm = gmtime(t.sec.saturating_add(t.gmtoff * 60));
        Ok(lua.create_string(format_date(&tm).as_bytes())?)
    })?;

    super::set(lua, ngx, "localtime", |lua, ()| -> ApiResult<LuaString> {
        let t = clock::cached();
        let tm = gmtime(t.sec.saturating_add(t.gmtoff * 60));
        Ok(lua.create_string(format_datetime(&tm).as_bytes())?)
    })?;

    super::set(lua, ngx, "utctime", |lua, ()| -> ApiResult<LuaString> {
        let tm = gmtime(clock::cached().sec);
        Ok(lua.create_string(format_datetime(&tm).as_bytes())?)
    })?;

    super::set(
        lua,
        ngx,
        "http_time",
        |lua, sec: Value| -> ApiResult<LuaString> {
            let Some(sec) = seconds_arg(&sec) else {
                return raise("number argument only");
            };
            Ok(lua.create_string(http_time(sec).as_bytes())?)
        },
    )?;

    super::set(
        lua,
        ngx,
        "cookie_time",
        |lua, sec: Value| -> ApiResult<LuaString> {
            let Some(sec) = seconds_arg(&sec) else {
                return raise("number argument only");
            };
            Ok(lua.create_string(cookie_time(sec).as_bytes())?)
        },
    )?;

    super::set(
        lua,
        ngx,
        "parse_http_time",
        |_, s: Value| -> ApiResult<Option<i64>> {
            let Value::String(s) = s else {
                return raise("string argument only");
            };
            // lua-resty-core cannot tell nginx's error value (-1) from a time, so
            // -1 is nil there too.
            Ok(parse_http_time(&s.as_bytes()).filter(|&t| t != -1))
        },
    )?;

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmtime_fields() {
        let tm = gmtime(0);
        assert_eq!(
            tm,
            Tm {
                year: 1970,
                mon: 1,
                mday: 1,
                hour: 0,
                min: 0,
                sec: 0,
                wday: 4
            }
        );
        assert_eq!(
            format_datetime(&gmtime(1_290_079_655)).as_str(),
            "2010-11-18 11:27:35"
        );
        assert_eq!(format_date(&gmtime(951_782_400)).as_str(), "2000-02-29");
        assert_eq!(
            format_datetime(&gmtime(4_102_444_799)).as_str(),
            "2099-12-31 23:59:59"
        );
        // nginx's clamps
        assert_eq!(format_datetime(&gmtime(-5)).as_str(), "1970-01-01 00:00:00");
        assert_eq!(
            format_datetime(&gmtime(i64::MAX)).as_str(),
            "9999-12-31 23:59:59"
        );
        assert_eq!(gmtime(i64::MAX).wday, 5); // a Friday
    }

    #[test]
    fn http_and_cookie_time() {
        assert_eq!(
            http_time(1_290_079_655).as_str(),
            "Thu, 18 Nov 2010 11:27:35 GMT"
        );
        assert_eq!(http_time(0).as_str(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            cookie_time(1_290_079_655).as_str(),
            "Thu, 18-Nov-10 11:27:35 GMT"
        );
        assert_eq!(cookie_time(0).as_str(), "Thu, 01-Jan-70 00:00:00 GMT");
        assert_eq!(
            cookie_time(2_145_916_799).as_str(),
            "Thu, 31-Dec-37 23:59:59 GMT"
        );
        assert_eq!(
            cookie_time(2_145_916_800).as_str(),
            "Fri, 01-Jan-2038 00:00:00 GMT"
        );
        assert_eq!(
            cookie_time(2_177_452_800).as_str(),
            "Sat, 01-Jan-2039 00:00:00 GMT"
        );
        assert_eq!(
            http_time(i64::MAX).as_str(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn parse_formats() {
        assert_eq!(
            parse_http_time(b"Thu, 18 Nov 2010 11:27:35 GMT"),
            Some(1_290_079_655)
        );
        assert_eq!(
            parse_http_time(b"Thursday, 18-Nov-10 11:27:35 GMT"),
            Some(1_290_079_655)
        );
        assert_eq!(
            parse_http_time(b"Thu Nov 18 11:27:35 2010"),
            Some(1_290_079_655)
        );
        assert_eq!(
            parse_http_time(b"Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_time(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_time(b"Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_time(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_time(b"Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        // lenient like nginx: the weekday and zone are not checked
        assert_eq!(
            parse_http_time(b"Xyz, 18 Nov 2010 11:27:35"),
            Some(1_290_079_655)
        );
        assert_eq!(
            parse_http_time(b"Thu,18 Nov 2010 11:27:35"),
            Some(1_290_079_655)
        );
        assert_eq!(
            parse_http_time(b"Thu, 18 Nxx 2010 11:27:35 GMT"),
            Some(1_290_079_655)
        );
        // before the epoch the result is negative, as nginx computes it
        assert_eq!(parse_http_time(b"Wed, 31 Dec 1969 23:59:00 GMT"), Some(-60));
    }

    #[test]
    fn parse_rejects() {
        for bad in [
            &b""[..],
            b"hello world",
            b"Thu, 18 Nov 2010",
            b"Thu, 18 Xov 2010 11:27:35 GMT",
            b"Thu, 18 Nov 2010 24:00:00 GMT",
            b"Thu, 18 Nov 2010 11:60:00 GMT",
            b"Thu, 18 Nov 2010 11:27:60 GMT",
            b"Thu, 31 Nov 2010 11:27:35 GMT",
            b"Mon, 29 Feb 2010 11:27:35 GMT",
            b"Mon, 29 Feb 1900 11:27:35 GMT",
            b"Thu, 18/Nov/2010 11:27:35 GMT",
            b"Thu, 1a Nov 2010 11:27:35 GMT",
            b"Thu, 18 Nov 20x0 11:27:35 GMT",
            b"Thu, 18 Nov 2010 11-27-35 GMT",
        ] {
            assert_eq!(
                parse_http_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // a 29th of February is fine in leap years, including 2000
        assert!(parse_http_time(b"Tue, 29 Feb 2000 11:27:35 GMT").is_some());
    }

    #[test]
    fn round_trips() {
        for t in [
            0,
            1,
            59,
            86_399,
            86_400,
            951_782_400,
            1_290_079_655,
            1_700_000_000,
            4_102_444_799,
            253_402_300_799,
        ] {
            assert_eq!(parse_http_time(http_time(t).as_bytes()), Some(t), "{t}");
            if (0..2_145_916_800).contains(&t) {
                // two-digit years only round-trip inside 1970..2069
                assert_eq!(parse_http_time(cookie_time(t).as_bytes()), Some(t), "{t}");
            }
        }
        // every day of a few years, to walk all months and leap days
        let mut t = 946_684_800; // 2000-01-01
        while t < 1_104_537_600 {
            assert_eq!(
                parse_http_time(http_time(t + 3723).as_bytes()),
                Some(t + 3723)
            );
            t += 86_400;
        }
    }

    #[test]
    fn c_long_conversion() {
        assert_eq!(number_to_c_long(1.9), 1);
        assert_eq!(number_to_c_long(-1.9), -1);
        assert_eq!(number_to_c_long(f64::NAN), i64::MIN);
        assert_eq!(number_to_c_long(f64::INFINITY), i64::MIN);
        assert_eq!(number_to_c_long(1e300), i64::MIN);
    }
}
