# vim:set ft= ts=4 sw=4 et fdm=marker:
# Debian's lua-nginx-redis (require "nginx.redis", i.e. lua-resty-redis),
# unmodified, against a real redis-server.
use Test::Nginx::Socket::Lua;
use TestPeers qw(start_redis);

start_redis();

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set and get
--- config
    location /t {
        content_by_lua_block {
            local redis = require "nginx.redis"
            local red = redis:new()
            red:set_timeout(1000)
            local ok, err = red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT)
            if not ok then ngx.say("connect: ", err) return end
            ngx.say(red:set("dog", "an animal"))
            ngx.say(red:get("dog"))
            ngx.say(red:get("no-such-key") == ngx.null)
            red:close()
        }
    }
--- request
GET /t
--- response_body
OK
an animal
true
--- no_error_log
[error]



=== TEST 2: pipeline
--- config
    location /t {
        content_by_lua_block {
            local red = require("nginx.redis"):new()
            assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            red:init_pipeline()
            red:set("cat", "Marry")
            red:set("horse", "Bob")
            red:get("cat")
            red:get("horse")
            local results, err = red:commit_pipeline()
            if not results then ngx.say("pipeline: ", err) return end
            ngx.say(table.concat(results, " "))
            red:close()
        }
    }
--- request
GET /t
--- response_body
OK OK Marry Bob
--- no_error_log
[error]



=== TEST 3: keepalive reuses the connection
--- config
    location /t {
        content_by_lua_block {
            local redis = require "nginx.redis"
            local times = {}
            for i = 1, 3 do
                local red = redis:new()
                assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
                times[#times + 1] = red:get_reused_times()
                red:incr("ka-counter")
                assert(red:set_keepalive(10000, 10))
            end
            ngx.say(times[2] >= 1 and times[3] > times[2] and "reused" or table.concat(times, ","))
        }
    }
--- request
GET /t
--- response_body
reused
--- no_error_log
[error]



=== TEST 4: publish and subscribe between two connections
--- config
    location /t {
        content_by_lua_block {
            local redis = require "nginx.redis"
            local sub = redis:new()
            local pub = redis:new()
            sub:set_timeout(2000)
            assert(sub:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            assert(pub:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            local res = assert(sub:subscribe("news"))
            ngx.say(table.concat(res, " "))
            local t = ngx.thread.spawn(function()
                ngx.sleep(0.05)
                return pub:publish("news", "hello")
            end)
            local msg = assert(sub:read_reply())
            ngx.say(table.concat(msg, " "))
            local _, n = ngx.thread.wait(t)
            ngx.say("receivers: ", n)
            sub:unsubscribe("news")
            sub:close()
            pub:close()
        }
    }
--- request
GET /t
--- response_body
subscribe news 1
message news hello
receivers: 1
--- no_error_log
[error]



=== TEST 5: concurrent requests through light threads
--- config
    location /t {
        content_by_lua_block {
            local redis = require "nginx.redis"
            local threads = {}
            for i = 1, 10 do
                threads[i] = ngx.thread.spawn(function()
                    local red = redis:new()
                    assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
                    red:set("k" .. i, i * i)
                    local v = red:get("k" .. i)
                    red:set_keepalive(10000, 20)
                    return tonumber(v)
                end)
            end
            local sum = 0
            for i = 1, 10 do
                local _, v = ngx.thread.wait(threads[i])
                sum = sum + v
            end
            ngx.say(sum)
        }
    }
--- request
GET /t
--- response_body
385
--- no_error_log
[error]



=== TEST 6: connection refused reports the error
--- config
    location /t {
        content_by_lua_block {
            local red = require("nginx.redis"):new()
            red:set_timeout(500)
            local ok, err = red:connect("127.0.0.1", 1)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil connection refused
--- error_log
connect() failed (111: Connection refused)
