# vim:set ft= ts=4 sw=4 et fdm=marker:
# Debian's lua-nginx-memcached (require "nginx.memcached", i.e.
# lua-resty-memcached), unmodified, against a real memcached.
use Test::Nginx::Socket::Lua;
use TestPeers qw(start_memcached);

start_memcached();

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set, get, delete
--- config
    location /t {
        content_by_lua_block {
            local memcached = require "nginx.memcached"
            local memc = memcached:new()
            memc:set_timeout(1000)
            assert(memc:connect("127.0.0.1", $TEST_NGINX_MEMCACHED_PORT))
            ngx.say(memc:set("dog", 32))
            ngx.say(memc:get("dog"))
            ngx.say(memc:delete("dog"))
            local v, flags, err = memc:get("dog")
            ngx.say(v, " ", flags, " ", err)
            memc:close()
        }
    }
--- request
GET /t
--- response_body
1
320
1
nil nil nil
--- no_error_log
[error]



=== TEST 2: add, incr, flags and keepalive
--- config
    location /t {
        content_by_lua_block {
            local memcached = require "nginx.memcached"
            for i = 1, 2 do
                local memc = memcached:new()
                assert(memc:connect("127.0.0.1", $TEST_NGINX_MEMCACHED_PORT))
                if i == 1 then
                    memc:flush_all()
                    ngx.say(memc:add("n", 10, 0, 7))
                    ngx.say(memc:add("n", 11))
                    local v, flags = memc:get("n")
                    ngx.say(v, " flags=", flags)
                    ngx.say(memc:incr("n", 5))
                else
                    ngx.say("reused: ", memc:get_reused_times() > 0)
                end
                memc:set_keepalive(10000, 10)
            end
        }
    }
--- request
GET /t
--- response_body
1
nilNOT_STORED
10 flags=7
15
reused: true
--- no_error_log
[error]
