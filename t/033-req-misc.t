# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.req.http_version, ngx.req.raw_header, ngx.req.start_time and
# ngx.req.is_internal.

use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();

run_tests();

__DATA__

=== TEST 1: http_version for HTTP/1.1
--- config
    location /t {
        content_by_lua_block {
            ngx.say("version: ", ngx.req.http_version())
        }
    }
--- request
GET /t
--- response_body
version: 1.1
--- no_error_log
[error]



=== TEST 2: http_version for HTTP/1.0
--- config
    location /t {
        content_by_lua_block {
            ngx.say("version: ", ngx.req.http_version())
        }
    }
--- request
GET /t HTTP/1.0
--- response_body
version: 1
--- no_error_log
[error]



=== TEST 3: http_version for HTTP/0.9
--- config
    location /t {
        content_by_lua_block {
            ngx.say("version: ", ngx.req.http_version())
        }
    }
--- raw_request eval
"GET /t\r\n"
--- http09
--- response_body
version: 0.9
--- no_error_log
[error]



=== TEST 4: raw_header gives the original request line and headers
--- config
    location /t {
        content_by_lua_block {
            ngx.print(ngx.req.raw_header())
        }
    }
--- raw_request eval
"GET /t?a=1 HTTP/1.1\r
Host: localhost\r
X-Foo:  padded value \r
Empty:\r
x-bar: b\r
Connection: close\r
\r
"
--- response_body eval
"GET /t?a=1 HTTP/1.1\r
Host: localhost\r
X-Foo:  padded value \r
Empty:\r
x-bar: b\r
Connection: close\r
\r
"
--- no_error_log
[error]



=== TEST 5: raw_header(true) leaves the request line out
--- config
    location /t {
        content_by_lua_block {
            ngx.print(ngx.req.raw_header(true))
        }
    }
--- request
GET /t
--- more_headers
X-Foo: bar
--- response_body eval
"Host: localhost\r
Connection: close\r
X-Foo: bar\r
\r
"
--- no_error_log
[error]



=== TEST 6: raw_header does not include the request body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.print(ngx.req.raw_header())
            ngx.say("body: ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
hello body
--- response_body eval
"POST /t HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Length: 10\r
\r
body: hello body
"
--- no_error_log
[error]



=== TEST 7: raw_header with bare LF line ends
--- config
    location /t {
        content_by_lua_block {
            ngx.print(ngx.req.raw_header())
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\nHost: localhost\nX-A: 1\nConnection: close\n\n"
--- response_body eval
"GET /t HTTP/1.1\nHost: localhost\nX-A: 1\nConnection: close\n\n"
--- no_error_log
[error]



=== TEST 8: raw_header spanning the large client header buffers
--- config
    client_header_buffer_size 128;
    large_client_header_buffers 4 512;
    location /t {
        content_by_lua_block {
            local raw = ngx.req.raw_header()
            ngx.say(#raw)
            ngx.print(raw)
        }
    }
--- request
GET /t
--- more_headers eval
CORE::join("", map { "X-Header-$_: " . ("v" x 100) . "\r\n" } 1 .. 5)
--- response_body eval
my $raw = "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "X-Header-$_: " . ("v" x 100) . "\r\n" } 1 .. 5)
    . "\r\n";
length($raw) . "\n" . $raw
--- no_error_log
[error]



=== TEST 9: a long request line moved to a large buffer
--- config
    client_header_buffer_size 128;
    large_client_header_buffers 4 1k;
    location /t {
        content_by_lua_block {
            ngx.print(ngx.req.raw_header())
        }
    }
--- request eval
"GET /t?" . ("a" x 300)
--- more_headers
X-Foo: bar
--- response_body eval
"GET /t?" . ("a" x 300) . " HTTP/1.1\r
Host: localhost\r
Connection: close\r
X-Foo: bar\r
\r
"
--- no_error_log
[error]



=== TEST 10: http_version and raw_header in log_by_lua
--- config
    location /t {
        content_by_lua_block {
            ngx.say("ok")
        }
        log_by_lua_block {
            local raw = ngx.req.raw_header(true)
            ngx.log(ngx.WARN, "log: ", ngx.req.http_version(), " ", #raw)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
log: 1.1 38



=== TEST 11: start_time is the request's creation time with ms precision
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.req.start_time()
            ngx.say(type(t))
            ngx.say(math.abs(ngx.now() - t) < 1)
            ngx.say(t * 1000 == math.floor(t * 1000 + 0.5))
        }
    }
--- request
GET /t
--- response_body
number
true
true
--- no_error_log
[error]



=== TEST 12: is_internal: false for the client request, true after ngx.exec
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/internal", {direct = tostring(ngx.req.is_internal())})
        }
    }
    location /internal {
        content_by_lua_block {
            ngx.say("direct: ", ngx.var.arg_direct)
            ngx.say("internal: ", ngx.req.is_internal())
        }
    }
--- request
GET /t
--- response_body
direct: false
internal: true
--- no_error_log
[error]



=== TEST 13: is_internal and start_time work in set_by_lua and log_by_lua
--- config
    location /t {
        set_by_lua_block $internal {
            return tostring(ngx.req.is_internal()) .. " " .. type(ngx.req.start_time())
        }
        content_by_lua_block {
            ngx.say(ngx.var.internal)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log internal: ", ngx.req.is_internal())
        }
    }
--- request
GET /t
--- response_body
false number
--- error_log
log internal: false



=== TEST 14: no request in init_worker_by_lua; a timer has a fake one
--- http_config
    init_worker_by_lua_block {
        local res = {}
        for _, name in ipairs{"is_internal", "start_time", "get_method",
                              "get_uri_args", "set_uri"} do
            local ok, err = pcall(ngx.req[name], "/x")
            res[#res + 1] = name .. ": " .. tostring(err)
        end
        local ok, err = pcall(ngx.req.http_version)
        res[#res + 1] = "http_version: " .. tostring(err)
        package.loaded.init_worker_res = table.concat(res, "\n")
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.init_worker_res)
            ngx.timer.at(0, function()
                local ok, err = pcall(ngx.req.get_headers)
                local ok2, err2 = pcall(ngx.req.raw_header)
                ngx.log(ngx.WARN, "timer: ", err, ", ", err2)
            end)
        }
    }
--- request
GET /t
--- response_body
is_internal: no request found
start_time: no request found
get_method: no request found
get_uri_args: no request found
set_uri: no request found
http_version: no request object found
--- wait: 0.2
--- error_log
timer: API disabled in the current context, API disabled in the current context
