# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * 19;

no_long_string();
run_tests();

__DATA__

=== TEST 1: the callback runs when the client goes away; the handler goes on
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            local ok, err = ngx.on_abort(function()
                ngx.log(ngx.NOTICE, "on abort called")
            end)
            if not ok then
                error("cannot set on_abort: " .. err)
            end
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "main handler done")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
client prematurely closed connection
on abort called
main handler done



=== TEST 2: the callback ends the request with ngx.exit(499)
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            assert(ngx.on_abort(function()
                ngx.log(ngx.NOTICE, "on abort called")
                ngx.exit(499)
            end))
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "main handler done")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
on abort called
--- no_error_log
main handler done



=== TEST 3: no callback: the request and its light threads are aborted
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.sleep(0.5)
                ngx.log(ngx.NOTICE, "thread done")
            end)
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "main handler done")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
client prematurely closed connection
--- no_error_log
main handler done
thread done



=== TEST 4: lua_check_client_abort off: the handler is not disturbed
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.NOTICE, "on_abort: ", select(2, ngx.on_abort(function() end)))
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "main handler done")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
on_abort: lua_check_client_abort is off
main handler done



=== TEST 5: duplicate calls and a bad argument
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.say(pcall(ngx.on_abort, 1))
            ngx.say(ngx.on_abort(function() end))
            ngx.say(ngx.on_abort(function() end))
        }
    }
--- request
GET /t
--- response_body
falsebad argument #1 to 'on_abort' (function expected, got number)
1
nilduplicate call
--- no_error_log
[error]



=== TEST 6: in access_by_lua, the callback may end the request
--- config
    location /t {
        lua_check_client_abort on;
        access_by_lua_block {
            assert(ngx.on_abort(function()
                ngx.log(ngx.NOTICE, "on abort called in access")
                ngx.exit(444)
            end))
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "access handler done")
        }
        content_by_lua_block {
            ngx.log(ngx.NOTICE, "content handler ran")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
on abort called in access
--- no_error_log
access handler done
content handler ran



=== TEST 7: a client that finishes normally never triggers the callback
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            assert(ngx.on_abort(function()
                ngx.log(ngx.NOTICE, "on abort called")
            end))
            ngx.sleep(0.05)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
on abort called
