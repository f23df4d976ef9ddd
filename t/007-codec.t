# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: md5 of known strings
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.md5("hello"))
            ngx.say(ngx.md5(""))
            ngx.say(ngx.md5("The quick brown fox jumps over the lazy dog"))
        }
    }
--- request
GET /t
--- response_body
5d41402abc4b2a76b9719d911017c592
d41d8cd98f00b204e9800998ecf8427e
9e107d9d372bb6826bd81d3542a419d6
--- no_error_log
[error]



=== TEST 2: md5 takes nil and false as "", other values through tostring
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.md5(nil) == ngx.md5(""))
            ngx.say(ngx.md5(false) == ngx.md5(""))
            ngx.say(ngx.md5(123) == ngx.md5("123"))
            ngx.say(ngx.md5(true) == ngx.md5("true"))
            ngx.say(ngx.md5(1.5) == ngx.md5("1.5"))
        }
    }
--- request
GET /t
--- response_body
true
true
true
true
true
--- no_error_log
[error]



=== TEST 3: md5_bin is the raw form of md5
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (string.gsub(s, ".", function(c)
                    return string.format("%02x", string.byte(c))
                end))
            end
            local bin = ngx.md5_bin("hello")
            ngx.say(#bin, " ", hex(bin))
            ngx.say(hex(ngx.md5_bin(nil)) == ngx.md5(""))
            ngx.say(hex(ngx.md5_bin(42)) == ngx.md5("42"))
        }
    }
--- request
GET /t
--- response_body
16 5d41402abc4b2a76b9719d911017c592
true
true
--- no_error_log
[error]



=== TEST 4: sha1_bin
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (string.gsub(s, ".", function(c)
                    return string.format("%02x", string.byte(c))
                end))
            end
            ngx.say(hex(ngx.sha1_bin("abc")))
            ngx.say(hex(ngx.sha1_bin("")))
            ngx.say(ngx.sha1_bin(nil) == ngx.sha1_bin(""))
            ngx.say(ngx.sha1_bin(7) == ngx.sha1_bin("7"))
        }
    }
--- request
GET /t
--- response_body
a9993e364706816aba3e25717850c26c9cd0d89d
da39a3ee5e6b4b0d3255bfef95601890afd80709
true
true
--- no_error_log
[error]



=== TEST 5: hmac_sha1 (RFC 2202 vectors)
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (string.gsub(s, ".", function(c)
                    return string.format("%02x", string.byte(c))
                end))
            end
            ngx.say(hex(ngx.hmac_sha1(string.rep("\11", 20), "Hi There")))
            ngx.say(hex(ngx.hmac_sha1("Jefe", "what do ya want for nothing?")))
            ngx.say(hex(ngx.hmac_sha1(string.rep("\170", 80),
                "Test Using Larger Than Block-Size Key - Hash Key First")))
            ngx.say(hex(ngx.hmac_sha1("", "")))
            ngx.say(ngx.hmac_sha1(1, 2) == ngx.hmac_sha1("1", "2"))
        }
    }
--- request
GET /t
--- response_body
b617318655057264e28bc0b6fb378c8ef146be00
effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
aa4ae5e15272d00e95705637ce8a3b55ed402112
fbdb1d1b18aa6c08324b7d64b71fb76370690e1d
true
--- no_error_log
[error]



=== TEST 6: hmac_sha1 checks its arguments
--- config
    location /t {
        content_by_lua_block {
            local function try(f)
                local ok, err = pcall(f)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try(function() local r = ngx.hmac_sha1("key") return r end)
            try(function() local r = ngx.hmac_sha1("a", "b", "c") return r end)
            try(function() local r = ngx.hmac_sha1(nil, "msg") return r end)
            try(function() local r = ngx.hmac_sha1("key", {}) return r end)
        }
    }
--- request
GET /t
--- response_body
false expecting 2 arguments, but got 1
false expecting 2 arguments, but got 3
false bad argument #1 to 'hmac_sha1' (string expected, got nil)
false bad argument #2 to 'hmac_sha1' (string expected, got table)
--- no_error_log
[error]



=== TEST 7: crc32_short and crc32_long
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.crc32_short("hello"), " ", ngx.crc32_long("hello"))
            ngx.say(ngx.crc32_short("123456789"), " ", ngx.crc32_long("123456789"))
            ngx.say(ngx.crc32_short(""), " ", ngx.crc32_long(nil))
            local long = string.rep("abcdefghij", 1000)
            ngx.say(ngx.crc32_short(long) == ngx.crc32_long(long))
            ngx.say(ngx.crc32_long(99) == ngx.crc32_long("99"))
        }
    }
--- request
GET /t
--- response_body
907060870 907060870
3421780262 3421780262
0 0
true
true
--- no_error_log
[error]



=== TEST 8: encode_base64 with and without padding
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.encode_base64("hello"))
            ngx.say(ngx.encode_base64("hello", true))
            ngx.say(ngx.encode_base64("a"), " ", ngx.encode_base64("ab"), " ", ngx.encode_base64("abc"))
            ngx.say(ngx.encode_base64("a", true), " ", ngx.encode_base64("ab", true))
            ngx.say("[", ngx.encode_base64(""), "][", ngx.encode_base64(nil), "]")
            ngx.say(ngx.encode_base64(123), " ", ngx.encode_base64("a", false))
            ngx.say(ngx.encode_base64("\255\254\253"))
        }
    }
--- request
GET /t
--- response_body
aGVsbG8=
aGVsbG8
YQ== YWI= YWJj
YQ YWI
[][]
MTIz YQ==
//79
--- no_error_log
[error]



=== TEST 9: encode_base64 wants a boolean no_padding
--- config
    location /t {
        content_by_lua_block {
            for _, v in ipairs({1, "yes", {}}) do
                local ok, err = pcall(ngx.encode_base64, "a", v)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
        }
    }
--- request
GET /t
--- response_body
false bad no_padding: boolean expected, got number
false bad no_padding: boolean expected, got string
false bad no_padding: boolean expected, got table
--- no_error_log
[error]



=== TEST 10: decode_base64 accepts what nginx accepts
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.decode_base64("aGVsbG8="))
            ngx.say(ngx.decode_base64("aGVsbG8"))
            ngx.say(ngx.decode_base64("YQ"), " ", ngx.decode_base64("YQ=="))
            ngx.say("[", ngx.decode_base64(""), "]")
            -- everything after the first '=' is ignored
            ngx.say(ngx.decode_base64("aGVsbG8=!not base64"))
        }
    }
--- request
GET /t
--- response_body
hello
hello
a a
[]
hello
--- no_error_log
[error]



=== TEST 11: decode_base64 returns nil for invalid input
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.decode_base64("a"))
            ngx.say(ngx.decode_base64("aGVs bG8="))
            ngx.say(ngx.decode_base64("aGVsbG8-"))
            ngx.say(ngx.decode_base64("aGVsbG8\n"))
            ngx.say(ngx.decode_base64("abcde"))
        }
    }
--- request
GET /t
--- response_body
nil
nil
nil
nil
nil
--- no_error_log
[error]



=== TEST 12: decode_base64 takes strings only
--- config
    location /t {
        content_by_lua_block {
            for _, v in ipairs({123, true, {}}) do
                local ok, err = pcall(ngx.decode_base64, v)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            local ok, err = pcall(ngx.decode_base64)
            ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
        }
    }
--- request
GET /t
--- response_body
false string argument only
false string argument only
false string argument only
false string argument only
--- no_error_log
[error]



=== TEST 13: base64 round trip of every byte value
--- config
    location /t {
        content_by_lua_block {
            local bytes = {}
            for c = 0, 255 do
                bytes[#bytes + 1] = string.char(c)
            end
            local all = table.concat(bytes)
            for n = 0, 3 do
                local s = string.sub(all, 1, 253 + n)
                ngx.say(n, " ", ngx.decode_base64(ngx.encode_base64(s)) == s,
                        " ", ngx.decode_base64(ngx.encode_base64(s, true)) == s)
            end
        }
    }
--- request
GET /t
--- response_body
0 true true
1 true true
2 true true
3 true true
--- no_error_log
[error]



=== TEST 14: quote_sql_str
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.quote_sql_str("abc"))
            ngx.say(ngx.quote_sql_str(""))
            ngx.say(ngx.quote_sql_str([[a'b"c\d]]))
            ngx.say(ngx.quote_sql_str("\n\r\t\b\0\26|"))
            ngx.say(ngx.quote_sql_str(3.5), " ", ngx.quote_sql_str("你好'"))
        }
    }
--- request
GET /t
--- response_body
'abc'
''
'a\'b\"c\\d'
'\n\r\t\b\0\Z|'
'3.5' '你好\''
--- no_error_log
[error]



=== TEST 15: quote_sql_str checks its argument
--- config
    location /t {
        content_by_lua_block {
            local function try(f)
                local ok, err = pcall(f)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try(function() local r = ngx.quote_sql_str() return r end)
            try(function() local r = ngx.quote_sql_str("a", "b") return r end)
            try(function() local r = ngx.quote_sql_str({}) return r end)
            try(function() local r = ngx.quote_sql_str(nil) return r end)
        }
    }
--- request
GET /t
--- response_body
false expecting one argument
false expecting one argument
false bad argument #1 to 'quote_sql_str' (string expected, got table)
false bad argument #1 to 'quote_sql_str' (string expected, got nil)
--- no_error_log
[error]



=== TEST 16: digests in set_by_lua
--- config
    location /t {
        set_by_lua_block $md5 { return ngx.md5(ngx.var.arg_s) }
        set_by_lua_block $b64 { return ngx.encode_base64(ngx.var.arg_s) }
        return 200 "$md5 $b64\n";
    }
--- request
GET /t?s=hello
--- response_body
5d41402abc4b2a76b9719d911017c592 aGVsbG8=
--- no_error_log
[error]
