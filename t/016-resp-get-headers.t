# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# Every block checks the status, the body and one more thing; block 9 checks
# two log patterns (+1).
plan tests => repeat_each() * (blocks() * 3 + 1);

no_long_string();
run_tests();

__DATA__

=== TEST 1: keys are lower-cased, lookups normalise case and underscores
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Alpha"] = "a"
            ngx.header.x_beta = "b"
            local h, err = ngx.resp.get_headers()
            ngx.say(h["x-alpha"], " ", h["X-Alpha"], " ", h.x_alpha, " ", h.X_Beta, " ", tostring(err))
            ngx.say(tostring(rawget(h, "X-Alpha")))
        }
    }
--- request
GET /t
--- response_body
a a a b nil
nil
--- no_error_log
[error]



=== TEST 2: raw keys keep their case and have no normalising lookups
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Alpha"] = "a"
            local h = ngx.resp.get_headers(nil, true)
            ngx.say(h["X-Alpha"], " ", tostring(h["x-alpha"]), " ", tostring(getmetatable(h)))
        }
    }
--- request
GET /t
--- response_body
a nil nil
--- no_error_log
[error]



=== TEST 3: removed headers are not listed, repeated ones become arrays
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_gone = "1"
            ngx.header.x_gone = nil
            ngx.header.x_many = {"1", "2"}
            local h = ngx.resp.get_headers()
            ngx.say(tostring(h.x_gone), " ", type(h.x_many), " ", table.concat(h.x_many, ","))
        }
    }
--- request
GET /t
--- response_body
nil table 1,2
--- no_error_log
[error]



=== TEST 4: Content-Type and Content-Length from nginx's fields
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = "text/x-listed"
            ngx.header.content_length = 17
            local h = ngx.resp.get_headers()
            ngx.print(h.content_type, " ", h["Content-Length"], "\n")
        }
    }
--- request
GET /t
--- response_body eval
"text/x-listed 17\n"
--- no_error_log
[error]



=== TEST 5: Connection is reported
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.resp.get_headers().connection)
        }
    }
--- request
GET /t HTTP/1.0
--- response_body
close
--- no_error_log
[error]



=== TEST 6: exceeding the default limit of 100
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 100 do
                ngx.header["X-H" .. i] = i
            end
            local h, err = ngx.resp.get_headers()
            local n = 0
            for _ in pairs(h) do n = n + 1 end
            ngx.say(n, " ", err)
        }
    }
--- request
GET /t
--- response_body
100 truncated
--- no_error_log
[error]



=== TEST 7: a custom limit
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 5 do
                ngx.header["X-H" .. i] = i
            end
            local h, err = ngx.resp.get_headers(4)
            local n = 0
            for _ in pairs(h) do n = n + 1 end
            local h2, err2 = ngx.resp.get_headers(6)
            local n2 = 0
            for _ in pairs(h2) do n2 = n2 + 1 end
            ngx.say(n, " ", err, " ", n2, " ", tostring(err2))
        }
    }
--- request
GET /t
--- response_body
4 truncated 6 nil
--- no_error_log
[error]



=== TEST 8: a limit of 0 means no limit
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 150 do
                ngx.header["X-H" .. i] = i
            end
            local h, err = ngx.resp.get_headers(0)
            local n = 0
            for _ in pairs(h) do n = n + 1 end
            ngx.say(n, " ", tostring(err))
        }
    }
--- request
GET /t
--- response_body
151 nil
--- no_error_log
[error]



=== TEST 9: the truncation is logged at debug level
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_one = "1"
            ngx.header.x_two = "2"
            local _, err = ngx.resp.get_headers(2)
            ngx.say(err)
        }
    }
--- request
GET /t
--- response_body
truncated
--- error_log
lua exceeding response header limit 3 > 2
--- no_error_log
[error]



=== TEST 10: a bad max_headers argument
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.resp.get_headers, {})
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chop
^false .*bad argument #1 to 'get_headers' \(number expected, got table\)$
--- no_error_log
[error]



=== TEST 11: in log_by_lua the sent headers are listed, chunked included
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_logged = "yes"
            ngx.say("ok")
        }
        log_by_lua_block {
            local h = ngx.resp.get_headers()
            ngx.log(ngx.WARN, "logged: ", h.x_logged, " ", h["transfer-encoding"], " ", h.content_type)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
logged: yes chunked text/plain



=== TEST 12: no request in init_by_lua
--- http_config
    init_by_lua_block {
        local ok, err = pcall(ngx.resp.get_headers)
        package.loaded.resp_init_err = err
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.resp_init_err:match("no request object found"))
        }
    }
--- request
GET /t
--- response_body
no request object found
--- no_error_log
[error]
