# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# TEST 1: one extra error_log pattern; TEST 7: two requests (+3)
plan tests => repeat_each() * (blocks() * 3 + 4);

no_long_string();
run_tests();

__DATA__

=== TEST 1: runtime error: 500, message and traceback in the error log
--- config
    location /t {
        content_by_lua_block {
            local x = 1
            error("something bad")
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
[
qr/\[error\] .*lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):3: something bad$/,
qr/^stack traceback:$/,
]



=== TEST 2: runtime error from a Lua operation
--- config
    location /t {
        content_by_lua_block {
            local t = nil
            ngx.say(t.field)
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):3: attempt to index local 't' \(a nil value\)/



=== TEST 3: error(msg, 0) carries no position
--- config
    location /t {
        content_by_lua_block {
            error("plain message", 0)
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: plain message$/



=== TEST 4: error with a table value
--- config
    location /t {
        content_by_lua_block {
            error({ code = 1 })
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
lua entry thread aborted: runtime error: unknown reason



=== TEST 5: error with a number value gets a position like a string
--- config
    location /t {
        content_by_lua_block {
            error(42)
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):2: 42$/



=== TEST 6: error after flushed output: the sent part stays sent
--- config
    location /t {
        content_by_lua_block {
            ngx.say("partial")
            ngx.flush(true)
            error("late failure")
        }
        log_by_lua_block { ngx.log(ngx.WARN, "body bytes sent: ", ngx.var.body_bytes_sent) }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
[
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):4: late failure/,
qr/body bytes sent: [1-9]/,
]
--- no_error_log
[alert]



=== TEST 7: the worker keeps serving after a Lua error
--- config
    location /err {
        content_by_lua_block { error("first request fails") }
    }
    location /ok {
        content_by_lua_block { ngx.say("still alive") }
    }
--- request eval
["GET /err", "GET /ok"]
--- error_code eval
[500, 200]
--- response_body_like eval
[qr/500 Internal Server Error/, qr/^still alive$/]
--- no_error_log
[alert]



=== TEST 8: error after output that was not explicitly flushed: output was already sent
--- config
    location /t {
        content_by_lua_block {
            ngx.say("partial")
            error("late failure")
        }
        log_by_lua_block { ngx.log(ngx.WARN, "body bytes sent: ", ngx.var.body_bytes_sent) }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
[
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):3: late failure/,
qr/body bytes sent: [1-9]/,
]
--- no_error_log
[alert]



=== TEST 9: error in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { error("rewrite failed") }
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: rewrite_by_lua\(nginx\.conf:\d+\):1: rewrite failed/



=== TEST 10: error in access_by_lua
--- config
    location /t {
        access_by_lua 'error("access failed")';
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: access_by_lua\(nginx\.conf:\d+\):1: access failed/



=== TEST 11: error in log_by_lua does not change the response
--- config
    location /t {
        content_by_lua_block { ngx.say("fine") }
        log_by_lua_block { error("log failed") }
    }
--- request
GET /t
--- response_body
fine
--- error_log eval
qr/failed to run log_by_lua\*: log_by_lua\(nginx\.conf:\d+\):1: log failed/



=== TEST 12: ngx.say in log_by_lua: API disabled
--- config
    location /t {
        content_by_lua_block { ngx.say("fine") }
        log_by_lua_block { ngx.say("from log") }
    }
--- request
GET /t
--- response_body
fine
--- error_log eval
qr/failed to run log_by_lua\*: log_by_lua\(nginx\.conf:\d+\):1: API disabled in the context of log_by_lua\*/



=== TEST 13: ngx.exit in log_by_lua: API disabled
--- config
    location /t {
        content_by_lua_block { ngx.say("fine") }
        log_by_lua_block { ngx.exit(500) }
    }
--- request
GET /t
--- response_body
fine
--- error_log
API disabled in the context of log_by_lua*



=== TEST 14: ngx.exec / ngx.redirect / ngx.flush in log_by_lua: API disabled
--- config
    location /t {
        content_by_lua_block { ngx.say("fine") }
        log_by_lua_block {
            local r = {}
            for _, f in ipairs({ function () ngx.exec("/x") end,
                                 function () ngx.redirect("/x") end,
                                 function () ngx.flush() end,
                                 function () ngx.send_headers() end,
                                 function () ngx.eof() end }) do
                local ok, err = pcall(f)
                r[#r + 1] = tostring(ok) .. ":" .. tostring(err:match("API disabled in the context of log_by_lua%*") ~= nil)
            end
            ngx.log(ngx.WARN, "log phase API: ", table.concat(r, " "))
        }
    }
--- request
GET /t
--- response_body
fine
--- error_log
log phase API: false:true false:true false:true false:true false:true



=== TEST 15: ngx.say in set_by_lua: API disabled
--- config
    location /t {
        set_by_lua_block $x { ngx.say("hi") return "1" }
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
API disabled in the context of set_by_lua*



=== TEST 16: syntax error in content_by_lua_block fails at startup (deliberate)
--- config
    location /t {
        content_by_lua_block {
            local x = = 1
        }
    }
--- must_die
--- error_log eval
[
qr/failed to load inlined Lua code: content_by_lua\(nginx\.conf:\d+\):2: unexpected symbol near '='/,
qr/\[emerg\]/,
]



=== TEST 17: duplicate content_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("one") }
        content_by_lua_block { ngx.say("two") }
    }
--- must_die
--- error_log eval
[
qr/\[emerg\]/,
qr/"content_by_lua_block" directive is duplicate/,
]



=== TEST 18: unterminated long bracket in content_by_lua_block
--- config
    location /t {
        content_by_lua_block {
            ngx.say([[unterminated)
        }
    }
--- must_die
--- error_log eval
[
qr/\[emerg\]/,
qr/Lua code block missing the closing long bracket "]]"/,
]



=== TEST 19: content_by_lua_file with a missing file: 404
--- config
    location /t {
        content_by_lua_file html/no-such-file.lua;
    }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log eval
qr/failed to load external Lua file ".*?no-such-file\.lua": cannot open .*?no-such-file\.lua/



=== TEST 20: content_by_lua_file with a syntax error: 500 at request time
--- config
    location /t {
        content_by_lua_file html/bad.lua;
    }
--- user_files
>>> bad.lua
local x = = 1
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/failed to load external Lua file ".*?bad\.lua": .*?bad\.lua:1: unexpected symbol near '='/



=== TEST 21: content_by_lua_file path built from a variable
--- config
    location /t {
        content_by_lua_file html/$arg_name.lua;
    }
--- user_files
>>> dyn.lua
ngx.say("dynamic file")
--- request
GET /t?name=dyn
--- response_body
dynamic file
--- no_error_log
[error]



=== TEST 22: error inside a pcall is caught, request continues
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(error, "caught")
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body
false caught
--- no_error_log
[error]
