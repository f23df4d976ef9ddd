# vim:set ft= ts=4 sw=4 et fdm=marker:
# ngx.location.capture_multi: parallel subrequests, results in order.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: three subrequests, results in the order given
--- config
    location /a {
        return 200 "A";
    }
    location /b {
        content_by_lua_block {
            ngx.status = 202
            ngx.print("B", ngx.var.arg_x)
        }
    }
    location /c {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.print("C:", ngx.req.get_body_data())
        }
    }
    location /t {
        content_by_lua_block {
            local r1, r2, r3 = ngx.location.capture_multi{
                { "/a" },
                { "/b", { args = "x=1" } },
                { "/c", { method = ngx.HTTP_POST, body = "hello" } },
            }
            ngx.say(r1.status, " ", r1.body)
            ngx.say(r2.status, " ", r2.body)
            ngx.say(r3.status, " ", r3.body)
        }
    }
--- request
GET /t
--- response_body
200 A
202 B1
200 C:hello
--- no_error_log
[error]



=== TEST 2: subrequests run concurrently (total ~ the longest, not the sum)
--- config
    location /slow {
        content_by_lua_block {
            ngx.sleep(tonumber(ngx.var.arg_s))
            ngx.print(ngx.var.arg_s)
        }
    }
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local res = { ngx.location.capture_multi{
                { "/slow", { args = "s=0.3" } },
                { "/slow", { args = "s=0.2" } },
                { "/slow", { args = "s=0.3" } },
            } }
            ngx.update_time()
            local d = ngx.now() - t0
            for i, r in ipairs(res) do
                ngx.say(i, ": ", r.status, " ", r.body)
            end
            ngx.say(d >= 0.25 and d < 0.6 and "parallel" or ("took " .. d))
        }
    }
--- request
GET /t
--- response_body
1: 200 0.3
2: 200 0.2
3: 200 0.3
parallel
--- no_error_log
[error]



=== TEST 3: a table of requests built at run time
--- config
    location /echo {
        content_by_lua_block {
            ngx.print(ngx.var.arg_i)
        }
    }
    location /t {
        content_by_lua_block {
            local reqs = {}
            for i = 1, 50 do
                reqs[i] = { "/echo", { args = { i = i } } }
            end
            local resps = { ngx.location.capture_multi(reqs) }
            local sum = 0
            for i, r in ipairs(resps) do
                assert(tonumber(r.body) == i)
                sum = sum + tonumber(r.body)
            end
            ngx.say(#resps, " ", sum)
        }
    }
--- request
GET /t
--- response_body
50 1275
--- no_error_log
[error]



=== TEST 4: mixed statuses and sources
--- config
    location /ok {
        return 200 "ok";
    }
    location /missing {
        return 404;
    }
    location /boom {
        content_by_lua_block {
            error("boom")
        }
    }
    location /t {
        content_by_lua_block {
            local a, b, c, d = ngx.location.capture_multi{
                { "/ok" }, { "/missing" }, { "/boom" }, { "/file.txt" },
            }
            ngx.say(a.status, " ", b.status, " ", c.status, " ", d.status, " ", (d.body:gsub("\n", "")))
        }
    }
--- user_files
>>> file.txt
file
--- request
GET /t
--- response_body
200 404 500 200 file
--- error_log
boom



=== TEST 5: capture_multi in access_by_lua and rewrite_by_lua
--- config
    location /a {
        return 200 "a";
    }
    location /b {
        return 200 "b";
    }
    location /t {
        rewrite_by_lua_block {
            local r1, r2 = ngx.location.capture_multi{ { "/a" }, { "/b" } }
            ngx.ctx.rw = r1.body .. r2.body
        }
        access_by_lua_block {
            local r1, r2 = ngx.location.capture_multi{ { "/b" }, { "/a" } }
            ngx.ctx.acc = r1.body .. r2.body
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.rw, " ", ngx.ctx.acc)
        }
    }
--- request
GET /t
--- response_body
ab ba
--- no_error_log
[error]



=== TEST 6: light threads, each with its own capture_multi
--- config
    location /slow {
        content_by_lua_block {
            ngx.sleep(tonumber(ngx.var.arg_s))
            ngx.print(ngx.var.arg_s)
        }
    }
    location /t {
        content_by_lua_block {
            local function run(a, b)
                local r1, r2 = ngx.location.capture_multi{
                    { "/slow", { args = { s = a } } },
                    { "/slow", { args = { s = b } } },
                }
                return r1.body .. "+" .. r2.body
            end
            local t1 = ngx.thread.spawn(run, 0.1, 0.05)
            local t2 = ngx.thread.spawn(run, 0.01, 0.02)
            local _, x = ngx.thread.wait(t1)
            local _, y = ngx.thread.wait(t2)
            ngx.say(x, " ", y)
        }
    }
--- request
GET /t
--- response_body
0.1+0.05 0.01+0.02
--- no_error_log
[error]



=== TEST 7: argument errors
--- config
    location /a {
        return 200;
    }
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.location.capture_multi))
            ngx.say(pcall(ngx.location.capture_multi, {}, {}))
            ngx.say(pcall(ngx.location.capture_multi, "/a"))
            ngx.say(pcall(ngx.location.capture_multi, {}))
            ngx.say(pcall(ngx.location.capture_multi, { "/a" }))
            ngx.say(pcall(ngx.location.capture_multi, { {} }))
            ngx.say(pcall(ngx.location.capture_multi, { { "/a", {}, 1 } }))
            ngx.say(pcall(ngx.location.capture_multi, { { "/a" }, { "/a", "x" } }))
        }
    }
--- request
GET /t
--- response_body
falseonly one argument is expected, but got 0
falseonly one argument is expected, but got 2
falsebad argument #1 to 'capture_multi' (table expected, got string)
falseat least one subrequest should be specified
falsethe query argument 0 is not a table, but a string
falsequery argument 0 expecting one or two arguments
falsequery argument 0 expecting one or two arguments
falseexpecting table as the 2nd argument for subrequest 1, but got string
--- no_error_log
[error]



=== TEST 8: proxied subrequests in parallel
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.sleep(0.1)
                ngx.say("backend ", ngx.var.uri)
            }
        }
    }
--- config
    location /proxy/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local r1, r2, r3 = ngx.location.capture_multi{
                { "/proxy/one" }, { "/proxy/two" }, { "/proxy/three" },
            }
            ngx.update_time()
            ngx.print(r1.body, r2.body, r3.body)
            ngx.say(ngx.now() - t0 < 0.25 and "parallel" or "serial")
        }
    }
--- request
GET /t
--- response_body
backend /one
backend /two
backend /three
parallel
--- no_error_log
[error]



=== TEST 9: output after capture_multi, then more captures
--- config
    location /a {
        return 200 "a";
    }
    location /t {
        content_by_lua_block {
            ngx.say("before")
            local r1, r2 = ngx.location.capture_multi{ { "/a" }, { "/a" } }
            ngx.say(r1.body, r2.body)
            ngx.flush(true)
            local r3 = ngx.location.capture("/a")
            ngx.say(r3.body)
        }
    }
--- request
GET /t
--- response_body
before
aa
a
--- no_error_log
[error]
