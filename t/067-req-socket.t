# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 + 2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: read the request body by sizes, then the socket reports closed
--- config
    location /t {
        content_by_lua_block {
            local sock, err = ngx.req.socket()
            if not sock then
                ngx.say("no socket: ", err)
                return
            end
            ngx.say("1: ", sock:receive(5))
            ngx.say("2: ", sock:receive(6))
            ngx.say("3: ", sock:receive(1))
        }
    }
--- request
POST /t
hello world
--- response_body
1: hello
2:  world
3: nilclosed
--- no_error_log
[error]



=== TEST 2: receive("*a") and receiveuntil over the body
--- config
    location /t {
        content_by_lua_block {
            local sock = assert(ngx.req.socket())
            local it = sock:receiveuntil("--")
            ngx.say("part: ", it())
            ngx.say("part: ", it())
            ngx.say("rest: ", sock:receive("*a"))
        }
    }
--- request
POST /t
one--two--three
--- response_body
part: one
part: two
rest: three
--- no_error_log
[error]



=== TEST 3: a large body, read in chunks from the preread and the socket
--- config
    location /t {
        content_by_lua_block {
            local sock = assert(ngx.req.socket())
            sock:settimeout(2000)
            local total, chunks = 0, 0
            while true do
                local data, err, partial = sock:receive(4096)
                if not data then
                    total = total + #partial
                    ngx.say("end: ", err)
                    break
                end
                total = total + #data
                chunks = chunks + 1
            end
            ngx.say("total: ", total)
        }
    }
--- request eval
"POST /t\n" . ("x" x 100000)
--- response_body
end: closed
total: 100000
--- no_error_log
[error]



=== TEST 4: refusals: no body, body already read, chunked bodies
--- config
    location /nobody {
        content_by_lua_block {
            ngx.say(ngx.req.socket())
        }
    }
    location /read {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.socket())
        }
    }
    location /chunked {
        content_by_lua_block {
            ngx.say(ngx.req.socket())
        }
    }
    location /t {
        content_by_lua_block {
            local function get(uri, body, chunked)
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", ngx.var.server_port))
                local req = "POST " .. uri .. " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                if chunked then
                    req = req .. "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                elseif body then
                    req = req .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
                else
                    req = req .. "\r\n"
                end
                assert(sock:send(req))
                local res = sock:receive("*a")
                sock:close()
                -- the body is one chunk
                return (res:match("\r\n\r\n%x+\r\n(.-)\r\n"))
            end
            ngx.print(get("/nobody"))
            ngx.print(get("/read", "abc"))
            ngx.print(get("/chunked", nil, true))
        }
    }
--- request
GET /t
--- response_body
nilno body
nilrequest body already exists
nilchunked request bodies not supported yet
--- no_error_log
[error]



=== TEST 5: a body socket does not send; read timeout keeps the partial data
--- config
    location /t {
        content_by_lua_block {
            local sock = assert(ngx.req.socket())
            ngx.say("send: ", sock.send)
            sock:settimeout(100)
            ngx.say(sock:receive(10))
        }
    }
--- raw_request eval
"POST /t HTTP/1.0\r\nContent-Length: 10\r\n\r\nabc"
--- response_body
send: nil
niltimeoutabc
--- error_log
lua tcp socket read timed out



=== TEST 6: raw socket: echo lines after the response header went out
--- config
    location /t {
        content_by_lua_block {
            ngx.send_headers()
            ngx.flush(true)
            local sock, err = ngx.req.socket(true)
            if not sock then
                ngx.log(ngx.ERR, "no raw socket: ", err)
                return
            end
            while true do
                local line, err = sock:receive()
                if not line then
                    ngx.log(ngx.WARN, "receive ended: ", err)
                    break
                end
                assert(sock:send("echo: " .. line .. "\n"))
                if line == "bye" then
                    break
                end
            end
            ngx.log(ngx.WARN, "say after raw: ", select(2, ngx.say("x")))
            ngx.log(ngx.WARN, "flush after raw: ", select(2, ngx.flush()))
            ngx.log(ngx.WARN, "again: ", select(2, ngx.req.socket(true)))
        }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\nhello\nworld\nbye\n"
--- response_body
echo: hello
echo: world
echo: bye
--- error_log
say after raw: raw request socket acquired
flush after raw: raw request socket acquired
again: duplicate call



=== TEST 7: a websocket-style client (ngx.socket.tcp) and a raw req.socket server
--- config
    location /ws {
        content_by_lua_block {
            ngx.status = 101
            ngx.header["Upgrade"] = "echo-proto"
            ngx.send_headers()
            ngx.flush(true)
            local sock = assert(ngx.req.socket(true))
            while true do
                local len, err = sock:receive(2)
                if not len then
                    ngx.log(ngx.WARN, "server: ", err)
                    return
                end
                local payload = assert(sock:receive(tonumber(len)))
                if payload == "close" then
                    assert(sock:send("05close"))
                    return
                end
                local reply = payload:upper()
                assert(sock:send(string.format("%02d%s", #reply, reply)))
            end
        }
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            assert(sock:send("GET /ws HTTP/1.1\r\nHost: localhost\r\n"
                             .. "Upgrade: echo-proto\r\nConnection: Upgrade\r\n\r\n"))
            local status = sock:receive()
            ngx.say("status: ", status)
            while true do
                local line = assert(sock:receive())
                if line == "" then break end
            end
            local function frame(s)
                return string.format("%02d%s", #s, s)
            end
            for _, msg in ipairs({ "hello", "websocket", "close" }) do
                assert(sock:send(frame(msg)))
                local len = assert(sock:receive(2))
                ngx.say("reply: ", sock:receive(tonumber(len)))
            end
            ngx.say("after close: ", sock:receive(1))
        }
    }
--- request
GET /t
--- response_body
status: HTTP/1.1 101 Switching Protocols
reply: HELLO
reply: WEBSOCKET
reply: close
after close: nilclosed
--- no_error_log
[error]



=== TEST 8: raw socket refused while the body is being read
--- config
    lua_socket_buffer_size 1k;
    location /t {
        content_by_lua_block {
            local body = assert(ngx.req.socket())
            ngx.say("first: ", body:receive(2))
            ngx.say(ngx.req.socket(true))
            ngx.say("rest: ", #body:receive("*a"))
        }
    }
--- request eval
"POST /t\n" . ("x" x 3000)
--- response_body
first: xx
nilpending request body reading in some other thread
rest: 2998
--- no_error_log
[error]
