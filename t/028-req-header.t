# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.req.get_headers, ngx.req.set_header and ngx.req.clear_header.

use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();

run_tests();

__DATA__

=== TEST 1: get_headers: lower-cased keys, lookups normalise case and underscores
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say("raw key: ", rawget(h, "x-my-header"))
            ngx.say("mixed case: ", h["X-My-Header"])
            ngx.say("underscores: ", h.x_my_header)
            ngx.say("upper underscores: ", h.X_MY_HEADER)
            ngx.say("host: ", h.host)
            ngx.say("missing: ", h.x_none)
        }
    }
--- request
GET /t
--- more_headers
X-My-Header: hello
--- response_body
raw key: hello
mixed case: hello
underscores: hello
upper underscores: hello
host: localhost
missing: nil
--- no_error_log
[error]



=== TEST 2: get_headers with raw = true keeps the original keys, no metatable
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.req.get_headers(nil, true)
            ngx.say("original: ", h["X-My-Header"])
            ngx.say("lower: ", h["x-my-header"])
            ngx.say("metatable: ", getmetatable(h))
        }
    }
--- request
GET /t
--- more_headers
X-My-Header: hello
--- response_body
original: hello
lower: nil
metatable: nil
--- no_error_log
[error]



=== TEST 3: repeated headers become an array in request order
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(type(h.foo), ": ", table.concat(h.foo, ","))
            ngx.say(type(h.bar), ": ", h.bar)
        }
    }
--- request
GET /t
--- more_headers
Foo: a
Bar: x
foo: b
FOO: c
--- response_body
table: a,b,c
string: x
--- no_error_log
[error]



=== TEST 4: max_headers caps the result and reports "truncated"
--- config
    location /t {
        content_by_lua_block {
            local h, err = ngx.req.get_headers(3)
            local n = 0
            for _ in pairs(h) do n = n + 1 end
            ngx.say(n, " ", err)
            ngx.say(h.host, " ", h.connection, " ", h.a, " ", h.b)
            h, err = ngx.req.get_headers(6)
            n = 0
            for _ in pairs(h) do n = n + 1 end
            ngx.say(n, " ", err)
        }
    }
--- request
GET /t
--- more_headers
A: 1
B: 2
C: 3
--- response_body
3 truncated
localhost close 1 nil
5 nil
--- no_error_log
[error]



=== TEST 5: the default cap is 100 headers, 0 means no cap
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            local h, err = ngx.req.get_headers()
            ngx.say(count(h), " ", err)
            h, err = ngx.req.get_headers(0)
            ngx.say(count(h), " ", err)
            h, err = ngx.req.get_headers(-1)
            ngx.say(count(h), " ", err)
        }
    }
--- request
GET /t
--- more_headers eval
CORE::join("", map { "X-H$_: $_\r\n" } 1 .. 110)
--- response_body
100 truncated
112 nil
100 truncated
--- no_error_log
[error]



=== TEST 6: set_header adds a header seen by get_headers and $http_*
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_header("X-New", "one")
            ngx.req.set_header("X-Number", 42)
        }
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(h.x_new, " ", h.x_number, " ", ngx.var.http_x_new)
        }
    }
--- request
GET /t
--- response_body
one 42 one
--- no_error_log
[error]



=== TEST 7: set_header replaces every existing header of that name
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("foo", "new")
            local h = ngx.req.get_headers(nil, true)
            ngx.say(type(h.Foo), " ", h.Foo, " ", h.foo)
            ngx.say("var: ", ngx.var.http_foo)
        }
    }
--- request
GET /t
--- more_headers
Foo: a
Bar: x
Foo: b
--- response_body
string new nil
var: new
--- no_error_log
[error]



=== TEST 8: set_header with a table sets several values, an empty table clears
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("X-Multi", {"a", "b", 3})
            local h = ngx.req.get_headers()
            ngx.say(table.concat(h.x_multi, ","))
            ngx.req.set_header("X-Multi", {})
            h = ngx.req.get_headers()
            ngx.say("after: ", h.x_multi)
        }
    }
--- request
GET /t
--- response_body
a,b,3
after: nil
--- no_error_log
[error]



=== TEST 9: set_header nil and clear_header remove headers
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("Foo", nil)
            ngx.req.clear_header("bar")
            ngx.req.clear_header("no-such-header")
            local h = ngx.req.get_headers()
            ngx.say(h.foo, " ", h.bar, " ", h.baz, " ", ngx.var.http_bar)
        }
    }
--- request
GET /t
--- more_headers
Foo: 1
Bar: 2
Baz: 3
Bar: 4
--- response_body
nil nil 3 nil
--- no_error_log
[error]



=== TEST 10: headers changed in rewrite reach the proxied request
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_header("X-Added", "yes")
            ngx.req.clear_header("X-Drop")
            ngx.req.set_header("X-Keep", "changed")
        }
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /echo {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say("added: ", h.x_added)
            ngx.say("drop: ", h.x_drop)
            ngx.say("keep: ", h.x_keep)
            ngx.say("other: ", h.x_other)
        }
    }
--- request
GET /t
--- more_headers
X-Drop: 1
X-Keep: 2
X-Drop: 3
X-Other: 4
--- response_body
added: yes
drop: nil
keep: changed
other: 4
--- no_error_log
[error]



=== TEST 11: set_header Host updates $host; an invalid host is refused
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("Host", "Example.COM:8080")
            ngx.say(ngx.var.host, " ", ngx.var.http_host)
            local ok, err = pcall(ngx.req.set_header, "Host", "a..b")
            ngx.say(ok, " ", err:match("error$"))
        }
    }
--- request
GET /t
--- response_body
example.com Example.COM:8080
false error
--- no_error_log
[error]



=== TEST 12: User-Agent and Cookie go through nginx's own fields
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("User-Agent", "agent/2.0")
            ngx.req.set_header("Cookie", {"a=1", "b=2"})
            ngx.say(ngx.var.http_user_agent)
            ngx.say(ngx.var.cookie_a, " ", ngx.var.cookie_b, " ", ngx.var.cookie_c)
            ngx.req.clear_header("Cookie")
            ngx.say("cleared: ", ngx.var.cookie_a, " ", ngx.var.http_cookie)
        }
    }
--- request
GET /t
--- more_headers
User-Agent: agent/1.0
Cookie: c=3
--- response_body
agent/2.0
1 2 nil
cleared: nil nil
--- no_error_log
[error]



=== TEST 13: CR and LF in values and separators in names are escaped
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("X-Split", "a\r\nX-Injected: 1")
            ngx.req.set_header("X Bad:Name", "v\tw")
            local h = ngx.req.get_headers(nil, true)
            ngx.say(h["X-Split"])
            ngx.say(h["X%20Bad%3AName"])
            ngx.say(h["X-Injected"])
        }
    }
--- request
GET /t
--- response_body
a%0D%0AX-Injected: 1
v	w
nil
--- no_error_log
[error]



=== TEST 14: Content-Length and Content-Type updates
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_header("Content-Length", "12")
            ngx.req.set_header("Content-Type", "text/plain")
        }
        content_by_lua_block {
            ngx.say(ngx.var.content_length, " ", ngx.var.content_type)
            ngx.req.clear_header("Content-Type")
            ngx.req.clear_header("Content-Length")
            local h = ngx.req.get_headers()
            ngx.say(h["content-length"], " ", h.content_type)
            local ok, err = pcall(ngx.req.set_header, "Content-Length", "abc")
            ngx.say(ok)
        }
    }
--- request
GET /t
--- response_body
12 text/plain
nil nil
false
--- no_error_log
[error]



=== TEST 15: a cleared Content-Length is gone for nginx too
--- config
    location /t {
        content_by_lua_block {
            ngx.req.clear_header("Content-Length")
            ngx.say("var: ", ngx.var.content_length)
        }
    }
--- request
GET /t
--- more_headers
Content-Length: 0
--- response_body
var: nil
--- no_error_log
[error]



=== TEST 16: set_header argument errors
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.set_header, "X-A", {"a", {}})
            ngx.say(err)
            ok, err = pcall(ngx.req.set_header, "X-A", {"a"}, 1)
            ngx.say(err)
        }
    }
--- request
GET /t
--- response_body
bad argument #-1 to 'set_header' (string expected, got table)
expecting two arguments, but seen 3
--- no_error_log
[error]



=== TEST 17: set_header and clear_header are disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block {
            ngx.say("ok")
        }
        log_by_lua_block {
            local ok, err1 = pcall(ngx.req.set_header, "X-A", "b")
            local ok, err2 = pcall(ngx.req.clear_header, "X-A")
            ngx.log(ngx.WARN, "set: ", err1, ", clear: ", err2,
                    ", get: ", ngx.req.get_headers().host)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
set: API disabled in the context of log_by_lua*, clear: API disabled in the context of log_by_lua*, get: localhost



=== TEST 18: no request in init_worker_by_lua
--- http_config
    init_worker_by_lua_block {
        local ok, err = pcall(ngx.req.get_headers)
        package.loaded.init_worker_err = err
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say("init_worker: ", package.loaded.init_worker_err)
        }
    }
--- request
GET /t
--- response_body
init_worker: no request found
--- no_error_log
[error]
