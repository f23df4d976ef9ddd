# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# TEST 2 has 6 error_log patterns (+5), TEST 7 one extra, TEST 8 two extra
plan tests => repeat_each() * (blocks() * 3 + 8);

no_long_string();
run_tests();

__DATA__

=== TEST 1: ngx.log(ngx.ERR, ...) with the source position prefix
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.ERR, "hello", " ", 42)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[error\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):2: hello 42, client: 127\.0\.0\.1, server: /



=== TEST 2: every level goes to its own severity
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.EMERG, "lvl-emerg")
            ngx.log(ngx.ALERT, "lvl-alert")
            ngx.log(ngx.CRIT, "lvl-crit")
            ngx.log(ngx.WARN, "lvl-warn")
            ngx.log(ngx.INFO, "lvl-info")
            ngx.log(ngx.DEBUG, "lvl-debug")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[
qr/\[emerg\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):2: lvl-emerg/,
qr/\[alert\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):3: lvl-alert/,
qr/\[crit\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):4: lvl-crit/,
qr/\[warn\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):5: lvl-warn/,
qr/\[info\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):6: lvl-info/,
qr/\[debug\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):7: lvl-debug/,
]



=== TEST 3: print() logs at notice
--- config
    location /t {
        content_by_lua_block {
            print("hello from print")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[notice\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):2: hello from print/



=== TEST 4: nil, booleans and ngx.null are stringified
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "vals: ", nil, " ", true, " ", false, " ", ngx.null)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
vals: nil true false null



=== TEST 5: print() concatenates its arguments without separators
--- config
    location /t {
        content_by_lua_block {
            print("a", 1, nil, true, 2.5)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
[lua] content_by_lua



=== TEST 6: print() concatenation result
--- config
    location /t {
        content_by_lua_block {
            print("p:", "a", 1, nil, true, 2.5, ngx.null)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
p:a1niltrue2.5null



=== TEST 7: bad log level
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.log(100, "x") end)
            ngx.say(tostring(ok), " ", err)
            ok, err = pcall(function () ngx.log(-1, "x") end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'log' \(bad log level: 100\)
false content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #1 to 'log' \(bad log level: -1\)
$
--- no_error_log
[error]
[lua]



=== TEST 8: log_level warn hides info and debug messages
--- log_level: warn
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.INFO, "hidden info message")
            ngx.log(ngx.DEBUG, "hidden debug message")
            ngx.log(ngx.WARN, "visible warn message")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
visible warn message
--- no_error_log
hidden info message
hidden debug message



=== TEST 9: print is hidden by log_level warn
--- log_level: warn
--- config
    location /t {
        content_by_lua_block {
            print("notice via print")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
notice via print



=== TEST 10: table with a __tostring metamethod
--- config
    location /t {
        content_by_lua_block {
            local obj = setmetatable({}, { __tostring = function () return "I am an object" end })
            ngx.log(ngx.WARN, "obj: ", obj)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
obj: I am an object



=== TEST 11: table without __tostring
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.log(ngx.WARN, "x", {}) end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #\d to 'log' \(expected table to have __tostring metamethod\)
$
--- no_error_log
[error]



=== TEST 12: function argument
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.log(ngx.WARN, print) end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: bad argument #\d to 'log' \(string, number, boolean, or nil expected, got function\)
$
--- no_error_log
[error]



=== TEST 13: the enclosing Lua function name is included
--- config
    location /t {
        content_by_lua_block {
            local function my_helper()
                ngx.log(ngx.WARN, "from helper")
            end
            my_helper()
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[lua\] content_by_lua\(nginx\.conf:\d+\):3: my_helper\(\): from helper/



=== TEST 14: content_by_lua_file: the chunk name is the file's base name
--- config
    location /t {
        content_by_lua_file html/logger.lua;
    }
--- user_files
>>> logger.lua
ngx.say("ok")
ngx.log(ngx.WARN, "from a file")
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[lua\] logger\.lua:2: from a file/



=== TEST 15: log level constants
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.STDERR, " ", ngx.EMERG, " ", ngx.ALERT, " ", ngx.CRIT, " ",
                    ngx.ERR, " ", ngx.WARN, " ", ngx.NOTICE, " ", ngx.INFO, " ",
                    ngx.DEBUG)
        }
    }
--- request
GET /t
--- response_body
0 1 2 3 4 5 6 7 8
--- no_error_log
[error]



=== TEST 16: numbers are logged like tostring()
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "nums: ", 10, " ", 3.5, " ", -7)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
nums: 10 3.5 -7



=== TEST 17: ngx.log in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.log(ngx.WARN, "logging from log phase") }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[warn\] .*\[lua\] log_by_lua\(nginx\.conf:\d+\):1: logging from log phase/



=== TEST 18: ngx.log in rewrite_by_lua and access_by_lua chunk names
--- config
    location /t {
        rewrite_by_lua_block { ngx.log(ngx.WARN, "from rw") }
        access_by_lua 'ngx.log(ngx.WARN, "from acc")';
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval: qr/\[lua\] \w+_by_lua\(nginx\.conf:\d+\):\d+: from \w+/
--- grep_error_log_out eval
qr/^\[lua\] rewrite_by_lua\(nginx\.conf:\d+\):1: from rw\n\[lua\] access_by_lua\(nginx\.conf:\d+\):1: from acc\n$/



=== TEST 19: ngx.log returns nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.log(ngx.INFO, "x")))
        }
    }
--- request
GET /t
--- response_body
0
--- no_error_log
[error]
