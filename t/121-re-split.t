# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: split on a separator
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res, err = ngx_re.split("a,b,c,d", ",")
            ngx.say(#res, " ", table.concat(res, "|"), " ", err)
            res = ngx_re.split("a, b ,c", [[\s*,\s*]], "jo")
            ngx.say(table.concat(res, "|"))
        }
    }
--- request
GET /t
--- response_body
4 a|b|c|d nil
a|b|c
--- no_error_log
[error]



=== TEST 2: the first capture group is inserted between pieces
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = ngx_re.split("a,b;c", "([,;])")
            ngx.say(#res, " ", table.concat(res, "|"))
            res = ngx_re.split("a1b", [[(\d)(x)?]])
            ngx.say(#res, " ", table.concat(res, "|"))
        }
    }
--- request
GET /t
--- response_body
5 a|,|b|;|c
3 a|1|b
--- no_error_log
[error]



=== TEST 3: trailing empty pieces are dropped, leading ones kept
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = ngx_re.split(",a,,b,,", ",")
            ngx.say(#res, " [", table.concat(res, "|"), "]")
            res = ngx_re.split(",,,", ",")
            ngx.say(#res)
        }
    }
--- request
GET /t
--- response_body
4 [|a||b]
0
--- no_error_log
[error]



=== TEST 4: an empty regex splits into characters
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = ngx_re.split("abcd", "")
            ngx.say(#res, " ", table.concat(res, "|"))
        }
    }
--- request
GET /t
--- response_body
4 a|b|c|d
--- no_error_log
[error]



=== TEST 5: max limits the number of pieces
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = ngx_re.split("a,b,c,d", ",", nil, nil, 2)
            ngx.say(#res, " ", table.concat(res, "|"))
            res = ngx_re.split("a,b,c,d", ",", nil, nil, 1)
            ngx.say(#res, " ", table.concat(res, "|"))
            res = ngx_re.split("a,b,", ",", nil, nil, 10)
            ngx.say(#res, " [", table.concat(res, "|"), "]")
        }
    }
--- request
GET /t
--- response_body
2 a|b,c,d
1 a,b,c,d
3 [a|b|]
--- no_error_log
[error]



=== TEST 6: ctx.pos starts later
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = ngx_re.split("a,b,c,d", ",", nil, { pos = 5 })
            ngx.say(#res, " ", table.concat(res, "|"))
            res = ngx_re.split("a,b", ",", nil, { pos = 10 })
            ngx.say(#res)
        }
    }
--- request
GET /t
--- response_body
2 c|d
0
--- no_error_log
[error]



=== TEST 7: res table reuse ends with a nil
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res = { "x", "y", "z", "w", "v" }
            local r = ngx_re.split("a,b", ",", nil, nil, nil, res)
            ngx.say(r == res, " ", res[1], res[2], " ", res[3], " ", res[4])
            local ok, err = pcall(ngx_re.split, "a,b", ",", nil, nil, nil, "bad")
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
true ab nil w
false res is not a table
--- no_error_log
[error]



=== TEST 8: bad regex and no match
--- config
    location /t {
        content_by_lua_block {
            local ngx_re = require "ngx.re"
            local res, err = ngx_re.split("a,b", "(")
            ngx.say(res, " ", err)
            res = ngx_re.split("abc", ",")
            ngx.say(#res, " ", res[1])
        }
    }
--- request
GET /t
--- response_body
nil pcre2_compile() failed: missing closing parenthesis in "("
1 abc
--- no_error_log
[error]



=== TEST 9: ngx.re (the module) is built in, ahead of any file on the path
--- config
    location /t {
        content_by_lua_block {
            local m = require "ngx.re"
            ngx.say(type(m.split), " ", type(m.opt), " ", m == require("ngx.re"))
            local core = require "resty.core.regex"
            ngx.say(type(core.is_regex_cache_empty))
        }
    }
--- request
GET /t
--- response_body
function function true
function
--- no_error_log
[error]
