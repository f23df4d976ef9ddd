# vim:set ft= ts=4 sw=4 et fdm=marker:
# balancer_by_lua* and ngx.balancer, with backends served by the same nginx.
use Test::Nginx::Socket::Lua 'no_plan';
use File::Temp qw(tempdir);

# A self-signed certificate for the TLS backends (proxy_ssl_verify is off).
my $dir = tempdir("ngx-lua-rs-balancer-XXXXXX", TMPDIR => 1, CLEANUP => 1);
system("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", "$dir/self.key", "-out", "$dir/self.crt", "-days", "30",
       "-subj", "/CN=test.com") == 0 or die "openssl failed\n";
$ENV{TEST_NGINX_CERT_DIR} = $dir;

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



=== TEST 12: enable_keepalive: the next request to the peer reuses the connection; not with max_requests 1, nor without it
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "$connection $connection_requests"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local mode = ngx.var.arg_mode
            if mode == "default" then
                assert(b.enable_keepalive())
            elseif mode == "max1" then
                assert(b.enable_keepalive(10, 1))
            end
        }
    }
--- config
    location /up {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend/;
    }
    location /t {
        content_by_lua_block {
            for _, mode in ipairs({"default", "max1", "off"}) do
                local r1 = ngx.location.capture("/up?mode=" .. mode)
                local r2 = ngx.location.capture("/up?mode=" .. mode)
                local c1, n1 = r1.body:match("^(%d+) (%d+)$")
                local c2, n2 = r2.body:match("^(%d+) (%d+)$")
                ngx.say(mode, ": same connection: ", c1 == c2,
                        ", requests on it: ", n2 - n1)
            end
        }
    }
--- request
GET /t
--- response_body_like chomp
^default: same connection: true, requests on it: 1
max1: same connection: false, requests on it: -?\d+
off: same connection: false, requests on it: -?\d+
$
--- no_error_log
[error]
[alert]



=== TEST 13: enable_keepalive: the idle timeout closes a parked connection
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "$connection"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(b.enable_keepalive(0.2, 0))
        }
    }
--- config
    location /up {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend/;
    }
    location /t {
        content_by_lua_block {
            local c1 = ngx.location.capture("/up").body
            ngx.sleep(0.5)
            local c2 = ngx.location.capture("/up").body
            local c3 = ngx.location.capture("/up").body
            ngx.say("after the idle timeout: ", c1 == c2, ", right after: ", c2 == c3)
        }
    }
--- request
GET /t
--- response_body
after the idle timeout: false, right after: true
--- no_error_log
[error]
[alert]



=== TEST 14: balancer_keepalive caps the parked connections (least recently parked closed)
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "$connection"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / { return 200 "$connection"; }
    }
    upstream small {
        balancer_keepalive 1;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local port = ngx.var.arg_p == "1" and $TEST_NGINX_RAND_PORT_1 or $TEST_NGINX_RAND_PORT_2
            assert(b.set_current_peer("127.0.0.1", port))
            assert(b.enable_keepalive())
        }
    }
    upstream big {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local port = ngx.var.arg_p == "1" and $TEST_NGINX_RAND_PORT_1 or $TEST_NGINX_RAND_PORT_2
            assert(b.set_current_peer("127.0.0.1", port))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /small {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://small/;
    }
    location /big {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://big/;
    }
    location /t {
        content_by_lua_block {
            for _, up in ipairs({"/small", "/big"}) do
                local a1 = ngx.location.capture(up .. "?p=1").body
                local b1 = ngx.location.capture(up .. "?p=2").body
                local a2 = ngx.location.capture(up .. "?p=1").body
                ngx.say(up, ": first peer's connection reused: ", a1 == a2)
            end
        }
    }
--- request
GET /t
--- response_body
/small: first peer's connection reused: false
/big: first peer's connection reused: true
--- no_error_log
[error]
[alert]



=== TEST 15: balancer_keepalive 0 is refused
--- http_config
    upstream backend {
        balancer_keepalive 0;
        balancer_by_lua_block { }
    }
--- config
--- must_die
--- error_log eval
[
qr/\[emerg\]/,
qr/invalid value "0" in "balancer_keepalive" directive/,
]



=== TEST 16: balancer_keepalive twice is refused
--- http_config
    upstream backend {
        balancer_keepalive 8;
        balancer_keepalive 16;
        balancer_by_lua_block { }
    }
--- config
--- must_die
--- error_log eval
[
qr/\[emerg\]/,
qr/"balancer_keepalive" directive is duplicate/,
]



=== TEST 17: enable_keepalive: no peer set yet, bad arguments
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err = b.enable_keepalive()
            ngx.log(ngx.WARN, "before set_current_peer: ", ok, " ", err)
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            for _, args in ipairs({{"10"}, {-1}, {10, true}, {10, -5}}) do
                local ok, err = pcall(b.enable_keepalive, args[1], args[2])
                ngx.log(ngx.WARN, "bad args: ", ok, " ", err)
            end
            local ok, err = pcall(function()
                local ok = b.enable_keepalive({})  -- not a tail call: keeps the caller's frame
                return ok
            end)
            ngx.log(ngx.WARN, "caller's position: ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[
"before set_current_peer: nil no current peer set",
"bad args: false bad argument #1 to 'enable_keepalive' (number expected, got string)",
"bad args: false bad argument #1 to 'enable_keepalive' (expected >= 0)",
"bad args: false bad argument #2 to 'enable_keepalive' (number expected, got boolean)",
"bad args: false bad argument #2 to 'enable_keepalive' (expected >= 0)",
qr/caller's position: balancer_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'enable_keepalive' \(number expected, got table\)/,
]
--- no_error_log
[error]



=== TEST 18: bind_to_local_addr: the backend sees the bound address; parked connections are per local address
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "$remote_addr $connection $remote_port"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local ok, err = b.bind_to_local_addr(ngx.var.arg_local)
            if not ok then
                ngx.log(ngx.WARN, "bind: ", err)
            end
            assert(b.enable_keepalive())
        }
    }
--- config
    location /up {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://backend/;
    }
    location /t {
        content_by_lua_block {
            local function get(addr)
                local res = ngx.location.capture("/up?local=" .. addr)  -- unescaped
                return res.body:match("^(%S+) (%d+) (%d+)$")
            end
            local a1, ca1 = get("127.0.0.2")
            local b1, cb1 = get("127.0.0.3")
            local a2, ca2 = get("127.0.0.2")
            ngx.say(a1, " ", b1, " ", a2)
            ngx.say("127.0.0.2 reused: ", ca1 == ca2, ", shared with 127.0.0.3: ", ca1 == cb1)
            local addr, _, port = get("127.0.0.4:$TEST_NGINX_RAND_PORT_2")
            ngx.say("with a port: ", addr, " ", port == "$TEST_NGINX_RAND_PORT_2")
            ngx.say("garbage: ", (get("nonsense")))
        }
    }
--- request
GET /t
--- response_body
127.0.0.2 127.0.0.3 127.0.0.2
127.0.0.2 reused: true, shared with 127.0.0.3: false
with a port: 127.0.0.4 true
garbage: 127.0.0.1
--- error_log
bind: invalid addr nonsense
--- no_error_log
[error]



=== TEST 19: bind_to_local_addr wants a string
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local ok, err = pcall(b.bind_to_local_addr, 127)
            ngx.log(ngx.WARN, "number: ", ok, " ", err)
            ok, err = pcall(b.bind_to_local_addr)
            ngx.log(ngx.WARN, "nothing: ", ok, " ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body
ok
--- error_log
number: false bad argument #1 to 'bind_to_local_addr' (string expected, got number)
nothing: false bad argument #1 to 'bind_to_local_addr' (string expected, got nil)



=== TEST 20: set_upstream_tls switches TLS to the peer off and on
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "plain"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2 ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/self.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/self.key;
        location / { return 200 "tls $ssl_protocol"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local port = ngx.var.arg_peer == "tls" and $TEST_NGINX_RAND_PORT_2 or $TEST_NGINX_RAND_PORT_1
            assert(b.set_current_peer("127.0.0.1", port))
            local tls = ngx.var.arg_tls
            if tls then
                local on = tls == "0" and 0 or tls ~= "false"
                local ok, err = b.set_upstream_tls(on)
                ngx.log(ngx.WARN, "set_upstream_tls(", tostring(on), "): ", ok, " ", err)
            end
        }
    }
--- config
    location /https {
        proxy_pass https://backend;
    }
    location /var {
        set $up backend;
        proxy_pass http://$up;
    }
    location /t {
        content_by_lua_block {
            for _, uri in ipairs({
                "/https?peer=plain&tls=false",
                "/https?peer=plain&tls=0",
                "/https?peer=plain",
                "/https?peer=plain&tls=true",
                "/var?peer=tls&tls=true",
                "/var?peer=tls",
            }) do
                local res = ngx.location.capture(uri)
                ngx.say(uri, ": ", res.status, res.status == 200 and " " .. res.body or "")
            end
        }
    }
--- request
GET /t
--- response_body_like chomp
^/https\?peer=plain&tls=false: 200 plain
/https\?peer=plain&tls=0: 200 plain
/https\?peer=plain: 502
/https\?peer=plain&tls=true: 502
/var\?peer=tls&tls=true: 200 tls TLSv1\.[23]
/var\?peer=tls: 400
$
--- error_log
set_upstream_tls(false): true nil
set_upstream_tls(0): true nil
set_upstream_tls(true): true nil
SSL_do_handshake() failed



=== TEST 21: set_upstream_tls(true) without any SSL context for the upstream
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "plain\n"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local ok, err = b.set_upstream_tls(true)
            ngx.log(ngx.WARN, "set_upstream_tls(true): ", ok, " ", err)
        }
    }
--- config
    location /t {
        proxy_pass http://backend;
    }
--- request
GET /t
--- response_body
plain
--- error_log
set_upstream_tls(true): nil no SSL context for this upstream
--- no_error_log
[error]



=== TEST 22: enable_keepalive over TLS: connections are per server name
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/self.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/self.key;
        location / { return 200 "$ssl_server_name $connection"; }
    }
    upstream backend {
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            assert(b.set_current_peer("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(b.enable_keepalive())
        }
    }
--- config
    location /a {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_ssl_server_name on;
        proxy_ssl_name a.test.com;
        proxy_pass https://backend/;
    }
    location /b {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_ssl_server_name on;
        proxy_ssl_name B.test.com:443;
        proxy_pass https://backend/;
    }
    location /t {
        content_by_lua_block {
            local function get(path)
                return ngx.location.capture(path).body:match("^(%S+) (%d+)$")
            end
            local n1, a1 = get("/a")
            local n2, b1 = get("/b")
            local n3, a2 = get("/a")
            ngx.say(n1, " ", n2, " ", n3)
            ngx.say("a reused: ", a1 == a2, ", shared with b: ", a1 == b1)
        }
    }
--- request
GET /t
--- response_body
a.test.com B.test.com a.test.com
a reused: true, shared with b: false
--- no_error_log
[error]
[alert]



=== TEST 23: the new functions outside balancer_by_lua
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local b = require "ngx.balancer"
            ngx.say(select(2, b.enable_keepalive()))
            ngx.say(select(2, b.bind_to_local_addr("127.0.0.1")))
            ngx.say(select(2, b.set_upstream_tls(false)))
        }
    }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        header_filter_by_lua_block {
            local b = require "ngx.balancer"
            local _, e1 = b.enable_keepalive()
            local _, e2 = b.bind_to_local_addr("127.0.0.1")
            local _, e3 = b.set_upstream_tls(false)
            ngx.header["X-Err"] = e1 .. "|" .. e2 .. "|" .. e3
        }
    }
--- request eval
["GET /t", "GET /p"]
--- response_body eval
["no upstream found\nno upstream found\nno upstream found\n", "ok\n"]
--- raw_response_headers_like eval
["", "X-Err: API disabled in the current context\\|API disabled in the current context\\|API disabled in the current context\r\n"]
