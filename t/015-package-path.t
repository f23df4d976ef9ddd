# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# TEST 6 and TEST 7 send three requests each (9 tests instead of 3)
plan tests => repeat_each() * (blocks() * 3 + 12);

no_long_string();
run_tests();

__DATA__

=== TEST 1: lua_package_path with $prefix finds a module in html/
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local m = require "mymod"
            ngx.say(m.hello())
        }
    }
--- user_files
>>> mymod.lua
local _M = {}
function _M.hello() return "hello from mymod" end
return _M
--- request
GET /t
--- response_body
hello from mymod
--- no_error_log
[error]



=== TEST 2: ";;" is replaced by the default path
--- http_config
    lua_package_path "/some/where/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local p = package.path
            ngx.say(p:sub(1, 18), " ", p:find(";;", 1, true), " ",
                    select(2, p:gsub(";", ";")) > 1)
        }
    }
--- request
GET /t
--- response_body
/some/where/?.lua; nil true
--- no_error_log
[error]



=== TEST 3: without ";;" only the given path is used
--- http_config
    lua_package_path "/some/where/?.lua";
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.path)
        }
    }
--- request
GET /t
--- response_body
/some/where/?.lua
--- no_error_log
[error]



=== TEST 4: $prefix and ${prefix} expand to the server prefix
--- http_config
    lua_package_path "${prefix}html/?.lua;$prefix/lib/?.lua";
--- config
    location /t {
        content_by_lua_block {
            local prefix = ngx.config.prefix()
            local first, second = package.path:match("^([^;]+);([^;]+)$")
            ngx.say(first == prefix .. "html/?.lua", " ",
                    second:sub(1, #prefix) == prefix, " ",
                    second:sub(-10))
        }
    }
--- request
GET /t
--- response_body
true true /lib/?.lua
--- no_error_log
[error]



=== TEST 5: lua_package_cpath loads a C module (cjson)
--- http_config
    lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson.encode({ 1, 2, "x" }))
            ngx.say(cjson.decode('{"a":[true,null]}').a[1])
            ngx.say(package.cpath:sub(1, 38))
        }
    }
--- request
GET /t
--- response_body
[1,2,"x"]
true
/usr/lib/x86_64-linux-gnu/lua/5.1/?.so
--- no_error_log
[error]



=== TEST 6: lua_code_cache off re-reads a *_by_lua_file changed between requests
--- config
    location /t {
        lua_code_cache off;
        content_by_lua_file html/cc.lua;
    }
    location /update {
        content_by_lua_block {
            local f = assert(io.open(ngx.config.prefix() .. "html/cc.lua", "w"))
            f:write('ngx.say("version 2")')
            f:close()
            ngx.say("updated")
        }
    }
--- user_files
>>> cc.lua
ngx.say("version 1")
--- request eval
["GET /t", "GET /update", "GET /t"]
--- response_body eval
["version 1\n", "updated\n", "version 2\n"]
--- no_error_log
[error]



=== TEST 7: lua_code_cache on (default) keeps the cached copy
--- config
    location /t {
        content_by_lua_file html/cc.lua;
    }
    location /update {
        content_by_lua_block {
            local f = assert(io.open(ngx.config.prefix() .. "html/cc.lua", "w"))
            f:write('ngx.say("version 2")')
            f:close()
            ngx.say("updated")
        }
    }
--- user_files
>>> cc.lua
ngx.say("version 1")
--- request eval
["GET /t", "GET /update", "GET /t"]
--- response_body eval
["version 1\n", "updated\n", "version 1\n"]
--- no_error_log
[error]



=== TEST 8: modules in sub-directories
--- http_config
    lua_package_path "$prefix/html/lib/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            ngx.say(require("foo.bar").name)
        }
    }
--- user_files
>>> lib/foo/bar.lua
return { name = "foo.bar" }
--- request
GET /t
--- response_body
foo.bar
--- no_error_log
[error]



=== TEST 9: a missing module reports the searched path
--- http_config
    lua_package_path "/nowhere/?.lua";
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(require, "no_such_mod")
            ngx.say(ok, " ", err:match("module 'no_such_mod' not found") ~= nil,
                    " ", err:find("/nowhere/no_such_mod.lua", 1, true) ~= nil)
        }
    }
--- request
GET /t
--- response_body
false true true
--- no_error_log
[error]



=== TEST 10: lua_package_path is only allowed at the http level
--- config
    location /t {
        lua_package_path "/x/?.lua;;";
        content_by_lua_block { ngx.say("x") }
    }
--- must_die
--- error_log eval
[
qr/\[emerg\]/,
qr/"lua_package_path" directive is not allowed here/,
]



=== TEST 11: modules are loaded once per worker with the code cache on
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local a = require "counter"
            local b = require "counter"
            ngx.say(rawequal(a, b), " ", a.loads)
        }
    }
--- user_files
>>> counter.lua
loads_seen = (loads_seen or 0) + 1
return { loads = loads_seen }
--- request
GET /t
--- response_body
true 1
--- no_error_log
[error]



=== TEST 12: lua_code_cache off gives each request a fresh VM
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        lua_code_cache off;
        content_by_lua_file html/handler.lua;
    }
--- user_files
>>> handler.lua
local c = require "state"
c.n = c.n + 1
ngx.say("n = ", c.n)
>>> state.lua
return { n = 0 }
--- request
GET /t
--- response_body
n = 1
--- no_error_log
[error]



=== TEST 13: the default package.path is used without lua_package_path
--- config
    location /t {
        content_by_lua_block {
            ngx.say(type(package.path), " ", #package.path > 0)
        }
    }
--- request
GET /t
--- response_body
string true
--- no_error_log
[error]
