# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: whole match and a capture group
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("hello, 1234", [[([0-9]+)]])
            ngx.say(m[0], " ", m[1], " ", #m, " ", err)
        }
    }
--- request
GET /t
--- response_body
1234 1234 1 nil
--- no_error_log
[error]



=== TEST 2: no match gives a single nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.re.match("hello", [[\d+]])), " ", ngx.re.match("hello", [[\d+]]))
        }
    }
--- request
GET /t
--- response_body
1 nil
--- no_error_log
[error]



=== TEST 3: unmatched groups are false, up to the last group of the pattern
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello", [[(h)(x)?(e)(z)?]])
            ngx.say(m[0], " ", m[1], " ", m[2], " ", m[3], " ", m[4], " ", m[5])
            m = ngx.re.match("b", [[(a)|(b)]])
            ngx.say(m[1], " ", m[2])
        }
    }
--- request
GET /t
--- response_body
he h false e false nil
false b
--- no_error_log
[error]



=== TEST 4: named captures appear under their names and numbers
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello world", [[(?<first>\w+) (?<second>\w+)(?<third>!)?]])
            ngx.say(m.first, " ", m.second, " ", m.third, " ", m[1], " ", m[2], " ", m[3])
        }
    }
--- request
GET /t
--- response_body
hello world false hello world false
--- no_error_log
[error]



=== TEST 5: D option collects duplicate names into arrays (unmatched left out)
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("ac", [[(?<w>a)(?<w>b)?(?<w>c)]], "D")
            ngx.say(type(m.w), " ", table.concat(m.w, ","), " ", #m.w)
            m = ngx.re.match("b", [[(?<n>a)|(?<n>b)]], "D")
            ngx.say(table.concat(m.n, ","))
        }
    }
--- request
GET /t
--- response_body
table a,c 2
b
--- no_error_log
[error]



=== TEST 6: duplicate names without D are a compile error
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("ab", [[(?<n>a)(?<n>b)]])
            ngx.say(m, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^nil pcre2_compile\(\) failed: two named subpatterns have the same name .* in "\(\?<n>a\)\(\?<n>b\)" at "
--- no_error_log
[error]



=== TEST 7: bad pattern returns nil and PCRE2's message
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("abc", "(abc")
            ngx.say(m, " ", err)
            m, err = ngx.re.match("abc", "a**")
            ngx.say(m, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil pcre2_compile() failed: missing closing parenthesis in "(abc"
nil pcre2_compile() failed: quantifier does not follow a repeatable item in "a**" at "*"
--- no_error_log
[error]



=== TEST 8: long bad patterns: the message is cut at 127 bytes like upstream
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("abc", "(" .. string.rep("x", 200))
            ngx.say(#err, " ", err:sub(1, 60))
        }
    }
--- request
GET /t
--- response_body
127 pcre2_compile() failed: missing closing parenthesis in "(xxx
--- no_error_log
[error]



=== TEST 9: an unknown option letter is raised
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.re.match, "a", "a", "jq")
            ngx.say(ok, " ", err)
            ok, err = pcall(function() local m = ngx.re.match("a", "a", "H") return m end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false (?:\S+: )?unknown flag "q" \(flags "jq"\)
false \S+:\d+: unknown flag "H" \(flags "H"\)$
--- no_error_log
[error]



=== TEST 10: i, m, s, x options
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("HELLO", "hel+o", "i")[0])
            ngx.say(ngx.re.match("HELLO", "hel+o"))
            ngx.say(ngx.re.match("a\nb", "^b$", "m")[0])
            ngx.say(ngx.re.match("a\nb", "^b$"))
            ngx.say(#ngx.re.match("a\nb", "a.b", "s")[0])
            ngx.say(ngx.re.match("a\nb", "a.b"))
            ngx.say(ngx.re.match("abc", "a  b  c # comment", "x")[0])
        }
    }
--- request
GET /t
--- response_body
HELLO
nil
b
nil
3
nil
abc
--- no_error_log
[error]



=== TEST 11: a option anchors at the start position
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello", "ll", "a"))
            ngx.say(ngx.re.match("hello", "he", "a")[0])
            local ctx = { pos = 3 }
            ngx.say(ngx.re.match("hello", "ll", "a", ctx)[0], " ", ctx.pos)
        }
    }
--- request
GET /t
--- response_body
nil
he
ll 5
--- no_error_log
[error]



=== TEST 12: ctx.pos is where matching starts and is set past the match
--- config
    location /t {
        content_by_lua_block {
            local ctx = { pos = 2 }
            local m = ngx.re.match("1234, 56", "[0-9]+", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            m = ngx.re.match("1234, 56", "[0-9]+", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            m = ngx.re.match("1234, 56", "[0-9]+", "", ctx)
            ngx.say(m, " ", ctx.pos)
            ctx = {}
            m = ngx.re.match("abc", "b", nil, ctx)
            ngx.say(m[0], " ", ctx.pos)
            ctx = { pos = -5 }
            m = ngx.re.match("abc", "a", nil, ctx)
            ngx.say(m[0], " ", ctx.pos)
        }
    }
--- request
GET /t
--- response_body
234 5
56 9
nil 9
b 3
a 2
--- no_error_log
[error]



=== TEST 13: res table is reused and returned
--- config
    location /t {
        content_by_lua_block {
            local res = { extra = "kept" }
            local m = ngx.re.match("ab", "(a)(b)", "", nil, res)
            ngx.say(m == res, " ", res[0], " ", res[1], " ", res[2], " ", res.extra)
            m = ngx.re.match("xy", "(x)", "o", nil, res)
            ngx.say(m == res, " ", res[0], " ", res[1], " ", res[2])
            m = ngx.re.match("zz", "(x)", "o", nil, res)
            ngx.say(m, " ", res[0])
        }
    }
--- request
GET /t
--- response_body
true ab a b kept
true x x b
nil x
--- no_error_log
[error]



=== TEST 14: u option matches characters, not bytes
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("你好", ".", "u")[0])
            ngx.say(#ngx.re.match("你好", ".")[0])
            ngx.say(ngx.re.match("你好", "^.{2}$", "u")[0])
            ngx.say(ngx.re.match("你好", "^.{2}$"))
            ngx.say(ngx.re.match("你好", ".", "U")[0])
        }
    }
--- request
GET /t
--- response_body
你
1
你好
nil
你
--- no_error_log
[error]



=== TEST 15: invalid UTF-8 in the subject with u is a match error
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("abc\xff", "c", "u")
            ngx.say(m, " ", err)
            m, err = ngx.re.match("abc\xff", "c")
            ngx.say(m[0], " ", err)
            m, err = ngx.re.match("\xff", "a", "u")
            ngx.say(m, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^nil pcre_exec\(\) failed: -\d+
c nil
nil pcre_exec\(\) failed: -\d+$
--- no_error_log
[error]



=== TEST 16: invalid UTF-8 in the pattern with u is a compile error
--- config
    location /t {
        content_by_lua_block {
            local m, err = ngx.re.match("abc", "a\xff", "u")
            ngx.say(m, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^nil pcre2_compile\(\) failed: UTF-8 error: .* in "a\xff"
--- no_error_log
[error]



=== TEST 17: a very long subject
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("a", 1000000) .. "b" .. string.rep("c", 1000)
            local m = ngx.re.match(s, "(a+)(b)(c+)$", "jo")
            ngx.say(#m[0], " ", #m[1], " ", m[2], " ", #m[3])
            local ctx = { pos = 999990 }
            m = ngx.re.match(s, "b", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
        }
    }
--- request
GET /t
--- response_body
1001001 1000000 b 1000
b 1000002
--- no_error_log
[error]



=== TEST 18: d option: DFA finds the longest match and no groups
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello", "he|hell|hel", "d")
            ngx.say(m[0], " ", m[1])
            m = ngx.re.match("hello", "he|hell|hel")
            ngx.say(m[0])
            m = ngx.re.match("hello", "(h)(e)", "d")
            ngx.say(m[0], " ", m[1])
        }
    }
--- request
GET /t
--- response_body
hell nil
he
he nil
--- no_error_log
[error]



=== TEST 19: j (JIT) gives the same answers
--- config
    location /t {
        content_by_lua_block {
            for _, o in ipairs({"", "j", "jo", "o"}) do
                local m = ngx.re.match("/api/v2/users/42", [[^/api/v(\d+)/users/(\d+)$]], o)
                ngx.say(o, ": ", m[0], " ", m[1], " ", m[2])
            end
        }
    }
--- request
GET /t
--- response_body
: /api/v2/users/42 2 42
j: /api/v2/users/42 2 42
jo: /api/v2/users/42 2 42
o: /api/v2/users/42 2 42
--- no_error_log
[error]



=== TEST 20: lua_regex_match_limit stops catastrophic backtracking
--- http_config
    lua_regex_match_limit 1000;
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("a", 25) .. "!"
            local m, err = ngx.re.match(s, [[^(\w+\s?)*$]])
            ngx.say(m, " ", err)
            m, err = ngx.re.match(s, [[^(\w+\s?)*$]], "j")
            ngx.say(m, " ", err)
            ngx.say(ngx.re.match("aab", [[^(\w+\s?)*$]])[0])
        }
    }
--- request
GET /t
--- response_body
nil pcre_exec() failed: -47
nil pcre_exec() failed: -47
aab
--- no_error_log
[error]



=== TEST 21: non-string subjects are converted
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match(12345, [[3(\d)]])[1])
            ngx.say(ngx.re.match(true, "ru")[0])
            local ok, err = pcall(ngx.re.match, "abc", nil)
            ngx.say(ok, " ", err)
            ngx.say(ngx.re.match("a123", 12)[0])
        }
    }
--- request
GET /t
--- response_body_like chomp
^4
ru
false bad argument #2 to 'match' \(string expected, got nil\)
12$
--- no_error_log
[error]



=== TEST 22: J option (JavaScript compatibility)
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("xAy", [[\u0041]], "J")[0])
            ngx.say(ngx.re.match("ab", [[a(x)?\1b]], "J")[0])
            ngx.say(ngx.re.match("ab", [[a(x)?\1b]]))
        }
    }
--- request
GET /t
--- response_body
A
ab
nil
--- no_error_log
[error]



=== TEST 23: empty matches
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("abc", "x*")
            ngx.say("[", m[0], "]")
            local ctx = { pos = 4 }
            m = ngx.re.match("abc", "$", "", ctx)
            ngx.say("[", m[0], "] ", ctx.pos)
        }
    }
--- request
GET /t
--- response_body
[]
[] 4
--- no_error_log
[error]



=== TEST 24: works in init_by_lua, set_by_lua, log and timers
--- http_config
    init_by_lua_block {
        package.loaded.init_m = ngx.re.match("init 42", [[\d+]], "jo")[0]
    }
--- config
    location /t {
        set_by_lua_block $v { return ngx.re.match("set 7", [[\d+]])[0] }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log phase match: ", ngx.re.match("log 5", [[\d+]])[0])
        }
        content_by_lua_block {
            ngx.say(package.loaded.init_m, " ", ngx.var.v)
            local done
            ngx.timer.at(0, function()
                done = ngx.re.match("timer 3", [[\d+]])[0]
            end)
            ngx.sleep(0.05)
            ngx.say(done)
        }
    }
--- request
GET /t
--- response_body
42 7
3
--- error_log
log phase match: 5
