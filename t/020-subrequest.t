# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.location.capture: statuses, headers, bodies and options of captured
# subrequests served by return, Lua, static files and proxy_pass.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: capture a location answered by return
--- config
    location /sub {
        default_type text/plain;
        return 200 "hello";
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say(res.status, " [", res.body, "] ", type(res.truncated), " ", tostring(res.truncated))
            ngx.say(res.header["Content-Type"], " ", res.header["Content-Length"], " ", type(res.header["Content-Length"]))
        }
    }
--- request
GET /t
--- response_body
200 [hello] boolean false
text/plain 5 number
--- no_error_log
[error]



=== TEST 2: capture a Lua content handler: status, multi-value headers, body
--- config
    location /sub {
        content_by_lua_block {
            ngx.status = 201
            ngx.header["Set-Cookie"] = {"a=1", "b=2", "c=3"}
            ngx.header["X-One"] = "single"
            ngx.say("created")
            ngx.print("second line")
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say("status: ", res.status)
            local c = res.header["Set-Cookie"]
            ngx.say("cookies: ", type(c), " ", table.concat(c, ","))
            ngx.say("one: ", res.header["X-One"])
            ngx.say("body: ", res.body)
            ngx.say("truncated: ", res.truncated)
        }
    }
--- request
GET /t
--- response_body
status: 201
cookies: table a=1,b=2,c=3
one: single
body: created
second line
truncated: false
--- no_error_log
[error]



=== TEST 3: the subrequest's output never reaches the client
--- config
    location /sub {
        content_by_lua_block {
            ngx.header["X-Sub"] = "yes"
            ngx.say("sub body")
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.header["X-Len"] = #res.body
            ngx.say("main")
        }
    }
--- request
GET /t
--- response_headers
X-Sub:
X-Len: 9
--- response_body
main
--- no_error_log
[error]



=== TEST 4: POST with the body option
--- config
    location /sub {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_method(), " ", ngx.var.http_content_length, " [", ngx.req.get_body_data(), "]")
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub", { method = ngx.HTTP_POST, body = "hello, world" })
            ngx.print(res.body)
        }
    }
--- request
GET /t
--- response_body
POST 12 [hello, world]
--- no_error_log
[error]



=== TEST 5: method options, as constants and as names
--- config
    location /sub {
        content_by_lua_block {
            ngx.say(ngx.req.get_method())
        }
    }
    location /t {
        content_by_lua_block {
            for _, m in ipairs({ ngx.HTTP_PUT, ngx.HTTP_DELETE, ngx.HTTP_OPTIONS, "PATCH", ngx.HTTP_GET }) do
                local res = ngx.location.capture("/sub", { method = m })
                ngx.print(res.body)
            end
        }
    }
--- request
GET /t
--- response_body
PUT
DELETE
OPTIONS
PATCH
GET
--- no_error_log
[error]



=== TEST 6: args as a string and as a table, merged with the uri's
--- config
    location /sub {
        content_by_lua_block {
            ngx.say(ngx.var.args)
        }
    }
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/sub?a=1", { args = "b=2&c=%3a" }).body)
            ngx.print(ngx.location.capture("/sub?a=1", { args = { b = "x y" } }).body)
            ngx.print(ngx.location.capture("/sub", { args = { c = ":" } }).body)
            ngx.print(ngx.location.capture("/sub", { args = 32 }).body)
            ngx.print(ngx.location.capture("/sub?z=9").body)
        }
    }
--- request
GET /t
--- response_body
a=1&b=2&c=%3a
a=1&b=x%20y
c=%3A
32
z=9
--- no_error_log
[error]



=== TEST 7: vars sets variables in the subrequest only
--- config
    location /other {
        content_by_lua_block {
            ngx.say("dog = ", ngx.var.dog)
            ngx.say("cat = ", ngx.var.cat)
        }
    }
    location /t {
        set $dog '';
        set $cat '';
        content_by_lua_block {
            local res = ngx.location.capture("/other", { vars = { dog = "hello", cat = 32 } })
            ngx.print(res.body)
            ngx.say("parent dog = [", ngx.var.dog, "]")
        }
    }
--- request
GET /t
--- response_body
dog = hello
cat = 32
parent dog = []
--- no_error_log
[error]



=== TEST 8: copy_all_vars: the subrequest starts from a copy
--- config
    location /other {
        set $dog "$dog world";
        return 200 "$uri dog: $dog\n";
    }
    location /t {
        set $dog 'hello';
        content_by_lua_block {
            local res = ngx.location.capture("/other", { copy_all_vars = true })
            ngx.print(res.body)
            ngx.say(ngx.var.uri, ": ", ngx.var.dog)
        }
    }
--- request
GET /t
--- response_body
/other dog: hello world
/t: hello
--- no_error_log
[error]



=== TEST 9: share_all_vars: the subrequest changes the parent's variables
--- config
    location /other {
        set $dog "$dog world";
        return 200 "$uri dog: $dog\n";
    }
    location /t {
        set $dog 'hello';
        content_by_lua_block {
            local res = ngx.location.capture("/other", { share_all_vars = true })
            ngx.print(res.body)
            ngx.say(ngx.var.uri, ": ", ngx.var.dog)
        }
    }
--- request
GET /t
--- response_body
/other dog: hello world
/t: hello world
--- no_error_log
[error]



=== TEST 10: by default the subrequest does not see the parent's variables
--- config
    location /other {
        return 200 "dog: [$dog]\n";
    }
    location /t {
        set $dog 'hello';
        content_by_lua_block {
            ngx.print(ngx.location.capture("/other").body)
        }
    }
--- request
GET /t
--- response_body
dog: []
--- no_error_log
[error]



=== TEST 11: ngx.ctx: separate by default, or the table given as ctx
--- config
    location /sub {
        content_by_lua_block {
            ngx.say("sub pre: ", ngx.ctx.blah)
            ngx.ctx.blah = 32
        }
    }
    location /t {
        content_by_lua_block {
            ngx.ctx.blah = 73
            ngx.print(ngx.location.capture("/sub").body)
            ngx.say("main: ", ngx.ctx.blah)
            local c = { blah = "mine" }
            ngx.print(ngx.location.capture("/sub", { ctx = c }).body)
            ngx.say("custom: ", c.blah)
            ngx.print(ngx.location.capture("/sub", { ctx = ngx.ctx }).body)
            ngx.say("shared: ", ngx.ctx.blah)
        }
    }
--- request
GET /t
--- response_body
sub pre: nil
main: 73
sub pre: mine
custom: 32
sub pre: 73
shared: 32
--- no_error_log
[error]



=== TEST 12: static file: body, length, type, Last-Modified
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/static.txt")
            ngx.say(res.status, " ", res.header["Content-Length"], " ", res.header["Content-Type"])
            ngx.say(res.header["Last-Modified"] ~= nil)
            ngx.print(res.body)
        }
    }
--- user_files
>>> static.txt
static content
--- request
GET /t
--- response_body
200 15 text/plain
true
static content
--- no_error_log
[error]



=== TEST 13: a missing file: 404, empty body, no error page
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/no-such-file.txt")
            ngx.say(res.status, " [", res.body, "] ", res.truncated)
        }
    }
--- request
GET /t
--- response_body
404 [] true
--- error_log
open()



=== TEST 14: return 404 and a Lua ngx.exit(403) in the subrequest
--- config
    location /nf {
        return 404;
    }
    location /forbidden {
        content_by_lua_block {
            ngx.exit(403)
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/nf")
            ngx.say(res.status, " [", res.body, "]")
            res = ngx.location.capture("/forbidden")
            ngx.say(res.status, " [", res.body, "]")
        }
    }
--- request
GET /t
--- response_body
404 []
403 []
--- no_error_log
[error]



=== TEST 15: proxy_pass to a server of the same nginx
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.header["X-Backend"] = "b1"
                ngx.say("backend got ", ngx.var.request_uri, " ", ngx.req.get_method())
            }
        }
    }
--- config
    location /proxy/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/proxy/foo", { args = "a=1" })
            ngx.say(res.status, " ", res.header["X-Backend"], " ", res.truncated)
            ngx.print(res.body)
        }
    }
--- request
GET /t
--- response_body
200 b1 false
backend got /foo?a=1 GET
--- no_error_log
[error]



=== TEST 16: truncated: the upstream closes before the whole body
--- config
    location /proxy {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/proxy")
            ngx.say(res.status, " [", res.body, "] ", res.truncated)
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_2
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nhello"
--- request
GET /t
--- response_body
200 [hello] true
--- error_log
upstream prematurely closed connection



=== TEST 17: capture in rewrite_by_lua and access_by_lua
--- config
    location /sub {
        return 200 "sub";
    }
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.rw = ngx.location.capture("/sub").body
        }
        access_by_lua_block {
            ngx.ctx.acc = ngx.location.capture("/sub", { args = "x" }).status
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.rw, " ", ngx.ctx.acc)
        }
    }
--- request
GET /t
--- response_body
sub 200
--- no_error_log
[error]



=== TEST 18: access_by_lua deciding from a capture (auth pattern)
--- config
    location /auth {
        internal;
        content_by_lua_block {
            if ngx.var.http_x_token == "good" then
                ngx.exit(200)
            end
            ngx.exit(403)
        }
    }
    location /t {
        access_by_lua_block {
            local res = ngx.location.capture("/auth")
            if res.status == ngx.HTTP_OK then
                return
            end
            ngx.exit(res.status)
        }
        content_by_lua_block {
            ngx.say("welcome")
        }
    }
--- request
GET /t
--- more_headers
X-Token: bad
--- error_code: 403
--- response_body_like: 403 Forbidden
--- no_error_log
[error]



=== TEST 19: capture inside light threads
--- config
    location /sub {
        content_by_lua_block {
            ngx.sleep(0.01)
            ngx.print("sub", ngx.var.arg_n)
        }
    }
    location /t {
        content_by_lua_block {
            local function f(n)
                return ngx.location.capture("/sub", { args = { n = n } }).body
            end
            local t1 = ngx.thread.spawn(f, 1)
            local t2 = ngx.thread.spawn(f, 2)
            local _, a = ngx.thread.wait(t1)
            local _, b = ngx.thread.wait(t2)
            ngx.say(a, " ", b)
        }
    }
--- request
GET /t
--- response_body
sub1 sub2
--- no_error_log
[error]



=== TEST 20: capture inside a user coroutine
--- config
    location /sub {
        return 200 "from sub";
    }
    location /t {
        content_by_lua_block {
            local co = coroutine.wrap(function()
                local res = ngx.location.capture("/sub")
                coroutine.yield(res.body)
                return "done"
            end)
            ngx.say(co())
            ngx.say(co())
        }
    }
--- request
GET /t
--- response_body
from sub
done
--- no_error_log
[error]



=== TEST 21: nested captures (the subrequest captures too)
--- config
    location /recur {
        content_by_lua_block {
            local n = tonumber(ngx.var.arg_n)
            if n > 0 then
                local res = ngx.location.capture("/recur", { args = { n = n - 1 } })
                ngx.print(res.body)
            end
            ngx.say("level ", n)
        }
    }
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/recur?n=3").body)
        }
    }
--- request
GET /t
--- response_body
level 0
level 1
level 2
level 3
--- no_error_log
[error]



=== TEST 22: the nesting limit
--- config
    location /recur {
        content_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/recur")
            if not ok then
                ngx.print("failed: ", err)
                return
            end
            ngx.print(err.body)
        }
    }
    location /t {
        content_by_lua_block {
            ngx.say(ngx.location.capture("/recur").body)
        }
    }
--- request
GET /t
--- response_body_like: ^failed: .*failed to issue subrequest: -1$
--- error_log
lua subrequests cycle while processing "/recur"



=== TEST 23: the parent's body goes to POST subrequests, not to GET ones
--- config
    location /sub {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_method(), " ", ngx.var.http_content_length, " [", ngx.req.get_body_data(), "]")
        }
    }
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.print(ngx.location.capture("/sub", { method = ngx.HTTP_POST }).body)
            ngx.print(ngx.location.capture("/sub").body)
            ngx.print(ngx.location.capture("/sub", { always_forward_body = true }).body)
            ngx.print(ngx.location.capture("/sub", { method = ngx.HTTP_PUT, body = "new" }).body)
            ngx.say("parent still has [", ngx.req.get_body_data(), "]")
        }
    }
--- request
POST /t
hello body
--- response_body
POST 10 [hello body]
GET 0 [nil]
GET 10 [hello body]
PUT 3 [new]
parent still has [hello body]
--- no_error_log
[error]



=== TEST 24: request headers are inherited; the headers option overrides
--- config
    location /sub {
        content_by_lua_block {
            ngx.say(ngx.var.http_x_a, " ", ngx.var.http_x_b)
            ngx.req.set_header("X-A", "changed in sub")
        }
    }
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/sub").body)
            ngx.print(ngx.location.capture("/sub", { headers = { ["X-B"] = "bee" } }).body)
            ngx.say("parent: ", ngx.var.http_x_a, " ", ngx.var.http_x_b)
        }
    }
--- request
GET /t
--- more_headers
X-A: aaa
--- response_body
aaa nil
aaa bee
parent: aaa nil
--- no_error_log
[error]



=== TEST 25: HEAD subrequest
--- config
    location /sub {
        content_by_lua_block {
            ngx.say("method ", ngx.req.get_method())
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub", { method = ngx.HTTP_HEAD })
            ngx.say(res.status)
        }
    }
--- request
GET /t
--- response_body
200
--- no_error_log
[error]



=== TEST 26: a subrequest whose rewrite_by_lua waits
--- config
    location /sub {
        rewrite_by_lua_block {
            ngx.sleep(0.02)
            ngx.ctx.slept = true
        }
        content_by_lua_block {
            ngx.say("slept: ", ngx.ctx.slept)
        }
    }
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/sub").body)
        }
    }
--- request
GET /t
--- response_body
slept: true
--- no_error_log
[error]



=== TEST 27: bad options
--- config
    location /sub {
        return 200;
    }
    location /t {
        content_by_lua_block {
            local cases = {
                { "/sub", { method = "FOO" } },
                { "/sub", { method = true } },
                { "/sub", { method = 12345 } },
                { "/sub", { ctx = 1 } },
                { "/sub", { args = true } },
                { "/sub", { vars = 1 } },
                { "/sub", { vars = { [1] = "a" } } },
                { "/sub", { vars = { a = {} } } },
                { "/sub", { share_all_vars = 1 } },
                { "/sub", { copy_all_vars = "yes" } },
                { "/sub", { body = {} } },
                { "/sub", 3 },
                { "/../etc/passwd" },
                { nil },
            }
            for _, c in ipairs(cases) do
                local ok, err = pcall(ngx.location.capture, c[1], c[2])
                ngx.say(ok, " ", err)
            end
            ngx.say(pcall(ngx.location.capture))
            ngx.say(pcall(ngx.location.capture, "/sub", {}, 3))
        }
    }
--- request
GET /t
--- response_body_like eval
qr/^false .*Bad http request method
false .*Bad http request method
false .*failed to adjust the subrequest: -1
false .*Bad ctx option value type number, expected a Lua table
false .*Bad args option value
false .*Bad vars option value
false .*attempt to use a non-string key in the "vars" option table
false .*attempt to use bad variable value type table
false .*Bad share_all_vars option value
false .*Bad copy_all_vars option value
false .*Bad http request body
false .*expecting table as the 2nd argument for subrequest 0, but got number
false .*unsafe uri in argument #1: \/..\/etc\/passwd
false query argument 0 expecting one or two arguments
falseexpecting one or two arguments
falseexpecting one or two arguments
$/
--- error_log
unsupported HTTP method: 12345



=== TEST 28: vars naming an undefined variable
--- config
    location /sub {
        return 200;
    }
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.location.capture, "/sub", { vars = { no_such_var = "1" } }))
            ngx.say(ngx.location.capture("/sub").status)
        }
    }
--- request
GET /t
--- response_body
falsefailed to adjust the subrequest: -1
200
--- error_log
variable "no_such_var" cannot be assigned a value (maybe you forgot to define it first?)



=== TEST 29: not in set_by_lua, header_filter, body_filter, log, timers
--- config
    location /sub {
        return 200;
    }
    location /t {
        set_by_lua_block $a {
            local ok, err = pcall(ngx.location.capture, "/sub")
            return err
        }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/sub")
            ngx.header["X-HF"] = err
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/sub")
            ngx.log(ngx.WARN, "log: ", err)
        }
        content_by_lua_block {
            ngx.say(ngx.var.a)
            ngx.timer.at(0, function()
                local ok, err = pcall(ngx.location.capture, "/sub")
                ngx.log(ngx.WARN, "timer: ", err)
            end)
        }
    }
--- request
GET /t
--- response_headers_like
X-HF: .*API disabled in the context of header_filter_by_lua\*
--- response_body_like: API disabled in the context of set_by_lua\*
--- error_log
log: API disabled in the context of log_by_lua*
timer: API disabled in the context of ngx.timer



=== TEST 30: ngx.exit refused while another thread waits for a capture
--- config
    location /sub {
        content_by_lua_block {
            ngx.sleep(0.05)
            ngx.print("late")
        }
    }
    location /t {
        content_by_lua_block {
            local t = ngx.thread.spawn(function()
                return ngx.location.capture("/sub").body
            end)
            ngx.say(pcall(ngx.exit, 200))
            ngx.say(ngx.thread.kill(t))
            ngx.say(ngx.thread.wait(t))
        }
    }
--- request
GET /t
--- response_body
falseattempt to abort with pending subrequests
nilpending subrequests
truelate
--- no_error_log
[error]



=== TEST 31: a subrequest served by error_page inside the sub location
--- config
    location /sub {
        error_page 404 = /fallback;
        return 404;
    }
    location /fallback {
        return 200 "fallback";
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say(res.status)
        }
    }
--- request
GET /t
--- response_body
404
--- no_error_log
[error]



=== TEST 32: a large proxied body is captured whole
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                local chunk = string.rep("x", 1023) .. "\n"
                for i = 1, 300 do
                    ngx.print(chunk)
                end
            }
        }
    }
--- config
    location /proxy {
        proxy_buffer_size 1k;
        proxy_buffers 4 1k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/proxy")
            ngx.say(res.status, " ", #res.body, " ", res.truncated)
        }
    }
--- request
GET /t
--- response_body
200 307200 false
--- no_error_log
[error]



=== TEST 33: the entry thread fails while a light thread waits for a capture
--- config
    location /slow {
        content_by_lua_block {
            ngx.sleep(0.1)
            ngx.print("slow")
        }
    }
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.location.capture("/slow")
                ngx.log(ngx.ERR, "must not resume")
            end)
            error("entry failed")
        }
    }
    location /after {
        content_by_lua_block {
            ngx.sleep(0.2)
            ngx.say("still serving")
        }
    }
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error
--- error_log
entry failed
--- no_error_log
must not resume



=== TEST 34: ngx.exit(444) with captures pending closes the connection
--- config
    location /slow {
        content_by_lua_block {
            ngx.sleep(0.1)
            ngx.print("slow")
        }
    }
    location /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.location.capture("/slow")
                ngx.log(ngx.ERR, "must not resume")
            end)
            ngx.exit(444)
        }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
must not resume
[alert]



=== TEST 35: Lua body and header filters of the captured location still run
--- config
    location /sub {
        content_by_lua_block {
            ngx.say("hello")
        }
        header_filter_by_lua_block {
            ngx.header["X-Filtered"] = "hf"
        }
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "" then
                ngx.arg[1] = string.upper(ngx.arg[1])
            end
        }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.print(res.header["X-Filtered"], " ", res.body)
        }
    }
--- request
GET /t
--- response_body
hf HELLO
--- no_error_log
[error]



=== TEST 36: headers option with several values, and the bad types
--- config
    location /sub {
        content_by_lua_block {
            local h = ngx.req.get_headers()["X-Multi"]
            ngx.say(type(h) == "table" and table.concat(h, ",") or tostring(h))
        }
    }
    location /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/sub", { headers = { ["X-Multi"] = { "a", "b" } } }).body)
            ngx.say(pcall(ngx.location.capture, "/sub", { headers = "x" }))
        }
    }
--- request
GET /t
--- response_body
a,b
falseBad headers option value type string, expected a Lua table
--- no_error_log
[error]



=== TEST 37: ngx.exit(444) right after a capture in content_by_lua (the request ends for good)
--- config
    location = /sub { return 200 "sub"; }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            if res.status == 200 then
                ngx.exit(444)
            end
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[alert]
[error]



=== TEST 38: ngx.exit(ngx.ERROR) right after a capture in access_by_lua
--- config
    location = /sub { return 200 "sub"; }
    location = /t {
        access_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.exit(ngx.ERROR)
        }
        content_by_lua_block { ngx.say("not reached") }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[alert]
not reached
