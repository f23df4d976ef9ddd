# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: ngx.time is the current time in whole seconds
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.time()
            -- ngx.time is nginx's cached time: it may lag the clock by the
            -- time since the event loop last woke (seconds on a loaded box).
            local d = os.time() - t
            ngx.say(type(t), " ", t % 1 == 0, " ", d >= 0 and d <= 3)
        }
    }
--- request
GET /t
--- response_body
number true true
--- no_error_log
[error]



=== TEST 2: ngx.now has millisecond precision and agrees with ngx.time
--- config
    location /t {
        content_by_lua_block {
            local n = ngx.now()
            ngx.say(math.floor(n) == ngx.time())
            local ms = n * 1000
            ngx.say(math.abs(ms - math.floor(ms + 0.5)) < 0.01)
        }
    }
--- request
GET /t
--- response_body
true
true
--- no_error_log
[error]



=== TEST 3: ngx.today, ngx.localtime and ngx.utctime
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.time()
            ngx.say(ngx.today() == os.date("%Y-%m-%d", t))
            ngx.say(ngx.localtime() == os.date("%Y-%m-%d %H:%M:%S", t))
            ngx.say(ngx.utctime() == os.date("!%Y-%m-%d %H:%M:%S", t))
            ngx.say(string.match(ngx.utctime(), "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil)
        }
    }
--- request
GET /t
--- response_body
true
true
true
true
--- no_error_log
[error]



=== TEST 4: the time is nginx's cached time until ngx.update_time
--- config
    location /t {
        content_by_lua_block {
            local t1 = ngx.now()
            local start = os.clock()
            while os.clock() - start < 0.02 do end
            local t2 = ngx.now()
            ngx.update_time()
            local t3 = ngx.now()
            ngx.say(t1 == t2, " ", t3 > t2)
        }
    }
--- request
GET /t
--- response_body
true true
--- no_error_log
[error]



=== TEST 5: ngx.http_time
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.http_time(1290079655))
            ngx.say(ngx.http_time(0))
            ngx.say(ngx.http_time(1700000000.9))
            ngx.say(ngx.http_time(-1))
        }
    }
--- request
GET /t
--- response_body
Thu, 18 Nov 2010 11:27:35 GMT
Thu, 01 Jan 1970 00:00:00 GMT
Tue, 14 Nov 2023 22:13:20 GMT
Thu, 01 Jan 1970 00:00:00 GMT
--- no_error_log
[error]



=== TEST 6: ngx.cookie_time uses two-digit years up to 2037
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.cookie_time(1290079655))
            ngx.say(ngx.cookie_time(0))
            ngx.say(ngx.cookie_time(2147483648))
        }
    }
--- request
GET /t
--- response_body
Thu, 18-Nov-10 11:27:35 GMT
Thu, 01-Jan-70 00:00:00 GMT
Tue, 19-Jan-2038 03:14:08 GMT
--- no_error_log
[error]



=== TEST 7: http_time, cookie_time and parse_http_time check their argument
--- config
    location /t {
        content_by_lua_block {
            local function try(f, ...)
                local ok, err = pcall(f, ...)
                ngx.say(ok, " ", (string.gsub(tostring(err), "^.-:%d+: ", "")))
            end
            try(ngx.http_time, "1290079655")
            try(ngx.http_time)
            try(ngx.cookie_time, nil)
            try(ngx.cookie_time, {})
            try(ngx.parse_http_time, 1290079655)
            try(ngx.parse_http_time)
        }
    }
--- request
GET /t
--- response_body
false number argument only
false number argument only
false number argument only
false number argument only
false string argument only
false string argument only
--- no_error_log
[error]



=== TEST 8: ngx.parse_http_time reads the three HTTP date formats
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT"))
            ngx.say(ngx.parse_http_time("Sun, 06 Nov 1994 08:49:37 GMT"))
            ngx.say(ngx.parse_http_time("Sunday, 06-Nov-94 08:49:37 GMT"))
            ngx.say(ngx.parse_http_time("Sun Nov  6 08:49:37 1994"))
            ngx.say(ngx.parse_http_time("Thu, 01 Jan 1970 00:00:00 GMT"))
        }
    }
--- request
GET /t
--- response_body
1290079655
784111777
784111777
784111777
0
--- no_error_log
[error]



=== TEST 9: ngx.parse_http_time returns nil for what it cannot read
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.parse_http_time(""))
            ngx.say(ngx.parse_http_time("abc"))
            ngx.say(ngx.parse_http_time("Thu, 18 Nov 2010"))
            ngx.say(ngx.parse_http_time("Thu, 18 Xyz 2010 11:27:35 GMT"))
            ngx.say(ngx.parse_http_time("Thu, 18 Nov 2010 25:27:35 GMT"))
            ngx.say(ngx.parse_http_time("Thu, 31 Nov 2010 11:27:35 GMT"))
            ngx.say(ngx.parse_http_time("Sun, 29 Feb 2015 11:27:35 GMT"))
        }
    }
--- request
GET /t
--- response_body
nil
nil
nil
nil
nil
nil
nil
--- no_error_log
[error]



=== TEST 10: http_time and parse_http_time round trip
--- config
    location /t {
        content_by_lua_block {
            local ok = true
            for _, t in ipairs({0, 1, 86399, 951782400, 1290079655, 1700000000, 4102444799}) do
                if ngx.parse_http_time(ngx.http_time(t)) ~= t then
                    ok = false
                    ngx.say("mismatch at ", t)
                end
            end
            local now = ngx.time()
            ngx.say(ok, " ", ngx.parse_http_time(ngx.http_time(now)) == now,
                    " ", ngx.parse_http_time(ngx.cookie_time(now)) == now)
        }
    }
--- request
GET /t
--- response_body
true true true
--- no_error_log
[error]



=== TEST 11: time functions in set_by_lua
--- config
    location /t {
        set_by_lua_block $h { return ngx.http_time(784111777) }
        set_by_lua_block $ok { return ngx.today() == os.date("%Y-%m-%d", ngx.time()) and "yes" or "no" }
        return 200 "$h $ok\n";
    }
--- request
GET /t
--- response_body
Sun, 06 Nov 1994 08:49:37 GMT yes
--- no_error_log
[error]
