# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# Every block checks the status, the body and one more thing; the blocks
# that check more: 18, 24 and 28 one more each, 20 two requests (+3).
plan tests => repeat_each() * (blocks() * 3 + 6);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set Content-Type and read it back
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = "text/x-demo; charset=latin1"
            ngx.say("type: ", ngx.header["Content-Type"])
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/x-demo; charset=latin1
--- response_body
type: text/x-demo; charset=latin1



=== TEST 2: names are case-insensitive and _ means -
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Demo-Name"] = "v1"
            ngx.say(ngx.header.x_demo_name, " ", ngx.header["x-DEMO-name"], " ", ngx.header.X_Demo_Name)
        }
    }
--- request
GET /t
--- response_headers
X-Demo-Name: v1
--- response_body
v1 v1 v1



=== TEST 3: a table value gives one header line per element, read back as a table
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_multi = {"one", "two", "three"}
            local v = ngx.header.x_multi
            ngx.say(type(v), " ", #v, " ", table.concat(v, ","))
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
x-multi: one\r\nx-multi: two\r\nx-multi: three\r\n
--- response_body
table 3 one,two,three



=== TEST 4: a new table value replaces all previous lines
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Multi"] = {"a", "b", "c"}
            ngx.header["X-Multi"] = {"d", "e"}
            ngx.say(table.concat(ngx.header["X-Multi"], ","))
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
X-Multi: d\r\nX-Multi: e\r\n
--- response_body
d,e



=== TEST 5: nil, "" and {} all remove a header
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_a = "1"
            ngx.header.x_b = {"1", "2"}
            ngx.header.x_c = "3"
            ngx.header.x_a = nil
            ngx.header.x_b = {}
            ngx.header.x_c = ""
            ngx.say(tostring(ngx.header.x_a), " ", tostring(ngx.header.x_b), " ", tostring(ngx.header.x_c))
        }
    }
--- request
GET /t
--- raw_response_headers_unlike eval
qr/x-[abc]:/i
--- response_body
nil nil nil



=== TEST 6: a missing header reads as nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(tostring(ngx.header.no_such_header))
        }
    }
--- request
GET /t
--- response_body
nil
--- no_error_log
[error]



=== TEST 7: Content-Type given as a table keeps the last element
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = {"text/first", "text/second"}
            ngx.say(ngx.header.content_type)
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/second
--- response_body
text/second



=== TEST 8: Content-Type is nil until set, and the default type still applies
--- config
    location /t {
        default_type text/x-default;
        content_by_lua_block {
            ngx.say("before: ", tostring(ngx.header.content_type))
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/x-default
--- response_body
before: nil



=== TEST 9: clearing Content-Type suppresses the default type
--- config
    location /t {
        default_type text/x-default;
        content_by_lua_block {
            ngx.header.content_type = nil
            ngx.say("cleared")
        }
    }
--- request
GET /t
--- response_headers
!Content-Type
--- response_body
cleared



=== TEST 10: Content-Length from a number, read back as a string
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 12
            local v = ngx.header.content_length
            ngx.say(type(v), ":", v, "!!")
        }
    }
--- request
GET /t
--- response_headers
Content-Length: 12
--- response_body
string:12!!



=== TEST 11: clearing Content-Length
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Content-Length"] = 100
            ngx.header["Content-Length"] = nil
            ngx.say("no length ", tostring(ngx.header["Content-Length"]))
        }
    }
--- request
GET /t
--- response_headers
!Content-Length
--- response_body
no length nil



=== TEST 12: an invalid Content-Length is an error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() ngx.header.content_length = "twelve" end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chop
^false .*failed to set header$
--- no_error_log
[error]



=== TEST 13: relative Location is kept as is
--- config
    location /t {
        content_by_lua_block {
            ngx.header.location = "/somewhere/else"
            return ngx.exit(302)
        }
    }
--- request
GET /t
--- response_headers
Location: /somewhere/else
--- response_body_like: 302 Found
--- error_code: 302



=== TEST 14: absolute Location
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 301
            ngx.header["Location"] = "http://example.com/x"
            ngx.say(ngx.header.location)
        }
    }
--- request
GET /t
--- response_headers
Location: http://example.com/x
--- response_body
http://example.com/x
--- error_code: 301



=== TEST 15: Last-Modified is read back from nginx's time field
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"
            ngx.say(ngx.header.last_modified)
        }
    }
--- request
GET /t
--- response_headers
Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT
--- response_body
Wed, 21 Oct 2015 07:28:00 GMT



=== TEST 16: Last-Modified drives If-Modified-Since (304)
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = ngx.http_time(1445412480)
            ngx.say("full body")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT
--- response_headers
Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT
--- response_body
--- error_code: 304



=== TEST 17: clearing Last-Modified, Server and Date
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = ngx.http_time(1445412480)
            ngx.header.last_modified = nil
            ngx.header.server = nil
            ngx.header.date = nil
            ngx.say("lm: ", tostring(ngx.header.last_modified))
        }
    }
--- request
GET /t
--- raw_response_headers_unlike eval
qr/^(Last-Modified|Server|Date):/mi
--- response_body
lm: nil



=== TEST 18: overriding Server (extra: 1 header)
--- config
    location /t {
        content_by_lua_block {
            ngx.header.Server = "demo-server/1.0"
            ngx.header.ETag = '"abc"'
            ngx.say(ngx.header.server, " ", ngx.header.etag)
        }
    }
--- request
GET /t
--- response_headers
Server: demo-server/1.0
ETag: "abc"
--- response_body
demo-server/1.0 "abc"



=== TEST 19: Cache-Control values reach $sent_http_cache_control
--- config
    location /t {
        content_by_lua_block {
            ngx.header.cache_control = {"private", "max-age=10"}
            ngx.say("sent: ", ngx.var.sent_http_cache_control)
            ngx.say("read: ", table.concat(ngx.header.cache_control, "|"))
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
cache-control: private\r\ncache-control: max-age=10\r\n
--- response_body
sent: private, max-age=10
read: private|max-age=10



=== TEST 20: Cache-Control overridden by a single value, then cleared (extra: 1 header)
--- config
    location /a {
        content_by_lua_block {
            ngx.header["Cache-Control"] = {"private", "no-store", "no-transform"}
            ngx.header["Cache-Control"] = "no-cache"
            ngx.say(ngx.var.sent_http_cache_control, " ", ngx.header["Cache-Control"])
        }
    }
    location /t {
        content_by_lua_block {
            ngx.header["Cache-Control"] = {"private", "no-store"}
            ngx.header["Cache-Control"] = nil
            ngx.say(tostring(ngx.var.sent_http_cache_control), " ", tostring(ngx.header["Cache-Control"]))
        }
    }
--- request eval
["GET /a", "GET /t"]
--- response_body eval
["no-cache no-cache\n", "nil nil\n"]
--- no_error_log
[error]



=== TEST 21: Link is multi-valued too
--- config
    location /t {
        content_by_lua_block {
            ngx.header.link = {"</a.css>; rel=preload", "</b.js>; rel=preload"}
            ngx.say(ngx.var.sent_http_link)
        }
    }
--- request
GET /t
--- response_headers
Link: </a.css>; rel=preload, </b.js>; rel=preload
--- response_body
</a.css>; rel=preload, </b.js>; rel=preload



=== TEST 22: lua_transform_underscores_in_response_headers off
--- config
    lua_transform_underscores_in_response_headers off;
    location /t {
        content_by_lua_block {
            ngx.header.x_under = "kept"
            ngx.say(ngx.header.x_under, " ", tostring(ngx.header["x-under"]))
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
\r\nx_under: kept\r\n
--- response_body
kept nil



=== TEST 23: non-string names and values go through tostring
--- config
    location /t {
        content_by_lua_block {
            ngx.header[42] = 3.5
            ngx.header.x_bool = true
            local t = {7, "eight"}
            ngx.header.x_list = t
            ngx.say(ngx.header["42"], " ", ngx.header.x_bool, " ", type(t[1]), " ", t[1])
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
\r\n42: 3.5\r\nx-bool: true\r\nx-list: 7\r\nx-list: eight\r\n
--- response_body
3.5 true string 7



=== TEST 24: CR and LF in a value are escaped
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_inject = "a\r\nSet-Cookie: evil=1"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_headers
X-Inject: a%0D%0ASet-Cookie: evil=1
!Set-Cookie
--- response_body
ok



=== TEST 25: separators and CR/LF in a name are escaped
--- config
    location /t {
        content_by_lua_block {
            ngx.header["x-a: b\r\nx-c"] = "v"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
\r\nx-a%3A%20b%0D%0Ax-c: v\r\n
--- response_body
ok



=== TEST 26: setting after the header was sent only logs an error
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_early = "yes"
            ngx.send_headers()
            ngx.header.x_late = "yes"
            ngx.say("late: ", tostring(ngx.header.x_late))
        }
    }
--- request
GET /t
--- response_body
late: nil
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 27: headers set in rewrite and access, read in content
--- config
    location /t {
        rewrite_by_lua_block { ngx.header.x_from = "rewrite" }
        access_by_lua_block { ngx.header.x_from = {ngx.header.x_from, "access"} }
        content_by_lua_block {
            ngx.say(table.concat(ngx.header.x_from, ","))
        }
    }
--- request
GET /t
--- response_body
rewrite,access
--- no_error_log
[error]



=== TEST 28: reading works in log_by_lua, setting is refused with a log line
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_seen = "by log"
            ngx.say("ok")
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log phase sees: ", ngx.header.x_seen)
            ngx.header.x_seen = "changed"
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
log phase sees: by log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 29: no request in init_by_lua
--- http_config
    init_by_lua_block {
        local ok, err = pcall(function() return ngx.header.foo end)
        package.loaded.hdr_init_err = err
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.hdr_init_err:match("no request found"))
        }
    }
--- request
GET /t
--- response_body
no request found
--- no_error_log
[error]



=== TEST 30: init_worker_by_lua has no real request
--- http_config
    init_worker_by_lua_block {
        local ok, err = pcall(function() ngx.header.foo = "bar" end)
        package.loaded.hdr_iw_err = err
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.hdr_iw_err:match("API disabled in the current context"))
        }
    }
--- request
GET /t
--- response_body
API disabled in the current context
--- no_error_log
[error]



=== TEST 31: Content-Encoding set by Lua
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_encoding = "identity"
            ngx.say(ngx.header.content_encoding)
        }
    }
--- request
GET /t
--- response_headers
Content-Encoding: identity
--- response_body
identity



=== TEST 32: Set-Cookie lines are kept apart
--- config
    location /t {
        content_by_lua_block {
            ngx.header.set_cookie = {"a=1; Path=/", "b=2; Path=/"}
            local c = ngx.header.set_cookie
            ngx.say(#c, " ", c[1], " ", c[2])
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
set-cookie: a=1; Path=/\r\nset-cookie: b=2; Path=/\r\n
--- response_body
2 a=1; Path=/ b=2; Path=/



=== TEST 33: a Lua-set Content-Length is kept and bounds the body
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 6
            ngx.say("hello")
        }
    }
--- request
GET /t
--- response_headers
Content-Length: 6
--- response_body
hello



=== TEST 34: names built at run time outlive their Lua strings
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                ngx.header["X-Built-" .. i] = "v" .. i
            end
            ngx.header["X-Built-2"] = "again"
            ngx.header[string.lower("CACHE-CONTROL")] = { "a", "b" }
            ngx.header[("Etag")] = string.rep("e", 3)
            collectgarbage()
            collectgarbage()
            local junk = {}
            for i = 1, 1000 do junk[i] = "X-Built-" .. i .. string.rep("z", 40) end
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like chomp
X-Built-1: v1\r\nX-Built-2: again\r\nX-Built-3: v3\r\ncache-control: a\r\ncache-control: b\r\nEtag: eee\r\n
--- response_body
ok
