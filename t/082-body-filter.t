# vim:set ft= ts=4 sw=4 et fdm=marker:
# body_filter_by_lua*: ngx.arg[1] (chunk) and ngx.arg[2] (eof) over
# locally generated responses.
use Test::Nginx::Socket::Lua 'no_plan';

repeat_each(2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: chunks and eof as the filter sees them
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello")
            ngx.say("world")
        }
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "chunk: [", ngx.arg[1], "] eof: ", tostring(ngx.arg[2]))
        }
    }
--- request
GET /t
--- response_body
hello
world
--- error_log
chunk: [hello
] eof: false
chunk: [world
] eof: false
chunk: [] eof: true



=== TEST 2: rewrite the chunk (length changes; Content-Length removed)
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 12
            ngx.print("hello world\n")
        }
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            ngx.arg[1] = string.upper(ngx.arg[1]):gsub("O", "0000")
        }
    }
--- request
GET /t
--- response_headers
!Content-Length
--- response_body
HELL0000 W0000RLD



=== TEST 3: a table of strings, numbers, nested arrays
--- config
    location /t {
        return 200 "x";
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "" then
                ngx.arg[1] = {"<", ngx.arg[1], ">", 1, {" ", 2.5}, "\n"}
            end
        }
    }
--- request
GET /t
--- response_body
<x>1 2.5



=== TEST 4: nil and "" drop the chunk; eof still goes out
--- config
    location /t {
        content_by_lua_block {
            ngx.say("keep 1")
            ngx.say("drop")
            ngx.say("keep 2")
            ngx.say("drop too")
        }
        body_filter_by_lua_block {
            local c = ngx.arg[1]
            if c == "drop\n" then
                ngx.arg[1] = nil
            elseif c == "drop too\n" then
                ngx.arg[1] = ""
            end
        }
    }
--- request
GET /t
--- response_body
keep 1
keep 2



=== TEST 5: ngx.arg[2] = true ends the response early, later output dropped
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 5 do
                ngx.say("line ", i)
            end
        }
        body_filter_by_lua_block {
            if ngx.arg[1] == "line 2\n" then
                ngx.arg[2] = true
            end
        }
    }
--- request
GET /t
--- response_body
line 1
line 2



=== TEST 6: append a trailer at eof
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        body_filter_by_lua_block {
            ngx.ctx.bytes = (ngx.ctx.bytes or 0) + #ngx.arg[1]
            if ngx.arg[2] then
                ngx.arg[1] = ngx.arg[1] .. "bytes: " .. ngx.ctx.bytes .. "\n"
            end
        }
    }
--- request
GET /t
--- response_body
body
bytes: 5



=== TEST 7: static file (in-memory buffers via the copy filter), masking
--- config
    location /static {
        alias html/;
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            ngx.arg[1] = ngx.arg[1]:gsub("%d%d%d%d%-%d%d%d%d", "XXXX-XXXX")
        }
    }
--- user_files
>>> card.txt
card 1234-5678 ok
--- request
GET /static/card.txt
--- response_body
card XXXX-XXXX ok



=== TEST 8: return ngx.ERROR aborts the response
--- config
    location /t {
        content_by_lua_block {
            ngx.say("first")
            ngx.flush(true)
            ngx.say("second")
        }
        body_filter_by_lua_block {
            if ngx.arg[1] == "second\n" then
                return ngx.ERROR
            end
        }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[alert]



=== TEST 9: lua error in the body filter
--- config
    location /t {
        content_by_lua_block { ngx.say("hi") }
        body_filter_by_lua_block { error("bad chunk") }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
qr/failed to run body_filter_by_lua\*: body_filter_by_lua\(nginx\.conf:\d+\):1: bad chunk/
--- no_error_log
[alert]



=== TEST 10: refused APIs and bad values
--- config
    location /t {
        content_by_lua_block { ngx.say("x") }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                for _, f in ipairs{
                    function() ngx.say("a") end,
                    function() ngx.exit(200) end,
                    function() ngx.sleep(0.1) end,
                    function() ngx.arg[1] = true end,
                    function() ngx.arg[3] = "x" end,
                } do
                    local ok, err = pcall(f)
                    ngx.log(ngx.WARN, "refused: ", err)
                end
            end
        }
    }
--- request
GET /t
--- response_body
x
--- error_log
API disabled in the context of body_filter_by_lua*
bad chunk data type: boolean
bad index: 3



=== TEST 11: ngx.arg outside a body filter
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() return ngx.arg[1] end)
            ngx.say(err)
            ok, err = pcall(function() ngx.arg[1] = "x" end)
            ngx.say(err)
        }
    }
--- request
GET /t
--- response_body_like
API disabled in the current context
.*API disabled in the context of content_by_lua\*



=== TEST 12: set_by_lua keeps its own ngx.arg in a location with a body filter
--- config
    location /t {
        set_by_lua $sum 'return ngx.arg[1] + ngx.arg[2]' 3 4;
        content_by_lua_block { ngx.say("sum: ", ngx.var.sum) }
        body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1]:gsub("sum", "total") }
    }
--- request
GET /t
--- response_body
total: 7



=== TEST 13: body_filter_by_lua_file and the string form, inherited
--- config
    body_filter_by_lua_file html/bf.lua;
    location /a {
        return 200 "abc\n";
    }
    location /b {
        header_filter_by_lua 'ngx.header.content_length = nil';
        body_filter_by_lua 'ngx.arg[1] = ngx.arg[1]:rep(2)';
        return 200 "xy\n";
    }
--- user_files
>>> bf.lua
ngx.arg[1] = ngx.arg[1]:reverse()
--- request eval
["GET /a", "GET /b"]
--- response_body eval
["\ncba", "xy\nxy\n"]



=== TEST 14: filters on error pages
--- config
    error_page 404 /nf;
    location = /nf {
        internal;
        return 404 "page missing\n";
        body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1]:upper() }
    }
--- request
GET /nowhere
--- error_code: 404
--- response_body
PAGE MISSING



=== TEST 15: subrequest bodies go through the subrequest's filter (SSI)
--- config
    location /main {
        ssi on;
        default_type text/html;
        alias html/main.html;
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "main chunk: [", ngx.arg[1], "] eof: ", tostring(ngx.arg[2]))
        }
    }
    location /part {
        content_by_lua_block { ngx.print("part") }
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "sub chunk: [", ngx.arg[1], "] eof: ", tostring(ngx.arg[2]))
            ngx.arg[1] = ngx.arg[1]:upper()
        }
    }
--- user_files
>>> main.html
<<!--# include virtual="/part" -->>
--- request
GET /main
--- response_body
<PART>
--- error_log
sub chunk: [part] eof: false
sub chunk: [] eof: true
