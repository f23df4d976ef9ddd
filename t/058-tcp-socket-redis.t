# vim:set ft= ts=4 sw=4 et fdm=marker:
# Raw redis protocol over TCP cosockets, against a redis-server started here
# (skipped when redis-server is not installed; see t/lib/TestPeers.pm).
use Test::Nginx::Socket::Lua;
use TestPeers qw(start_redis);

start_redis();

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set and get with the redis protocol
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT)
            if not ok then
                ngx.say("failed to connect: ", err)
                return
            end
            local function cmd(...)
                local args = { ... }
                local req = { "*", #args, "\r\n" }
                for _, a in ipairs(args) do
                    req[#req + 1] = { "$", #a, "\r\n", a, "\r\n" }
                end
                assert(sock:send(req))
                local line = assert(sock:receive())
                local len = tonumber(line:match("^%$(%-?%d+)$"))
                if len and len >= 0 then
                    local data = assert(sock:receive(len + 2))
                    return data:sub(1, len)
                end
                return line
            end
            ngx.say(cmd("SET", "foo", "hello\nworld"))
            ngx.say(cmd("GET", "foo"))
            ngx.say(cmd("DEL", "foo"))
            ngx.say(cmd("GET", "foo"))
            ngx.say(sock:setkeepalive())
        }
    }
--- request
GET /t
--- response_body
+OK
hello
world
:1
$-1
1
--- no_error_log
[error]



=== TEST 2: blocking command times out
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            sock:settimeout(100)
            assert(sock:send("*3\r\n$5\r\nBLPOP\r\n$9\r\nemptylist\r\n$1\r\n1\r\n"))
            local line, err = sock:receive()
            ngx.say("blpop: ", line, " ", err)
            sock:close()
        }
    }
--- request
GET /t
--- response_body
blpop: nil timeout
--- error_log
lua tcp socket read timed out



=== TEST 3: pipelined commands read with receiveuntil
--- config
    location /t {
        content_by_lua_block {
            local sock = assert(ngx.socket.connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            assert(sock:send("PING\r\nPING\r\nECHO hi\r\n"))
            local line = sock:receiveuntil("\r\n")
            ngx.say(line(), " ", line(), " ", line(), " ", line())
            sock:close()
        }
    }
--- request
GET /t
--- response_body
+PONG +PONG $2 hi
--- no_error_log
[error]
