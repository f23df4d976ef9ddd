# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 + 1);

no_long_string();
run_tests();

__DATA__

=== TEST 1: flush(true) waits until a large output reached the client
--- config
    location /t {
        content_by_lua_block {
            local big = string.rep("a", 4 * 1024 * 1024)
            ngx.print(big)
            local ok, err = ngx.flush(true)
            local sent = tonumber(ngx.var.bytes_sent)
            ngx.log(ngx.WARN, "flush: ", ok, " ", err, ", all sent: ", sent > #big)
            ngx.print("end")
        }
    }
--- request
GET /t
--- response_body_like: ^a+end$
--- error_log
flush: 1 nil, all sent: true



=== TEST 2: flush() and flush(false) do not wait; bad arguments
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hi")
            ngx.say("flush: ", ngx.flush())
            ngx.say("flush(false): ", ngx.flush(false))
            ngx.say("flush(true): ", ngx.flush(true))
            ngx.say(pcall(ngx.flush, "yes"))
        }
    }
--- request
GET /t
--- response_body
hi
flush: 1
flush(false): 1
flush(true): 1
falsebad argument #1 to 'flush' (boolean expected, got string)
--- no_error_log
[error]



=== TEST 3: flush(true) gives up after send_timeout when the client does not read
--- config
    location /big {
        send_timeout 200ms;
        content_by_lua_block {
            ngx.print(string.rep("b", 32 * 1024 * 1024))
            local ok, err = ngx.flush(true)
            ngx.log(ngx.WARN, "big flush: ", ok, " ", err)
        }
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            sock:setoption("rcvbuf", 4096)
            assert(sock:send("GET /big HTTP/1.0\r\n\r\n"))
            ngx.sleep(1)
            sock:close()
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
done
--- error_log
big flush: nil timeout
client timed out



=== TEST 4: flush(true) in rewrite_by_lua, then the content handler runs
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.print(string.rep("r", 2 * 1024 * 1024))
            ngx.log(ngx.WARN, "rewrite flush: ", ngx.flush(true))
        }
        content_by_lua_block {
            ngx.print("content")
        }
    }
--- request
GET /t
--- response_body_like: ^r+content$
--- error_log
rewrite flush: 1
