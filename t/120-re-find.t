# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: from and to of the whole match (1-based, inclusive)
--- config
    location /t {
        content_by_lua_block {
            local from, to, err = ngx.re.find("hello, 1234", [[[0-9]+]], "jo")
            ngx.say(from, " ", to, " ", err)
            ngx.say(string.sub("hello, 1234", from, to))
        }
    }
--- request
GET /t
--- response_body
8 11 nil
1234
--- no_error_log
[error]



=== TEST 2: no match
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.re.find("hello", [[\d]])), " ", ngx.re.find("hello", [[\d]]))
        }
    }
--- request
GET /t
--- response_body
1 nil
--- no_error_log
[error]



=== TEST 3: nth capture
--- config
    location /t {
        content_by_lua_block {
            local s = "hello, 1234"
            ngx.say(ngx.re.find(s, [[([a-z]+), (\d+)]], "o", nil, 2))
            ngx.say(ngx.re.find(s, [[([a-z]+), (\d+)]], "o", nil, 1))
            ngx.say(ngx.re.find(s, [[([a-z]+), (\d+)]], "o", nil, 0))
            ngx.say(ngx.re.find(s, [[([a-z]+), (\d+)]], "o", nil, -1))
            ngx.say(ngx.re.find(s, [[([a-z]+), (\d+)]], "o", nil, 3))
        }
    }
--- request
GET /t
--- response_body
811
15
111
111
nilnilnth out of bound
--- no_error_log
[error]



=== TEST 4: an unmatched nth group gives nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("b", "(a)?(b)", "", nil, 1))
            ngx.say(ngx.re.find("a", "(a)(b)?", "", nil, 2))
            ngx.say(ngx.re.find("a", "(a)(b)?", "", nil, 1))
        }
    }
--- request
GET /t
--- response_body
nilnil
nilnil
11
--- no_error_log
[error]



=== TEST 5: ctx.pos
--- config
    location /t {
        content_by_lua_block {
            local ctx = { pos = 3 }
            local from, to = ngx.re.find("a1b2c3", [[\d]], "jo", ctx)
            ngx.say(from, " ", to, " ", ctx.pos)
            from, to = ngx.re.find("a1b2c3", [[\d]], "jo", ctx)
            ngx.say(from, " ", to, " ", ctx.pos)
            from, to = ngx.re.find("a1b2c3", [[\d]], "jo", ctx)
            ngx.say(from, " ", to, " ", ctx.pos)
        }
    }
--- request
GET /t
--- response_body
4 4 5
6 6 7
nil nil 7
--- no_error_log
[error]



=== TEST 6: empty match: to is before from
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("abc", "x*"))
            ngx.say(ngx.re.find("abc", "$"))
        }
    }
--- request
GET /t
--- response_body
10
43
--- no_error_log
[error]



=== TEST 7: errors: bad pattern (nil, nil, err), unknown flag (raised)
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("abc", "(?<"))
            local ok, err = pcall(ngx.re.find, "abc", "b", "z")
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^nilnilpcre2_compile\(\) failed: .* in "\(\?<"
false unknown flag "z" \(flags "z"\)$
--- no_error_log
[error]



=== TEST 8: UTF-8 offsets are bytes
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("你好x", "x", "u"))
            ngx.say(ngx.re.find("你好x", "好", "u"))
        }
    }
--- request
GET /t
--- response_body
77
46
--- no_error_log
[error]
