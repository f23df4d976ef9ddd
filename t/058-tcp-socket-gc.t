# Cosocket objects and garbage collection: a collected object closes its
# connection. The descriptor limit needs a worker process (master_on).
use Test::Nginx::Socket::Lua;

repeat_each(2);
master_on();
workers(1);

plan tests => repeat_each() * (blocks() * 2 + 2);

run_tests();

__DATA__
=== TEST 1: collected socket objects close their connections (300 connects under a 100-descriptor limit)
--- main_config
worker_rlimit_nofile 100;
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3;
        location / { return 200; }
    }
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 300 do
                local sock = ngx.socket.tcp()
                local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_3)
                if not ok then
                    ngx.say("connect ", i, ": ", err)
                    return
                end
                sock = nil
                if i % 10 == 0 then
                    collectgarbage()
                    -- let the server side see the close
                    ngx.sleep(0.001)
                end
            end
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[alert]



=== TEST 2: the object's userdata keeps its metatable hidden
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(type(sock[1]), " ", tostring(getmetatable(sock[1])))
            ngx.say(pcall(setmetatable, sock[1], {}))
        }
    }
--- request
GET /t
--- response_body_like
^userdata false
false.*table expected, got userdata.*
