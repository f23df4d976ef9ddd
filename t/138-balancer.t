# vim:set ft= ts=4 sw=4 et fdm=marker:
# balancer_by_lua* and ngx.balancer, with backends served by the same nginx.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: round robin between two peers chosen by Lua
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "backend 1\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / { return 200 "backend 2\n"; }
    }
    upstream backend {
        server 0.0.0.1;   # never used
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            rr = (rr or 0) + 1
            local port = rr % 2 == 1 and $TEST_NGINX_RAND_PORT_1 or $TEST_NGINX_RAND_PORT_2
            ngx.log(ngx.WARN, "phase: ", ngx.get_phase(), ", port ", port)
            assert(b.set_current_peer("127.0.0.1", port))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
        header_filter_by_lua_block { ngx.header["X-Peer"] = ngx.var.upstream_addr }
    }
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["backend 1\n", "backend 2\n"]
--- raw_response_headers_like eval
["X-Peer: 127\\.0\\.0\\.1:\\d+\r\n", "X-Peer: 127\\.0\\.0\\.1:\\d+\r\n"]
--- error_log
phase: balancer, port
--- no_error_log
[error]



=== TEST 2: retry on the second peer after the first refuses; get_last_failure
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "backend 1\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ctx = ngx.ctx
            ctx.tries = (ctx.tries or 0) + 1
            local state, code = b.get_last_failure()
            ctx.failures = (ctx.failures or "") .. "try " .. ctx.tries .. ": " .. tostring(state) .. " " .. tostring(code) .. "; "
            if ctx.tries == 1 then
                -- nothing listens there
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
                assert(b.set_more_tries(1))
            else
                assert(b.set_current_peer("127.0.0.1:$TEST_NGINX_RAND_PORT_1"))
            end
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
        header_filter_by_lua_block { ngx.header["X-Failures"] = ngx.ctx.failures }
    }
--- request
GET /t
--- response_headers
X-Failures: try 1: nil nil; try 2: failed 502; 
--- response_body
backend 1
--- error_log
connect() failed (111: Connection refused)



=== TEST 3: ngx.ctx from the access phase picks the peer; ngx.var readable
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "backend 1\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / { return 200 "backend 2 $http_x_canary\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local port = ngx.ctx.canary and $TEST_NGINX_RAND_PORT_2 or $TEST_NGINX_RAND_PORT_1
            ngx.log(ngx.WARN, "uri in balancer: ", ngx.var.uri)
            assert(b.set_current_peer("127.0.0.1", port))
        }
    }
--- config
    location /t {
        access_by_lua_block { ngx.ctx.canary = ngx.var.http_x_canary == "1" }
        proxy_set_header X-Canary $http_x_canary;
        proxy_pass http://backend;
    }
--- request
GET /t
--- more_headers
X-Canary: 1
--- response_body
backend 2 1
--- error_log
uri in balancer: /t



=== TEST 4: unix domain socket peer
--- http_config
    server {
        listen unix:$TEST_NGINX_HTML_DIR/b.sock;
        location / { return 200 "over unix\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("unix:$TEST_NGINX_HTML_DIR/b.sock"))
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body
over unix



=== TEST 5: keepalive in the same upstream block reuses the connection
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        keepalive_requests 100;
        location / { return 200 "conn requests: $connection_requests\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
        }
        keepalive 4;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["conn requests: \\d+\n", "conn requests: [2-9]\n", "conn requests: [3-9]\n"]



=== TEST 6: set_timeouts: a short read timeout against a slow backend
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.sleep(0.5)
                ngx.say("too late")
            }
        }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(b.set_timeouts(1, 1, 0.1))
            local ok, err = pcall(b.set_timeouts, -1)
            ngx.log(ngx.WARN, "bad timeout: ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 504
--- response_body_like: 504 Gateway Time-out
--- error_log
upstream timed out
bad timeout: bad connect timeout



=== TEST 7: a Lua error in the balancer
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        balancer_by_lua_block {
            error("balancer blew up")
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/failed to run balancer_by_lua\*: balancer_by_lua\(nginx\.conf:\d+\):2: balancer blew up/
--- no_error_log
[alert]



=== TEST 8: bad addresses, and no peer set at all
--- http_config
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.set_current_peer("127.0.0.1:notaport")
            ngx.log(ngx.WARN, "bad port: ", ok, " ", err)
            ok, err = b.set_current_peer("example.com", 80)
            ngx.log(ngx.WARN, "host name: ", ok, " ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad port: nil invalid port
host name: nil no host allowed
lua balancer: no peer set



=== TEST 9: ngx.balancer outside balancer_by_lua
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local b = require "ngx.balancer"
            ngx.say(select(2, b.set_current_peer("127.0.0.1", 80)))
            ngx.say(select(2, b.set_more_tries(1)))
            ngx.say(select(3, b.get_last_failure()))
        }
    }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        header_filter_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.set_current_peer("127.0.0.1", 80)
            ngx.header["X-Err"] = err
        }
    }
--- request eval
["GET /t", "GET /p"]
--- response_body eval
["no upstream found\nno upstream found\nno upstream found\n", "ok\n"]
--- raw_response_headers_like eval
["", "X-Err: API disabled in the current context\r\n"]



=== TEST 10: recreate_request after changing a variable the request uses
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "try header: $http_x_try\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ctx = ngx.ctx
            ctx.n = (ctx.n or 0) + 1
            if ctx.n == 1 then
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
                b.set_more_tries(1)
            else
                ngx.var.try = "second"
                assert(b.recreate_request())
                assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            end
        }
    }
--- config
    location /t {
        set $try "first";
        proxy_set_header X-Try $try;
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body
try header: second



=== TEST 11: balancer_by_lua_file; set_more_tries capped by proxy_next_upstream_tries
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
    }
    upstream backend {
        balancer_by_lua_file html/bal.lua;
    }
--- config
    location /t {
        proxy_next_upstream_tries 2;
        proxy_pass http://backend;
    }
--- user_files
>>> bal.lua
local b = require "ngx.balancer"
local ok, err = b.set_more_tries(5)
ngx.log(ngx.WARN, "more tries: ", ok, " ", err)
assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
--- request
GET /t
--- response_body
ok
--- error_log
more tries: true reduced tries due to limit
