# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: content_by_lua_block says hello
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello, world")
        }
    }
--- request
GET /t
--- response_body
hello, world
--- no_error_log
[error]



=== TEST 2: inline content_by_lua string
--- config
    location /t {
        content_by_lua 'ngx.say("inline ", 1 + 1)';
    }
--- request
GET /t
--- response_body
inline 2
--- no_error_log
[error]



=== TEST 3: a block holding braces in strings, long strings and comments
--- config
    location /t {
        content_by_lua_block {
            local t = { a = { "}" } }   -- a comment with }
            local s = [[ } { ]]
            --[==[ long comment } ]==]
            ngx.say(t.a[1], s, '{')
        }
    }
--- request
GET /t
--- response_body
} } { {
--- no_error_log
[error]



=== TEST 4: content_by_lua_file relative to the prefix
--- config
    location /t {
        content_by_lua_file html/hello.lua;
    }
--- user_files
>>> hello.lua
ngx.say("from a file")
--- request
GET /t
--- response_body
from a file
--- no_error_log
[error]



=== TEST 5: no output still answers 200 with an empty body
--- config
    location /t {
        content_by_lua_block { local x = 1 }
    }
--- request
GET /t
--- response_body
--- no_error_log
[error]



=== TEST 6: HEAD request gets no body
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
    }
--- request
HEAD /t
--- response_body
--- no_error_log
[error]
