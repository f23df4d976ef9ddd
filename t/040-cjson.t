# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: require "cjson" is built in; encode scalars
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson._NAME, " ", cjson._VERSION)
            ngx.say(cjson.encode("hello"), cjson.encode(1), cjson.encode(-2.5),
                    cjson.encode(true), cjson.encode(false), cjson.encode(nil),
                    cjson.encode(cjson.null))
        }
    }
--- request
GET /t
--- response_body
cjson 2.1.0.11
"hello"1-2.5truefalsenullnull
--- no_error_log
[error]



=== TEST 2: numbers: %.14g, integers without a fraction, -0, huge values
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode({3.14159265358979, 0.1, 1e300, -1e-300, 2^53,
                                  123456789012345, 12345678901234, -0.0, 100}))
        }
    }
--- request
GET /t
--- response_body
[3.1415926535898,0.1,1e+300,-1e-300,9.007199254741e+15,1.2345678901234e+14,12345678901234,-0,100]
--- no_error_log
[error]



=== TEST 3: string escaping: quotes, backslash, slash, control characters, UTF-8 untouched
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode("a\"b\\c/d\n\r\t\b\f\0\1\31\127 é €"))
        }
    }
--- request
GET /t
--- response_body
"a\"b\\c\/d\n\r\t\b\f\u0000\u0001\u001f\u007f é €"
--- no_error_log
[error]



=== TEST 4: arrays vs objects; number keys become strings
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode({1, "two", {3}}))
            ngx.say(cjson.encode({}))
            ngx.say(cjson.encode({a = {b = {}}}))
            ngx.say(cjson.encode({[1] = "x", [3] = "z"}))
            ngx.say(cjson.encode({[0] = "zero"}))
            ngx.say(cjson.encode({[1.5] = "x"}))
            ngx.say(cjson.encode({[-1] = "x"}))
        }
    }
--- request
GET /t
--- response_body
[1,"two",[3]]
{}
{"a":{"b":{}}}
["x",null,"z"]
{"0":"zero"}
{"1.5":"x"}
{"-1":"x"}
--- no_error_log
[error]



=== TEST 5: sparse arrays: safe limit, ratio, errors, conversion
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode({[10] = 1}))
            ngx.say(pcall(cjson.encode, {[11] = 1}))
            ngx.say(pcall(cjson.encode, {[1] = 1, [2] = 2, [30] = 3}))
            ngx.say(cjson.encode_sparse_array())
            ngx.say(cjson.encode_sparse_array(true))
            ngx.say(cjson.encode({[11] = 1}))
            ngx.say(cjson.encode_sparse_array(false, 0))
            ngx.say(#cjson.encode({[100] = 1}))
            ngx.say(cjson.encode_sparse_array(false, 1, 2))
            ngx.say(pcall(cjson.encode, {[3] = 1}))
            ngx.say(cjson.encode({1, 2, 3}))
        }
    }
--- request
GET /t
--- response_body
[null,null,null,null,null,null,null,null,null,1]
falseCannot serialise table: excessively sparse array
falseCannot serialise table: excessively sparse array
false210
true210
{"11":1}
false010
498
false12
falseCannot serialise table: excessively sparse array
[1,2,3]
--- no_error_log
[error]



=== TEST 6: unsupported types and keys raise plain string errors
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(pcall(cjson.encode, print))
            ngx.say(pcall(cjson.encode, {f = print}))
            ngx.say(pcall(cjson.encode, {[true] = 1}))
            ngx.say(pcall(cjson.encode, {[{}] = 1}))
            ngx.say(pcall(cjson.encode, coroutine.create(print)))
            ngx.say(pcall(cjson.encode))
            ngx.say(pcall(cjson.encode, 1, 2))
            local ok, err = pcall(cjson.encode, print)
            ngx.say(type(err))
        }
    }
--- request
GET /t
--- response_body
falseCannot serialise function: type not supported
falseCannot serialise function: type not supported
falseCannot serialise boolean: table key must be a number or string
falseCannot serialise table: table key must be a number or string
falseCannot serialise thread: type not supported
falsebad argument #1 to 'encode' (expected 1 argument)
falsebad argument #1 to 'encode' (expected 1 argument)
string
--- no_error_log
[error]



=== TEST 7: NaN and Infinity: error by default, "null", or JavaScript names
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(pcall(cjson.encode, 0/0))
            ngx.say(pcall(cjson.encode, {x = 1/0}))
            ngx.say(pcall(cjson.encode, {[1/0] = 1}))
            ngx.say(cjson.encode_invalid_numbers("null"))
            ngx.say(cjson.encode({0/0, 1/0, -1/0}))
            ngx.say(cjson.encode_invalid_numbers(true))
            ngx.say(cjson.encode({0/0, 1/0, -1/0}))
            ngx.say(cjson.encode_invalid_numbers("off"))
            ngx.say(pcall(cjson.encode_invalid_numbers, "maybe"))
        }
    }
--- request
GET /t
--- response_body
falseCannot serialise number: must not be NaN or Infinity
falseCannot serialise number: must not be NaN or Infinity
falseCannot serialise number: must not be NaN or Infinity
null
[null,null,null]
true
[NaN,Infinity,-Infinity]
false
falsebad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')
--- no_error_log
[error]



=== TEST 8: excessive nesting when encoding (default 1000, configurable, self reference)
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local t = {}
            local cur = t
            for i = 1, 999 do cur[1] = {} cur = cur[1] end
            ngx.say(#cjson.encode(t))
            cur[1] = {}
            ngx.say(pcall(cjson.encode, t))
            local loop = {} loop.me = loop
            ngx.say(pcall(cjson.encode, loop))
            ngx.say(cjson.encode_max_depth(2))
            ngx.say(cjson.encode({{1}}))
            ngx.say(pcall(cjson.encode, {{{1}}}))
            ngx.say(pcall(cjson.encode_max_depth, 0))
        }
    }
--- request
GET /t
--- response_body
2000
falseCannot serialise, excessive nesting (1001)
falseCannot serialise, excessive nesting (1001)
2
[[1]]
falseCannot serialise, excessive nesting (3)
falsebad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)
--- no_error_log
[error]



=== TEST 9: decode values, nested structures and whitespace
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local v = cjson.decode(' { "a" : [ 1 , 2.5 , -3e2 , "x" , true , false , null ] , "b" : { } } ')
            ngx.say(#v.a, " ", v.a[1], " ", v.a[2], " ", v.a[3], " ", v.a[4], " ",
                    tostring(v.a[5]), " ", tostring(v.a[6]), " ", v.a[7] == cjson.null,
                    " ", type(v.b), " ", next(v.b))
            ngx.say(cjson.decode("123"), " ", cjson.decode('"str"'), " ", cjson.decode("true"))
            ngx.say(cjson.decode("null") == ngx.null, " ", cjson.null == ngx.null)
            ngx.say(cjson.decode(42), " ", cjson.decode("[]")[1])
        }
    }
--- request
GET /t
--- response_body
7 1 2.5 -300 x true false true table nil
123 str true
true true
42 nil
--- no_error_log
[error]



=== TEST 10: decode unicode escapes and surrogate pairs
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.decode('"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\/\\"\\\\\\b\\f\\n\\r\\t"'))
            ngx.say(#cjson.decode('"\\u0000"'))
            ngx.say(pcall(cjson.decode, '"\\ud800"'))
            ngx.say(pcall(cjson.decode, '"\\udc00\\ud800"'))
            ngx.say(pcall(cjson.decode, '"\\ud800\\u0041"'))
            ngx.say(pcall(cjson.decode, '"\\u12"'))
            ngx.say(pcall(cjson.decode, '"\\x"'))
        }
    }
--- request
GET /t
--- response_body eval
"Aé€😀/\"\\\x{08}\x{0c}\n\r\t
1
falseExpected value but found invalid unicode escape code at character 2
falseExpected value but found invalid unicode escape code at character 2
falseExpected value but found invalid unicode escape code at character 2
falseExpected value but found invalid unicode escape code at character 2
falseExpected value but found invalid escape code at character 2
"
--- no_error_log
[error]



=== TEST 11: invalid JSON: lua-cjson's messages and positions
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            for _, s in ipairs{ "", "x", "[1 2]", "[1,]", "{1:2}", '{"a" 1}',
                                '{"a":1 "b":2}', '{"a":1,}', "1 2", '"abc', "tru",
                                "[1.5 2]", "-", "\0\0", "{", "]" } do
                local ok, err = pcall(cjson.decode, s)
                ngx.say(ok, " ", err)
            end
            ngx.say(pcall(cjson.decode))
            ngx.say(pcall(cjson.decode, {}))
        }
    }
--- request
GET /t
--- response_body
false Expected value but found T_END at character 1
false Expected value but found invalid token at character 1
false Expected comma or array end but found T_INTEGER at character 4
false Expected value but found T_ARR_END at character 4
false Expected object key string but found T_INTEGER at character 2
false Expected colon but found T_INTEGER at character 6
false Expected comma or object end but found T_STRING at character 8
false Expected object key string but found T_OBJ_END at character 8
false Expected the end but found T_INTEGER at character 3
false Expected value but found unexpected end of string at character 5
false Expected value but found invalid token at character 1
false Expected comma or array end but found T_INTEGER at character 6
false Expected value but found invalid number at character 1
false JSON parser does not support UTF-16 or UTF-32
false Expected object key string but found T_END at character 2
false Expected value but found T_ARR_END at character 1
falsebad argument #1 to 'decode' (expected 1 argument)
falsebad argument #1 to 'decode' (string expected, got table)
--- no_error_log
[error]



=== TEST 12: deeply nested JSON: the decode depth limit
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local ok = pcall(cjson.decode, string.rep("[", 1000) .. string.rep("]", 1000))
            ngx.say(ok)
            ngx.say(pcall(cjson.decode, string.rep("[", 1001) .. string.rep("]", 1001)))
            ngx.say(pcall(cjson.decode, string.rep('{"a":', 1001)))
            ngx.say(cjson.decode_max_depth(3))
            ngx.say(pcall(cjson.decode, '[[[[1]]]]'))
            ngx.say(cjson.decode_max_depth(2^31 - 1))
            local ok, err = pcall(cjson.decode, string.rep("[", 100000))
            ngx.say(ok, " ", err)
            ngx.say(#cjson.decode(string.rep("[", 100000) .. string.rep("]", 100000)))
        }
    }
--- request
GET /t
--- response_body
true
falseFound too many nested data structures (1001) at character 1001
falseFound too many nested data structures (1001) at character 5001
3
falseFound too many nested data structures (4) at character 4
2147483647
false Expected value but found T_END at character 100001
1
--- no_error_log
[error]



=== TEST 13: huge and odd numbers when decoding; decode_invalid_numbers
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.decode("1e400"), " ", cjson.decode("-1e400"), " ", cjson.decode("1e-400"))
            ngx.say(cjson.decode("123456789012345678901234567890"))
            ngx.say(string.format("%.0f", cjson.decode("9007199254740993")))
            ngx.say(cjson.encode(cjson.decode("[0.1,1E2,-0]")))
            ngx.say(cjson.decode("0x10"), " ", cjson.decode("Infinity"), " ", cjson.decode("-inf"),
                    " ", tostring(cjson.decode("nan")):find("nan") ~= nil, " ", cjson.decode("[+5]")[1])
            ngx.say(cjson.decode_invalid_numbers(false))
            for _, s in ipairs{ "0x10", "Infinity", "[+5]", "[01]", "nan" } do
                ngx.say(pcall(cjson.decode, s))
            end
            ngx.say(cjson.decode("1.5e3"))
        }
    }
--- request
GET /t
--- response_body
inf -inf 0
1.2345678901235e+29
9007199254740992
[0.1,100,-0]
16 inf -inf true 5
false
falseExpected value but found invalid number at character 1
falseExpected value but found invalid token at character 1
falseExpected value but found invalid token at character 2
falseExpected value but found invalid number at character 2
falseExpected value but found invalid token at character 1
1500
--- no_error_log
[error]



=== TEST 14: empty_array, empty_array_mt, encode_empty_table_as_object
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(type(cjson.empty_array), " ", cjson.empty_array ~= cjson.null)
            ngx.say(cjson.encode({list = cjson.empty_array}))
            ngx.say(cjson.encode(cjson.empty_array))
            ngx.say(cjson.encode({list = setmetatable({}, cjson.empty_array_mt)}))
            ngx.say(cjson.encode(setmetatable({1, 2}, cjson.empty_array_mt)))
            ngx.say(cjson.encode_empty_table_as_object(false))
            ngx.say(cjson.encode({a = {}}))
            ngx.say(cjson.encode_empty_table_as_object("on"))
            ngx.say(cjson.encode({a = {}}))
            ngx.say(pcall(cjson.encode_empty_table_as_object, "yes"))
        }
    }
--- request
GET /t
--- response_body
userdata true
{"list":[]}
[]
{"list":[]}
[1,2]
false
{"a":[]}
true
{"a":{}}
falsebad argument #1 to 'encode_empty_table_as_object' (invalid option 'yes')
--- no_error_log
[error]



=== TEST 15: array_mt: always an array, holes as null; decode_array_with_array_mt round trips
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local t = setmetatable({}, cjson.array_mt)
            ngx.say(cjson.encode(t))
            t[1] = "one" t[2] = "two" t[4] = "four" t.foo = "bar"
            ngx.say(cjson.encode(t))
            ngx.say(cjson.encode(cjson.decode('{"list":[]}')))
            ngx.say(cjson.decode_array_with_array_mt(true))
            local v = cjson.decode('{"list":[],"nested":[[]]}')
            ngx.say(getmetatable(v.list) == cjson.array_mt, " ", getmetatable(v) == nil)
            ngx.say(cjson.encode(v.list), " ", cjson.encode(v.nested))
            ngx.say(cjson.decode_array_with_array_mt(false))
            ngx.say(getmetatable(cjson.decode("[]")))
        }
    }
--- request
GET /t
--- response_body
[]
["one","two",null,"four"]
{"list":{}}
true
true true
[] [[]]
false
nil
--- no_error_log
[error]



=== TEST 16: encode_number_precision
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode_number_precision())
            ngx.say(cjson.encode_number_precision(3))
            ngx.say(cjson.encode({1/3, 1234.5, 100}))
            ngx.say(cjson.encode_number_precision(16))
            ngx.say(cjson.encode({2^53, 0.1}))
            ngx.say(pcall(cjson.encode_number_precision, 17))
            ngx.say(pcall(cjson.encode_number_precision, "x"))
        }
    }
--- request
GET /t
--- response_body
14
3
[0.333,1.23e+03,100]
16
[9007199254740992,0.1]
falsebad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)
falsebad argument #1 to 'encode_number_precision' (number expected, got string)
--- no_error_log
[error]



=== TEST 17: encode_escape_forward_slash, encode_keep_buffer
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode_escape_forward_slash())
            ngx.say(cjson.encode("http://x/y"))
            ngx.say(cjson.encode_escape_forward_slash(false))
            ngx.say(cjson.encode("http://x/y"))
            ngx.say(cjson.encode_escape_forward_slash(true))
            ngx.say(cjson.encode_keep_buffer())
            ngx.say(cjson.encode_keep_buffer(false), cjson.encode({1, "a"}), cjson.encode({2}))
            ngx.say(cjson.encode_keep_buffer("on"), cjson.encode({3}))
            ngx.say(pcall(cjson.encode_keep_buffer, true, true))
        }
    }
--- request
GET /t
--- response_body
true
"http:\/\/x\/y"
false
"http://x/y"
true
true
false[1,"a"][2]
true[3]
falsebad argument #2 to 'encode_keep_buffer' (found too many arguments)
--- no_error_log
[error]



=== TEST 18: cjson.new() instances have their own settings
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local a = cjson.new()
            local b = a.new()
            a.encode_escape_forward_slash(false)
            a.encode_max_depth(5)
            ngx.say(a.encode("/"), cjson.encode("/"), b.encode("/"))
            ngx.say(a.encode_max_depth(), " ", cjson.encode_max_depth(), " ", b.encode_max_depth())
            ngx.say(a.null == cjson.null, " ", a.empty_array == cjson.empty_array, " ", a.array_mt == cjson.array_mt)
            ngx.say(cjson.encode(setmetatable({}, a.array_mt)))
            ngx.say(a ~= cjson, " ", a.encode ~= cjson.encode)
        }
    }
--- request
GET /t
--- response_body
"/""\/""\/"
5 1000 1000
true true true
[]
true true
--- no_error_log
[error]



=== TEST 19: the default instance is per-VM state (settings made in init_by_lua persist)
--- http_config
    init_by_lua_block {
        require("cjson").encode_escape_forward_slash(false)
    }
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson.encode("a/b"), " ", require("cjson.safe").encode("a/b"))
            ngx.say(require("cjson") == cjson)
        }
    }
--- request
GET /t
--- response_body
"a/b" "a\/b"
true
--- no_error_log
[error]



=== TEST 20: round trips of random tables through encode and decode
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            local seed = 12345
            local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
            local function gen(d)
                local k = rnd(d > 3 and 4 or 6)
                if k == 0 then return rnd(2) == 1
                elseif k == 1 then return rnd(2000000) - 1000000
                elseif k == 2 then return rnd(100000) / 64
                elseif k == 3 then
                    local s = {}
                    for i = 1, rnd(10) do s[i] = string.char(rnd(256)) end
                    return table.concat(s)
                elseif k == 4 then
                    local t = {}
                    for i = 1, rnd(6) + 1 do t[i] = gen(d + 1) end
                    return t
                end
                local t = {}
                for i = 1, rnd(6) + 1 do t["k" .. rnd(50)] = gen(d + 1) end
                return t
            end
            local function same(a, b)
                if type(a) ~= type(b) then return false end
                if type(a) ~= "table" then return a == b end
                for k, v in pairs(a) do if not same(v, b[k]) then return false end end
                for k in pairs(b) do if a[k] == nil then return false end end
                return true
            end
            local bad = 0
            for i = 1, 3000 do
                local v = gen(0)
                local s = cjson.encode(v)
                local back = cjson.decode(s)
                -- (key order may differ between v and back: compare values)
                if not same(v, back) or not same(cjson.decode(cjson.encode(back)), v) then bad = bad + 1 end
            end
            ngx.say("mismatches: ", bad)
        }
    }
--- request
GET /t
--- response_body
mismatches: 0
--- no_error_log
[error]



=== TEST 21: encode_skip_unsupported_value_types
--- config
    location /t {
        content_by_lua_block {
            local cjson = require("cjson").new()
            ngx.say(cjson.encode_skip_unsupported_value_types(true))
            ngx.say(cjson.encode({1, print, 2}))
            ngx.say(cjson.encode({f = print}))
            ngx.say(cjson.encode({print}))
        }
    }
--- request
GET /t
--- response_body
true
[1,2]
{}
[]
--- no_error_log
[error]



=== TEST 22: a user-installed C cjson takes precedence once package.preload.cjson is cleared
--- http_config
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
    init_by_lua_block {
        package.preload["cjson"] = nil
        package.preload["cjson.safe"] = nil
    }
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson._VERSION ~= "2.1.0.11", " ", cjson.empty_array == nil)
            ngx.say(cjson.encode({1, "a/b"}), " ", cjson.decode("[1]")[1])
            local safe = require "cjson.safe"
            ngx.say(safe.decode("["))
        }
    }
--- request
GET /t
--- response_body
true true
[1,"a\/b"] 1
nilExpected value but found T_END at character 2
--- no_error_log
[error]



=== TEST 23: with lua_package_cpath set but preload untouched, the built-in cjson is used
--- http_config
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson._VERSION, " ", cjson.empty_array ~= nil)
        }
    }
--- request
GET /t
--- response_body
2.1.0.11 true
--- no_error_log
[error]
