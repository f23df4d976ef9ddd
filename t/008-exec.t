# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: ngx.exec to another location
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target")
        }
    }
    location /target {
        content_by_lua_block { ngx.say("at ", ngx.var.uri) }
    }
--- request
GET /t
--- response_body
at /target
--- no_error_log
[error]



=== TEST 2: args given as a string
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target", "a=1&b=2")
        }
    }
    location /target {
        content_by_lua_block { ngx.say("args: ", ngx.var.args) }
    }
--- request
GET /t?x=y
--- response_body
args: a=1&b=2
--- no_error_log
[error]



=== TEST 3: args given as a table are encoded
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target", { a = 1, b = "x y", c = true })
        }
    }
    location /target {
        content_by_lua_block {
            ngx.say("a=", ngx.var.arg_a, " b=", ngx.var.arg_b, " c=", ngx.var.arg_c)
            ngx.say("c in args: ", ngx.var.args:find("c", 1, true) ~= nil)
        }
    }
--- request
GET /t
--- response_body
a=1 b=x%20y c=nil
c in args: true
--- no_error_log
[error]



=== TEST 4: args in the uri are merged with the args argument
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target?a=1", "b=2")
        }
    }
    location /target {
        content_by_lua_block { ngx.say(ngx.var.uri, " ", ngx.var.args) }
    }
--- request
GET /t
--- response_body
/target a=1&b=2
--- no_error_log
[error]



=== TEST 5: a number as the args argument
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target", 123)
        }
    }
    location /target {
        content_by_lua_block { ngx.say("args: ", ngx.var.args) }
    }
--- request
GET /t
--- response_body
args: 123
--- no_error_log
[error]



=== TEST 6: ngx.exec to a named location
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("@named")
        }
    }
    location @named {
        content_by_lua_block { ngx.say("in named location, uri ", ngx.var.uri) }
    }
--- request
GET /t
--- response_body
in named location, uri /t
--- no_error_log
[error]



=== TEST 7: a named location ignores the args argument and keeps the old query string
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("@named", "a=2")
        }
    }
    location @named {
        content_by_lua_block { ngx.say("args: ", ngx.var.args) }
    }
--- request
GET /t?x=1
--- response_body
args: x=1
--- no_error_log
[error]



=== TEST 8: ngx.ctx is reset by ngx.exec
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.foo = "bar"
            ngx.exec("/target")
        }
    }
    location /target {
        content_by_lua_block { ngx.say("ctx.foo: ", ngx.ctx.foo) }
    }
--- request
GET /t
--- response_body
ctx.foo: nil
--- no_error_log
[error]



=== TEST 9: code after ngx.exec does not run
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target")
            ngx.log(ngx.ERR, "code after exec ran")
        }
    }
    location /target {
        content_by_lua_block { ngx.say("target") }
    }
--- request
GET /t
--- response_body
target
--- no_error_log
code after exec ran



=== TEST 10: ngx.exec after output fails
--- config
    location /t {
        content_by_lua_block {
            ngx.say("sent")
            local ok, err = pcall(function () ngx.exec("/target") end)
            ngx.say(tostring(ok), " ", err)
        }
    }
    location /target {
        content_by_lua_block { ngx.say("target") }
    }
--- request
GET /t
--- response_body_like chomp
^sent
false content_by_lua\(nginx\.conf:\d+\):\d+: attempt to call ngx\.exec after sending out response headers
$
--- no_error_log
[error]



=== TEST 11: uncaught ngx.exec after output: request aborted, error logged
--- config
    location /t {
        content_by_lua_block {
            ngx.say("sent")
            ngx.exec("/target")
        }
    }
    location /target {
        content_by_lua_block { ngx.say("target") }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):\d+: attempt to call ngx\.exec after sending out response headers/
--- no_error_log
[alert]
[crit]



=== TEST 12: ngx.exec from rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { ngx.exec("/target", "from=rewrite") }
        content_by_lua_block { ngx.say("original content") }
    }
    location /target {
        content_by_lua_block { ngx.say("target ", ngx.var.args) }
    }
--- request
GET /t
--- response_body
target from=rewrite
--- no_error_log
[error]



=== TEST 13: ngx.exec from access_by_lua
--- config
    location /t {
        access_by_lua_block { ngx.exec("/target", "from=access") }
        content_by_lua_block { ngx.say("original content") }
    }
    location /target {
        content_by_lua_block { ngx.say("target ", ngx.var.args) }
    }
--- request
GET /t
--- response_body
target from=access
--- no_error_log
[error]



=== TEST 14: the target location runs its own rewrite and access handlers
--- config
    location /t {
        content_by_lua_block { ngx.exec("/target") }
    }
    location /target {
        rewrite_by_lua_block { ngx.ctx.r = "rewrite" }
        access_by_lua_block { ngx.ctx.a = "access" }
        content_by_lua_block { ngx.say(ngx.ctx.r, " ", ngx.ctx.a) }
    }
--- request
GET /t
--- response_body
rewrite access
--- no_error_log
[error]



=== TEST 15: empty uri argument
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.exec("") end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: The uri argument is empty
$
--- no_error_log
[error]



=== TEST 16: bad args argument type
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.exec("/target", true) end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #2 to 'exec' \(string, number, or table expected, but got boolean\)
$
--- no_error_log
[error]



=== TEST 17: wrong number of arguments
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.exec() end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: expecting one or two arguments, but got 0
$
--- no_error_log
[error]



=== TEST 18: ngx.exec to a static file location
--- config
    location /t {
        content_by_lua_block { ngx.exec("/static.txt") }
    }
--- user_files
>>> static.txt
static content
--- request
GET /t
--- response_body
static content
--- no_error_log
[error]



=== TEST 19: a POST request keeps its method across ngx.exec
--- config
    location /t {
        content_by_lua_block { ngx.exec("/target") }
    }
    location /target {
        content_by_lua_block { ngx.say(ngx.var.request_method, " ", ngx.var.uri) }
    }
--- request
POST /t
hello
--- response_body
POST /target
--- no_error_log
[error]
