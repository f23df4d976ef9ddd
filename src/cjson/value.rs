//! A plain JSON value tree over the pure reader and writer: what the unit,
//! property and fuzz tests drive (the Lua binding never builds one).

use super::decode::{self, DecodeError, DecodeOptions, Sink};
use super::encode::{self, EncodeError, EncodeOptions};

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(Vec<u8>),
    Array(Vec<Json>),
    /// Members in document order.
    Object(Vec<(Vec<u8>, Json)>),
}

/// Builds a [`Json`] from the reader's events.
#[derive(Default)]
pub struct TreeSink {
    stack: Vec<Json>,
    keys: Vec<Vec<u8>>,
}

impl TreeSink {
    fn pop(&mut self) -> Json {
        self.stack.pop().unwrap_or(Json::Null)
    }
}

impl Sink for TreeSink {
    fn begin_array(&mut self) -> bool {
        self.stack.push(Json::Array(Vec::new()));
        true
    }
    fn begin_object(&mut self) -> bool {
        self.stack.push(Json::Object(Vec::new()));
        true
    }
    fn end_array(&mut self) {}
    fn end_object(&mut self) {}
    fn key(&mut self, k: &[u8]) {
        self.keys.push(k.to_vec());
    }
    fn string(&mut self, s: &[u8]) {
        self.stack.push(Json::String(s.to_vec()));
    }
    fn number(&mut self, n: f64) {
        self.stack.push(Json::Number(n));
    }
    fn boolean(&mut self, b: bool) {
        self.stack.push(Json::Bool(b));
    }
    fn null(&mut self) {
        self.stack.push(Json::Null);
    }
    fn array_item(&mut self, _index: i32) {
        let v = self.pop();
        if let Some(Json::Array(a)) = self.stack.last_mut() {
            a.push(v);
        }
    }
    fn object_item(&mut self) {
        let v = self.pop();
        let k = self.keys.pop().unwrap_or_default();
        if let Some(Json::Object(o)) = self.stack.last_mut() {
            o.push((k, v));
        }
    }
}

/// Reads a whole document.
pub fn parse(data: &[u8], opts: DecodeOptions) -> Result<Json, DecodeError> {
    let mut sink = TreeSink::default();
    let mut scratch = Vec::new();
    decode::decode(data, opts, &mut scratch, &mut sink)?;
    Ok(sink.pop())
}

/// Writes a value (arrays and objects as they are: no Lua table guessing).
pub fn write(v: &Json, opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_into(&mut out, v, opts, 0)?;
    Ok(out)
}

fn write_into(
    out: &mut Vec<u8>,
    v: &Json,
    opts: &EncodeOptions,
    depth: u32,
) -> Result<(), EncodeError> {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Number(n) => encode::push_number(out, *n, opts)?,
        Json::String(s) => encode::push_string(out, s, opts.escape_forward_slash),
        Json::Array(a) => {
            if depth + 1 > opts.max_depth {
                return Err(encode::too_deep(depth + 1));
            }
            out.push(b'[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_into(out, e, opts, depth + 1)?;
            }
            out.push(b']');
        }
        Json::Object(o) => {
            if depth + 1 > opts.max_depth {
                return Err(encode::too_deep(depth + 1));
            }
            out.push(b'{');
            for (i, (k, e)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode::push_string(out, k, opts.escape_forward_slash);
                out.push(b':');
                write_into(out, e, opts, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}
