# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: read_body + get_body_data with a small POST body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body: [", ngx.req.get_body_data(), "]")
        }
    }
--- request
POST /t
hello world
--- response_body
body: [hello world]
--- no_error_log
[error]



=== TEST 2: get_body_data before read_body returns nil
--- config
    location /t {
        content_by_lua_block {
            local before = ngx.req.get_body_data()
            ngx.req.read_body()
            ngx.say(before, " ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
abc
--- response_body
nil abc
--- no_error_log
[error]



=== TEST 3: a large body spills to a file: get_body_data nil, get_body_file set
--- config
    location /t {
        client_body_buffer_size 1k;
        content_by_lua_block {
            ngx.req.read_body()
            local data = ngx.req.get_body_data()
            local file = ngx.req.get_body_file()
            ngx.say("data: ", data, ", file: ", type(file))
            local f = assert(io.open(file, "rb"))
            local content = f:read("*a")
            f:close()
            ngx.say("file size: ", #content, ", first: ", content:sub(1, 3))
        }
    }
--- request eval
"POST /t\n" . ("a" x 4096)
--- response_body
data: nil, file: string
file size: 4096, first: aaa
--- no_error_log
[error]



=== TEST 4: a small body stays in memory: get_body_file nil
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_file(), " ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
small
--- response_body
nil small
--- no_error_log
[error]



=== TEST 5: lua_need_request_body on reads the body before content_by_lua
--- config
    location /t {
        lua_need_request_body on;
        content_by_lua_block {
            ngx.say("body: ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
read for me
--- response_body
body: read for me
--- no_error_log
[error]



=== TEST 6: lua_need_request_body on also serves rewrite_by_lua
--- config
    location /t {
        lua_need_request_body on;
        rewrite_by_lua_block { ngx.ctx.body = ngx.req.get_body_data() }
        content_by_lua_block { ngx.say("rewrite saw: ", ngx.ctx.body) }
    }
--- request
POST /t
early body
--- response_body
rewrite saw: early body
--- no_error_log
[error]



=== TEST 7: lua_need_request_body on with a large body
--- config
    location /t {
        lua_need_request_body on;
        client_body_buffer_size 1k;
        content_by_lua_block {
            ngx.say(ngx.req.get_body_data(), " ", type(ngx.req.get_body_file()))
        }
    }
--- request eval
"POST /t\n" . ("b" x 3000)
--- response_body
nil string
--- no_error_log
[error]



=== TEST 8: discard_body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.discard_body()
            ngx.say("discarded: ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
to be thrown away
--- response_body
discarded: nil
--- no_error_log
[error]



=== TEST 9: read_body in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { ngx.req.read_body() }
        content_by_lua_block { ngx.say("content sees: ", ngx.req.get_body_data()) }
    }
--- request
POST /t
from rewrite
--- response_body
content sees: from rewrite
--- no_error_log
[error]



=== TEST 10: read_body in access_by_lua
--- config
    location /t {
        access_by_lua_block { ngx.ctx.b = (ngx.req.read_body() or "") .. ngx.req.get_body_data() }
        content_by_lua_block { ngx.say("access read: ", ngx.ctx.b) }
    }
--- request
POST /t
from access
--- response_body
access read: from access
--- no_error_log
[error]



=== TEST 11: GET without a body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_data(), " ", ngx.req.get_body_file())
        }
    }
--- request
GET /t
--- response_body
nil nil
--- no_error_log
[error]



=== TEST 12: read_body twice is harmless
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_data())
        }
    }
--- request
POST /t
twice
--- response_body
twice
--- no_error_log
[error]



=== TEST 13: $request_body after read_body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("var: ", ngx.var.request_body)
        }
    }
--- request
POST /t
a=1&b=2
--- response_body
var: a=1&b=2
--- no_error_log
[error]



=== TEST 14: client_body_in_file_only on
--- config
    location /t {
        client_body_in_file_only clean;
        content_by_lua_block {
            ngx.req.read_body()
            local file = ngx.req.get_body_file()
            local f = assert(io.open(file, "rb"))
            local content = f:read("*a")
            f:close()
            ngx.say(ngx.req.get_body_data(), " ", content)
        }
    }
--- request
POST /t
in a file
--- response_body
nil in a file
--- no_error_log
[error]



=== TEST 15: chunked request body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("chunked: ", ngx.req.get_body_data())
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
\r
5\r
hello\r
6\r
 world\r
0\r
\r
"
--- response_body
chunked: hello world
--- no_error_log
[error]



=== TEST 16: get_body_data in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.req.read_body() ngx.say("ok") }
        log_by_lua_block { ngx.log(ngx.WARN, "body in log: ", ngx.req.get_body_data()) }
    }
--- request
POST /t
logged body
--- response_body
ok
--- error_log
body in log: logged body



=== TEST 17: read_body is not allowed in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block {
            local ok, err = pcall(ngx.req.read_body)
            ngx.log(ngx.WARN, "read_body in log: ", tostring(ok), " ", err)
        }
    }
--- request
POST /t
abc
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 18: read_body returns nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.req.read_body()))
        }
    }
--- request
POST /t
x
--- response_body
0
--- no_error_log
[error]



=== TEST 19: empty POST body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("[", ngx.req.get_body_data(), "]")
        }
    }
--- request
POST /t
--- response_body
[nil]
--- no_error_log
[error]



=== TEST 20: set_body_data replaces the body seen by later readers
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.req.set_body_data("replaced")
            ngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length)
        }
    }
--- request
POST /t
original body
--- response_body
replaced 8
--- no_error_log
[error]



=== TEST 21: set_body_data reaches a proxied upstream
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.req.read_body()
                ngx.say("upstream got: ", ngx.req.get_body_data())
            }
        }
    }
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.read_body()
            ngx.req.set_body_data("new body")
        }
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
--- request
POST /t
old
--- response_body
upstream got: new body
--- no_error_log
[error]



=== TEST 22: set_body_data before the body is read
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.set_body_data, "x")
            ngx.say(err)
        }
    }
--- request
POST /t
abc
--- response_body_like
request body not read yet
--- no_error_log
[error]
