# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.req.get_post_args.

use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();

run_tests();

__DATA__

=== TEST 1: form arguments after ngx.req.read_body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local args, err = ngx.req.get_post_args()
            local keys = {}
            for k in pairs(args) do keys[#keys + 1] = k end
            table.sort(keys)
            for _, k in ipairs(keys) do
                local v = args[k]
                if type(v) == "table" then v = table.concat(v, "|") end
                ngx.say(k, " = ", tostring(v))
            end
            ngx.say("err: ", err)
        }
    }
--- request
POST /t
name=hello+world&tag=a&flag&tag=b%26c&=dropped&empty=&k%3Dy=v%3D
--- response_body
empty = 
flag = true
k=y = v=
name = hello world
tag = a|b&c
err: nil
--- no_error_log
[error]



=== TEST 2: lua_need_request_body reads the body before rewrite_by_lua
--- config
    location /t {
        lua_need_request_body on;
        rewrite_by_lua_block {
            local args = ngx.req.get_post_args()
            ngx.ctx.a = args.a
        }
        content_by_lua_block {
            ngx.say("a = ", ngx.ctx.a, ", b = ", ngx.req.get_post_args().b)
        }
    }
--- request
POST /t
a=1&b=2
--- response_body
a = 1, b = 2
--- no_error_log
[error]



=== TEST 3: max_args caps the result and reports "truncated"
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local args, err = ngx.req.get_post_args(2)
            ngx.say(args.a, " ", args.b, " ", args.c, " ", err)
            args, err = ngx.req.get_post_args(0)
            ngx.say(args.a, " ", args.b, " ", args.c, " ", err)
            args, err = ngx.req.get_post_args("3")
            ngx.say(args.a, " ", args.b, " ", args.c, " ", err)
        }
    }
--- request
POST /t
a=1&b=2&c=3
--- response_body
1 2 nil truncated
1 2 3 nil
1 2 3 nil
--- no_error_log
[error]



=== TEST 4: the default cap is 100 arguments
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local args, err = ngx.req.get_post_args()
            local n = 0
            for _ in pairs(args) do n = n + 1 end
            ngx.say(n, " ", err)
        }
    }
--- request eval
"POST /t\n" . CORE::join("&", map { "k$_=$_" } 1 .. 120)
--- response_body
100 truncated
--- no_error_log
[error]



=== TEST 5: the body was not read
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.get_post_args)
            ngx.say(ok, " ", err)
        }
    }
--- request
POST /t
a=1
--- response_body
false no request body found; maybe you should turn on lua_need_request_body?
--- no_error_log
[error]



=== TEST 6: a body buffered to a temp file gives nil and an error
--- config
    location /t {
        client_body_in_file_only clean;
        content_by_lua_block {
            ngx.req.read_body()
            local args, err = ngx.req.get_post_args()
            ngx.say(args, " ", err)
        }
    }
--- request
POST /t
a=1&b=2
--- response_body
nil request body in temp file not supported
--- no_error_log
[error]



=== TEST 7: an empty body gives an empty table
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local args, err = ngx.req.get_post_args()
            ngx.say("empty: ", type(args), " ", next(args), " ", err)
        }
    }
--- request
POST /t
--- response_body
empty: table nil nil
--- no_error_log
[error]



=== TEST 8: argument errors
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local ok, err = pcall(ngx.req.get_post_args, 1, 2)
            ngx.say(err)
            ok, err = pcall(ngx.req.get_post_args, "x")
            ngx.say(err)
        }
    }
--- request
POST /t
a=1
--- response_body
expecting 0 or 1 arguments but seen 2
bad argument #1 to 'get_post_args' (number expected, got string)
--- no_error_log
[error]



=== TEST 9: disabled in set_by_lua, allowed in log_by_lua
--- config
    location /t {
        lua_need_request_body on;
        set_by_lua_block $res {
            local ok, err = pcall(ngx.req.get_post_args)
            return err
        }
        content_by_lua_block {
            ngx.say(ngx.var.res)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log phase a = ", ngx.req.get_post_args().a)
        }
    }
--- request
POST /t
a=5
--- response_body
API disabled in the context of set_by_lua*
--- error_log
log phase a = 5
