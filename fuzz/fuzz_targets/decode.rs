//! Fuzzes cjson's pure JSON reader (and the writer on what it accepts):
//! no panic, no overflow, and accepted input re-encodes to a fixed point.
//! The same check runs bounded in `cargo test` (cjson::tests::fuzz_decoder_bounded).
//!
//! The cjson sources are compiled in directly, with the module paths they
//! expect, so the target builds without nginx.
#![no_main]

#[path = "../../src/ffi/cnum.rs"]
#[allow(dead_code)]
mod cnum_src;
#[path = "../../src/cjson/decode.rs"]
mod decode;
#[path = "../../src/cjson/encode.rs"]
#[allow(dead_code)]
mod encode;
#[path = "../../src/cjson/number.rs"]
mod number;
#[path = "../../src/cjson/value.rs"]
#[allow(dead_code)]
mod value;

mod ffi {
    pub(crate) use super::cnum_src as cnum;
}

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let strict = decode::DecodeOptions {
        invalid_numbers: false,
        ..Default::default()
    };
    let _ = value::parse(data, strict);
    let Ok(v) = value::parse(data, decode::DecodeOptions::default()) else {
        return;
    };
    let opts = encode::EncodeOptions::default();
    if let Ok(s) = value::write(&v, &opts) {
        let again = value::parse(&s, decode::DecodeOptions::default()).expect("own output decodes");
        assert_eq!(value::write(&again, &opts).ok(), Some(s));
    }
});
