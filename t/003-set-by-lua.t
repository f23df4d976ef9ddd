# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set_by_lua with a literal result
--- config
    location /t {
        set_by_lua $res 'return 1 + 2';
        return 200 "res=$res\n";
    }
--- request
GET /t
--- response_body
res=3
--- no_error_log
[error]



=== TEST 2: set_by_lua arguments arrive in ngx.arg, variables expanded
--- config
    location /t {
        set $a 32;
        set_by_lua $sum 'return tonumber(ngx.arg[1]) + tonumber(ngx.arg[2])' $a $arg_b;
        return 200 "sum=$sum\n";
    }
--- request
GET /t?b=10
--- response_body
sum=42
--- no_error_log
[error]



=== TEST 3: set_by_lua_block runs in order with set
--- config
    location /t {
        set $x "a";
        set_by_lua_block $y { return ngx.var.x .. "b" }
        set $z "${y}c";
        return 200 "$z\n";
    }
--- request
GET /t
--- response_body
abc
--- no_error_log
[error]



=== TEST 4: set_by_lua_file with arguments
--- config
    location /t {
        set_by_lua_file $r html/upper.lua $arg_s;
        return 200 "$r\n";
    }
--- user_files
>>> upper.lua
return string.upper(ngx.arg[1])
--- request
GET /t?s=hello
--- response_body
HELLO
--- no_error_log
[error]



=== TEST 5: nil result gives an empty value
--- config
    location /t {
        set_by_lua_block $r { return nil }
        return 200 "[$r]\n";
    }
--- request
GET /t
--- response_body
[]
--- no_error_log
[error]



=== TEST 6: a Lua error in set_by_lua gives 500 and a log line
--- config
    location /t {
        set_by_lua_block $r { error("oops") }
        return 200 "[$r]\n";
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/failed to run set_by_lua\*: set_by_lua\(nginx\.conf:\d+\):1: oops/



=== TEST 7: output APIs are disabled in set_by_lua
--- config
    location /t {
        set_by_lua_block $r {
            local ok, err = pcall(ngx.say, "hi")
            return err
        }
        return 200 "$r\n";
    }
--- request
GET /t
--- response_body_like
API disabled in the context of set_by_lua\*
--- no_error_log
[error]



=== TEST 8: ngx.get_phase() is set
--- config
    location /t {
        set_by_lua_block $r { return ngx.get_phase() }
        return 200 "$r\n";
    }
--- request
GET /t
--- response_body
set
--- no_error_log
[error]
