# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: cjson.safe returns nil, err instead of raising
--- config
    location /t {
        content_by_lua_block {
            local safe = require "cjson.safe"
            ngx.say(safe.decode("{"))
            ngx.say(safe.decode("[1,2"))
            ngx.say(safe.encode(print))
            ngx.say(safe.encode({[50] = 1}))
            ngx.say(safe.encode(0/0))
            ngx.say(select("#", safe.encode({1})), " ", safe.encode({1}))
            ngx.say(select("#", safe.decode("[1]")), " ", safe.decode("[1]")[1])
        }
    }
--- request
GET /t
--- response_body
nilExpected object key string but found T_END at character 2
nilExpected comma or array end but found T_END at character 5
nilCannot serialise function: type not supported
nilCannot serialise table: excessively sparse array
nilCannot serialise number: must not be NaN or Infinity
1 [1]
1 1
--- no_error_log
[error]



=== TEST 2: argument count errors still raise in cjson.safe
--- config
    location /t {
        content_by_lua_block {
            local safe = require "cjson.safe"
            ngx.say(pcall(safe.encode))
            ngx.say(pcall(safe.decode, "1", 2))
            ngx.say(pcall(safe.decode, nil))
            ngx.say(pcall(safe.encode_max_depth, -1))
        }
    }
--- request
GET /t
--- response_body
falsebad argument #1 to 'encode' (expected 1 argument)
falsebad argument #1 to 'decode' (expected 1 argument)
falsebad argument #1 to 'decode' (string expected, got nil)
falsebad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)
--- no_error_log
[error]



=== TEST 3: cjson.safe has its own settings, shares null/empty_array/metatables
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            local safe = require("cjson.safe").new()
            safe.encode_max_depth(1)
            ngx.say(safe.encode({{}}))
            ngx.say(cjson.encode({{}}))
            ngx.say(safe.null == cjson.null, " ", safe.null == ngx.null, " ",
                    safe.empty_array == cjson.empty_array, " ",
                    safe.array_mt == cjson.array_mt, " ",
                    safe.empty_array_mt == cjson.empty_array_mt)
            ngx.say(safe._NAME, " ", safe._VERSION)
        }
    }
--- request
GET /t
--- response_body
nilCannot serialise, excessive nesting (2)
[{}]
true true true true true
cjson 2.1.0.11
--- no_error_log
[error]



=== TEST 4: cjson.safe.new() makes safe instances
--- config
    location /t {
        content_by_lua_block {
            local safe = require "cjson.safe"
            local s2 = safe.new()
            ngx.say(s2.decode("]"))
            s2.decode_max_depth(1)
            ngx.say(s2.decode("[[1]]"))
            ngx.say(safe.decode("[[1]]")[1][1])
        }
    }
--- request
GET /t
--- response_body
nilExpected value but found T_ARR_END at character 1
nilFound too many nested data structures (2) at character 2
1
--- no_error_log
[error]



=== TEST 5: cjson.safe in init_worker_by_lua, its output decoded in a request
--- http_config
    init_worker_by_lua_block {
        local safe = require "cjson.safe"
        WORKER_JSON = safe.encode({ok = true})
    }
--- config
    location /t {
        content_by_lua_block {
            local safe = require "cjson.safe"
            ngx.say(WORKER_JSON, " ", safe.decode(WORKER_JSON).ok)
        }
    }
--- request
GET /t
--- response_body
{"ok":true} true
--- no_error_log
[error]
