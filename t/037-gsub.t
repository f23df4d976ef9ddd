# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: replaces every match and counts them
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.gsub("hello, world", "o", "0")
            ngx.say(s, " ", n, " ", err)
            s, n, err = ngx.re.gsub("hello, world", "z", "0")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
hell0, w0rld 2 nil
hello, world 0 nil
--- no_error_log
[error]



=== TEST 2: templates with captures
--- config
    location /t {
        content_by_lua_block {
            local s, n = ngx.re.gsub("hello, world", "([a-z])[a-z]+", "[$0,$1]")
            ngx.say(s, " ", n)
            s, n = ngx.re.gsub("a=1, b=2", [[(\w)=(\d)]], "$2=$1")
            ngx.say(s, " ", n)
            s, n = ngx.re.gsub("price: 5", [[\d]], "$$${0}")
            ngx.say(s, " ", n)
        }
    }
--- request
GET /t
--- response_body
[hello,h], [world,w] 2
1=a, 2=b 2
price: $5 1
--- no_error_log
[error]



=== TEST 3: function replacement for every match
--- config
    location /t {
        content_by_lua_block {
            local s, n = ngx.re.gsub("hello, world", "([a-z])[a-z]+", function(m)
                return "[" .. m[0] .. "," .. m[1] .. "]"
            end)
            ngx.say(s, " ", n)
            local i = 0
            s, n = ngx.re.gsub("a b c", "[a-z]", function(m)
                i = i + 1
                return i
            end, "jo")
            ngx.say(s, " ", n)
        }
    }
--- request
GET /t
--- response_body
[hello,h], [world,w] 2
1 2 3 3
--- no_error_log
[error]



=== TEST 4: empty matches, as Perl does it
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.gsub("abc", "", "-"))
            ngx.say(ngx.re.gsub("abc", "x*", "-"))
            ngx.say(ngx.re.gsub("abc", "b*", "-"))
            ngx.say(ngx.re.gsub("abc", "", function() return "-" end))
            ngx.say(ngx.re.gsub("", "", "-"))
            ngx.say(ngx.re.gsub("", "x", "-"))
        }
    }
--- request
GET /t
--- response_body
-a-b-c-4
-a-b-c-4
-a--c-4
-a-b-c-4
-1
0
--- no_error_log
[error]



=== TEST 5: UTF-8: empty matches step over whole characters with u
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.gsub("你好", "", "-", "u"))
            ngx.say(ngx.re.gsub("你好", "", function() return "-" end, "u"))
            ngx.say(ngx.re.gsub("你好吗", "好", "[$0]", "u"))
        }
    }
--- request
GET /t
--- response_body
-你-好-3
-你-好-3
你[好]吗1
--- no_error_log
[error]



=== TEST 6: a long subject with many matches
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("ab", 100000)
            local r, n = ngx.re.gsub(s, "b", "xy", "jo")
            ngx.say(#r, " ", n, " ", r:sub(1, 9))
            r, n = ngx.re.gsub(s, "a", function(m) return "" end)
            ngx.say(#r, " ", n, " ", r:sub(1, 5))
        }
    }
--- request
GET /t
--- response_body
300000 100000 axyaxyaxy
100000 100000 bbbbb
--- no_error_log
[error]



=== TEST 7: errors: bad pattern, bad template, match limit
--- http_config
    lua_regex_match_limit 1000;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.gsub("abc", "[", "x"))
            ngx.say(ngx.re.gsub("abc", "b", "$x"))
            local s = "ab " .. string.rep("a", 25) .. "!"
            ngx.say(ngx.re.gsub(s, [[ab|(\w+\s?)*$]], "x"))
            ngx.say(ngx.re.gsub(s, [[ab|(\w+\s?)*$]], function() return "x" end))
        }
    }
--- request
GET /t
--- response_body
nilnilpcre2_compile() failed: missing terminating ] for character class in "["
nilnilfailed to compile the replacement template
nilnilpcre_exec() failed: -47
nilnilpcre_exec() failed: -47
--- error_log
attempt to use named capturing variable "x" (named captures not supported yet)



=== TEST 8: o option caches the regex with its template
--- config
    location /t {
        content_by_lua_block {
            for _, t in ipairs({"<$0>", "[$0]", "<$0>"}) do
                ngx.say(ngx.re.gsub("a1b2", [[\d]], t, "jo"))
            end
            ngx.say(ngx.re.gsub("a1b2", [[\d]], function(m) return "#" end, "jo"))
            ngx.say(ngx.re.match("a1b2", [[\d]], "jo")[0])
        }
    }
--- request
GET /t
--- response_body
a<1>b<2>2
a[1]b[2]2
a<1>b<2>2
a#b#2
1
--- no_error_log
[error]



=== TEST 9: nested gsub in the replacement function with the same cached regex
--- config
    location /t {
        content_by_lua_block {
            local s, n = ngx.re.gsub("a1 b22", [[\w+]], function(m)
                local inner = ngx.re.gsub(m[0], [[\w+]], "<$0>", "o")
                local again = ngx.re.gsub(m[0], [[\w+]], function(x) return x[0]:upper() end, "o")
                return inner .. again
            end, "o")
            ngx.say(s, " ", n)
        }
    }
--- request
GET /t
--- response_body
<a1>A1 <b22>B22 2
--- no_error_log
[error]



=== TEST 10: gsub with a cache of size 1 churned inside the callback
--- http_config
    lua_regex_cache_max_entries 1;
--- config
    location /t {
        content_by_lua_block {
            local s, n = ngx.re.gsub("a b c d", "[a-z]", function(m)
                for i = 1, 5 do
                    ngx.re.match("x", "x" .. i, "o")
                end
                collectgarbage()
                return m[0]:upper()
            end, "o")
            ngx.say(s, " ", n)
        }
    }
--- request
GET /t
--- response_body
A B C D 4
--- no_error_log
[error]
