# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: ngx.ctx is a table that keeps values within the handler
--- config
    location /t {
        content_by_lua_block {
            ngx.say(type(ngx.ctx))
            ngx.ctx.foo = 32
            ngx.ctx.bar = { "x" }
            ngx.say(ngx.ctx.foo, " ", ngx.ctx.bar[1])
        }
    }
--- request
GET /t
--- response_body
table
32 x
--- no_error_log
[error]



=== TEST 2: the same table is returned each time
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.ctx
            local b = ngx.ctx
            ngx.say(rawequal(a, b))
        }
    }
--- request
GET /t
--- response_body
true
--- no_error_log
[error]



=== TEST 3: a fresh ngx.ctx for every request (no leak between requests)
--- config
    location /t {
        content_by_lua_block {
            ngx.say("before: ", ngx.ctx.counter)
            ngx.ctx.counter = (ngx.ctx.counter or 0) + 1
            ngx.say("after: ", ngx.ctx.counter)
        }
    }
--- request
GET /t
--- response_body
before: nil
after: 1
--- no_error_log
[error]



=== TEST 4: shared by rewrite, access, content and log handlers
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.trail = "rewrite" }
        access_by_lua_block { ngx.ctx.trail = ngx.ctx.trail .. ",access" }
        content_by_lua_block {
            ngx.ctx.trail = ngx.ctx.trail .. ",content"
            ngx.say(ngx.ctx.trail)
        }
        log_by_lua_block { ngx.log(ngx.WARN, "trail in log: ", ngx.ctx.trail, ",log") }
    }
--- request
GET /t
--- response_body
rewrite,access,content
--- error_log
trail in log: rewrite,access,content,log



=== TEST 5: assigning a new table to ngx.ctx
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.old = "gone"
            ngx.ctx = { foo = "bar" }
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.foo, " ", ngx.ctx.old)
        }
    }
--- request
GET /t
--- response_body
bar nil
--- no_error_log
[error]



=== TEST 6: the assigned table itself is what later handlers see
--- config
    location /t {
        content_by_lua_block {
            local t = { n = 1 }
            ngx.ctx = t
            t.n = 2
            ngx.say(ngx.ctx.n, " ", rawequal(ngx.ctx, t))
        }
    }
--- request
GET /t
--- response_body
2 true
--- no_error_log
[error]



=== TEST 7: assigning a non-table to ngx.ctx fails
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.ctx = "string" end)
            ngx.say(tostring(ok), " ", type(err))
        }
    }
--- request
GET /t
--- response_body
false string
--- no_error_log
[error]



=== TEST 8: ngx.ctx is reset by ngx.exec
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.from_t = "yes" }
        content_by_lua_block { ngx.exec("/other") }
    }
    location /other {
        content_by_lua_block { ngx.say("from_t: ", ngx.ctx.from_t) }
    }
--- request
GET /t
--- response_body
from_t: nil
--- no_error_log
[error]



=== TEST 9: ngx.ctx is reset by error_page internal redirects
--- config
    error_page 404 = /handler;
    location /t {
        content_by_lua_block {
            ngx.ctx.tag = "original"
            ngx.exit(404)
        }
    }
    location = /handler {
        content_by_lua_block { ngx.say("tag: ", ngx.ctx.tag) }
    }
--- request
GET /t
--- response_body
tag: nil
--- no_error_log
[error]



=== TEST 10: ngx.ctx in log_by_lua when content is not Lua
--- config
    location = /static.txt {
        rewrite_by_lua_block { ngx.ctx.greeting = "hi from rewrite" }
        log_by_lua_block { ngx.log(ngx.WARN, "ctx greeting: ", ngx.ctx.greeting) }
    }
--- user_files
>>> static.txt
static
--- request
GET /static.txt
--- response_body
static
--- error_log
ctx greeting: hi from rewrite



=== TEST 11: ngx.ctx in log_by_lua with no other Lua handler
--- config
    location /t {
        return 200 "static\n";
        log_by_lua_block {
            ngx.ctx.x = (ngx.ctx.x or 0) + 1
            ngx.log(ngx.WARN, "ctx x in log: ", ngx.ctx.x)
        }
    }
--- request
GET /t
--- response_body
static
--- error_log
ctx x in log: 1



=== TEST 12: a module-level table is shared, ngx.ctx is not
--- config
    location /t {
        content_by_lua_block {
            local m = require "ctxmod"
            m.hits = m.hits + 1
            ngx.ctx.hits = (ngx.ctx.hits or 0) + 1
            ngx.say("module >= 1: ", m.hits >= 1, ", ctx: ", ngx.ctx.hits)
        }
    }
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- user_files
>>> ctxmod.lua
return { hits = 0 }
--- request
GET /t
--- response_body
module >= 1: true, ctx: 1
--- no_error_log
[error]



=== TEST 13: ngx.ctx keys of any type
--- config
    location /t {
        content_by_lua_block {
            local k = {}
            ngx.ctx[k] = "table key"
            ngx.ctx[1] = "number key"
            ngx.say(ngx.ctx[k], ", ", ngx.ctx[1])
        }
    }
--- request
GET /t
--- response_body
table key, number key
--- no_error_log
[error]



=== TEST 14: values set in rewrite survive ngx.exit(ngx.OK) into content
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.v = "kept"
            ngx.exit(ngx.OK)
        }
        content_by_lua_block { ngx.say(ngx.ctx.v) }
    }
--- request
GET /t
--- response_body
kept
--- no_error_log
[error]
