# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: ngx.exit(200) without output gives an empty 200 response
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(200)
        }
    }
--- request
GET /t
--- response_body
--- no_error_log
[error]



=== TEST 2: ngx.exit(204)
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.HTTP_NO_CONTENT)
        }
    }
--- request
GET /t
--- error_code: 204
--- response_body
--- no_error_log
[error]



=== TEST 3: ngx.exit(404) gives nginx's 404 page
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.HTTP_NOT_FOUND)
        }
    }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found
--- no_error_log
[error]



=== TEST 4: ngx.exit(500)
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(500)
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- no_error_log
[lua]



=== TEST 5: ngx.exit(302) without a Location header
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(302)
        }
    }
--- request
GET /t
--- error_code: 302
--- response_body_like: 302 Found
--- no_error_log
[error]



=== TEST 6: ngx.exit(444) closes the connection without a response
--- config
    location /t {
        content_by_lua_block {
            ngx.say("never sent")
            ngx.exit(444)
        }
        log_by_lua_block { ngx.log(ngx.WARN, "status in log: ", ngx.status) }
    }
--- request
GET /t
--- ignore_response
--- error_log
status in log: 
--- no_error_log
[error]
[alert]



=== TEST 7: ngx.exit(444) before any output
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.HTTP_CLOSE)
        }
        log_by_lua_block { ngx.log(ngx.WARN, "status in log: ", ngx.status) }
    }
--- request
GET /t
--- ignore_response
--- error_log
status in log: 444
--- no_error_log
[error]
[alert]



=== TEST 8: ngx.exit(ngx.ERROR) aborts the request
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.ERROR)
        }
        log_by_lua_block { ngx.log(ngx.WARN, "log handler after ngx.ERROR") }
    }
--- request
GET /t
--- ignore_response
--- error_log
log handler after ngx.ERROR
--- no_error_log
[error]
[alert]



=== TEST 9: ngx.exit(ngx.OK) in content ends the handler, output kept
--- config
    location /t {
        content_by_lua_block {
            ngx.say("before")
            ngx.exit(ngx.OK)
            ngx.say("after")
        }
    }
--- request
GET /t
--- response_body
before
--- no_error_log
[error]



=== TEST 10: code after ngx.exit does not run
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hi")
            ngx.exit(200)
            ngx.log(ngx.ERR, "code after exit ran")
        }
    }
--- request
GET /t
--- response_body
hi
--- no_error_log
code after exit ran



=== TEST 11: ngx.exit(404) after output keeps the sent status and logs an error
--- config
    location /t {
        content_by_lua_block {
            ngx.say("partial")
            ngx.exit(404)
            ngx.say("unreached")
        }
    }
--- request
GET /t
--- response_body
partial
--- error_log
attempt to set status 404 via ngx.exit after sending out the response status 200



=== TEST 12: ngx.status set before output, then ngx.exit(ngx.HTTP_OK)
--- config
    location /t {
        content_by_lua_block {
            ngx.status = ngx.HTTP_NOT_FOUND
            ngx.say("custom not found")
            ngx.exit(ngx.HTTP_OK)
        }
    }
--- request
GET /t
--- error_code: 404
--- response_body
custom not found
--- no_error_log
[error]



=== TEST 13: ngx.exit inside pcall still exits
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.exit, 403)
            ngx.log(ngx.ERR, "pcall returned: ", tostring(ok), " ", tostring(err))
            ngx.say("after pcall")
        }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- no_error_log
pcall returned



=== TEST 14: ngx.exit in a function called through pcall still exits
--- config
    location /t {
        content_by_lua_block {
            local function f()
                ngx.say("in f")
                ngx.exit(200)
            end
            local ok, err = pcall(f)
            ngx.say("after pcall: ", tostring(ok), " ", tostring(err))
        }
    }
--- request
GET /t
--- response_body
in f
--- no_error_log
[error]



=== TEST 15: ngx.exit(404) in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { ngx.exit(404) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran"); ngx.say("no") }
    }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found
--- no_error_log
content ran



=== TEST 16: ngx.exit(401) in access_by_lua
--- config
    location /t {
        access_by_lua_block { ngx.exit(ngx.HTTP_UNAUTHORIZED) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran"); ngx.say("no") }
    }
--- request
GET /t
--- error_code: 401
--- response_body_like: 401 Authorization Required
--- no_error_log
content ran



=== TEST 17: ngx.exit(200) in rewrite_by_lua without output
--- config
    location /t {
        rewrite_by_lua_block { ngx.exit(200) }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran"); ngx.say("no") }
    }
--- request
GET /t
--- response_body
--- no_error_log
content ran



=== TEST 18: ngx.exit(404) goes through error_page
--- config
    error_page 404 /err;
    location /t {
        content_by_lua_block { ngx.exit(404) }
    }
    location = /err {
        internal;
        content_by_lua_block { ngx.say("custom error page for ", ngx.status) }
    }
--- request
GET /t
--- error_code: 404
--- response_body
custom error page for 404
--- no_error_log
[error]



=== TEST 19: ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE) in access_by_lua
--- config
    location /t {
        access_by_lua_block { ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE) }
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 503
--- response_body_like: 503 Service Temporarily Unavailable
--- no_error_log
[error]



=== TEST 20: return ngx.exit(...) also works
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            return ngx.exit(ngx.OK)
        }
    }
--- request
GET /t
--- response_body
x
--- no_error_log
[error]
