# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: sleep in content, then output
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            ngx.sleep(0.2)
            ngx.update_time()
            local d = ngx.now() - t0
            ngx.say(d >= 0.15 and d < 1 and "slept" or ("bad: " .. d))
        }
    }
--- request
GET /t
--- response_body
slept
--- error_log
lua ready to sleep for 200 ms



=== TEST 2: sleep(0) yields and comes back
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.sleep(0)
            ngx.say("b")
        }
    }
--- request
GET /t
--- response_body
a
b
--- no_error_log
[error]



=== TEST 3: sleep in rewrite and access, then content runs
--- config
    location /t {
        rewrite_by_lua_block { ngx.sleep(0.05) ngx.ctx.r = "rewrite" }
        access_by_lua_block { ngx.sleep(0.05) ngx.ctx.a = "access" }
        content_by_lua_block { ngx.say(ngx.ctx.r, " ", ngx.ctx.a) }
    }
--- request
GET /t
--- response_body
rewrite access
--- no_error_log
[error]



=== TEST 4: sleep inside pcall
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() ngx.sleep(0.01) return "done" end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
true done
--- no_error_log
[error]



=== TEST 5: sleep inside a user coroutine does not leak to the user's yields
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function(a)
                ngx.sleep(0.01)
                local b = coroutine.yield(a + 1)
                ngx.sleep(0.01)
                return b * 2
            end)
            local ok, v = coroutine.resume(co, 1)
            ngx.say(ok, " ", v)
            ok, v = coroutine.resume(co, 5)
            ngx.say(ok, " ", v, " ", coroutine.status(co))
            local gen = coroutine.wrap(function() for i = 1, 3 do ngx.sleep(0) coroutine.yield(i) end end)
            ngx.say(gen(), gen(), gen())
        }
    }
--- request
GET /t
--- response_body
true 2
true 10 dead
123
--- no_error_log
[error]



=== TEST 6: negative duration is an error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.sleep, -1)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like
false .*invalid sleep duration "-1"
--- no_error_log
[error]



=== TEST 7: sleep is disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.sleep(1) }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 8: exit inside a user coroutine ends the request
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.wrap(function() ngx.say("in") ngx.exit(200) end)
            co()
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- response_body
in
--- no_error_log
[error]
