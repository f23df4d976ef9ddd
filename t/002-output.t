# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# blocks 16-18 check one response header each on top of the usual 3
plan tests => repeat_each() * (blocks() * 3 + 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: numbers: integers, integral floats, fractions
--- config
    location /t {
        content_by_lua_block {
            ngx.say(1, " ", -3, " ", 10.0, " ", 2^31, " ", 3.14, " ", -0.5)
            ngx.say(1/3)
        }
    }
--- request
GET /t
--- response_body
1 -3 10 2147483648 3.14 -0.5
0.33333333333333
--- no_error_log
[error]



=== TEST 2: booleans, nil and ngx.null
--- config
    location /t {
        content_by_lua_block {
            ngx.say(true, " ", false, " ", nil, " ", ngx.null)
        }
    }
--- request
GET /t
--- response_body
true false nil null
--- no_error_log
[error]



=== TEST 3: nested array tables are flattened
--- config
    location /t {
        content_by_lua_block {
            ngx.say({"a", {"b", {1, 2}}, "c", {}, {true, ngx.null}})
            ngx.print({"x", {"y"}}, "\n")
        }
    }
--- request
GET /t
--- response_body
ab12ctruenull
xy
--- no_error_log
[error]



=== TEST 4: say and print return 1, ngx.print adds no newline
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.print("p")
            local b = ngx.say("s")
            ngx.say(a, " ", b)
        }
    }
--- request
GET /t
--- response_body
ps
1 1
--- no_error_log
[error]



=== TEST 5: say without arguments prints a newline, print without arguments nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.print()
            ngx.say()
            ngx.say("end")
        }
    }
--- request
GET /t
--- response_body eval
"\nend\n"
--- no_error_log
[error]



=== TEST 6: non-array table argument
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.say({a = 1}) end)
            ngx.print(tostring(ok), ": ", err, "\n")
        }
    }
--- request
GET /t
--- response_body_like chomp
^false: content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'say' \(non-array table found\)
$
--- no_error_log
[error]



=== TEST 7: function argument
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.print("a", print) end)
            ngx.say(tostring(ok), ": ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false: content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #2 to 'print' \(string, number, boolean, nil, ngx\.null, or array table expected, but got function\)
$
--- no_error_log
[error]



=== TEST 8: bad value nested inside an array table
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.say("x", {"a", {print}}) end)
            ngx.say(tostring(ok), ": ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false: content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #2 to 'say' \(bad data type function found\)
$
--- no_error_log
[error]



=== TEST 9: uncaught bad argument aborts the request with 500
--- config
    location /t {
        content_by_lua_block {
            ngx.say({foo = "bar"})
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'say' \(non-array table found\)/



=== TEST 10: ngx.flush before any output, after output, and synchronous
--- config
    location /t {
        content_by_lua_block {
            local a, aerr = ngx.flush()
            ngx.say("hi")
            local b, berr = ngx.flush()
            local c, cerr = ngx.flush(true)
            ngx.say(a, " ", aerr, "|", b, " ", berr, "|", c, " ", cerr)
        }
    }
--- request
GET /t
--- response_body
hi
nil nothing to flush|1 nil|1 nil
--- no_error_log
[error]



=== TEST 11: ngx.flush with a non-boolean argument
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            local ok, err = pcall(function () ngx.flush("yes") end)
            ngx.say(tostring(ok), ": ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^a
false: content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'flush' \(boolean expected, got string\)
$
--- no_error_log
[error]



=== TEST 12: output after ngx.eof returns nil, "seen eof"; the handler keeps running
--- config
    location /t {
        content_by_lua_block {
            ngx.say("before eof")
            local ok = ngx.eof()
            local r1, e1 = ngx.say("after eof")
            local r2, e2 = ngx.print("x")
            local r3, e3 = ngx.flush()
            ngx.log(ngx.WARN, "eof: ", ok, ", say: ", r1, " ", e1,
                    ", print: ", r2, " ", e2, ", flush: ", r3, " ", e3)
        }
    }
--- request
GET /t
--- response_body
before eof
--- error_log
eof: 1, say: nil seen eof, print: nil seen eof, flush: nil seen eof



=== TEST 13: a second ngx.eof returns nil, "seen eof"
--- config
    location /t {
        content_by_lua_block {
            ngx.print("body")
            local a, ae = ngx.eof()
            local b, be = ngx.eof()
            ngx.log(ngx.WARN, "first: ", a, " ", ae, ", second: ", b, " ", be)
        }
    }
--- request
GET /t
--- response_body chomp
body
--- error_log
first: 1 nil, second: nil seen eof



=== TEST 14: ngx.send_headers and ngx.headers_sent
--- config
    location /t {
        content_by_lua_block {
            local before = ngx.headers_sent
            local ok = ngx.send_headers()
            local again = ngx.send_headers()
            ngx.say(before, " ", ok, " ", again, " ", ngx.headers_sent)
        }
    }
--- request
GET /t
--- response_body
false 1 1 true
--- no_error_log
[error]



=== TEST 15: ngx.headers_sent becomes true after the first output
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.headers_sent
            ngx.print("x")
            local b = ngx.headers_sent
            ngx.say(" ", a, " ", b)
        }
    }
--- request
GET /t
--- response_body
x false true
--- no_error_log
[error]



=== TEST 16: lua_use_default_type on (the default) uses default_type
--- config
    location /t {
        default_type text/html;
        content_by_lua_block { ngx.say("hi") }
    }
--- request
GET /t
--- response_body
hi
--- response_headers
Content-Type: text/html
--- no_error_log
[error]



=== TEST 17: lua_use_default_type off sends no Content-Type
--- config
    location /t {
        default_type text/html;
        lua_use_default_type off;
        content_by_lua_block { ngx.say("hi") }
    }
--- request
GET /t
--- response_body
hi
--- response_headers
!Content-Type
--- no_error_log
[error]



=== TEST 18: lua_use_default_type off inherited from the server level
--- config
    lua_use_default_type off;
    location /t {
        content_by_lua_block { ngx.say("hi") }
    }
--- request
GET /t
--- response_body
hi
--- response_headers
!Content-Type
--- no_error_log
[error]



=== TEST 19: HEAD request: no body sent, later output reports "header only"
--- config
    location /t {
        content_by_lua_block {
            local a, ae = ngx.say("hello")
            local b, be = ngx.say("again")
            ngx.log(ngx.WARN, "head results: ", a, " ", ae, ", ", b, " ", be)
        }
    }
--- request
HEAD /t
--- response_body
--- error_log
head results: 1 nil, nil header only



=== TEST 20: large output made of many calls
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 1000 do
                ngx.print(string.rep("a", 99), "\n")
            end
        }
    }
--- request
GET /t
--- response_body eval
my $s = ("a" x 99) . "\n"; $s x 1000
--- no_error_log
[error]



=== TEST 21: output from rewrite_by_lua and access_by_lua
--- config
    location /t {
        rewrite_by_lua_block { ngx.say("rewrite") }
        access_by_lua_block { ngx.say("access") }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
rewrite
access
content
--- no_error_log
[error]



=== TEST 22: a table with holes prints nil for them
--- config
    location /t {
        content_by_lua_block {
            ngx.say({"a", nil, "c"})
        }
    }
--- request
GET /t
--- response_body
anilc
--- no_error_log
[error]
