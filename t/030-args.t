# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: encode_args with string and number values
--- config
    location /t {
        content_by_lua_block {
            local function sorted(s)
                local parts = {}
                for p in string.gmatch(s, "[^&]+") do
                    parts[#parts + 1] = p
                end
                table.sort(parts)
                return table.concat(parts, "&")
            end
            ngx.say(sorted(ngx.encode_args({foo = 3, ["b r"] = "hello world"})))
            ngx.say(ngx.encode_args({a = "1"}))
            ngx.say("[", ngx.encode_args({}), "]")
            ngx.say(ngx.encode_args({n = 1.5}), " ", ngx.encode_args({n = 1e15}))
        }
    }
--- request
GET /t
--- response_body
b%20r=hello%20world&foo=3
a=1
[]
n=1.5 n=1e%2B15
--- no_error_log
[error]



=== TEST 2: encode_args with multi-value and boolean arguments
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.encode_args({baz = {32, "hello"}}))
            ngx.say(ngx.encode_args({baz = {true, false, "x"}}))
            ngx.say(ngx.encode_args({a = true}))
            ngx.say("[", ngx.encode_args({b = false}), "]")
            ngx.say("[", ngx.encode_args({c = {}}), "]")
            local s = ngx.encode_args({a = true, b = 1})
            ngx.say(s == "a&b=1" or s == "b=1&a")
        }
    }
--- request
GET /t
--- response_body
baz=32&baz=hello
baz&baz=x
a
[]
[]
true
--- no_error_log
[error]



=== TEST 3: encode_args escapes keys and values as URI components
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.encode_args({q = "a&b=c/d?e#f"}))
            ngx.say(ngx.encode_args({["k&y"] = "~!*'()-._"}))
            ngx.say(ngx.encode_args({u = "你"}))
            ngx.say(ngx.encode_args({s = "a+b c%"}))
        }
    }
--- request
GET /t
--- response_body
q=a%26b%3Dc%2Fd%3Fe%23f
k%26y=~!*'()-._
u=%E4%BD%A0
s=a%2Bb%20c%25
--- no_error_log
[error]



=== TEST 4: encode_args rejects what it cannot encode
--- config
    location /t {
        content_by_lua_block {
            local function try(f)
                local ok, err = pcall(f)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try(function() local r = ngx.encode_args({"a"}) return r end)
            try(function() local r = ngx.encode_args({[true] = 1}) return r end)
            try(function() local r = ngx.encode_args({a = print}) return r end)
            try(function() local r = ngx.encode_args({a = {{}}}) return r end)
            try(function() local r = ngx.encode_args("a=1") return r end)
            try(function() local r = ngx.encode_args() return r end)
            try(function() local r = ngx.encode_args({}, {}) return r end)
        }
    }
--- request
GET /t
--- response_body
false attempt to use a non-string key in the "args" option table
false attempt to use a non-string key in the "args" option table
false attempt to use function as query arg value
false attempt to use table as query arg value
false bad argument #1 to 'encode_args' (table expected, got string)
false expecting 1 argument but seen 0
false expecting 1 argument but seen 2
--- no_error_log
[error]



=== TEST 5: decode_args basics
--- config
    location /t {
        content_by_lua_block {
            local function dump(t)
                local keys = {}
                for k in pairs(t) do
                    keys[#keys + 1] = k
                end
                table.sort(keys)
                for _, k in ipairs(keys) do
                    local v = t[k]
                    if type(v) == "table" then
                        local parts = {}
                        for i, x in ipairs(v) do
                            parts[i] = tostring(x)
                        end
                        v = "{" .. table.concat(parts, ",") .. "}"
                    end
                    ngx.say(k, " = ", tostring(v))
                end
            end
            dump(ngx.decode_args("a=1&b=2&c"))
            ngx.say("--")
            dump(ngx.decode_args(""))
            ngx.say("--")
            dump(ngx.decode_args(123))
        }
    }
--- request
GET /t
--- response_body
a = 1
b = 2
c = true
--
--
123 = true
--- no_error_log
[error]



=== TEST 6: decode_args with repeated keys, empty values and empty keys
--- config
    location /t {
        content_by_lua_block {
            local function dump(t)
                local keys = {}
                for k in pairs(t) do
                    keys[#keys + 1] = k
                end
                table.sort(keys)
                for _, k in ipairs(keys) do
                    local v = t[k]
                    if type(v) == "table" then
                        local parts = {}
                        for i, x in ipairs(v) do
                            parts[i] = tostring(x)
                        end
                        v = "{" .. table.concat(parts, ",") .. "}"
                    end
                    ngx.say(k, " = [", tostring(v), "]")
                end
            end
            dump(ngx.decode_args("a=1&a=2&a&b=&=x&&c=d=e&"))
        }
    }
--- request
GET /t
--- response_body
a = [{1,2,true}]
b = []
c = [d=e]
--- no_error_log
[error]



=== TEST 7: decode_args unescapes keys and values
--- config
    location /t {
        content_by_lua_block {
            local args = ngx.decode_args("a%20b=1%61+2&%3D=%26&x=%zz")
            ngx.say("[", args["a b"], "]")
            ngx.say("[", args["="], "]")
            ngx.say("[", args.x, "]")
        }
    }
--- request
GET /t
--- response_body
[1a 2]
[&]
[%zz]
--- no_error_log
[error]



=== TEST 8: decode_args max_args
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _, v in pairs(t) do
                    n = n + (type(v) == "table" and #v or 1)
                end
                return n
            end
            local t, err = ngx.decode_args("a=1&b=2&c=3", 2)
            ngx.say(count(t), " ", t.a, t.b, " ", tostring(t.c), " ", err)
            t, err = ngx.decode_args("a=1&b=2", 2)
            ngx.say(count(t), " ", tostring(err))
            local parts = {}
            for i = 1, 150 do
                parts[i] = "k" .. i .. "=" .. i
            end
            local many = table.concat(parts, "&")
            t, err = ngx.decode_args(many)
            ngx.say(count(t), " ", tostring(err))
            t, err = ngx.decode_args(many, 0)
            ngx.say(count(t), " ", tostring(err))
            t, err = ngx.decode_args(many, -1)
            ngx.say(count(t), " ", tostring(err))
            t, err = ngx.decode_args(many, "10")
            ngx.say(count(t), " ", tostring(err))
        }
    }
--- request
GET /t
--- response_body
2 12 nil truncated
2 nil
100 truncated
150 nil
150 nil
10 truncated
--- no_error_log
[error]



=== TEST 9: decode_args checks its arguments
--- config
    location /t {
        content_by_lua_block {
            local function try(f)
                local ok, err = pcall(f)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try(function() local r = ngx.decode_args() return r end)
            try(function() local r = ngx.decode_args("a", 1, 2) return r end)
            try(function() local r = ngx.decode_args({}) return r end)
            try(function() local r = ngx.decode_args("a", {}) return r end)
            try(function() local r = ngx.decode_args("a", "x") return r end)
            try(function() local r = ngx.decode_args("a", nil) return r end)
        }
    }
--- request
GET /t
--- response_body
false expecting 1 or 2 arguments but seen 0
false expecting 1 or 2 arguments but seen 3
false bad argument #1 to 'decode_args' (string expected, got table)
false bad argument #2 to 'decode_args' (number expected, got table)
false bad argument #2 to 'decode_args' (number expected, got string)
false bad argument #2 to 'decode_args' (number expected, got nil)
--- no_error_log
[error]



=== TEST 10: decode_args returns a second value only when truncated
--- config
    location /t {
        content_by_lua_block {
            ngx.say(select("#", ngx.decode_args("a=1&b=2")))
            ngx.say(select("#", ngx.decode_args("a=1&b=2&c", 2)))
            ngx.say(select("#", ngx.decode_args("a=1&b=2", 2)))
        }
    }
--- request
GET /t
--- response_body
1
2
1
--- no_error_log
[error]



=== TEST 11: encode_args and decode_args round trip
--- config
    location /t {
        content_by_lua_block {
            local src = {a = "x y", b = {"1", "2"}, c = true, ["d&e"] = "f=g", u = "你好+"}
            local t = ngx.decode_args(ngx.encode_args(src))
            ngx.say(t.a, "|", t.b[1], t.b[2], "|", tostring(t.c), "|", t["d&e"], "|", t.u)
        }
    }
--- request
GET /t
--- response_body
x y|12|true|f=g|你好+
--- no_error_log
[error]



=== TEST 12: encode_args in set_by_lua
--- config
    location /t {
        set_by_lua_block $q { return ngx.encode_args({k = "a b"}) }
        return 200 "$q\n";
    }
--- request
GET /t
--- response_body
k=a%20b
--- no_error_log
[error]
