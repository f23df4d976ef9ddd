# vim:set ft= ts=4 sw=4 et fdm=marker:
# body_filter_by_lua* over proxied responses: chunked, streamed, slow,
# large, cut short. The backends are servers of the same nginx.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: chunked upstream response, rewritten (length changes)
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                for i = 1, 3 do
                    ngx.say("secret-", i, " data")
                    ngx.flush(true)
                end
            }
        }
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        header_filter_by_lua_block {
            ngx.header["X-Upstream-TE"] = ngx.header["Transfer-Encoding"] or "none"
            ngx.header.content_length = nil
        }
        body_filter_by_lua_block {
            ngx.arg[1] = ngx.arg[1]:gsub("secret%-(%d)", "[masked %1]")
        }
    }
--- request
GET /t
--- response_body
[masked 1] data
[masked 2] data
[masked 3] data
--- no_error_log
[error]



=== TEST 2: proxy_buffering off: slow chunks reach the filter one by one
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                for i = 1, 3 do
                    ngx.say("part ", i)
                    ngx.flush(true)
                    ngx.sleep(0.05)
                end
            }
        }
    }
--- config
    location /t {
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        body_filter_by_lua_block {
            ngx.ctx.calls = (ngx.ctx.calls or 0) + 1
            ngx.log(ngx.WARN, "filter call ", ngx.ctx.calls, ": [", (ngx.arg[1]:gsub("\n", "|")), "] eof=", tostring(ngx.arg[2]))
            ngx.arg[1] = ngx.arg[1]:upper()
        }
    }
--- request
GET /t
--- response_body
PART 1
PART 2
PART 3
--- error_log
: [part 1|] eof=false
: [part 2|] eof=false
: [part 3|] eof=false
eof=true



=== TEST 3: a 16 MB proxied body through a rewriting filter, memory stays flat
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        root html;
    }
--- config
    location /t {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/big.txt;
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            local function rss()
                local f = io.open("/proc/self/statm")
                local s = f:read("*a")
                f:close()
                local pages = tonumber(s:match("^%d+%s+(%d+)"))
                return pages * 4
            end
            local ctx = ngx.ctx
            if not ctx.rss0 then
                ctx.rss0 = rss()
                ctx.calls = 0
            end
            ctx.calls = ctx.calls + 1
            local chunk = ngx.arg[1]
            if ngx.arg[2] then
                collectgarbage()
                local grew = rss() - ctx.rss0
                ngx.log(ngx.WARN, "calls: ", ctx.calls, ", rss grew ", grew, " kB")
                ngx.arg[1] = chunk:upper() .. (grew < 10240 and "\nrss: ok\n" or ("\nrss: grew " .. grew .. " kB\n"))
            else
                ngx.arg[1] = chunk:upper()
            end
        }
    }
--- user_files eval
[["big.txt", "0123456789abcdef" x 1048576]]
--- request
GET /t
--- response_body_filters eval
sub { my $s = shift; my $n = length($s); my ($tail) = $s =~ /\n(rss: [^\n]*)\n\z/; my $up = ($s =~ /\A(?:0123456789ABCDEF)+\n/) ? "upper" : "not upper"; "$n $up $tail" }
--- response_body chomp
16777225 upper rss: ok
--- timeout: 30
--- no_error_log
[error]



=== TEST 4: upstream closing early: no crash, nginx reports it
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.header.content_length = 100
                ngx.print("only ten..")
                ngx.flush(true)
                ngx.exit(444)
            }
        }
    }
--- config
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "saw: [", ngx.arg[1], "] eof=", tostring(ngx.arg[2]))
        }
    }
--- request
GET /t
--- ignore_response
--- error_log
upstream prematurely closed connection
saw: [only ten..] eof=false
--- no_error_log
[alert]



=== TEST 5: slow upstream, header and body filters together, ngx.ctx across them
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            content_by_lua_block {
                ngx.sleep(0.1)
                ngx.header["X-Token"] = "abc123"
                ngx.say("token=abc123")
            }
        }
    }
--- config
    location /t {
        access_by_lua_block { ngx.ctx.mask = "***" }
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        header_filter_by_lua_block {
            ngx.ctx.token = ngx.header["X-Token"]
            ngx.header["X-Token"] = nil
            ngx.header.content_length = nil
        }
        body_filter_by_lua_block {
            if ngx.ctx.token then
                ngx.arg[1] = ngx.arg[1]:gsub(ngx.ctx.token, ngx.ctx.mask)
            end
        }
    }
--- request
GET /t
--- response_headers
!X-Token
--- response_body
token=***
