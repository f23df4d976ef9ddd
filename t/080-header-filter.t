# vim:set ft= ts=4 sw=4 et fdm=marker:
# header_filter_by_lua*: every response of the location, whatever made it.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: rewrite headers of a static file
--- config
    location /static {
        alias html/;
        header_filter_by_lua_block {
            ngx.header["X-Filtered"] = "yes"
            ngx.header.content_type = "text/x-mine"
        }
    }
--- user_files
>>> a.txt
hello static
--- request
GET /static/a.txt
--- response_headers
X-Filtered: yes
Content-Type: text/x-mine
--- response_body
hello static
--- no_error_log
[error]



=== TEST 2: `return` responses, status read and write
--- config
    location /t {
        return 201 "created\n";
        header_filter_by_lua_block {
            ngx.header["X-Old-Status"] = ngx.status
            ngx.status = 202
        }
    }
--- request
GET /t
--- error_code: 202
--- response_headers
X-Old-Status: 201
--- response_body
created



=== TEST 3: content_by_lua output: ngx.ctx shared, ngx.var readable
--- config
    location /t {
        set $who "world";
        content_by_lua_block {
            ngx.ctx.n = 41
            ngx.say("hi")
            ngx.say("again")
        }
        header_filter_by_lua_block {
            ngx.ctx.n = ngx.ctx.n + 1
            ngx.header["X-Ctx"] = ngx.ctx.n
            ngx.header["X-Var"] = ngx.var.who
            ngx.header["X-Phase"] = ngx.get_phase()
        }
    }
--- request
GET /t
--- response_headers
X-Ctx: 42
X-Var: world
X-Phase: header_filter
--- response_body
hi
again
--- no_error_log
[error]



=== TEST 4: the content handler goes on after the nested filter (state not clobbered)
--- config
    location /t {
        content_by_lua_block {
            ngx.say("one")
            ngx.sleep(0.01)
            ngx.say("two: ", ngx.ctx.seen)
        }
        header_filter_by_lua_block {
            ngx.ctx.seen = "filtered"
        }
    }
--- request
GET /t
--- response_body
one
two: filtered
--- no_error_log
[error]



=== TEST 5: removing Content-Length, multi-value headers, resp.get_headers
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 6
            ngx.header["X-Multi"] = {"a", "b"}
            ngx.print("hello\n")
        }
        header_filter_by_lua_block {
            ngx.header.content_length = nil
            local h = ngx.resp.get_headers()
            ngx.header["X-Seen"] = type(h["x-multi"]) == "table" and table.concat(h["x-multi"], ",") or "?"
        }
    }
--- request
GET /t
--- response_headers
!Content-Length
X-Seen: a,b
--- response_body
hello



=== TEST 6: underscores become dashes, unless turned off
--- config
    location /a {
        return 200 "a\n";
        header_filter_by_lua_block { ngx.header.x_foo_bar = "1" }
    }
    location /b {
        lua_transform_underscores_in_response_headers off;
        return 200 "b\n";
        header_filter_by_lua_block { ngx.header.x_foo_bar = "2" }
    }
--- request eval
["GET /a", "GET /b"]
--- raw_response_headers_like eval
["x-foo-bar: 1\r\n", "x_foo_bar: 2\r\n"]
--- response_body eval
["a\n", "b\n"]



=== TEST 7: error pages (error_page and ngx.exit(404) from content)
--- config
    error_page 404 /err404;
    location = /err404 {
        internal;
        return 404 "custom not found\n";
        header_filter_by_lua_block { ngx.header["X-Err-Page"] = ngx.status }
    }
    location /t {
        content_by_lua_block { ngx.exit(404) }
        header_filter_by_lua_block { ngx.header["X-Never"] = "1" }
    }
--- request
GET /t
--- error_code: 404
--- response_headers
X-Err-Page: 404
!X-Never
--- response_body
custom not found



=== TEST 8: nginx's own error page filtered by the location's filter
--- config
    location /t {
        content_by_lua_block { ngx.exit(403) }
        header_filter_by_lua_block { ngx.header["X-Status"] = ngx.status }
    }
--- request
GET /t
--- error_code: 403
--- response_headers
X-Status: 403
--- response_body_like: 403 Forbidden



=== TEST 9: subrequests run their own location's filter (SSI include)
--- config
    location /main {
        ssi on;
        default_type text/html;
        alias html/main.html;
        header_filter_by_lua_block { ngx.header["X-Main"] = ngx.is_subrequest and "sub" or "main" }
    }
    location /part {
        content_by_lua_block { ngx.print("[part]") }
        header_filter_by_lua_block {
            ngx.log(ngx.WARN, "part filter: subrequest=", tostring(ngx.is_subrequest))
        }
    }
--- user_files
>>> main.html
<<!--# include virtual="/part" -->>
--- request
GET /main
--- response_headers
X-Main: main
--- response_body
<[part]>
--- error_log
part filter: subrequest=true



=== TEST 10: proxied response headers rewritten
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.header["X-Backend"] = "b1"
                ngx.header["Server-Timing"] = "db;dur=53"
                ngx.say("from backend")
            }
        }
    }
--- config
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        header_filter_by_lua_block {
            ngx.header["X-Backend"] = ngx.header["X-Backend"] .. "+filtered"
            ngx.header["Server-Timing"] = nil
            ngx.header["X-Upstream-Status"] = ngx.var.upstream_status
        }
    }
--- request
GET /t
--- response_headers
X-Backend: b1+filtered
!Server-Timing
X-Upstream-Status: 200
--- response_body
from backend
--- no_error_log
[error]



=== TEST 11: ngx.exit(status) in the header filter: special response, error_page
--- config
    error_page 582 = /bar;
    location = /t {
        return 200 "ok\n";
        header_filter_by_lua_block { return ngx.exit(582) }
    }
    location = /bar {
        return 200 "hi\n";
        header_filter_by_lua_block { return ngx.exit(302) }
    }
--- request
GET /t
--- error_code: 302
--- response_body_like: 302 Found
--- no_error_log
[error]



=== TEST 12: lua error: logged, request failed
--- config
    location /t {
        return 200 "ok\n";
        header_filter_by_lua_block {
            error("something bad")
        }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
qr/failed to run header_filter_by_lua\*: header_filter_by_lua\(nginx\.conf:\d+\):2: something bad/
--- no_error_log
[alert]



=== TEST 13: output and yielding APIs are refused
--- config
    location /t {
        return 200 "ok\n";
        header_filter_by_lua_block {
            local res = {}
            local args = {say = "x", print = "x", exec = "/x", redirect = "/x", sleep = 0.1}
            for _, name in ipairs{"say", "print", "flush", "eof", "send_headers", "exec", "redirect", "sleep"} do
                local ok, err
                if args[name] then
                    ok, err = pcall(ngx[name], args[name])
                else
                    ok, err = pcall(ngx[name])
                end
                res[#res + 1] = name .. ": " .. tostring(err)
            end
            local ok, err = pcall(function() return ngx.req.read_body() end)
            res[#res + 1] = "read_body: " .. tostring(err)
            local ok, err = pcall(ngx.socket.tcp)
            res[#res + 1] = "tcp: " .. tostring(err)
            for _, l in ipairs(res) do ngx.log(ngx.WARN, l) end
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
say: API disabled in the context of header_filter_by_lua*
print: API disabled in the context of header_filter_by_lua*
flush: API disabled in the context of header_filter_by_lua*
eof: API disabled in the context of header_filter_by_lua*
send_headers: API disabled in the context of header_filter_by_lua*
exec: API disabled in the context of header_filter_by_lua*
redirect: API disabled in the context of header_filter_by_lua*
sleep: API disabled in the context of header_filter_by_lua*
read_body: API disabled in the context of header_filter_by_lua*
tcp: API disabled in the context of header_filter_by_lua*



=== TEST 14: header_filter_by_lua_file, and inherited from server level
--- config
    header_filter_by_lua_file html/hf.lua;
    location /t {
        return 200 "ok\n";
    }
--- user_files
>>> hf.lua
ngx.header["X-From-File"] = ngx.var.uri
--- request
GET /t
--- response_headers
X-From-File: /t
--- response_body
ok



=== TEST 15: header_filter_by_lua (string form) with HEAD
--- config
    location /t {
        header_filter_by_lua 'ngx.header["X-Head"] = ngx.req.get_method()';
        content_by_lua_block { ngx.say("body") }
    }
--- request
HEAD /t
--- response_headers
X-Head: HEAD
--- response_body
