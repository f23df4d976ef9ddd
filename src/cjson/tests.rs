//! cjson tests: the pure reader/writer, property round trips with a small
//! seeded generator, a bounded mutation fuzz of the reader (the in-tree
//! stand-in for `fuzz/`), and the Lua module on a bare LuaJIT VM.

use super::decode::DecodeOptions;
use super::encode::EncodeOptions;
use super::value::{parse, write, Json};

fn dec(s: &str) -> Result<Json, String> {
    parse(s.as_bytes(), DecodeOptions::default()).map_err(|e| e.0)
}

fn err(s: &[u8]) -> String {
    match parse(s, DecodeOptions::default()) {
        Ok(v) => panic!("decoded {v:?}"),
        Err(e) => e.0,
    }
}

fn st(s: &str) -> Json {
    Json::String(s.as_bytes().to_vec())
}

#[test]
fn decodes_values() {
    assert_eq!(dec(" 1 "), Ok(Json::Number(1.0)));
    assert_eq!(
        dec("[1,\"a\",true,false,null]"),
        Ok(Json::Array(vec![
            Json::Number(1.0),
            st("a"),
            Json::Bool(true),
            Json::Bool(false),
            Json::Null
        ]))
    );
    assert_eq!(
        dec("{\"a\":{\"b\":[]},\"c\":{}}"),
        Ok(Json::Object(vec![
            (
                b"a".to_vec(),
                Json::Object(vec![(b"b".to_vec(), Json::Array(vec![]))])
            ),
            (b"c".to_vec(), Json::Object(vec![])),
        ]))
    );
    assert_eq!(
        dec(r#""\u00e9\u20ac\ud83d\ude00\/\b\f\n\r\t\"\\""#),
        Ok(st("é€😀/\x08\x0c\n\r\t\"\\"))
    );
    assert_eq!(dec(r#""\u0000""#), Ok(st("\0")));
    // Raw bytes pass through, control characters too.
    assert_eq!(
        parse(b"\"\xff\x01\"", DecodeOptions::default()),
        Ok(Json::String(vec![0xff, 1]))
    );
    assert_eq!(dec("1e2"), Ok(Json::Number(100.0)));
    assert_eq!(dec("-0.5"), Ok(Json::Number(-0.5)));
    // A NUL byte ends the document.
    assert_eq!(
        parse(b"[1]\0junk", DecodeOptions::default()),
        Ok(Json::Array(vec![Json::Number(1.0)]))
    );
}

#[test]
fn decode_errors() {
    assert_eq!(err(b""), "Expected value but found T_END at character 1");
    assert_eq!(
        err(b"x"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        err(b"  ]"),
        "Expected value but found T_ARR_END at character 3"
    );
    assert_eq!(
        err(b"[1 2]"),
        "Expected comma or array end but found T_INTEGER at character 4"
    );
    assert_eq!(
        err(b"[1,]"),
        "Expected value but found T_ARR_END at character 4"
    );
    assert_eq!(
        err(b"{1:2}"),
        "Expected object key string but found T_INTEGER at character 2"
    );
    assert_eq!(
        err(b"{\"a\" 2}"),
        "Expected colon but found T_INTEGER at character 6"
    );
    assert_eq!(
        err(b"{\"a\":2 \"b\"}"),
        "Expected comma or object end but found T_STRING at character 8"
    );
    assert_eq!(
        err(b"{\"a\":2,}"),
        "Expected object key string but found T_OBJ_END at character 8"
    );
    assert_eq!(
        err(b"[1.5 }"),
        "Expected comma or array end but found T_OBJ_END at character 6"
    );
    assert_eq!(
        err(b"1 2"),
        "Expected the end but found T_INTEGER at character 3"
    );
    assert_eq!(
        err(b"[1.5 2.5]"),
        "Expected comma or array end but found T_NUMBER at character 6"
    );
    assert_eq!(
        err(b"\"abc"),
        "Expected value but found unexpected end of string at character 5"
    );
    assert_eq!(
        err(b"\"a\\xb\""),
        "Expected value but found invalid escape code at character 3"
    );
    assert_eq!(
        err(b"\"\\u12\""),
        "Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(
        err(b"\"\\ud800\""),
        "Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(
        err(b"\"\\udc00\\ud800\""),
        "Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(
        err(b"\"\\ud800\\u0041\""),
        "Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(
        err(b"tru"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        err(b"-"),
        "Expected value but found invalid number at character 1"
    );
    assert_eq!(
        err(b"[-a]"),
        "Expected value but found invalid number at character 2"
    );
    assert_eq!(
        err(b"\0\0"),
        "JSON parser does not support UTF-16 or UTF-32"
    );
    assert_eq!(err(b"a\0"), "JSON parser does not support UTF-16 or UTF-32");
    assert_eq!(
        err(b"1e"),
        "Expected the end but found invalid token at character 2"
    );
}

#[test]
fn nesting_limits() {
    let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
    assert!(dec(&deep(1000)).is_ok());
    assert_eq!(
        dec(&deep(1001)),
        Err("Found too many nested data structures (1001) at character 1001".into())
    );
    let o = DecodeOptions {
        max_depth: 2,
        ..Default::default()
    };
    assert_eq!(
        parse(b"{\"a\":[[1]]}", o).map_err(|e| e.0),
        Err("Found too many nested data structures (3) at character 7".into())
    );
    // Hundreds of thousands of levels: no recursion, no stack overflow.
    struct Count(usize);
    impl super::decode::Sink for Count {
        fn begin_array(&mut self) -> bool {
            self.0 += 1;
            true
        }
        fn begin_object(&mut self) -> bool {
            true
        }
        fn end_array(&mut self) {}
        fn end_object(&mut self) {}
        fn key(&mut self, _: &[u8]) {}
        fn string(&mut self, _: &[u8]) {}
        fn number(&mut self, _: f64) {}
        fn boolean(&mut self, _: bool) {}
        fn null(&mut self) {}
        fn array_item(&mut self, _: i32) {}
        fn object_item(&mut self) {}
    }
    let o = DecodeOptions {
        max_depth: u32::MAX,
        ..Default::default()
    };
    let mut c = Count(0);
    assert!(super::decode::decode(deep(200_000).as_bytes(), o, &mut Vec::new(), &mut c).is_ok());
    assert_eq!(c.0, 200_000);
    let opts = EncodeOptions::default();
    let mut v = Json::Null;
    for _ in 0..1001 {
        v = Json::Array(vec![v]);
    }
    assert_eq!(
        write(&v, &opts).map_err(|e| e.0),
        Err("Cannot serialise, excessive nesting (1001)".into())
    );
}

#[test]
fn invalid_numbers() {
    assert_eq!(dec("0x10"), Ok(Json::Number(16.0)));
    assert_eq!(dec("[+1]"), Ok(Json::Array(vec![Json::Number(1.0)])));
    assert_eq!(dec("-Infinity"), Ok(Json::Number(f64::NEG_INFINITY)));
    assert!(matches!(dec("nan"), Ok(Json::Number(n)) if n.is_nan()));
    let strict = DecodeOptions {
        invalid_numbers: false,
        ..Default::default()
    };
    for (s, at) in [
        ("0x10", 1),
        ("[+1]", 2),
        ("[-Infinity]", 2),
        ("nan", 1),
        ("[01]", 2),
    ] {
        let e = parse(s.as_bytes(), strict).unwrap_err().0;
        let want = if s.starts_with("[+") || s == "nan" {
            format!("Expected value but found invalid token at character {at}")
        } else {
            format!("Expected value but found invalid number at character {at}")
        };
        assert_eq!(e, want, "{s}");
    }
    assert_eq!(
        parse(b"[1.5e3]", strict),
        Ok(Json::Array(vec![Json::Number(1500.0)]))
    );
}

// ------------------------------------------------------------ properties

/// xorshift64*: a small deterministic generator (no dev-dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn gen_bytes(r: &mut Rng) -> Vec<u8> {
    let n = r.below(12);
    (0..n)
        .map(|_| match r.below(6) {
            0 => r.below(0x20) as u8,
            1 => b"\"\\/"[r.below(3) as usize],
            2 => 0x80 + r.below(0x80) as u8,
            _ => b'a' + r.below(26) as u8,
        })
        .collect()
}

fn gen_number(r: &mut Rng) -> f64 {
    let x = match r.below(4) {
        0 => r.below(1000) as f64 - 500.0,
        1 => (r.next() as i64 as f64) / 1e3,
        2 => f64::from_bits(r.next()),
        _ => (r.below(1 << 40) as f64) * 10f64.powi(r.below(40) as i32 - 20),
    };
    if !x.is_finite() {
        return 0.5;
    }
    // Keep what "%.14g" can represent exactly, so the round trip is exact.
    let mut b = Vec::new();
    super::number::format(&mut b, x, 14);
    super::number::parse(&b).map(|p| p.value).unwrap_or(0.0)
}

fn gen_json(r: &mut Rng, depth: u32) -> Json {
    let k = if depth >= 4 { r.below(4) } else { r.below(6) };
    match k {
        0 => Json::Null,
        1 => Json::Bool(r.below(2) == 1),
        2 => Json::Number(gen_number(r)),
        3 => Json::String(gen_bytes(r)),
        4 => Json::Array((0..r.below(5)).map(|_| gen_json(r, depth + 1)).collect()),
        _ => Json::Object(
            (0..r.below(5))
                .map(|_| (gen_bytes(r), gen_json(r, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn property_round_trip() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    for slash in [true, false] {
        let opts = EncodeOptions {
            escape_forward_slash: slash,
            ..Default::default()
        };
        for _ in 0..3000 {
            let v = gen_json(&mut r, 0);
            let s = write(&v, &opts).expect("encodes");
            let back = parse(&s, DecodeOptions::default())
                .unwrap_or_else(|e| panic!("{e:?} for {}", String::from_utf8_lossy(&s)));
            assert_eq!(back, v, "{}", String::from_utf8_lossy(&s));
            assert_eq!(write(&back, &opts).ok(), Some(s));
        }
    }
}

#[test]
fn property_numbers() {
    let mut r = Rng(42);
    for i in 0..60000 {
        // Random bit patterns, and short decimals (the common case).
        let x = match i % 3 {
            0 => f64::from_bits(r.next()),
            1 => {
                (r.below(2_000_000) as f64 - 1e6)
                    / [1.0, 4.0, 8.0, 10.0, 100.0, 1e3, 1e7][r.below(7) as usize]
            }
            _ => (r.below(1 << 20) as f64) * 10f64.powi(r.below(60) as i32 - 30),
        };
        if !x.is_finite() {
            continue;
        }
        for p in [1u32, 3, 6, 14, 15, 16, 17] {
            let mut b = Vec::new();
            super::number::format(&mut b, x, p);
            let mut c = Vec::new();
            crate::ffi::cnum::push_g(&mut c, x, p);
            assert_eq!(b, c, "{x:e} at {p}");
            let back = super::number::parse(&b).unwrap();
            assert_eq!(back.len, b.len());
            if p == 17 && x != 0.0 {
                assert_eq!(back.value.to_bits(), x.to_bits());
            }
            assert_eq!(back.value, crate::ffi::cnum::c_strtod(&b).0);
        }
    }
}

// ------------------------------------------------------------ fuzz (bounded)

const SEEDS: &[&str] = &[
    r#"{"a":[1,2.5,-3e10,"x\u00e9\n"],"b":{"c":null,"d":true,"e":false},"f":"\ud83d\ude00"}"#,
    r#"[[[[]]],{},{"":""},-0,1E+2,0.000001,"\/\\\""]"#,
    r#"  {"key"  :  "value" , "n" : [ 1 , 2 , 3 ] }  "#,
    "[0x1F, +1, -Infinity, NaN, 010]",
    "\"unterminated",
    "[1,2,",
];

fn mutate(r: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=r.below(4) {
        let len = v.len() as u64;
        match r.below(7) {
            0 if len > 0 => {
                let i = r.below(len) as usize;
                v[i] ^= 1 << r.below(8);
            }
            1 => {
                let i = r.below(len + 1) as usize;
                let tok: &[u8] = [
                    &b"["[..],
                    b"]",
                    b"{",
                    b"}",
                    b",",
                    b":",
                    b"\"",
                    b"\\u",
                    b"\\ud800",
                    b"0",
                    b"-",
                    b"e",
                    b"\0",
                    b"null",
                    b"tru",
                ][r.below(15) as usize];
                v.splice(i..i, tok.iter().copied());
            }
            2 if len > 0 => {
                let i = r.below(len) as usize;
                v.remove(i);
            }
            3 => v.truncate(r.below(len + 1) as usize),
            4 if len > 0 => {
                let i = r.below(len) as usize;
                v[i] = r.next() as u8;
            }
            5 => {
                let other = SEEDS[r.below(SEEDS.len() as u64) as usize].as_bytes();
                let i = r.below(len + 1) as usize;
                let j = r.below(other.len() as u64 + 1) as usize;
                v.truncate(i);
                v.extend_from_slice(&other[j..]);
            }
            _ => {
                let i = r.below(len + 1) as usize;
                v.splice(i..i, std::iter::repeat_n(b'[', r.below(2000) as usize));
            }
        }
    }
    v
}

/// The in-tree stand-in for `fuzz/fuzz_targets/decode.rs` (same check): the
/// reader never panics, and what it accepts re-encodes to a fixed point.
pub(crate) fn check_decoder(data: &[u8]) {
    let Ok(v) = parse(data, DecodeOptions::default()) else {
        return;
    };
    let opts = EncodeOptions::default();
    if let Ok(s) = write(&v, &opts) {
        let again = parse(&s, DecodeOptions::default()).expect("own output decodes");
        assert_eq!(write(&again, &opts).ok(), Some(s));
    }
}

#[test]
fn fuzz_decoder_bounded() {
    let iterations: u64 = std::env::var("CJSON_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30_000);
    let mut r = Rng(0xC0FF_EE00_D15E_A5E5);
    let mut corpus: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    for i in 0..iterations {
        let base = &corpus[r.below(corpus.len() as u64) as usize];
        let m = mutate(&mut r, base);
        check_decoder(&m);
        // Keep some accepted inputs as new seeds.
        if i % 97 == 0 && m.len() < 4096 && parse(&m, DecodeOptions::default()).is_ok() {
            corpus.push(m);
        }
    }
}

// ------------------------------------------------------------ the Lua module

fn lua() -> mlua::Lua {
    // SAFETY: a plain test VM; the module needs the C API, not unsafe libs.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    let preload: mlua::Table = lua
        .globals()
        .get::<mlua::Table>("package")
        .unwrap()
        .get("preload")
        .unwrap();
    preload
        .set(
            "cjson",
            lua.create_function(|lua, ()| super::module(lua)).unwrap(),
        )
        .unwrap();
    preload
        .set(
            "cjson.safe",
            lua.create_function(|lua, ()| super::safe_module(lua))
                .unwrap(),
        )
        .unwrap();
    lua
}

/// Runs Lua code and returns its result (a string).
fn run(code: &str) -> String {
    let lua = lua();
    match lua.load(code).eval::<mlua::Value>() {
        Ok(v) => v.to_string().unwrap_or_default(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn lua_encode() {
    let out = run(r#"
        local cjson = require "cjson"
        local r = {}
        local function add(v) r[#r + 1] = cjson.encode(v) end
        add({1, 2, 3})
        add({})
        add({a = 1})
        add("a/b\0\1\127é")
        add(3.14159265358979)
        add(1e300)
        add(-0.0)
        add(2^53)
        add(123456789012345)
        add(true)
        add(cjson.null)
        add(ngx_null_like)
        add({[1] = "x", [2] = cjson.null, [4] = "y"})
        add({[1.5] = true})
        add(cjson.empty_array)
        add({list = cjson.empty_array})
        add(setmetatable({}, cjson.empty_array_mt))
        add(setmetatable({}, cjson.array_mt))
        add(setmetatable({1, 2, nil, 4, foo = "bar"}, cjson.array_mt))
        add({{{}}})
        return table.concat(r, "\n")
    "#);
    assert_eq!(
        out,
        "[1,2,3]\n{}\n{\"a\":1}\n\"a\\/b\\u0000\\u0001\\u007fé\"\n3.1415926535898\n1e+300\n-0\n9.007199254741e+15\n1.2345678901234e+14\ntrue\nnull\nnull\n[\"x\",null,null,\"y\"]\n{\"1.5\":true}\n[]\n{\"list\":[]}\n[]\n[]\n[1,2,null,4]\n[[{}]]"
    );
}

#[test]
fn lua_errors() {
    let out = run(r#"
        local cjson = require "cjson"
        local r = {}
        local function try(f, ...) local ok, e = pcall(f, ...) r[#r + 1] = tostring(ok) .. " " .. tostring(e) end
        try(cjson.encode, function() end)
        try(cjson.encode, {f = print})
        try(cjson.encode, {[true] = 1})
        try(cjson.encode, 0/0)
        try(cjson.encode, {1/0})
        try(cjson.encode, {[20] = 1})
        local t = {} t.t = t
        try(cjson.encode, t)
        try(cjson.encode)
        try(cjson.encode, 1, 2)
        try(cjson.decode, "[1,")
        try(cjson.decode, {})
        try(cjson.decode)
        try(cjson.encode_max_depth, 0)
        try(cjson.encode_number_precision, 17)
        try(cjson.encode_invalid_numbers, "maybe")
        try(cjson.encode_sparse_array, true, "x")
        try(cjson.encode_keep_buffer, true, 1)
        try(cjson.encode, coroutine.create(print))
        return table.concat(r, "\n")
    "#);
    assert_eq!(
        out,
        "false Cannot serialise function: type not supported
false Cannot serialise function: type not supported
false Cannot serialise boolean: table key must be a number or string
false Cannot serialise number: must not be NaN or Infinity
false Cannot serialise number: must not be NaN or Infinity
false Cannot serialise table: excessively sparse array
false Cannot serialise, excessive nesting (1001)
false bad argument #1 to 'encode' (expected 1 argument)
false bad argument #1 to 'encode' (expected 1 argument)
false Expected value but found T_END at character 4
false bad argument #1 to 'decode' (string expected, got table)
false bad argument #1 to 'decode' (expected 1 argument)
false bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)
false bad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)
false bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')
false bad argument #2 to 'encode_sparse_array' (number expected, got string)
false bad argument #2 to 'encode_keep_buffer' (found too many arguments)
false Cannot serialise thread: type not supported"
    );
}

#[test]
fn lua_options_and_instances() {
    let out = run(r##"
        local cjson = require "cjson"
        local safe = require "cjson.safe"
        local r = {}
        local function add(...) local t = {...} for i = 1, select("#", ...) do t[i] = tostring(t[i]) end r[#r + 1] = table.concat(t, " ") end
        add(cjson.encode_sparse_array())
        add(cjson.encode_sparse_array(true))
        add(cjson.encode({[20] = 1}))
        add(cjson.encode_sparse_array(false, 0))
        add(cjson.encode({[5] = 1}))
        add(safe.encode({[20] = 1}))
        add(cjson.encode_empty_table_as_object("off"), cjson.encode({}), cjson.encode({a = {}}))
        add(cjson.encode_escape_forward_slash(false), cjson.encode("a/b"), safe.encode("a/b"))
        add(cjson.encode_invalid_numbers("null"), cjson.encode({0/0, 1/0}))
        add(cjson.encode_invalid_numbers(true), cjson.encode({0/0, 1/0, -1/0}))
        add(cjson.encode_number_precision(16), cjson.encode(0.1 + 0.2), cjson.encode(2^53))
        add(cjson.encode_max_depth(2), pcall(cjson.encode, {{{}}}))
        add(cjson.decode_max_depth(2), pcall(cjson.decode, "[[[]]]"))
        add(cjson.decode_invalid_numbers(false), pcall(cjson.decode, "nan"))
        add(cjson.decode_array_with_array_mt(true), getmetatable(cjson.decode("[]")) == cjson.array_mt, cjson.encode(cjson.decode('{"a":[]}')))
        add(getmetatable(safe.decode("[]")))
        add(cjson.encode_keep_buffer(false), cjson.encode({1}), cjson.encode_keep_buffer("on"))
        add(safe.decode("[1,"))
        add(safe.encode(print))
        add(pcall(safe.encode))
        add(cjson.null == safe.null, cjson.empty_array == safe.empty_array, cjson.array_mt == safe.array_mt)
        add(cjson._NAME, cjson._VERSION, safe._NAME)
        local n = cjson.new()
        add(n.encode_max_depth(), n.encode("a/b"), n.encode_number_precision())
        local sn = safe.new()
        add(sn.decode("{"))
        add(cjson.decode('"\\u00e9"') == "é", cjson.decode('"\\ud83d\\ude00"') == "\240\159\152\128")
        add(cjson.decode(" 12 "), cjson.decode(12), cjson.decode("null") == cjson.null, cjson.decode("1e1000"))
        local parts, arr = {}, {}
        for i = 1, 200 do parts[i] = '"k' .. (i % 150) .. '":' .. i arr[i] = i end
        local big = cjson.decode("{" .. table.concat(parts, ",") .. "}")
        local n = 0 for _ in pairs(big) do n = n + 1 end
        local a = cjson.decode("[" .. table.concat(arr, ",") .. "]")
        add(cjson.decode('{"a":1,"a":2}').a, n, big.k1, big.k149, #a, a[1], a[64], a[65], a[200])
        return table.concat(r, "\n")
    "##);
    assert_eq!(
        out,
        "false 2 10
true 2 10
{\"20\":1}
false 0 10
[null,null,null,null,1]
nil Cannot serialise table: excessively sparse array
false []\t{\"a\":[]}
false \"a/b\" \"a\\/b\"
null [null,null]
true [NaN,Infinity,-Infinity]
16 0.3 9007199254740992
2 false Cannot serialise, excessive nesting (3)
2 false Found too many nested data structures (3) at character 3
false false Expected value but found invalid token at character 1
true true {\"a\":[]}
nil
false [1] true
nil Expected value but found T_END at character 4
nil Cannot serialise function: type not supported
false bad argument #1 to 'encode' (expected 1 argument)
true true true
cjson 2.1.0.11 cjson
1000 \"a\\/b\" 14
nil Expected object key string but found T_END at character 2
true true
12 12 true inf
2 150 151 149 200 1 64 65 200"
            .replace('\t', " ")
    );
}

#[test]
fn lua_round_trip() {
    let out = run(r#"
        local cjson = require "cjson"
        local seed = 12345
        local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
        local function gen(d)
            local k = rnd(d > 3 and 4 or 6)
            if k == 0 then return rnd(2) == 1
            elseif k == 1 then return rnd(2000000) - 1000000
            elseif k == 2 then return rnd(100000) / 64
            elseif k == 3 then local s = {} for i = 1, rnd(10) do s[i] = string.char(rnd(256)) end return table.concat(s)
            elseif k == 4 then local t = {} for i = 1, rnd(6) + 1 do t[i] = gen(d + 1) end return t
            else local t = {} for i = 1, rnd(6) + 1 do t["k" .. rnd(50)] = gen(d + 1) end return t end
        end
        local function same(a, b)
            if type(a) ~= type(b) then return false end
            if type(a) ~= "table" then return a == b end
            for k, v in pairs(a) do if not same(v, b[k]) then return false end end
            for k in pairs(b) do if a[k] == nil then return false end end
            return true
        end
        for i = 1, 3000 do
            local v = gen(0)
            local s = cjson.encode(v)
            local back = cjson.decode(s)
            if not same(v, back) then return "mismatch: " .. s end
            -- Key order may differ between v and back: compare values.
            if not same(cjson.decode(cjson.encode(back)), v) then return "unstable: " .. s end
        end
        return "ok"
    "#);
    assert_eq!(out, "ok");
}

#[test]
fn lua_deep_nesting_is_bounded() {
    let out = run(r#"
        local cjson = require "cjson"
        cjson.encode_max_depth(2^31 - 1)
        cjson.decode_max_depth(2^31 - 1)
        local t = {} t[1] = t
        local ok, e = pcall(cjson.encode, t)
        local ok2, e2 = pcall(cjson.decode, string.rep("[", 100000))
        local deep = cjson.decode(string.rep("[", 100000) .. string.rep("]", 100000))
        return tostring(ok) .. " " .. e:match("^Cannot serialise, excessive nesting") .. " " .. tostring(ok2) .. " " .. e2 .. " " .. type(deep[1][1])
    "#);
    // Reading is not recursive: past lua-cjson's Lua stack limit (about
    // 2600 levels) nesting is limited by decode_max_depth only.
    assert_eq!(out, "false Cannot serialise, excessive nesting false Expected value but found T_END at character 100001 table");
}

/// `CJSON_BENCH=/path/doc.json cargo test --release --features vendored --lib bench_pure_decode -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_pure_decode() {
    let Ok(path) = std::env::var("CJSON_BENCH") else {
        return;
    };
    let data = std::fs::read(path).unwrap();
    struct Nop;
    impl super::decode::Sink for Nop {
        fn begin_array(&mut self) -> bool {
            true
        }
        fn begin_object(&mut self) -> bool {
            true
        }
        fn end_array(&mut self) {}
        fn end_object(&mut self) {}
        fn key(&mut self, k: &[u8]) {
            std::hint::black_box(k);
        }
        fn string(&mut self, s: &[u8]) {
            std::hint::black_box(s);
        }
        fn number(&mut self, n: f64) {
            std::hint::black_box(n);
        }
        fn boolean(&mut self, _: bool) {}
        fn null(&mut self) {}
        fn array_item(&mut self, _: i32) {}
        fn object_item(&mut self) {}
    }
    let mut scratch = Vec::new();
    let n = 200_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        super::decode::decode(&data, DecodeOptions::default(), &mut scratch, &mut Nop).unwrap();
    }
    println!(
        "pure decode: {:.2} us/op for {} bytes",
        t.elapsed().as_secs_f64() * 1e6 / n as f64,
        data.len()
    );
}
