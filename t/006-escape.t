# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: escape_uri escapes a URI component by default
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.escape_uri("a 你"))
            ngx.say(ngx.escape_uri("key=a b&c/d?e#f+g"))
            ngx.say(ngx.escape_uri("plain-text_1.2~"))
        }
    }
--- request
GET /t
--- response_body
a%20%E4%BD%A0
key%3Da%20b%26c%2Fd%3Fe%23f%2Bg
plain-text_1.2~
--- no_error_log
[error]



=== TEST 2: the component set keeps letters, digits and -._~!*'() only
--- config
    location /t {
        content_by_lua_block {
            local kept = {}
            for c = 0, 255 do
                local ch = string.char(c)
                if ngx.escape_uri(ch) == ch then
                    kept[#kept + 1] = ch
                end
            end
            ngx.say(table.concat(kept))
            ngx.say(ngx.escape_uri("\"$,:;<>@[\\]^`{|}"))
            ngx.say(ngx.escape_uri("\0\t\r\n\127\255"))
        }
    }
--- request
GET /t
--- response_body
!'()*-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~
%22%24%2C%3A%3B%3C%3E%40%5B%5C%5D%5E%60%7B%7C%7D
%00%09%0D%0A%7F%FF
--- no_error_log
[error]



=== TEST 3: type 0 escapes a whole URI (space, #, %, ? and non-printables)
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.escape_uri("/a b/c?d=e&f=g#h%i+j", 0))
            ngx.say(ngx.escape_uri("/ok/path;p=1", 0))
            ngx.say(ngx.escape_uri("\1\127\200", 0))
        }
    }
--- request
GET /t
--- response_body
/a%20b/c%3Fd=e&f=g%23h%25i+j
/ok/path;p=1
%01%7F%C8
--- no_error_log
[error]



=== TEST 4: the other escape types
--- config
    location /t {
        content_by_lua_block {
            local s = [[a b+c#d%e"f'g?h]]
            for t = 1, 6 do
                ngx.say(t, ": ", ngx.escape_uri(s, t))
            end
            ngx.say("2: ", ngx.escape_uri(s, 2))
        }
    }
--- request
GET /t
--- response_body
1: a%20b%2Bc%23d%25e"f'g%3Fh
2: a%20b%2Bc%23d%25e%22f'g%3Fh
3: a%20b+c%23d%25e%22f%27g?h
4: a%20b+c#d%e%22f%27g?h
5: a%20b+c#d%25e"f'g?h
6: a%20b+c#d%25e"f'g?h
2: a%20b%2Bc%23d%25e%22f'g%3Fh
--- no_error_log
[error]



=== TEST 5: escape_uri turns nil and false into "" and other values into strings
--- config
    location /t {
        content_by_lua_block {
            ngx.say("[", ngx.escape_uri(nil), "]")
            ngx.say("[", ngx.escape_uri(false), "]")
            ngx.say("[", ngx.escape_uri(true), "]")
            ngx.say("[", ngx.escape_uri(3.5), "]")
            ngx.say("[", ngx.escape_uri(setmetatable({}, {__tostring = function() return "t b" end})), "]")
        }
    }
--- request
GET /t
--- response_body
[]
[]
[true]
[3.5]
[t%20b]
--- no_error_log
[error]



=== TEST 6: escape_uri rejects a bad type argument
--- config
    location /t {
        content_by_lua_block {
            local function try(...)
                local ok, err = pcall(ngx.escape_uri, ...)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try("a", "2")
            try("a", {})
            try("a", 7)
            try("a", -1)
            try("a b", 1.5)
        }
    }
--- request
GET /t
--- response_body
false "type" is not a number
false "type" is not a number
false "type" 7 out of range
false "type" -1 out of range
true a%20b
--- no_error_log
[error]



=== TEST 7: unescape_uri decodes %XX and '+'
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.unescape_uri("a%20%e4%bd%a0"))
            ngx.say(ngx.unescape_uri("a+b%2Bc%2bd"))
            ngx.say(ngx.unescape_uri("%41%42%43%3f%3D"))
        }
    }
--- request
GET /t
--- response_body
a 你
a b+c+d
ABC?=
--- no_error_log
[error]



=== TEST 8: unescape_uri keeps a '%' that does not start a valid escape
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.unescape_uri("100%"))
            ngx.say(ngx.unescape_uri("%zz%4%"))
            ngx.say(ngx.unescape_uri("%%41"))
            ngx.say(ngx.unescape_uri("%g0%0g"))
        }
    }
--- request
GET /t
--- response_body
100%
%zz%4%
%A
%g0%0g
--- no_error_log
[error]



=== TEST 9: unescape_uri with nil, numbers and other values
--- config
    location /t {
        content_by_lua_block {
            ngx.say("[", ngx.unescape_uri(nil), "]")
            ngx.say("[", ngx.unescape_uri(42), "]")
            ngx.say("[", ngx.unescape_uri(true), "]")
        }
    }
--- request
GET /t
--- response_body
[]
[42]
[true]
--- no_error_log
[error]



=== TEST 10: every byte survives escape_uri + unescape_uri, for every type
--- config
    location /t {
        content_by_lua_block {
            local bytes = {}
            for c = 0, 255 do
                bytes[#bytes + 1] = string.char(c)
            end
            local all = table.concat(bytes)
            ngx.say(ngx.unescape_uri(ngx.escape_uri(all)) == all)
            -- '+' survives only where it is escaped (types 1 and 2)
            local no_plus = (all:gsub("%+", ""))
            for t = 0, 6 do
                local s = (t == 1 or t == 2) and all or no_plus
                local e = ngx.escape_uri(s, t)
                ngx.say(t, " ", ngx.unescape_uri(e) == s)
            end
        }
    }
--- request
GET /t
--- response_body
true
0 true
1 true
2 true
3 true
4 true
5 true
6 true
--- no_error_log
[error]



=== TEST 11: escape_uri and unescape_uri in set_by_lua
--- config
    location /t {
        set_by_lua_block $e { return ngx.escape_uri("a b/c") }
        set_by_lua_block $u { return ngx.unescape_uri("x%20y+z") }
        return 200 "$e $u\n";
    }
--- request
GET /t
--- response_body
a%20b%2Fc x y z
--- no_error_log
[error]
