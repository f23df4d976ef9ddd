# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: lpush, rpush, lpop, rpop, llen
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:delete("list")
            ngx.say(dogs:lpush("list", "b"))
            ngx.say(dogs:lpush("list", "a"))
            ngx.say(dogs:rpush("list", 3))
            ngx.say(dogs:rpush("list", "c\0d"))
            ngx.say(dogs:llen("list"))
            ngx.say(dogs:lpop("list"))
            ngx.say(dogs:rpop("list") == "c\0d")
            ngx.say(dogs:rpop("list"), " ", type(dogs:llen("list")))
            ngx.say(dogs:lpop("list"))
            ngx.say(dogs:lpop("list"))
            ngx.say(dogs:llen("list"))
            ngx.say(dogs:get("list"))
        }
    }
--- request
GET /t
--- response_body
1
2
3
4
4
a
true
3 number
b
nil
0
nil
--- no_error_log
[error]



=== TEST 2: list operations on scalars, scalars on lists
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("s", "scalar")
            ngx.say(dogs:lpush("s", 1))
            ngx.say(dogs:rpush("s", 1))
            ngx.say(dogs:lpop("s"))
            ngx.say(dogs:rpop("s"))
            ngx.say(dogs:llen("s"))
            dogs:delete("l")
            dogs:rpush("l", 1)
            ngx.say(dogs:get("l"))
            ngx.say(dogs:incr("l", 1))
            ngx.say(dogs:replace("l", "x"))
            ngx.say(dogs:get("l"))
            ngx.say(dogs:lpush("l2", true))
            ngx.say(dogs:lpush("l2", nil))
            ngx.say(dogs:lpush(nil, 1))
            ngx.say(dogs:lpush("", 1))
            ngx.say(dogs:lpop(nil))
            ngx.say(pcall(dogs.lpush, dogs, "l"))
            ngx.say(pcall(dogs.lpop, dogs))
            ngx.say(pcall(dogs.llen, dogs))
        }
    }
--- request
GET /t
--- response_body
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue is a list
nilnot a number
truenilfalse
x
nilbad value type
nilbad value type
nilnil key
nilempty key
nilnil key
falseexpecting 3 arguments, but only seen 2
falseexpecting 2 arguments, but only seen 1
falseexpecting 2 arguments, but only seen 1
--- no_error_log
[error]



=== TEST 3: expired lists are reset by a push; list keys in get_keys
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:flush_all()
            dogs:flush_expired()
            dogs:rpush("l", "old1")
            dogs:rpush("l", "old2")
            ngx.say(dogs:expire("l", 0.05))
            ngx.say(dogs:ttl("l") > 0)
            ngx.sleep(0.1)
            ngx.say(dogs:llen("l"))
            ngx.say(dogs:lpop("l"))
            ngx.say(dogs:rpush("l", "new"))
            ngx.say(dogs:llen("l"), " ", dogs:ttl("l"))
            ngx.say(table.concat(dogs:get_keys(), ","))
        }
    }
--- request
GET /t
--- response_body
true
true
0
nil
1
1 0
l
--- no_error_log
[error]



=== TEST 4: pushes never evict: "no memory" when full
--- http_config
    lua_shared_dict small 32k;
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.small
            d:flush_all()
            d:flush_expired()
            local n = 0
            local val = string.rep("x", 100)
            while true do
                local len, err = d:rpush("list", val)
                if not len then
                    ngx.say(len, " ", err)
                    break
                end
                n = n + 1
            end
            ngx.say(n > 20, " ", d:llen("list") == n)
            local ok, err = d:lpush("other", val)
            ngx.say(ok, " ", err, " ", d:llen("other"))
            for i = 1, n do d:lpop("list") end
            ngx.say(d:llen("list"), " ", d:get("list"))
        }
    }
--- request
GET /t
--- response_body
false no memory
true true
false no memory 0
0 nil
--- no_error_log
[error]



=== TEST 5: lists shared between requests and a timer
--- http_config
    lua_shared_dict q 1m;
--- config
    location = /t {
        content_by_lua_block {
            local q = ngx.shared.q
            q:delete("jobs")
            ngx.timer.at(0, function()
                for i = 1, 5 do q:rpush("jobs", "job" .. i) end
            end)
            ngx.sleep(0.05)
            local out = {}
            while true do
                local j = q:lpop("jobs")
                if not j then break end
                out[#out + 1] = j
            end
            ngx.say(table.concat(out, " "))
        }
    }
--- request
GET /t
--- response_body
job1 job2 job3 job4 job5
--- no_error_log
[error]
