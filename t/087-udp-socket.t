# vim:set ft= ts=4 sw=4 et fdm=marker:
BEGIN {
    # The stream echo server of some tests needs the stream module: built
    # into the vendored nginx, a dynamic module for Debian's.
    my $bin = $ENV{TEST_NGINX_BINARY} // '';
    my $so = '/usr/lib/nginx/modules/ngx_stream_module.so';
    $ENV{TEST_NGINX_STREAM_MODULE} =
        ($bin =~ m{^/usr/sbin/} && -f $so) ? "load_module $so;" : '';
}
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 + 7);

no_long_string();
run_tests();

__DATA__

=== TEST 1: setpeername, send, receive a reply from the peer
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            local ok, err = udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2)
            ngx.say("setpeername: ", ok, " ", err)
            ngx.say("send: ", udp:send("ping"))
            local data, err = udp:receive()
            ngx.say("received: ", data, " ", err)
            ngx.say("close: ", udp:close())
            ngx.say("close again: ", udp:close())
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_query: ping
--- udp_reply: pong
--- request
GET /t
--- response_body
setpeername: 1 nil
send: 1
received: pong nil
close: 1
close again: nilclosed
--- no_error_log
[error]



=== TEST 2: send numbers, booleans and nested array tables
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            ngx.say(udp:send({ "a", { "b", 3 }, 4.5, "c" }))
            ngx.say(udp:receive(100))
            local ok, err = pcall(udp.send, udp, { "a", true })
            ngx.say(err)
            ok, err = pcall(udp.send, udp, { a = 1 })
            ngx.say(err)
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_query: ab34.5c
--- udp_reply: ok
--- request
GET /t
--- response_body
1
ok
bad argument #2 to 'send' (bad data type boolean found)
bad argument #2 to 'send' (non-array table found)
--- no_error_log
[error]



=== TEST 3: receive timeout (settimeout), the socket stays usable
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(100)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(udp:send("q"))
            local t0 = ngx.now()
            local data, err = udp:receive()
            ngx.update_time()
            ngx.say("received: ", data, " ", err)
            ngx.say("waited enough: ", ngx.now() - t0 >= 0.09)
            ngx.say("send after timeout: ", udp:send("again"))
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply: late
--- udp_reply_delay: 1
--- request
GET /t
--- response_body
received: nil timeout
waited enough: true
send after timeout: 1
--- error_log
lua udp socket read timed out



=== TEST 4: lua_socket_read_timeout applies when settimeout is not called
--- config
    lua_socket_read_timeout 50ms;
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            ngx.say(udp:receive())
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply: late
--- udp_reply_delay: 1
--- request
GET /t
--- response_body
niltimeout
--- error_log
lua udp socket read timed out



=== TEST 5: using a socket that is not connected
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            ngx.say("send: ", udp:send("x"))
            ngx.say("receive: ", udp:receive())
            ngx.say("close: ", udp:close())
        }
    }
--- request
GET /t
--- response_body
send: nilclosed
receive: nilclosed
close: nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 6: connection refused is reported by receive
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
            udp:settimeout(500)
            ngx.say("send: ", udp:send("x"))
            ngx.say("receive: ", udp:receive())
        }
    }
--- request
GET /t
--- response_body
send: 1
receive: nilconnection refused
--- error_log
Connection refused



=== TEST 7: argument errors, bad port, unresolvable names without a resolver
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            ngx.say(udp:setpeername("127.0.0.1", 65536))
            ngx.say(udp:setpeername("localhost", 53))
            ngx.say(udp:setpeername("", 53))
            ngx.say(pcall(udp.setpeername, udp))
            ngx.say(pcall(ngx.socket.udp, 1))
            ngx.say(pcall(udp.receive, udp, 1, 2))
            ngx.say(pcall(udp.settimeout, udp))
        }
    }
--- request
GET /t
--- response_body
nilbad port number: 65536
nilno resolver defined to resolve "localhost"
nilfailed to parse host name "": no host
falsengx.socket.udp setpeername: expecting 2 or 3 arguments (including the object), but seen 1
falseexpecting zero arguments, but got 1
falseexpecting 1 or 2 arguments (including the object), but got 3
falsengx.socket settimeout: expecting at least 2 arguments (including the object) but seen 1
--- no_error_log
[error]



=== TEST 8: receive(size) returns the start of a larger datagram
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(udp:send("q"))
            ngx.say(udp:receive(5))
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply: hello world
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]



=== TEST 9: two light threads: the second receive finds the socket busy
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(udp:send("q"))
            local t = ngx.thread.spawn(function()
                return udp:receive()
            end)
            ngx.say("2nd: ", udp:receive())
            ngx.say("close while busy: ", udp:close())
            ngx.say("1st: ", select(2, ngx.thread.wait(t)))
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply: pong
--- udp_reply_delay: 0.1
--- request
GET /t
--- response_body
2nd: nilsocket busy
close while busy: nilsocket busy
1st: pong
--- no_error_log
[error]



=== TEST 10: a timer talks UDP; a socket from the request is refused there
--- config
    location /t {
        content_by_lua_block {
            local mine = ngx.socket.udp()
            assert(mine:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
            local ok, err = ngx.timer.at(0, function()
                local ok, err = pcall(mine.send, mine, "x")
                ngx.log(ngx.WARN, "foreign socket: ", err)
                local udp = ngx.socket.udp()
                assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
                assert(udp:send("from timer"))
                ngx.log(ngx.WARN, "timer received: ", udp:receive())
            end)
            ngx.sleep(0.3)
            ngx.say("done")
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_query: from timer
--- udp_reply: hi timer
--- request
GET /t
--- response_body
done
--- error_log
foreign socket: bad request
timer received: hi timer



=== TEST 11: a unix datagram peer
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            local ok, err = udp:setpeername("unix:$TEST_NGINX_HTML_DIR/udp.sock")
            ngx.say("setpeername: ", ok, " ", err)
            assert(udp:send("over unix"))
            ngx.say(udp:receive())
        }
    }
--- udp_listen: $TEST_NGINX_HTML_DIR/udp.sock
--- udp_query: over unix
--- udp_reply: unix reply
--- request
GET /t
--- response_body
setpeername: 1 nil
unix reply
--- no_error_log
[error]



=== TEST 12: many round trips with nginx's stream module echoing on UDP
--- main_config
    $TEST_NGINX_STREAM_MODULE
    stream {
        server {
            listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 udp;
            return "pong";
        }
    }
--- config
    location /t {
        content_by_lua_block {
            local got = {}
            for i = 1, 5 do
                local udp = ngx.socket.udp()
                assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
                udp:settimeout(1000)
                assert(udp:send("ping " .. i))
                local data, err = udp:receive()
                got[#got + 1] = data or err
                udp:close()
            end
            ngx.say(table.concat(got, ","))
        }
    }
--- request
GET /t
--- response_body
pong,pong,pong,pong,pong
--- no_error_log
[error]



=== TEST 13: setpeername again switches peers (the old socket is closed)
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(udp:send("second"))
            ngx.say(udp:receive())
        }
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_query: second
--- udp_reply: from second
--- request
GET /t
--- response_body
from second
--- no_error_log
[error]
