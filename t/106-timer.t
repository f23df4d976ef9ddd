# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 + 2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: a timer runs after the request with its arguments
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.timer.at(0.05, function(premature, a, b)
                ngx.log(ngx.WARN, "timer fired: ", premature, " ", a, " ", b, " phase ", ngx.get_phase())
            end, "x", 42)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
1 nil
--- wait: 0.2
--- error_log
timer fired: false x 42 phase timer



=== TEST 2: a timer callback can sleep
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.sleep(0.05)
                ngx.log(ngx.WARN, "after sleep in timer")
            end)
            ngx.say("scheduled")
        }
    }
--- request
GET /t
--- response_body
scheduled
--- wait: 0.3
--- error_log
after sleep in timer



=== TEST 3: errors in a timer are logged, never fatal
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() error("timer boom") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- wait: 0.2
--- error_log
timer boom



=== TEST 4: bad arguments
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.timer.at, 1)
            ngx.say(err)
            ok, err = pcall(ngx.timer.at, -1, function() end)
            ngx.say(err)
        }
    }
--- request
GET /t
--- response_body_like
function expected, got no value.*
.*invalid delay.*
--- no_error_log
[error]



=== TEST 5: pending count and the pending limit
--- http_config
    lua_max_pending_timers 2;
--- config
    location /t {
        content_by_lua_block {
            local f = function() end
            -- the first request fills the two slots; the repeated one finds them full
            for i = 1, 3 do
                local ok, err = ngx.timer.at(10, f)
                if not ok then
                    ngx.say(err)
                    break
                end
            end
            ngx.say(ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
too many pending timers
2
--- no_error_log
[error]



=== TEST 6: every repeats
--- config
    location /t {
        content_by_lua_block {
            local n = 0
            ngx.timer.every(0.05, function()
                n = n + 1
                if n <= 3 then ngx.log(ngx.WARN, "tick ", n) end
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- wait: 0.4
--- error_log
tick 1
tick 2
tick 3



=== TEST 7: timers from init_worker_by_lua
--- http_config
    init_worker_by_lua_block {
        ngx.timer.at(0, function() worker_timer_phase = ngx.get_phase() end)
    }
--- config
    location /t {
        content_by_lua_block { ngx.sleep(0.05) ngx.say(worker_timer_phase) }
    }
--- request
GET /t
--- response_body
timer
--- no_error_log
[error]



=== TEST 8: output APIs are disabled in timers
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local ok, err = pcall(ngx.say, "x")
                ngx.log(ngx.WARN, "say: ", err)
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- wait: 0.1
--- error_log
API disabled in the context of ngx.timer
