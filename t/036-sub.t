# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: replaces the first match only; returns the count
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.sub("hello, 1234 5678", [[\d+]], "N")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
hello, N 5678 1 nil
--- no_error_log
[error]



=== TEST 2: no match returns the subject and 0
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.sub("hello", [[\d+]], "N")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
hello 0 nil
--- no_error_log
[error]



=== TEST 3: template variables $0, $1, ${1}, $$
--- config
    location /t {
        content_by_lua_block {
            local function show(s, n, err) ngx.say(s, " ", n, " ", err) end
            show(ngx.re.sub("hello, 1234", "([0-9])[0-9]", "[$0][$1]"))
            show(ngx.re.sub("hello, 1234", "[0-9]", "${0}00"))
            show(ngx.re.sub("hello, 1234", "[0-9]", "$$0"))
            show(ngx.re.sub("a-b", "(a)-(b)", "$2$1"))
            show(ngx.re.sub("a-b", "(a)-(b)", "$21"))
            show(ngx.re.sub("a-b", "(a)-(b)", "${2}1"))
        }
    }
--- request
GET /t
--- response_body
hello, [12][1]34 1 nil
hello, 100234 1 nil
hello, $0234 1 nil
ba 1 nil
 1 nil
b1 1 nil
--- no_error_log
[error]



=== TEST 4: unmatched and nonexistent groups expand to nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.say((ngx.re.sub("b", "(a)?(b)", "<$1|$2|$3>")))
            ngx.say((ngx.re.sub("b", "(b)(c)?", "<$1|$2>")))
        }
    }
--- request
GET /t
--- response_body
<|b|>
<b|>
--- no_error_log
[error]



=== TEST 5: a trailing $ in the template is an error
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.sub("hello", "l", "x$")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil nil failed to compile the replacement template
--- error_log
lua script: invalid capturing variable name found in "x$"



=== TEST 6: an unclosed ${ is an error
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.sub("hello", "l", "${1")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil nil failed to compile the replacement template
--- error_log
the closing bracket in "1" variable is missing



=== TEST 7: named variables are not supported in templates
--- config
    location /t {
        content_by_lua_block {
            local s, n, err = ngx.re.sub("hello", "(?<x>l)", "${x}")
            ngx.say(s, " ", n, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil nil failed to compile the replacement template
--- error_log
attempt to use named capturing variable "x" (named captures not supported yet)



=== TEST 8: function replacement gets the captures table
--- config
    location /t {
        content_by_lua_block {
            local s, n = ngx.re.sub("hello, world", [[(?<w>[a-z]+)]], function(m)
                return "<" .. m[0] .. ":" .. m.w .. ">"
            end)
            ngx.say(s, " ", n)
            s, n = ngx.re.sub("a1", [[\d]], function(m) return 42 end)
            ngx.say(s, " ", n)
            s, n = ngx.re.sub("a1", [[\d]], function(m) return nil end)
            ngx.say(s, " ", n)
        }
    }
--- request
GET /t
--- response_body
<hello:hello>, world 1
a42 1
anil 1
--- no_error_log
[error]



=== TEST 9: a Lua error in the replacement function propagates
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.re.sub, "abc", "b", function(m) error("boom") end, "o")
            ngx.say(ok, " ", err)
            ngx.say((ngx.re.sub("abc", "b", function(m) return "B" end, "o")))
        }
    }
--- request
GET /t
--- response_body_like chomp
^false .*boom
aBc$
--- no_error_log
[error]



=== TEST 10: bad regex: nil, nil, err
--- config
    location /t {
        content_by_lua_block {
            local function show(s, n, err) ngx.say(s, " ", n, " ", err) end
            show(ngx.re.sub("abc", "(", "x"))
            show(ngx.re.sub("abc", "(", function() return "x" end))
        }
    }
--- request
GET /t
--- response_body
nil nil pcre2_compile() failed: missing closing parenthesis in "("
nil nil pcre2_compile() failed: missing closing parenthesis in "("
--- no_error_log
[error]



=== TEST 11: empty match at the start, and a lookahead keeps the rest
--- config
    location /t {
        content_by_lua_block {
            ngx.say((ngx.re.sub("abc", "", "-")))
            ngx.say((ngx.re.sub("ab", "(?=b)", "-")))
            ngx.say((ngx.re.sub("ab", "(?=b)", function() return "-" end)))
        }
    }
--- request
GET /t
--- response_body
-abc
a-b
a-b
--- no_error_log
[error]



=== TEST 12: options: i, o, j, u; non-string subject and replacement
--- config
    location /t {
        content_by_lua_block {
            local function show(s, n, err) ngx.say(s, " ", n, " ", err) end
            show(ngx.re.sub("HELLO", "l+", "L", "i"))
            for i = 1, 3 do
                show(ngx.re.sub("a1", [[\d]], "<$0>", "jo"))
            end
            show(ngx.re.sub("你好", ".", "[$0]", "u"))
            show(ngx.re.sub(1234, "3", 9))
        }
    }
--- request
GET /t
--- response_body
HELO 1 nil
a<1> 1 nil
a<1> 1 nil
a<1> 1 nil
[你]好 1 nil
1294 1 nil
--- no_error_log
[error]



=== TEST 13: the replacement function may call ngx.re itself
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.re.sub("x=a1b2", [[=(\w+)]], function(m)
                return "=" .. ngx.re.gsub(m[1], [[\d]], "#", "jo")
            end, "jo")
            ngx.say(s)
        }
    }
--- request
GET /t
--- response_body
x=a#b#
--- no_error_log
[error]
