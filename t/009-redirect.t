# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: default status is 302, relative Location kept as is
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo?a=1")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /foo?a=1
--- no_error_log
[error]



=== TEST 2: 302 response carries nginx's page body
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_body_like: 302 Found
--- no_error_log
[error]



=== TEST 3: 301 with an absolute url
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("http://example.com/bar", ngx.HTTP_MOVED_PERMANENTLY)
        }
    }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: http://example.com/bar
--- no_error_log
[error]



=== TEST 4: explicit 302
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("http://example.com/", 302)
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/
--- no_error_log
[error]



=== TEST 5: 303
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/see-other", ngx.HTTP_SEE_OTHER)
        }
    }
--- request
GET /t
--- error_code: 303
--- response_headers
Location: /see-other
--- no_error_log
[error]



=== TEST 6: 307
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/temp", ngx.HTTP_TEMPORARY_REDIRECT)
        }
    }
--- request
GET /t
--- error_code: 307
--- response_headers
Location: /temp
--- no_error_log
[error]



=== TEST 7: 308
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/perm", ngx.HTTP_PERMANENT_REDIRECT)
        }
    }
--- request
GET /t
--- error_code: 308
--- response_headers
Location: /perm
--- no_error_log
[error]



=== TEST 8: other statuses are refused
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.redirect("/foo", 404) end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: only ngx\.HTTP_MOVED_TEMPORARILY, ngx\.HTTP_MOVED_PERMANENTLY, ngx\.HTTP_PERMANENT_REDIRECT, ngx\.HTTP_SEE_OTHER, and ngx\.HTTP_TEMPORARY_REDIRECT are allowed
$
--- no_error_log
[error]



=== TEST 9: 200 is refused too, uncaught -> 500
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo", 200)
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log eval
qr/lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):\d+: only ngx\.HTTP_MOVED_TEMPORARILY, ngx\.HTTP_MOVED_PERMANENTLY/



=== TEST 10: ngx.redirect after the headers were sent
--- config
    location /t {
        content_by_lua_block {
            ngx.say("out")
            local ok, err = pcall(function () ngx.redirect("/foo") end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^out
false content_by_lua\(nginx\.conf:\d+\):\d+: attempt to call ngx\.redirect after sending out the headers
$
--- no_error_log
[error]



=== TEST 11: code after ngx.redirect does not run
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo")
            ngx.log(ngx.ERR, "code after redirect ran")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /foo
--- no_error_log
code after redirect ran



=== TEST 12: ngx.redirect from rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { ngx.redirect("/from-rewrite", 301) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran") }
    }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: /from-rewrite
--- no_error_log
content ran



=== TEST 13: ngx.redirect from access_by_lua
--- config
    location /t {
        access_by_lua_block { ngx.redirect("/from-access") }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran") }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /from-access
--- no_error_log
content ran



=== TEST 14: return ngx.redirect(...) idiom
--- config
    location /t {
        content_by_lua_block {
            return ngx.redirect("https://example.org/x?y=z", 307)
        }
    }
--- request
GET /t
--- error_code: 307
--- response_headers
Location: https://example.org/x?y=z
--- no_error_log
[error]



=== TEST 15: control characters in the uri are refused
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function () ngx.redirect("/foo\r\nSet-Cookie: a=b") end)
            ngx.say(tostring(ok), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false content_by_lua\(nginx\.conf:\d+\):\d+: unsafe uri ".*" was detected
$
--- no_error_log
[alert]



=== TEST 16: ngx.redirect inside pcall still redirects
--- config
    location /t {
        content_by_lua_block {
            pcall(ngx.redirect, "/via-pcall")
            ngx.log(ngx.ERR, "code after pcall ran")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /via-pcall
--- no_error_log
code after pcall ran
