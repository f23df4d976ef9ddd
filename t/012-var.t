# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: builtin variables
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.uri, " ", ngx.var.request_method, " ", ngx.var.args,
                    " ", ngx.var.remote_addr, " ", ngx.var.host)
        }
    }
--- request
GET /t?a=1
--- response_body
/t GET a=1 127.0.0.1 localhost
--- no_error_log
[error]



=== TEST 2: $arg_* variables
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.arg_foo, " ", ngx.var.arg_baz, " ", ngx.var.arg_missing)
        }
    }
--- request
GET /t?foo=bar&Baz=hello%20world
--- response_body
bar hello%20world nil
--- no_error_log
[error]



=== TEST 3: $http_* variables
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.http_x_foo, " ", ngx.var.http_user_agent, " ", ngx.var.http_x_missing)
        }
    }
--- request
GET /t
--- more_headers
X-Foo: bar
User-Agent: tester/1.0
--- response_body
bar tester/1.0 nil
--- no_error_log
[error]



=== TEST 4: an undefined variable reads as nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.no_such_variable_here, " ", type(ngx.var.no_such_variable_here))
        }
    }
--- request
GET /t
--- response_body
nil nil
--- no_error_log
[error]



=== TEST 5: write a variable declared with "set" and read it back
--- config
    location /t {
        set $foo "";
        rewrite_by_lua_block { ngx.var.foo = "from rewrite" }
        content_by_lua_block {
            ngx.say(ngx.var.foo)
            ngx.var.foo = 32
            ngx.say(ngx.var.foo, " ", type(ngx.var.foo))
        }
    }
--- request
GET /t
--- response_body
from rewrite
32 string
--- no_error_log
[error]



=== TEST 6: a variable written by Lua is seen by nginx (set after rewrite_by_lua)
--- config
    location /t {
        set $foo "";
        rewrite_by_lua_block { ngx.var.foo = "lua-value" }
        content_by_lua_block {
            ngx.say(ngx.var.foo)
        }
        log_by_lua_block { ngx.log(ngx.WARN, "foo in log: ", ngx.var.foo) }
    }
--- request
GET /t
--- response_body
lua-value
--- error_log
foo in log: lua-value



=== TEST 7: assigning nil unsets the variable
--- config
    location /t {
        set $foo "value";
        content_by_lua_block {
            ngx.var.foo = nil
            ngx.say("foo: ", ngx.var.foo)
        }
    }
--- request
GET /t
--- response_body
foo: nil
--- no_error_log
[error]



=== TEST 8: writing a builtin variable that is not changeable
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.var.uri = "/other" end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: variable "uri" not changeable
$
--- no_error_log
[error]



=== TEST 9: writing an undefined variable
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.var.nope = "x" end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: variable "nope" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set \$nope '';" in the config file to define it first
$
--- no_error_log
[error]



=== TEST 10: uncaught write to an undefined variable gives 500
--- config
    location /t {
        content_by_lua_block {
            ngx.var.nope = "x"
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
variable "nope" not found for writing



=== TEST 11: writing the changeable builtin $args
--- config
    location /t {
        content_by_lua_block {
            ngx.var.args = "a=1&b=2"
            ngx.say(ngx.var.args, " ", ngx.var.arg_b)
        }
    }
--- request
GET /t?x=y
--- response_body
a=1&b=2 2
--- no_error_log
[error]



=== TEST 12: regex captures via ngx.var[N]
--- config
    location ~ ^/caps/(\w+)/(\d+)$ {
        content_by_lua_block {
            ngx.say(ngx.var[1], " ", ngx.var[2], " ", ngx.var[3])
        }
    }
--- request
GET /caps/abc/42
--- response_body
abc 42 nil
--- no_error_log
[error]



=== TEST 13: named captures via ngx.var.NAME
--- config
    location ~ ^/named/(?<who>\w+)$ {
        content_by_lua_block {
            ngx.say("who: ", ngx.var.who, ", 1: ", ngx.var[1])
        }
    }
--- request
GET /named/xyz
--- response_body
who: xyz, 1: xyz
--- no_error_log
[error]



=== TEST 14: ngx.var[N] without any regex match
--- config
    location /t {
        content_by_lua_block {
            ngx.say("capture 1: ", ngx.var[1])
        }
    }
--- request
GET /t
--- response_body
capture 1: nil
--- no_error_log
[error]



=== TEST 15: ngx.var in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.status = 201 ngx.say("ok") }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log vars: ", ngx.var.uri, " ", ngx.var.status, " ", ngx.var.arg_q)
        }
    }
--- request
GET /t?q=v
--- error_code: 201
--- response_body
ok
--- error_log
log vars: /t 201 v



=== TEST 16: variable names are case-insensitive
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.URI, " ", ngx.var.Request_Method)
        }
    }
--- request
GET /t
--- response_body
/t GET
--- no_error_log
[error]



=== TEST 17: a "set" variable not initialised in this location reads as ""
--- config
    location /a {
        set $only_in_a "a";
        return 200;
    }
    location /t {
        content_by_lua_block {
            ngx.say("[", ngx.var.only_in_a, "]")
        }
    }
--- request
GET /t
--- response_body
[]
--- error_log
using uninitialized "only_in_a" variable



=== TEST 18: writing a set variable in set-phase order with set_by_lua
--- config
    location /t {
        set $a "1";
        set_by_lua_block $b { ngx.var.a = "2"; return "b" }
        set $c "$a$b";
        content_by_lua_block { ngx.say(ngx.var.c) }
    }
--- request
GET /t
--- response_body
2b
--- no_error_log
[error]



=== TEST 19: request_uri and query string are not decoded
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.request_uri, " ", ngx.var.arg_x)
        }
    }
--- request
GET /t?x=a%2Fb
--- response_body
/t?x=a%2Fb a%2Fb
--- no_error_log
[error]
