# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: rewrite, access, content and log handlers run in that order
--- config
    location /t {
        rewrite_by_lua_block { ngx.log(ngx.WARN, "in phase: rewrite") }
        access_by_lua_block { ngx.log(ngx.WARN, "in phase: access") }
        content_by_lua_block {
            ngx.log(ngx.WARN, "in phase: content")
            ngx.say("done")
        }
        log_by_lua_block { ngx.log(ngx.WARN, "in phase: log") }
    }
--- request
GET /t
--- response_body
done
--- grep_error_log eval: qr/in phase: \w+/
--- grep_error_log_out
in phase: rewrite
in phase: access
in phase: content
in phase: log



=== TEST 2: config order of the directives does not matter
--- config
    location /t {
        log_by_lua_block { ngx.log(ngx.WARN, "in phase: log") }
        content_by_lua_block {
            ngx.log(ngx.WARN, "in phase: content")
            ngx.say("done")
        }
        access_by_lua_block { ngx.log(ngx.WARN, "in phase: access") }
        rewrite_by_lua_block { ngx.log(ngx.WARN, "in phase: rewrite") }
    }
--- request
GET /t
--- response_body
done
--- grep_error_log eval: qr/in phase: \w+/
--- grep_error_log_out
in phase: rewrite
in phase: access
in phase: content
in phase: log



=== TEST 3: ngx.get_phase() in each request phase
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.p = { ngx.get_phase() } }
        access_by_lua_block { table.insert(ngx.ctx.p, ngx.get_phase()) }
        content_by_lua_block {
            table.insert(ngx.ctx.p, ngx.get_phase())
            ngx.say(table.concat(ngx.ctx.p, " "))
        }
        log_by_lua_block { ngx.log(ngx.WARN, "phase in log handler: ", ngx.get_phase()) }
    }
--- request
GET /t
--- response_body
rewrite access content
--- error_log
phase in log handler: log



=== TEST 4: rewrite_by_lua is postponed after "set" even when written first
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.seen = ngx.var.foo }
        set $foo "from set";
        content_by_lua_block { ngx.say("seen: ", ngx.ctx.seen) }
    }
--- request
GET /t
--- response_body
seen: from set
--- no_error_log
[error]



=== TEST 5: rewrite_by_lua may overwrite what "set" wrote (it runs last)
--- config
    location /t {
        set $foo "a";
        rewrite_by_lua 'ngx.var.foo = ngx.var.foo .. "b"';
        set $foo "${foo}c";
        content_by_lua_block { ngx.say(ngx.var.foo) }
    }
--- request
GET /t
--- response_body
acb
--- no_error_log
[error]



=== TEST 6: rewrite_by_lua_no_postpone runs the handler before the rewrite module
--- http_config
    rewrite_by_lua_no_postpone on;
--- config
    location /t {
        set $foo "from set";
        rewrite_by_lua_block { ngx.ctx.seen = ngx.var.foo }
        content_by_lua_block { ngx.say("seen: [", ngx.ctx.seen, "]") }
    }
--- request
GET /t
--- response_body
seen: []
--- no_error_log
[error]



=== TEST 7: access_by_lua runs after the access module (deny wins)
--- config
    location /t {
        deny all;
        access_by_lua_block { ngx.log(ngx.ERR, "lua access handler ran") }
        content_by_lua_block { ngx.say("not reached") }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- no_error_log
lua access handler ran



=== TEST 8: access_by_lua runs when the access module allows
--- config
    location /t {
        allow all;
        access_by_lua_block { ngx.ctx.acc = "yes" }
        content_by_lua_block { ngx.say("access ran: ", ngx.ctx.acc) }
    }
--- request
GET /t
--- response_body
access ran: yes
--- no_error_log
[error]



=== TEST 9: server-level rewrite_by_lua is inherited by locations
--- config
    rewrite_by_lua_block { ngx.ctx.from = "server" }
    location /t {
        content_by_lua_block { ngx.say("rewrite from ", ngx.ctx.from) }
    }
--- request
GET /t
--- response_body
rewrite from server
--- no_error_log
[error]



=== TEST 10: http-level access_by_lua and log_by_lua are inherited
--- http_config
    access_by_lua_block { ngx.ctx.from = "http" }
    log_by_lua_block { ngx.log(ngx.WARN, "http-level log handler ran") }
--- config
    location /t {
        content_by_lua_block { ngx.say("access from ", ngx.ctx.from) }
    }
--- request
GET /t
--- response_body
access from http
--- error_log
http-level log handler ran



=== TEST 11: location-level handler replaces the server-level one
--- config
    rewrite_by_lua_block { ngx.ctx.trail = (ngx.ctx.trail or "") .. "server;" }
    location /t {
        rewrite_by_lua_block { ngx.ctx.trail = (ngx.ctx.trail or "") .. "location;" }
        content_by_lua_block { ngx.say(ngx.ctx.trail) }
    }
--- request
GET /t
--- response_body
location;
--- no_error_log
[error]



=== TEST 12: ngx.exit(ngx.OK) in rewrite leaves only that phase
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.before = true
            ngx.exit(ngx.OK)
            ngx.ctx.after = true
        }
        access_by_lua_block { ngx.ctx.access = true }
        content_by_lua_block {
            ngx.say(ngx.ctx.before, " ", ngx.ctx.after, " ", ngx.ctx.access)
        }
    }
--- request
GET /t
--- response_body
true nil true
--- no_error_log
[error]



=== TEST 13: ngx.exit(ngx.OK) in access continues to content
--- config
    location /t {
        access_by_lua_block {
            ngx.exit(ngx.OK)
            error("not reached")
        }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
content
--- no_error_log
[error]



=== TEST 14: ngx.exit(403) in access stops the request, log still runs
--- config
    location /t {
        access_by_lua_block { ngx.exit(403) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran"); ngx.say("no") }
        log_by_lua_block { ngx.log(ngx.WARN, "log handler status: ", ngx.status) }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- error_log
log handler status: 403



=== TEST 15: ngx.exit(403) in access: content handler does not run
--- config
    location /t {
        access_by_lua_block { ngx.exit(ngx.HTTP_FORBIDDEN) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran"); ngx.say("no") }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- no_error_log
content ran



=== TEST 16: "rewrite ... last" in the same location skips rewrite_by_lua
--- config
    location /a {
        rewrite ^ /b last;
        rewrite_by_lua_block { ngx.log(ngx.ERR, "lua rewrite ran in /a") }
    }
    location /b {
        content_by_lua_block { ngx.say("at ", ngx.var.uri) }
    }
--- request
GET /a
--- response_body
at /b
--- no_error_log
lua rewrite ran in /a



=== TEST 17: output in rewrite_by_lua followed by ngx.exit(200) finishes the request
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.say("from rewrite")
            ngx.exit(200)
        }
        content_by_lua_block { ngx.say("from content") }
    }
--- request
GET /t
--- response_body
from rewrite
--- no_error_log
[error]



=== TEST 18: access_by_lua_no_postpone runs before the access module
--- http_config
    access_by_lua_no_postpone on;
--- config
    location /t {
        deny all;
        access_by_lua_block { ngx.log(ngx.WARN, "lua access handler ran first") }
        content_by_lua_block { ngx.say("not reached") }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- error_log
lua access handler ran first



=== TEST 19: log_by_lua sees the final status and ngx.ctx
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.msg = "hello"
            ngx.status = 201
            ngx.say("created")
        }
        log_by_lua_block { ngx.log(ngx.WARN, "log: ", ngx.ctx.msg, " ", ngx.status) }
    }
--- request
GET /t
--- error_code: 201
--- response_body
created
--- error_log
log: hello 201
