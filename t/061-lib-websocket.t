# vim:set ft= ts=4 sw=4 et fdm=marker:
# Debian's lua-nginx-websocket (require "nginx.websocket.*", i.e.
# lua-resty-websocket), unmodified: a client and a server talking to each
# other through our module (cosocket client, ngx.req.socket(true) server).
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: echo text and binary frames, ping/pong, close
--- config
    location = /ws {
        content_by_lua_block {
            local server = require "nginx.websocket.server"
            local wb, err = server:new({ timeout = 2000, max_payload_len = 65535 })
            if not wb then
                ngx.log(ngx.ERR, "failed to new websocket: ", err)
                return ngx.exit(444)
            end
            while true do
                local data, typ, err = wb:recv_frame()
                if not data then
                    ngx.log(ngx.ERR, "server recv: ", err)
                    return ngx.exit(444)
                end
                if typ == "close" then
                    wb:send_close(1000, "bye")
                    return
                elseif typ == "ping" then
                    wb:send_pong(data)
                elseif typ == "text" then
                    wb:send_text("echo: " .. data)
                elseif typ == "binary" then
                    wb:send_binary(string.reverse(data))
                end
            end
        }
    }

    location = /t {
        content_by_lua_block {
            local client = require "nginx.websocket.client"
            local wb = client:new({ timeout = 2000 })
            local ok, err = wb:connect("ws://127.0.0.1:" .. ngx.var.server_port .. "/ws")
            if not ok then
                ngx.say("connect: ", err)
                return
            end
            assert(wb:send_text("hello"))
            local data, typ = wb:recv_frame()
            ngx.say(typ, ": ", data)
            assert(wb:send_binary("\1\2\3"))
            data, typ = wb:recv_frame()
            ngx.say(typ, ": ", data == "\3\2\1")
            assert(wb:send_ping("are you there"))
            data, typ = wb:recv_frame()
            ngx.say(typ, ": ", data)
            assert(wb:send_close(1000, "done"))
            data, typ, err = wb:recv_frame()
            ngx.say(typ, ": ", data, " ", err)
            wb:close()
        }
    }
--- request
GET /t
--- response_body
text: echo: hello
binary: true
pong: are you there
close: bye 1000
--- no_error_log
[error]
