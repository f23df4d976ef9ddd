# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: iterate over every match with captures
--- config
    location /t {
        content_by_lua_block {
            for m in ngx.re.gmatch("hello, world! 42", [[([a-z]+)|(\d+)]]) do
                ngx.say(m[0], " ", m[1], " ", m[2])
            end
        }
    }
--- request
GET /t
--- response_body
hello hello false
world world false
42 false 42
--- no_error_log
[error]



=== TEST 2: the iterator returns nil when done, and keeps returning nil
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("a1b2", [[\d]])
            ngx.say(type(it))
            ngx.say(it()[0])
            ngx.say(it()[0])
            ngx.say(it())
            ngx.say(it())
        }
    }
--- request
GET /t
--- response_body
table
1
2
nil
nil
--- no_error_log
[error]



=== TEST 3: empty matches advance by one position (and end after the last)
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for m in ngx.re.gmatch("abc", "x*") do
                out[#out + 1] = "[" .. m[0] .. "]"
            end
            ngx.say(table.concat(out), " ", #out)
            out = {}
            for m in ngx.re.gmatch("ab", "a|") do
                out[#out + 1] = "[" .. m[0] .. "]"
            end
            ngx.say(table.concat(out))
        }
    }
--- request
GET /t
--- response_body
[][][][] 4
[a][][]
--- no_error_log
[error]



=== TEST 4: empty matches step over whole UTF-8 characters with u
--- config
    location /t {
        content_by_lua_block {
            local n = 0
            for m in ngx.re.gmatch("你好", "", "u") do
                n = n + 1
            end
            ngx.say(n)
            local out = {}
            for m in ngx.re.gmatch("你好x", ".", "u") do
                out[#out + 1] = m[0]
            end
            ngx.say(table.concat(out, "|"))
        }
    }
--- request
GET /t
--- response_body
3
你|好|x
--- no_error_log
[error]



=== TEST 5: named captures and the D option
--- config
    location /t {
        content_by_lua_block {
            for m in ngx.re.gmatch("k1=v1,k2=v2", [[(?<key>\w+)=(?<val>\w+)]]) do
                ngx.say(m.key, " => ", m.val)
            end
            for m in ngx.re.gmatch("ab", [[(?<c>a)|(?<c>b)]], "D") do
                ngx.say(table.concat(m.c, ","))
            end
        }
    }
--- request
GET /t
--- response_body
k1 => v1
k2 => v2
a
b
--- no_error_log
[error]



=== TEST 6: bad pattern: nil and the error
--- config
    location /t {
        content_by_lua_block {
            local it, err = ngx.re.gmatch("abc", "[a-")
            ngx.say(it, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil pcre2_compile() failed: missing terminating ] for character class in "[a-"
--- no_error_log
[error]



=== TEST 7: a match error is returned by the iterator
--- http_config
    lua_regex_match_limit 1000;
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("ab " .. string.rep("a", 25) .. "!", [[ab|(\w+\s?)*$]])
            local m, err = it()
            ngx.say(m and m[0], " ", err)
            m, err = it()
            ngx.say(m, " ", err)
            ngx.say(it())
        }
    }
--- request
GET /t
--- response_body
ab nil
nil pcre_exec() failed: -47
nil
--- no_error_log
[error]



=== TEST 8: o option: cached iterators still work after the cache is churned
--- http_config
    lua_regex_cache_max_entries 2;
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("a1b2c3", [[\d]], "jo")
            ngx.say(it()[0])
            for i = 1, 10 do
                ngx.re.match("x", "x" .. i, "o")
            end
            collectgarbage()
            ngx.say(it()[0])
            ngx.say(it()[0])
            ngx.say(it())
        }
    }
--- request
GET /t
--- response_body
1
2
3
nil
--- no_error_log
[error]



=== TEST 9: gmatch with a DFA regex and j
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for m in ngx.re.gmatch("hello hel he", "hel+|he", "dj") do
                out[#out + 1] = m[0]
            end
            ngx.say(table.concat(out, ","))
        }
    }
--- request
GET /t
--- response_body
hell,hel,he
--- no_error_log
[error]



=== TEST 10: the iterator can be used after the subject string is dropped
--- config
    location /t {
        content_by_lua_block {
            local it
            do
                local s = string.rep("ab", 3) .. "!"
                it = ngx.re.gmatch(s, "b")
            end
            collectgarbage()
            local n = 0
            while it() do n = n + 1 end
            ngx.say(n)
        }
    }
--- request
GET /t
--- response_body
3
--- no_error_log
[error]
