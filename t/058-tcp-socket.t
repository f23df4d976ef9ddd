# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 + 6);

no_long_string();
run_tests();

__DATA__

=== TEST 1: connect, send, receive lines until the peer closes
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2)
            if not ok then
                ngx.say("failed to connect: ", err)
                return
            end
            ngx.say("connected: ", ok)
            local bytes, err = sock:send("hello\n")
            ngx.say("sent: ", bytes, " ", err)
            while true do
                local line, err, part = sock:receive()
                if line then
                    ngx.say("received: ", line)
                else
                    ngx.say("failed to receive a line: ", err, " [", part, "]")
                    break
                end
            end
            local ok, err = sock:close()
            ngx.say("close: ", ok, " ", err)
            ok, err = sock:close()
            ngx.say("close again: ", ok, " ", err)
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query
hello
--- tcp_reply eval
["line 1\r\n", "line\r 2\n", "\nlast"]
--- request
GET /t
--- response_body
connected: 1
sent: 6 nil
received: line 1
received: line 2
received: 
failed to receive a line: closed [last]
close: 1 nil
close again: nil closed
--- no_error_log
[error]



=== TEST 2: receive sizes and *a
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send({"he", {"l", 1}, {}, "o"}))
            ngx.say("5: ", sock:receive(5))
            ngx.say("0: [", sock:receive(0), "]")
            ngx.say("'3': ", sock:receive("3"))
            ngx.say("*a: ", sock:receive("*a"))
            local data, err, part = sock:receive(1)
            ngx.say("after: ", data, " ", err, " ", part)
            ngx.say("close: ", sock:close())
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query: hel1o
--- tcp_reply eval
["hello", " world", ", the end"]
--- request
GET /t
--- response_body
5: hello
0: []
'3':  wo
*a: rld, the end
after: nil closed nil
close: 1
--- error_log
attempt to receive data on a closed socket



=== TEST 3: receive(n) when the peer closes early returns the partial data
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            local data, err, part = sock:receive(10)
            ngx.say(data, " ", err, " [", part, "]")
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: abc
--- request
GET /t
--- response_body
nil closed [abc]
--- no_error_log
[error]



=== TEST 4: receiveuntil, inclusive, and the sized iterator
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            local reader = sock:receiveuntil("\r\n--abcedhb")
            while true do
                local data, err, partial = reader(4)
                if not data then
                    if err then
                        ngx.say("failed to read the data stream: ", err)
                    end
                    ngx.say("read done")
                    break
                end
                ngx.say("read chunk: [", data, "]")
            end
            local incl = sock:receiveuntil("|", { inclusive = true })
            ngx.say("incl: ", incl())
            ngx.say("incl: ", incl())
            local bar = sock:receiveuntil("|")
            ngx.say("excl: ", bar())
            ngx.say("excl: ", bar())
            local data, err, part = bar()
            ngx.say("last: ", data, " ", err, " [", part, "]")
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply eval
["hello, world! -agentzh\r\n--abc", "edhb", "a|b|", "c|-|d"]
--- request
GET /t
--- response_body
read chunk: [hell]
read chunk: [o, w]
read chunk: [orld]
read chunk: [! -a]
read chunk: [gent]
read chunk: [zh]
read done
incl: a|
incl: b|
excl: c
excl: -
last: nil closed [d]
--- no_error_log
[error]



=== TEST 5: receiveuntil argument checks
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:receiveuntil(""))
            ngx.say(pcall(sock.receiveuntil, sock, "x", { inclusive = 1 }))
            local it = sock:receiveuntil("x")
            ngx.say(it())
        }
    }
--- request
GET /t
--- response_body
nilpattern is empty
falsebad "inclusive" option value type: number
nilclosed
--- error_log
attempt to receive data on a closed socket



=== TEST 6: read timeout keeps the connection and returns the partial data
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            sock:settimeout(100)
            local data, err, part = sock:receive()
            ngx.say(data, " ", err, " [", part, "]")
            data, err, part = sock:receive()
            ngx.say(data, " ", err, " [", part, "]")
            ngx.say("send: ", sock:send("more"))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: partial
--- tcp_no_close
--- request
GET /t
--- response_body
nil timeout [partial]
nil timeout []
send: 4
--- error_log
lua tcp socket read timed out



=== TEST 7: lua_socket_read_timeout and lua_socket_log_errors off
--- config
    location /t {
        lua_socket_read_timeout 50ms;
        lua_socket_log_errors off;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            ngx.say(sock:receive())
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: x
--- tcp_no_close
--- request
GET /t
--- response_body
niltimeoutx
--- no_error_log
[error]



=== TEST 8: connection refused
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_3)
            ngx.say("connect: ", ok, " ", err)
            ngx.say("send: ", sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
connect: nil connection refused
send: nilclosed
--- error_log eval
qr/connect\(\) (to \S+ )?failed \(111: Connection refused\)/



=== TEST 9: bad arguments and ngx.socket.connect
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(pcall(sock.connect, sock))
            ngx.say(sock:connect("127.0.0.1", 70000))
            ngx.say(pcall(sock.connect, sock, "127.0.0.1", 80, { pool_size = 0 }))
            ngx.say(pcall(sock.connect, sock, "127.0.0.1", 80, { pool = true }))
            ngx.say(pcall(sock.send, sock))
            ngx.say(pcall(sock.send, sock, { a = 1 }))
            ngx.say(pcall(sock.receive, sock, "*x"))
            ngx.say(pcall(sock.receive, sock, "foo"))
            ngx.say(pcall(sock.receiveany, sock, 0))
            ngx.say(pcall(ngx.socket.tcp, 1))
            ngx.say(sock:connect("localhost", 80))
            ngx.say(ngx.socket.connect("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
            ngx.say(ngx.socket.stream == ngx.socket.tcp)
        }
    }
--- request
GET /t
--- response_body
falsengx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen 1
nilbad port number: 70000
falsebad "pool_size" option value: 0
falsebad "pool" option type: boolean
falseexpecting 2 arguments (including the object), but got 1
falsebad argument #2 to 'send' (non-array table found)
falsebad argument #2 to 'receive' (bad pattern argument)
falsebad argument #2 to 'receive' (bad pattern argument: foo)
falsebad argument #2 to 'receiveany' (bad max argument)
falseexpecting zero arguments, but got 1
nilno resolver defined to resolve "localhost"
nilconnection refused
true



=== TEST 10: receiveany
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            ngx.say(sock:receiveany(3))
            ngx.say(sock:receiveany(100))
            ngx.say(sock:receiveany(100))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: hello
--- request
GET /t
--- response_body
hel
lo
nilclosed
--- no_error_log
[error]



=== TEST 11: unix domain socket to an nginx server
--- http_config
    server {
        listen unix:$TEST_NGINX_HTML_DIR/nginx.sock;
        location /foo {
            content_by_lua_block { ngx.say("foo over unix") }
        }
    }
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("unix:$TEST_NGINX_HTML_DIR/nginx.sock")
            if not ok then
                ngx.say("failed to connect: ", err)
                return
            end
            assert(sock:send("GET /foo HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local status = sock:receive()
            local body = sock:receive("*a")
            ngx.say(status)
            ngx.say(body:match("\r\n\r\n(.*)$"))
            ngx.say(sock:connect("unix:$TEST_NGINX_HTML_DIR/nonexistent.sock"))
        }
    }
--- request
GET /t
--- response_body
HTTP/1.1 200 OK
foo over unix

nilno such file or directory
--- error_log
(2: No such file or directory)



=== TEST 12: setkeepalive, getreusedtimes and named pools
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local function get(opts)
                local sock = ngx.socket.tcp()
                local ok, err
                if opts then
                    ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1, opts)
                else
                    ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1)
                end
                if not ok then
                    return "failed to connect: " .. err
                end
                local reused = sock:getreusedtimes()
                assert(sock:send("GET /k HTTP/1.1\r\nHost: x\r\n\r\n"))
                local len
                while true do
                    local line = assert(sock:receive())
                    if line == "" then break end
                    len = len or tonumber(line:match("^Content%-Length: (%d+)"))
                end
                local body = assert(sock:receive(len))
                local ok, err = sock:setkeepalive()
                return reused, "body " .. body:gsub("\n", "") .. " keepalive " .. tostring(ok) .. " " .. tostring(err)
            end
            local n = (package.loaded.test_counter or 0) + 1
            package.loaded.test_counter = n
            local r0, res = get()
            ngx.say(res)
            local r1, res = get()
            ngx.say(r1 - r0, " ", res)
            ngx.say(get({ pool = "mine" .. n }))
            ngx.say(get({ pool = "mine" .. n, pool_size = 5 }))
            local r2, res = get()
            ngx.say(r2 - r0, " ", res)
        }
    }
--- request
GET /t
--- response_body
body ok keepalive 1 nil
1 body ok keepalive 1 nil
0body ok keepalive 1 nil
1body ok keepalive 1 nil
2 body ok keepalive 1 nil
--- no_error_log
[error]



=== TEST 13: reused times grow within a request
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            local n = (package.loaded.test_counter or 0) + 1
            package.loaded.test_counter = n
            for i = 1, 3 do
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1, { pool = "grow" .. n }))
                out[#out + 1] = sock:getreusedtimes()
                assert(sock:setkeepalive(10000, 10))
                ngx.say("after setkeepalive: ", sock:getreusedtimes())
            end
            ngx.say(table.concat(out, " "))
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1, { pool = "dubious" }))
            assert(sock:send("GET /k HTTP/1.0\r\nHost: x\r\n\r\n"))
            ngx.say(sock:receive())
            ngx.say(sock:setkeepalive())
        }
    }
--- request
GET /t
--- response_body
after setkeepalive: nilclosed
after setkeepalive: nilclosed
after setkeepalive: nilclosed
0 1 2
HTTP/1.1 200 OK
nilunread data in buffer
--- no_error_log
[error]



=== TEST 14: idle pooled connection closed by the peer is not reused
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        keepalive_timeout 100ms;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local function get()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1, { pool = "short" }))
                local reused = sock:getreusedtimes()
                assert(sock:send("GET /k HTTP/1.1\r\nHost: x\r\n\r\n"))
                repeat local line = assert(sock:receive()) until line == ""
                assert(sock:receive(3))
                assert(sock:setkeepalive())
                return reused
            end
            local a = get()
            local b = get()
            ngx.say(b - a)
            ngx.sleep(0.3)
            ngx.say(get())
        }
    }
--- request
GET /t
--- response_body
1
0
--- no_error_log
[error]



=== TEST 15: a socket used by another request: bad request / closed
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            ngx.timer.at(0, function()
                local ok, err = pcall(sock.send, sock, "x")
                ngx.log(ngx.WARN, "timer while owner alive: ", ok, " ", err)
            end)
            ngx.timer.at(0.2, function()
                ngx.log(ngx.WARN, "timer after owner ended: ", sock:send("x"))
                local ok, err = pcall(sock.connect, sock, "127.0.0.1", $TEST_NGINX_RAND_PORT_1)
                ngx.log(ngx.WARN, "connect after owner ended: ", ok, " ", err)
            end)
            ngx.sleep(0.05)
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
done
--- wait: 0.3
--- error_log
timer while owner alive: false bad request
timer after owner ended: nilclosed
connect after owner ended: false bad request
attempt to send data on a closed socket



=== TEST 16: sockets in a timer
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1)
                if not ok then
                    ngx.log(ngx.ERR, "timer failed to connect: ", err)
                    return
                end
                assert(sock:send("GET /k HTTP/1.0\r\nHost: x\r\n\r\n"))
                local line = sock:receive()
                local all = sock:receive("*a")
                ngx.log(ngx.WARN, "timer got: ", line, " body: ", all:match("\r\n\r\n(.*)\n$"))
                assert(sock:close())
            end)
            ngx.say("scheduled")
        }
    }
--- request
GET /t
--- response_body
scheduled
--- wait: 0.2
--- error_log
timer got: HTTP/1.1 200 OK body: ok
--- no_error_log
[error]



=== TEST 17: sockets in a user coroutine, in rewrite and access
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /k { return 200 "ok\n"; }
    }
--- config
    location /t {
        rewrite_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(sock:send("GET /k HTTP/1.0\r\nHost: x\r\n\r\n"))
            ngx.ctx.rewrite = sock:receive()
        }
        access_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(sock:send("GET /k HTTP/1.0\r\nHost: x\r\n\r\n"))
            ngx.ctx.access = sock:receive()
        }
        content_by_lua_block {
            local co = coroutine.wrap(function(path)
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
                assert(sock:send("GET " .. path .. " HTTP/1.0\r\nHost: x\r\n\r\n"))
                coroutine.yield(sock:receive())
                return "end"
            end)
            ngx.say("rewrite: ", ngx.ctx.rewrite)
            ngx.say("access: ", ngx.ctx.access)
            ngx.say("coroutine: ", co("/k"))
            ngx.say("coroutine: ", co())
        }
    }
--- request
GET /t
--- response_body
rewrite: HTTP/1.1 200 OK
access: HTTP/1.1 200 OK
coroutine: HTTP/1.1 200 OK
coroutine: end
--- no_error_log
[error]



=== TEST 18: two sockets in one handler, interleaved
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /a { return 200 "aaa\n"; }
        location /b { return 200 "bbb\n"; }
    }
--- config
    location /t {
        content_by_lua_block {
            local a, b = ngx.socket.tcp(), ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(b:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            assert(b:send("GET /b HTTP/1.0\r\nHost: x\r\n\r\n"))
            assert(a:send("GET /a HTTP/1.0\r\nHost: x\r\n\r\n"))
            local ra = a:receive("*a")
            local rb = b:receive("*a")
            ngx.say(ra:match("\r\n\r\n(.*)\n$"), " ", rb:match("\r\n\r\n(.*)\n$"))
        }
    }
--- request
GET /t
--- response_body
aaa bbb
--- no_error_log
[error]



=== TEST 19: setoption / getoption
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:setoption("tcp-nodelay", true))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            ngx.say(sock:setoption("tcp-nodelay", true))
            ngx.say(sock:getoption("tcp-nodelay"))
            ngx.say(sock:setoption("keepalive", 1))
            ngx.say(sock:getoption("keepalive"))
            ngx.say(sock:setoption("bogus", 1))
            ngx.say(sock:setoption("sndbuf"))
            ngx.say(sock:getoption("rcvbuf") > 0)
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: x
--- request
GET /t
--- response_body
nilclosed
true
1
true
1
nilunsupported option bogus
nilmissing the "value" argument
true
--- no_error_log
[error]



=== TEST 20: resolver that does not answer
--- config
    location /t {
        resolver 127.0.0.1:$TEST_NGINX_RAND_PORT_3;
        resolver_timeout 200ms;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("nonexistent.invalid", 80))
        }
    }
--- request
GET /t
--- response_body_like
^nilnonexistent.invalid could not be resolved \(110: Operation timed out\)$



=== TEST 21: cosockets are disabled in set_by_lua and log_by_lua
--- config
    location /t {
        set_by_lua_block $res {
            local ok, err = pcall(ngx.socket.tcp)
            return err
        }
        content_by_lua_block { ngx.say(ngx.var.res) }
        log_by_lua_block {
            local ok, err = pcall(ngx.socket.tcp)
            ngx.log(ngx.WARN, "log: ", err)
        }
    }
--- request
GET /t
--- response_body
API disabled in the context of set_by_lua*
--- error_log
log: API disabled in the context of log_by_lua*



=== TEST 22: unclosed sockets are closed when the request ends; GC closes too
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send("q"))
            local sock2 = ngx.socket.tcp()
            assert(sock2:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            sock2 = nil
            collectgarbage()
            collectgarbage()
            ngx.say("ok")
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: x
--- tcp_no_close
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 23: lua_socket_buffer_size 1 still reads lines, sizes and patterns
--- config
    location /t {
        lua_socket_buffer_size 1;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(sock:send({ 1, " ", { 2.5 } }))
            ngx.say(pcall(sock.send, sock, { true }))
            ngx.say(sock:receive())
            ngx.say(sock:receive(4))
            ngx.say(sock:receiveuntil("--")())
            ngx.say(sock:receive("*a"))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query: 1 2.5
--- tcp_reply eval
"first line\r\nabcdxyz--rest"
--- request
GET /t
--- response_body
falsebad argument #2 to 'send' (bad data type boolean found)
first line
abcd
xyz
rest
--- no_error_log
[error]



=== TEST 24: send scalars; settimeouts
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeouts(1000, 1000, 50)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            ngx.say(sock:send(true), " ", sock:send(nil), " ", sock:send(12), " ", sock:send(""))
            ngx.say(sock:receive(100))
            ngx.say(pcall(sock.settimeouts, sock, 1, 2))
            ngx.say(pcall(sock.settimeout, sock, "x"))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query: truenil12
--- tcp_reply: ok
--- tcp_no_close
--- request
GET /t
--- response_body
4 3 2 0
niltimeoutok
falsengx.socket settimeouts: expecting 4 arguments (including the object) but seen 3
falsebad argument #2 to 'settimeout' (number expected, got string)
--- error_log
lua tcp socket read timed out



=== TEST 25: send timeout when the peer stops reading
--- config
    location /t {
        lua_socket_send_timeout 100ms;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            local bytes, err = sock:send(string.rep("x", 16 * 1024 * 1024))
            ngx.say(bytes, " ", err)
            ngx.say(sock:send("y"))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply: x
--- tcp_no_close
--- request
GET /t
--- response_body
nil timeout
nilclosed
--- error_log
lua tcp socket write timed out




=== TEST 26: send flattens array tables of any layout, refuses other keys
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            -- integer keys set in reverse land in the hash part
            local rev = {}
            for i = 3, 1, -1 do rev[i] = "r" .. i end
            local zero = { "a", "b" }
            zero[0] = "z"
            local holes = { "a", nil, "c" }
            local named = { "a", "b", x = 1 }
            local deep = { "d1", { "d2", { 3, { "d4" } } } }
            ngx.say(pcall(sock.send, sock, zero))
            ngx.say(pcall(sock.send, sock, holes))
            ngx.say(pcall(sock.send, sock, named))
            ngx.say(pcall(sock.send, sock, { "a", { "b", true } }))
            ngx.say(sock:send({ rev, "|", deep, "|", 1.5, "\n" }))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_query eval
"r1r2r3|d1d23d4|1.5\n"
--- tcp_reply: ok
--- request
GET /t
--- response_body
falsebad argument #2 to 'send' (non-array table found)
falsebad argument #2 to 'send' (non-array table found)
falsebad argument #2 to 'send' (non-array table found)
falsebad argument #2 to 'send' (bad data type boolean found)
19



=== TEST 27: methods called on something that is not a tcp socket object
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local udp = ngx.socket.udp()
            -- a userdata of another kind, another socket type's slot, nothing
            local forged = {
                { newproxy(false) },
                { rawget(udp, 1) or newproxy(true) },
                {},
            }
            for _, t in ipairs(forged) do
                local sent, serr = sock.send(t, "x")
                local got, rerr = sock.receive(t, 1)
                ngx.say(sent, " ", serr, " ", got, " ", rerr)
            end
            ngx.say(pcall(sock.connect, forged[1], "127.0.0.1", 1))
            ngx.say(pcall(sock.send, 42, "x"))
            ngx.say(pcall(sock.receive, "sock", 1))
            -- the genuine object still works after all that
            ngx.say(sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
nil closed nil closed
nil closed nil closed
nil closed nil closed
falsebad tcp socket
falsebad argument #1 to 'send' (table expected, got number)
falsebad argument #1 to 'receive' (table expected, got string)
nilclosed
--- no_error_log
[crit]
