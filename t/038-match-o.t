# vim:set ft= ts=4 sw=4 et fdm=marker:
# The "o" option: the per-worker compiled-regex cache, lua_regex_cache_max_entries.
# One request per server: the cache-full warning is logged once per worker.
# TEST 7 (must_die) has one check less.
use Test::Nginx::Socket::Lua;

repeat_each(1);

plan tests => repeat_each() * (blocks() * 3 - 1);

no_long_string();
run_tests();

__DATA__

=== TEST 1: cached and uncached regexes give the same answers, repeatedly
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for i = 1, 200 do
                local m1 = ngx.re.match("user 42 ok", [[(\w+) (\d+)]], "o")
                local m2 = ngx.re.match("user 42 ok", [[(\w+) (\d+)]], "")
                local m3 = ngx.re.match("user 42 ok", [[(\w+) (\d+)]], "jo")
                if m1[2] ~= "42" or m2[2] ~= "42" or m3[2] ~= "42" then
                    out[#out + 1] = "bad at " .. i
                end
            end
            ngx.say(#out == 0 and "ok" or table.concat(out, ","))
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: options are part of the cache key
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("HELLO", "hello", "o"))
            ngx.say(ngx.re.match("HELLO", "hello", "io")[0])
            ngx.say(ngx.re.match("HELLO", "hello", "o"))
            ngx.say(ngx.re.match("HELLO", "hello", "oi")[0])
        }
    }
--- request
GET /t
--- response_body
nil
HELLO
nil
HELLO
--- no_error_log
[error]



=== TEST 3: exceeding lua_regex_cache_max_entries warns once and keeps working
--- http_config
    lua_regex_cache_max_entries 2;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello, 1234", "([0-9]+)", "o")[0])
            ngx.say(ngx.re.match("howdy, 567", "([0-9]+)", "oi")[0])
            ngx.say(ngx.re.match("hiya, 98", "([0-9]+)", "ox")[0])
            ngx.say(ngx.re.match("hiya, 76", "([0-9]+)", "oj")[0])
            ngx.say(ngx.re.match("hello, 1234", "([0-9]+)", "o")[0])
        }
    }
--- request
GET /t
--- response_body
1234
567
98
76
1234
--- error_log
lua exceeding regex cache max entries (2)



=== TEST 4: the warning is logged only once
--- http_config
    lua_regex_cache_max_entries 1;
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 20 do
                ngx.re.match("x", "x" .. i, "o")
                ngx.re.gsub("x", "x" .. i, "y", "o")
            end
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
done
--- grep_error_log eval
qr/lua exceeding regex cache max entries \(\d+\)/
--- grep_error_log_out
lua exceeding regex cache max entries (1)



=== TEST 5: lua_regex_cache_max_entries 0 disables the cache
--- http_config
    lua_regex_cache_max_entries 0;
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                ngx.say(ngx.re.match("a1", [[\d]], "jo")[0], " ",
                        (ngx.re.gsub("a1", [[\d]], "<$0>", "jo")))
            end
        }
    }
--- request
GET /t
--- response_body
1 a<1>
1 a<1>
1 a<1>
--- no_error_log
lua exceeding regex cache max entries



=== TEST 6: regexes cached in init_by_lua are used by the workers
--- http_config
    init_by_lua_block {
        local m = ngx.re.match("init 1", [[\d]], "jo")
        package.loaded.init_m = m[0]
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.init_m, " ", ngx.re.match("w 2", [[\d]], "jo")[0])
        }
    }
--- request
GET /t
--- response_body
1 2
--- no_error_log
[error]



=== TEST 7: bad values for the directives
--- http_config
    lua_regex_cache_max_entries -1;
--- config
    location /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number



=== TEST 8: ngx.re.opt("jit_stack_size") in init_by_lua; refused once a regex is cached
--- http_config
    init_by_lua_block {
        local re = require "ngx.re"
        re.opt("jit_stack_size", 1024 * 1024)
        package.loaded.opt_ok = true
    }
--- config
    location /t {
        content_by_lua_block {
            local re = require "ngx.re"
            ngx.say(package.loaded.opt_ok)
            local s = string.rep("a", 10000)
            local m, err = ngx.re.match(s, [[(a|b)*]], "jo")
            ngx.say(m and #m[0], " ", err)
            local ok, err = pcall(re.opt, "jit_stack_size", 256 * 1024)
            ngx.say(ok, " ", err)
            ok, err = pcall(re.opt, "foo", 1)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
true
10000 nil
false changing jit stack size is not allowed when some regexs have already been compiled and cached
false unrecognized option name
--- no_error_log
[error]



=== TEST 9: the default JIT stack (32k) is too small for a deep match
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("a", 10000)
            local m, err = ngx.re.match(s, [[(a|b)*]], "jo")
            ngx.say(m, " ", err)
            m, err = ngx.re.match(s, [[(a|b)*]], "o")
            ngx.say(m and #m[0], " ", err)
        }
    }
--- request
GET /t
--- response_body
nil pcre_exec() failed: -46
10000 nil
--- no_error_log
[error]
