# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: spawn runs the thread first, until it waits
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function(a)
                ngx.say("in thread ", a)
                ngx.sleep(0.01)
                ngx.say("thread done")
            end, "x")
            ngx.say("after spawn ", type(t))
        }
    }
--- request
GET /t
--- response_body
in thread x
after spawn thread
thread done
--- no_error_log
[error]



=== TEST 2: wait returns the thread's results
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function(a, b) ngx.sleep(0.01) return a + b, "sum" end, 1, 2)
            ngx.say(ngx.thread.wait(t))
        }
    }
--- request
GET /t
--- response_body
true3sum
--- no_error_log
[error]



=== TEST 3: waits really overlap
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local a = ngx.thread.spawn(function() ngx.sleep(0.2) return "a" end)
            local b = ngx.thread.spawn(function() ngx.sleep(0.2) return "b" end)
            local _, ra = ngx.thread.wait(a)
            local _, rb = ngx.thread.wait(b)
            ngx.update_time()
            local d = ngx.now() - t0
            ngx.say(ra, rb, " ", d < 0.35 and "overlapped" or ("serial " .. d))
        }
    }
--- request
GET /t
--- response_body
ab overlapped
--- no_error_log
[error]



=== TEST 4: wait on several threads returns the first to end
--- config
    location /t {
        content_by_lua_block {
            local slow = ngx.thread.spawn(function() ngx.sleep(0.2) return "slow" end)
            local fast = ngx.thread.spawn(function() ngx.sleep(0.01) return "fast" end)
            ngx.say(ngx.thread.wait(slow, fast))
            ngx.say(ngx.thread.wait(slow))
        }
    }
--- request
GET /t
--- response_body
truefast
trueslow
--- no_error_log
[error]



=== TEST 5: an error in a thread is logged and returned to wait
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function() error("thread boom") end)
            local ok, err = ngx.thread.wait(t)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like
false .*thread boom
--- error_log
lua user thread aborted: runtime error:



=== TEST 6: the request waits for threads the entry left running
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.sleep(0.05)
                ngx.say("late")
            end)
            ngx.say("entry done")
        }
    }
--- request
GET /t
--- response_body
entry done
late
--- no_error_log
[error]



=== TEST 7: kill a sleeping thread
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function() ngx.sleep(0.1) ngx.say("not reached") end)
            ngx.say(ngx.thread.kill(t))
            ngx.say(ngx.thread.kill(t))
            ngx.sleep(0.15)
            ngx.say("end")
        }
    }
--- request
GET /t
--- response_body
1
nilalready waited or killed
end
--- no_error_log
[error]



=== TEST 8: ngx.exit in a thread ends the request
--- config
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function() ngx.sleep(0.01) ngx.say("bye") ngx.exit(200) end)
            ngx.sleep(1)
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- response_body
bye
--- no_error_log
[error]



=== TEST 9: only the parent may wait
--- config
    location /t {
        content_by_lua_block {
            local a
            local b = ngx.thread.spawn(function()
                ngx.sleep(0.01)
                local ok, err = pcall(ngx.thread.wait, a)
                ngx.say(err)
            end)
            a = ngx.thread.spawn(function() ngx.sleep(0.05) end)
            ngx.thread.wait(b)
            ngx.thread.wait(a)
        }
    }
--- request
GET /t
--- response_body_like
only the parent coroutine can wait on the thread
--- no_error_log
[error]



=== TEST 10: threads in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            local t = ngx.thread.spawn(function() ngx.sleep(0.01) return 42 end)
            local _, v = ngx.thread.wait(t)
            ngx.ctx.v = v
        }
        content_by_lua_block { ngx.say(ngx.ctx.v) }
    }
--- request
GET /t
--- response_body
42
--- no_error_log
[error]



=== TEST 11: spawn from inside a user coroutine
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.wrap(function()
                local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "from thread" end)
                coroutine.yield("yielded")
                return select(2, ngx.thread.wait(t))
            end)
            ngx.say(co())
            ngx.say(co())
        }
    }
--- request
GET /t
--- response_body
yielded
from thread
--- no_error_log
[error]



=== TEST 12: spawn is disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.thread.spawn(function() end) }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 13: a socket wait left behind by a killed thread does not resume the next phase's thread
--- config
    location = /t {
        rewrite_by_lua_block {
            ngx.ctx.sock = ngx.socket.tcp()
            assert(ngx.ctx.sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            assert(ngx.ctx.sock:send("q"))
            ngx.thread.spawn(function() return ngx.ctx.sock:receive(1) end)
            ngx.exit(ngx.OK)  -- kills the thread; its read stays armed
        }
        access_by_lua_block {
            local t0 = ngx.now()
            local t = ngx.thread.spawn(function()
                ngx.sleep(0.5)
                return "slept"
            end)
            local ok, res = ngx.thread.wait(t)
            ngx.update_time()
            ngx.ctx.res = res
            ngx.ctx.waited = ngx.now() - t0 >= 0.45
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.res, " ", ngx.ctx.waited)
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply_delay: 100ms
--- tcp_reply: x
--- request
GET /t
--- response_body
slept true
--- no_error_log
[error]
