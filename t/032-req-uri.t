# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.req.get_uri_args, ngx.req.set_uri_args and ngx.req.set_uri.

use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();

run_tests();

__DATA__

=== TEST 1: get_uri_args: values, repeated keys, bare keys, escapes
--- config
    location /t {
        content_by_lua_block {
            local args, err = ngx.req.get_uri_args()
            local keys = {}
            for k in pairs(args) do keys[#keys + 1] = k end
            table.sort(keys)
            for _, k in ipairs(keys) do
                local v = args[k]
                if type(v) == "table" then
                    for i = 1, #v do v[i] = tostring(v[i]) end
                    v = "{" .. table.concat(v, ",") .. "}"
                end
                ngx.say(k, " = ", tostring(v))
            end
            ngx.say("err: ", err)
        }
    }
--- request
GET /t?a=1&b=x%20y&a=2&flag&=skipped&empty=&c+d=e+f&a
--- response_body
a = {1,2,true}
b = x y
c d = e f
empty = 
flag = true
err: nil
--- no_error_log
[error]



=== TEST 2: max_args caps the pieces read and reports "truncated"
--- config
    location /t {
        content_by_lua_block {
            local args, err = ngx.req.get_uri_args(2)
            ngx.say(args.a, " ", args.b, " ", args.c, " ", err)
            args, err = ngx.req.get_uri_args(3)
            ngx.say(args.a, " ", args.b, " ", args.c, " ", err)
        }
    }
--- request
GET /t?a=1&b=2&c=3
--- response_body
1 2 nil truncated
1 2 3 nil
--- no_error_log
[error]



=== TEST 3: the default cap is 100 arguments, 0 means no cap
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            local args, err = ngx.req.get_uri_args()
            ngx.say(count(args), " ", err)
            args, err = ngx.req.get_uri_args(0)
            ngx.say(count(args), " ", err)
        }
    }
--- request eval
"GET /t?" . CORE::join("&", map { "k$_=$_" } 1 .. 130)
--- response_body
100 truncated
130 nil
--- no_error_log
[error]



=== TEST 4: get_uri_args fills (after clearing) the table it is given
--- config
    location /t {
        content_by_lua_block {
            local tab = {stale = 1}
            local args = ngx.req.get_uri_args(nil, tab)
            ngx.say(args == tab, " ", tab.stale, " ", tab.x, " ", tab.y)
            local empty = ngx.req.get_uri_args(0, {})
            ngx.say(empty.x)
        }
    }
--- request
GET /t?x=1&y=2
--- response_body
true nil 1 2
1
--- no_error_log
[error]



=== TEST 5: set_uri_args with a string escapes spaces and control characters
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_uri_args("a=1 2&b=\r\n")
            ngx.say(ngx.var.args)
            ngx.req.set_uri_args(42)
            ngx.say(ngx.var.args, " ", ngx.req.get_uri_args()["42"])
        }
    }
--- request
GET /t?old=1
--- response_body
a=1%202&b=%0D%0A
42 true
--- no_error_log
[error]



=== TEST 6: set_uri_args with a table, read back by get_uri_args and $arg_*
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri_args({name = "a b", list = {1, 2}, on = true, off = false})
        }
        content_by_lua_block {
            local args = ngx.req.get_uri_args()
            ngx.say(args.name, " ", table.concat(args.list, ","), " ", args.on, " ", args.off)
            ngx.say(ngx.var.arg_name)
        }
    }
--- request
GET /t?old=1
--- response_body
a b 1,2 true nil
a%20b
--- no_error_log
[error]



=== TEST 7: set_uri_args argument errors
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.set_uri_args, true)
            ngx.say(err)
            ok, err = pcall(ngx.req.set_uri_args, nil)
            ngx.say(err)
            ok, err = pcall(ngx.req.set_uri_args)
            ngx.say(err)
            ok, err = pcall(ngx.req.set_uri_args, {[1] = "x"})
            ngx.say(err)
        }
    }
--- request
GET /t
--- response_body
bad argument #1 to 'set_uri_args' (string, number, or table expected, but got boolean)
bad argument #1 to 'set_uri_args' (string, number, or table expected, but got nil)
expecting 1 argument but seen 0
attempt to use a non-string key in the "args" option table
--- no_error_log
[error]



=== TEST 8: set_uri without jump changes $uri but not the location
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri("/other/path")
        }
        content_by_lua_block {
            ngx.say("uri: ", ngx.var.uri, ", internal: ", ngx.req.is_internal())
        }
    }
    location /other {
        return 200 "wrong location\n";
    }
--- request
GET /t
--- response_body
uri: /other/path, internal: true
--- no_error_log
[error]



=== TEST 9: set_uri with jump re-runs the location lookup
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri_args("x=1")
            ngx.req.set_uri("/target", true)
            ngx.log(ngx.ERR, "not reached")
        }
        content_by_lua_block {
            ngx.say("wrong location")
        }
    }
    location /target {
        content_by_lua_block {
            ngx.say("target: ", ngx.var.uri, "?", ngx.var.args)
        }
    }
--- request
GET /t?y=2
--- response_body
target: /target?x=1
--- no_error_log
[error]



=== TEST 10: set_uri errors: empty uri, control characters, bad arguments
--- config
    location /t {
        content_by_lua_block {
            local function try(...)
                local ok, err = pcall(ngx.req.set_uri, ...)
                ngx.say(err)
            end
            try("")
            try("/foo\r\nbar")
            try("/a", nil, true)
            try("/a", false, "yes")
            try()
            try("/a", false, false, 1)
            -- a C function upstream: no position even when called from Lua
            local ok, err = pcall(function() ngx.req.set_uri("") end)
            ngx.say(err)
            ngx.say("uri: ", ngx.var.uri)
        }
    }
--- request
GET /t
--- response_body
attempt to use zero-length uri
unsafe byte "0x0d" in uri "/foo\x0D\x0Abar" (maybe you want to set the 'binary' argument?)
bad argument #2 to 'set_uri' (boolean expected, got nil)
bad argument #3 to 'set_uri' (boolean expected, got string)
expecting 1, 2 or 3 arguments but seen 0
expecting 1, 2 or 3 arguments but seen 4
attempt to use zero-length uri
uri: /t
--- no_error_log
[error]



=== TEST 11: set_uri accepts control characters with binary = true, and tabs always
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_uri("/a\tb")
            ngx.say(ngx.var.uri == "/a\tb")
            ngx.req.set_uri("/a\0b\r", false, true)
            ngx.say(ngx.var.uri == "/a\0b\r")
        }
    }
--- request
GET /t
--- response_body
true
true
--- no_error_log
[error]



=== TEST 12: a jump is only allowed in rewrite_by_lua
--- config
    location /t {
        access_by_lua_block {
            local ok, err = pcall(ngx.req.set_uri, "/x", true)
            ngx.ctx.access = err
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.access)
            local ok, err = pcall(ngx.req.set_uri, "/y", true)
            ngx.say(err)
            ngx.say("uri: ", ngx.var.uri)
        }
    }
--- request
GET /t
--- response_body
API disabled in the context of access_by_lua*
API disabled in the context of content_by_lua*
uri: /t
--- no_error_log
[error]



=== TEST 13: set_uri and set_uri_args are disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block {
            ngx.say("ok")
        }
        log_by_lua_block {
            local ok, err1 = pcall(ngx.req.set_uri, "/x")
            local ok, err2 = pcall(ngx.req.set_uri_args, "a=1")
            ngx.log(ngx.WARN, "set_uri: ", err1, ", set_uri_args: ", err2,
                    ", args: ", ngx.req.get_uri_args().q)
        }
    }
--- request
GET /t?q=7
--- response_body
ok
--- error_log
set_uri: API disabled in the context of log_by_lua*, set_uri_args: API disabled in the context of log_by_lua*, args: 7
