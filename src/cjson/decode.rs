//! The JSON reader: lua-cjson's grammar, tokens and error messages, with no
//! Lua in it. It drives a [`Sink`] (the Lua binding builds tables from it;
//! tests build a [`super::value::Json`]). Nesting is tracked on a heap
//! stack, never by recursion, so any input is safe to feed it.

use super::number;

/// Reading options (a subset of an instance's settings).
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    pub max_depth: u32,
    /// Accept `inf`, `nan`, hexadecimal, leading `+` and leading zeros.
    pub invalid_numbers: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_depth: 1000,
            invalid_numbers: true,
        }
    }
}

/// What the reader produces, in document order. A container's members are
/// produced between its `begin_*` and `end_*`; after each member's value the
/// reader calls `array_item` (with its 1-based index) or `object_item`.
pub trait Sink {
    /// A new array starts; `false` if it cannot be nested that deep.
    fn begin_array(&mut self) -> bool;
    /// A new object starts; `false` if it cannot be nested that deep.
    fn begin_object(&mut self) -> bool;
    fn end_array(&mut self);
    fn end_object(&mut self);
    /// An object key (its value follows).
    fn key(&mut self, k: &[u8]);
    fn string(&mut self, s: &[u8]);
    fn number(&mut self, n: f64);
    fn boolean(&mut self, b: bool);
    fn null(&mut self);
    /// The value just produced is element `index` of the enclosing array.
    fn array_item(&mut self, index: i32);
    /// The value just produced belongs to the last key of the enclosing object.
    fn object_item(&mut self);
}

/// A decoding failure, with lua-cjson's message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// A token's kind; its payload (number, string, error text) is in the
/// [`Lexer`], so tokens stay one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    True,
    False,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    /// Where the last token started (or where its error is).
    index: usize,
    opts: DecodeOptions,
    /// The last string's bytes when they had escapes.
    scratch: &'a mut Vec<u8>,
    /// The last string's bytes in `data` when it had none.
    plain: (usize, usize),
    escaped: bool,
    /// The last number and whether it had no fraction or exponent.
    num: f64,
    int: bool,
    /// What the last error token was.
    err: &'static str,
}

#[inline]
fn hexval(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(c - b'A' + 10)),
        _ => None,
    }
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    let mut b = [0u8; 4];
    match char::from_u32(cp) {
        Some(c) => out.extend_from_slice(c.encode_utf8(&mut b).as_bytes()),
        None => {
            // Unreachable: surrogates are paired or rejected before this.
            out.extend_from_slice("\u{fffd}".as_bytes())
        }
    }
}

impl<'a> Lexer<'a> {
    /// The byte at `i`, or 0 past the end (lua-cjson reads a NUL-terminated
    /// buffer and treats a NUL byte as the end).
    #[inline]
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn hex4(&self, i: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | hexval(self.at(i + k))?;
        }
        Some(v)
    }

    /// How lua-cjson names a token it did not expect.
    fn name(&self, t: Tok) -> &'static str {
        match t {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Number if self.int => "T_INTEGER",
            Tok::Number => "T_NUMBER",
            Tok::True | Tok::False => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => self.err,
        }
    }

    fn error(&mut self, at: usize, what: &'static str) -> Tok {
        self.index = at;
        self.err = what;
        Tok::Error
    }

    /// `\uXXXX` (or a surrogate pair) at `pos`: appends UTF-8, advances.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            // A low surrogate first, or a high one not followed by a low one.
            if cp & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        push_utf8(self.scratch, cp);
        self.pos += len;
        true
    }

    /// A string token; `pos` is at the opening quote.
    fn string(&mut self) -> Tok {
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes.
        let rest = &self.data[start.min(self.data.len())..];
        if let Some(off) = rest.iter().position(|&b| b == b'"' || b == b'\\' || b == 0) {
            if rest[off] == b'"' {
                self.plain = (start, start + off);
                self.escaped = false;
                self.pos = start + off + 1;
                return Tok::Str;
            }
        }
        self.scratch.clear();
        self.escaped = true;
        loop {
            let c = self.at(self.pos);
            match c {
                b'"' => break,
                0 => return self.error(self.pos, "unexpected end of string"),
                b'\\' => {
                    let e = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 8,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 12,
                        b'r' => b'\r',
                        b'u' => {
                            if self.unicode_escape() {
                                continue;
                            }
                            return self.error(self.pos, "invalid unicode escape code");
                        }
                        _ => return self.error(self.pos, "invalid escape code"),
                    };
                    self.scratch.push(e);
                    self.pos += 2;
                }
                _ => {
                    // Copy the run up to the next quote, backslash or NUL.
                    let from = self.pos;
                    let run = self.data[from..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b == 0)
                        .unwrap_or(self.data.len() - from);
                    self.scratch.extend_from_slice(&self.data[from..from + run]);
                    self.pos += run;
                }
            }
        }
        self.pos += 1;
        Tok::Str
    }

    fn str_bytes(&self) -> &[u8] {
        if self.escaped {
            self.scratch
        } else {
            &self.data[self.plain.0..self.plain.1]
        }
    }

    /// Numbers strict JSON rejects but strtod would read.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|k| self.at(p + k) | 0x20 == w[k]);
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self) -> Tok {
        // (A NUL byte, which ends the input, is never part of a number.)
        let rest = &self.data[self.pos.min(self.data.len())..];
        match number::parse(rest) {
            Some(p) => {
                self.pos += p.len;
                self.num = p.value;
                self.int = p.integer;
                Tok::Number
            }
            None => self.error(self.pos, "invalid number"),
        }
    }

    fn starts_with(&self, w: &[u8]) -> bool {
        self.data.get(self.pos..self.pos + w.len()) == Some(w)
    }

    #[inline]
    fn next(&mut self) -> Tok {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        self.index = self.pos;
        let c = self.at(self.pos);
        let single = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return t;
        }
        match c {
            0 => Tok::End,
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if !self.opts.invalid_numbers && self.is_invalid_number() {
                    return self.error(self.pos, "invalid number");
                }
                self.number()
            }
            b't' | b'f' | b'n' | b'i' | b'I' | b'N' | b'+' => {
                if self.starts_with(b"true") {
                    self.pos += 4;
                    Tok::True
                } else if self.starts_with(b"false") {
                    self.pos += 5;
                    Tok::False
                } else if self.starts_with(b"null") {
                    self.pos += 4;
                    Tok::Null
                } else if self.opts.invalid_numbers && self.is_invalid_number() {
                    self.number()
                } else {
                    self.error(self.pos, "invalid token")
                }
            }
            _ => self.error(self.pos, "invalid token"),
        }
    }

    fn fail(&self, expected: &str, tok: Tok) -> DecodeError {
        DecodeError(format!(
            "Expected {expected} but found {} at character {}",
            self.name(tok),
            self.index + 1
        ))
    }
}

enum Frame {
    Array(i32),
    Object,
}

/// Decodes `data` into `sink`. `scratch` is reused for strings with escapes.
pub fn decode<S: Sink>(
    data: &[u8],
    opts: DecodeOptions,
    scratch: &mut Vec<u8>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(DecodeError(
            "JSON parser does not support UTF-16 or UTF-32".into(),
        ));
    }
    let mut lx = Lexer {
        data,
        pos: 0,
        index: 0,
        opts,
        scratch,
        plain: (0, 0),
        escaped: false,
        num: 0.0,
        int: false,
        err: "",
    };
    let mut stack: Vec<Frame> = Vec::new();
    let too_deep = |depth: usize, pos: usize| {
        DecodeError(format!(
            "Found too many nested data structures ({depth}) at character {pos}"
        ))
    };
    let mut tok = lx.next();
    'value: loop {
        // `tok` must start a value.
        match tok {
            Tok::Str => sink.string(lx.str_bytes()),
            Tok::Number => sink.number(lx.num),
            Tok::True => sink.boolean(true),
            Tok::False => sink.boolean(false),
            Tok::Null => sink.null(),
            Tok::ObjBegin => {
                let depth = stack.len() + 1;
                if depth > lx.opts.max_depth as usize || !sink.begin_object() {
                    return Err(too_deep(depth, lx.pos));
                }
                tok = lx.next();
                if tok != Tok::ObjEnd {
                    stack.push(Frame::Object);
                    member_key(&mut lx, tok, sink)?;
                    tok = lx.next();
                    continue 'value;
                }
                sink.end_object();
            }
            Tok::ArrBegin => {
                let depth = stack.len() + 1;
                if depth > lx.opts.max_depth as usize || !sink.begin_array() {
                    return Err(too_deep(depth, lx.pos));
                }
                tok = lx.next();
                if tok != Tok::ArrEnd {
                    stack.push(Frame::Array(1));
                    continue 'value;
                }
                sink.end_array();
            }
            t => return Err(lx.fail("value", t)),
        }
        // A value is complete: attach it to its container, close finished ones.
        loop {
            match stack.last_mut() {
                None => {
                    let t = lx.next();
                    if t != Tok::End {
                        return Err(lx.fail("the end", t));
                    }
                    return Ok(());
                }
                Some(Frame::Array(i)) => {
                    sink.array_item(*i);
                    match lx.next() {
                        Tok::ArrEnd => {
                            stack.pop();
                            sink.end_array();
                        }
                        Tok::Comma => {
                            *i = i.wrapping_add(1);
                            tok = lx.next();
                            continue 'value;
                        }
                        t => return Err(lx.fail("comma or array end", t)),
                    }
                }
                Some(Frame::Object) => {
                    sink.object_item();
                    match lx.next() {
                        Tok::ObjEnd => {
                            stack.pop();
                            sink.end_object();
                        }
                        Tok::Comma => {
                            let t = lx.next();
                            member_key(&mut lx, t, sink)?;
                            tok = lx.next();
                            continue 'value;
                        }
                        t => return Err(lx.fail("comma or object end", t)),
                    }
                }
            }
        }
    }
}

/// `"key" :` inside an object, `tok` being the key's token.
fn member_key<S: Sink>(lx: &mut Lexer<'_>, tok: Tok, sink: &mut S) -> Result<(), DecodeError> {
    if tok != Tok::Str {
        return Err(lx.fail("object key string", tok));
    }
    sink.key(lx.str_bytes());
    let t = lx.next();
    if t != Tok::Colon {
        return Err(lx.fail("colon", t));
    }
    Ok(())
}
