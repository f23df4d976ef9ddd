# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.req.get_method and ngx.req.set_method.

use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();

run_tests();

__DATA__

=== TEST 1: get_method for a GET request
--- config
    location /t {
        content_by_lua_block {
            ngx.say("method: ", ngx.req.get_method())
        }
    }
--- request
GET /t
--- response_body
method: GET
--- no_error_log
[error]



=== TEST 2: get_method for a POST request with a body
--- config
    location /t {
        content_by_lua_block {
            ngx.say("method: ", ngx.req.get_method())
        }
    }
--- request
POST /t
some body data
--- response_body
method: POST
--- no_error_log
[error]



=== TEST 3: get_method for a HEAD request
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "seen method: ", ngx.req.get_method())
            ngx.say("not sent")
        }
    }
--- request
HEAD /t
--- response_body
--- error_log
seen method: HEAD



=== TEST 4: get_method for a method nginx has no constant for
--- config
    location /t {
        content_by_lua_block {
            ngx.say("method: ", ngx.req.get_method())
        }
    }
--- request
REPORT /t
--- response_body
method: REPORT
--- no_error_log
[error]



=== TEST 5: set_method in rewrite, seen by content and $request_method
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_method(ngx.HTTP_PUT)
        }
        content_by_lua_block {
            ngx.say("method: ", ngx.req.get_method())
            ngx.say("var: ", ngx.var.request_method)
        }
    }
--- request
GET /t
--- response_body
method: PUT
var: PUT
--- no_error_log
[error]



=== TEST 6: set_method round-trips every method constant
--- config
    location /t {
        content_by_lua_block {
            local names = {
                "GET", "HEAD", "POST", "PUT", "DELETE", "MKCOL", "COPY", "MOVE",
                "OPTIONS", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH",
                "TRACE",
            }
            local out = {}
            for _, name in ipairs(names) do
                ngx.req.set_method(ngx["HTTP_" .. name])
                out[#out + 1] = ngx.req.get_method() == name and "ok" or name
            end
            ngx.say(table.concat(out, " "))
        }
    }
--- request
POST /t
--- response_body
ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
--- no_error_log
[error]



=== TEST 7: set_method rejects strings and unknown method numbers
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.set_method, "POST")
            ngx.say(ok, " ", err)
            ok, err = pcall(ngx.req.set_method, 12345)
            ngx.say(ok, " ", (err:gsub("^.-: unsupported", "unsupported")))
            ok, err = pcall(ngx.req.set_method)
            ngx.say(ok, " ", err)
            -- raised at the caller's level, as lua-resty-core does
            ok, err = pcall(function() ngx.req.set_method("x") end)
            ngx.say(err:match("^content_by_lua%(nginx%.conf:%d+%):%d+: bad method number$") ~= nil)
            ngx.say("still: ", ngx.req.get_method())
        }
    }
--- request
GET /t
--- response_body
false bad method number
false unsupported HTTP method: 12345
false bad method number
true
still: GET
--- no_error_log
[error]



=== TEST 8: set_method is disabled in log_by_lua, get_method works there
--- config
    location /t {
        content_by_lua_block {
            ngx.say("ok")
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.req.set_method, ngx.HTTP_POST)
            ngx.log(ngx.WARN, "set_method: ", err, ", method: ", ngx.req.get_method())
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
set_method: API disabled in the context of log_by_lua*, method: GET



=== TEST 9: set_method in set_by_lua, inherited by the content handler
--- config
    location /t {
        set_by_lua_block $dummy {
            ngx.req.set_method(ngx.HTTP_DELETE)
            return "x"
        }
        content_by_lua_block {
            ngx.say(ngx.req.get_method(), " ", ngx.var.dummy)
        }
    }
--- request
GET /t
--- response_body
DELETE x
--- no_error_log
[error]
