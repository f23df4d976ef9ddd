# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 - 2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: set and get strings, numbers, booleans
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("Jim", 8)
            dogs:set("Kate", "hello")
            dogs:set("Tom", true)
            dogs:set("Ann", false)
            dogs:set("Pi", 3.14159)
            for _, k in ipairs{"Jim", "Kate", "Tom", "Ann", "Pi", "nobody"} do
                local v, f = dogs:get(k)
                ngx.say(k, ": ", type(v), " ", tostring(v), " ", tostring(f))
            end
            ngx.say(ngx.shared["dogs"] == dogs)
        }
    }
--- request
GET /t
--- response_body
Jim: number 8 nil
Kate: string hello nil
Tom: boolean true nil
Ann: boolean false nil
Pi: number 3.14159 nil
nobody: nil nil nil
true
--- no_error_log
[error]



=== TEST 2: set returns ok, err, forcible; flags come back only when non-zero
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say(dogs:set("a", "x", 0, 37))
            ngx.say(dogs:get("a"))
            ngx.say(dogs:set("a", "y", 0, 0))
            ngx.say(dogs:get("a"))
            ngx.say(dogs:set("b", 1, nil, 2))
            ngx.say(dogs:get("b"))
        }
    }
--- request
GET /t
--- response_body
truenilfalse
x37
truenilfalse
y
truenilfalse
12
--- no_error_log
[error]



=== TEST 3: add, safe_add, replace, delete
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:flush_all()
            ngx.say("replace: ", tostring(dogs:replace("k", 1)), " ", (select(2, dogs:replace("k", 1))))
            ngx.say("add: ", dogs:add("k", 1))
            local ok, err, forcible = dogs:add("k", 2)
            ngx.say("add again: ", ok, " ", err, " ", forcible)
            ngx.say("safe_add: ", dogs:safe_add("k", 3))
            ngx.say("replace: ", dogs:replace("k", "two"))
            ngx.say("get: ", dogs:get("k"))
            ngx.say("add nil: ", dogs:add("z", nil))
            ngx.say("replace nil: ", dogs:replace("k", nil))
            ngx.say("delete: ", dogs:delete("k"))
            ngx.say("get: ", dogs:get("k"))
            ngx.say("delete missing: ", dogs:delete("k"))
            ngx.say("safe_set: ", dogs:safe_set("s", "v"))
            ngx.say("set nil: ", dogs:set("s", nil))
            ngx.say("get: ", dogs:get("s"))
        }
    }
--- request
GET /t
--- response_body
replace: false not found
add: truenilfalse
add again: false exists false
safe_add: falseexistsfalse
replace: truenilfalse
get: two
add nil: falseattempt to add or replace nil valuesfalse
replace nil: falseattempt to add or replace nil valuesfalse
delete: truenilfalse
get: nil
delete missing: truenilfalse
safe_set: truenilfalse
set nil: truenilfalse
get: nil
--- no_error_log
[error]



=== TEST 4: key errors
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say(dogs:get(nil))
            ngx.say(dogs:get(""))
            ngx.say(dogs:get(string.rep("a", 65536)))
            ngx.say(dogs:set(nil, 1))
            ngx.say(dogs:set("", 1))
            ngx.say(dogs:set(string.rep("a", 65536), 1))
            ngx.say(dogs:set(string.rep("a", 65535), 1))
            ngx.say(dogs:get(string.rep("a", 65535)))
            ngx.say(dogs:incr(nil, 1))
            ngx.say(dogs:incr("", 1))
            ngx.say(dogs:ttl(nil))
            ngx.say(dogs:ttl(""))
            ngx.say(dogs:expire(nil, 1))
            ngx.say(dogs:expire("", 1))
            ngx.say(dogs:set("t", {}))
            ngx.say(dogs:set(32, "num key"))
            ngx.say(dogs:get(32), " ", dogs:get("32"))
        }
    }
--- request
GET /t
--- response_body
nilnil key
nilempty key
nilkey too long
nilnil key
nilempty key
nilkey too long
truenilfalse
1
nilnil key
nilempty key
nilnil key
nilempty key
nilnil key
nilempty key
nilbad value type
truenilfalse
num key num key
--- no_error_log
[error]



=== TEST 5: misuse of the dict object raises 'bad "zone" argument'
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            for _, name in ipairs{"get", "get_stale", "set", "safe_set", "add",
                                  "safe_add", "replace", "delete", "incr", "ttl",
                                  "expire", "flush_all", "capacity", "free_space"} do
                local ok, err = pcall(dogs[name], nil, "k", 1)
                local ok2, err2 = pcall(dogs[name], {}, "k", 1)
                ngx.say(name, ": ", ok, " ", err, " | ", ok2, " ", err2)
            end
            for _, name in ipairs{"lpush", "rpush"} do
                ngx.say(name, ": ", select(2, pcall(dogs[name], nil, "k", 1)))
            end
            for _, name in ipairs{"lpop", "rpop"} do
                ngx.say(name, ": ", select(2, pcall(dogs[name], nil, "k")))
            end
            ngx.say("flush_expired: ", select(2, pcall(dogs.flush_expired, {})))
            ngx.say("get_keys: ", select(2, pcall(dogs.get_keys, "x")))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Aget: false .*?bad "zone" argument \| false .*?bad "zone" argument
get_stale: false .*?bad "zone" argument \| false .*?bad "zone" argument
set: false .*?bad "zone" argument \| false .*?bad "zone" argument
safe_set: false .*?bad "zone" argument \| false .*?bad "zone" argument
add: false .*?bad "zone" argument \| false .*?bad "zone" argument
safe_add: false .*?bad "zone" argument \| false .*?bad "zone" argument
replace: false .*?bad "zone" argument \| false .*?bad "zone" argument
delete: false .*?bad "zone" argument \| false .*?bad "zone" argument
incr: false .*?bad "zone" argument \| false .*?bad "zone" argument
ttl: false .*?bad "zone" argument \| false .*?bad "zone" argument
expire: false .*?bad "zone" argument \| false .*?bad "zone" argument
flush_all: false .*?bad "zone" argument \| false .*?bad "zone" argument
capacity: false .*?bad "zone" argument \| false .*?bad "zone" argument
free_space: false .*?bad "zone" argument \| false .*?bad "zone" argument
lpush: bad "zone" argument
rpush: bad "zone" argument
lpop: bad "zone" argument
rpop: bad "zone" argument
flush_expired: bad "zone" argument
get_keys: bad "zone" argument
\z
--- no_error_log
[error]



=== TEST 6: incr
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:flush_all()
            ngx.say(dogs:incr("n", 1))
            ngx.say(dogs:incr("n", 1, 10))
            ngx.say(dogs:incr("n", 1, 10))
            ngx.say(dogs:incr("n", -2.5))
            ngx.say(dogs:incr("n", "3"))
            dogs:set("s", "str")
            ngx.say(dogs:incr("s", 1))
            ngx.say(dogs:incr("s", 1, 0))
            ngx.say(pcall(dogs.incr, dogs, "x", 1, "bad"))
            ngx.say(pcall(dogs.incr, dogs, "x", 1, nil, 10))
            ngx.say(pcall(dogs.incr, dogs, "x", 1, 0, -1))
            ngx.say(dogs:incr("t", 5, 0, 0.3))
            local ttl = dogs:ttl("t")
            ngx.say(ttl > 0.2 and ttl <= 0.3)
            ngx.say(dogs:incr("t", 5, 0, 100))
            ttl = dogs:ttl("t")
            ngx.say(ttl > 0.2 and ttl <= 0.3)
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anilnot found
11nilfalse
12nilfalse
9.5
12.5
nilnot a number
nilnot a number
falsebad init arg: number expected, got string
falsemust provide "init" when providing "init_ttl"
falsebad "init_ttl" argument
5nilfalse
true
10nilfalse
true
\z
--- no_error_log
[error]



=== TEST 7: expiry with millisecond precision, get_stale, ttl, expire
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:flush_all()
            dogs:flush_expired()
            dogs:set("short", "v", 0.1, 7)
            dogs:set("long", "w", 10)
            dogs:set("forever", "z")
            ngx.say("ttl forever: ", dogs:ttl("forever"))
            local t = dogs:ttl("long")
            ngx.say("ttl long: ", t > 9.9 and t <= 10)
            ngx.say("ttl missing: ", dogs:ttl("missing"))
            ngx.say(dogs:get("short"))
            ngx.sleep(0.15)
            ngx.say(dogs:get("short"))
            ngx.say(dogs:get_stale("short"))
            ngx.say(dogs:get_stale("long"))
            ngx.say("ttl expired: ", dogs:ttl("short") < 0)
            ngx.say("expire: ", dogs:expire("long", 0.05))
            ngx.say("expire missing: ", dogs:expire("missing", 1))
            ngx.say(pcall(dogs.expire, dogs, "long"))
            ngx.say(pcall(dogs.set, dogs, "x", 1, -1))
            ngx.sleep(0.1)
            ngx.say(dogs:get("long"))
            ngx.say("expire 0: ", dogs:expire("forever", 0), " ", dogs:ttl("forever"))
            ngx.say("add over expired: ", dogs:add("short", "new"))
            ngx.say(dogs:get("short"))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Attl forever: 0
ttl long: true
ttl missing: nilnot found
v7
nil
v7true
wnilfalse
ttl expired: true
expire: true
expire missing: nilnot found
falsebad "exptime" argument
falsebad "exptime" argument
nil
expire 0: true 0
add over expired: truenilfalse
new
\z
--- no_error_log
[error]



=== TEST 8: flush_all, flush_expired, get_keys
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:flush_all()
            dogs:flush_expired()
            for i = 1, 10 do
                dogs:set("k" .. i, i, i % 2 == 0 and 0.05 or 0)
            end
            local keys = dogs:get_keys()
            ngx.say(#keys, " ", keys[1], " ", keys[10])
            ngx.say(#dogs:get_keys(3))
            ngx.say(#dogs:get_keys(0))
            ngx.sleep(0.1)
            ngx.say(#dogs:get_keys())
            ngx.say(dogs:flush_expired(2))
            ngx.say(dogs:flush_expired())
            ngx.say(dogs:flush_expired())
            dogs:flush_all()
            ngx.say(#dogs:get_keys())
            ngx.say(dogs:flush_expired() > 0, " ", dogs:get("k1"))
            ngx.say(pcall(dogs.get_keys, dogs, 1, 2))
        }
    }
--- request
GET /t
--- response_body
10 k1 k10
3
10
5
2
3
0
0
true nil
falseexpecting 1 or 2 argument(s), but saw 3
--- no_error_log
[error]



=== TEST 9: capacity and free_space
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict cats 16k;
--- config
    location = /t {
        content_by_lua_block {
            local dogs, cats = ngx.shared.dogs, ngx.shared.cats
            ngx.say(dogs:capacity(), " ", cats:capacity())
            local free = dogs:free_space()
            ngx.say(free > 900000 and free <= 1048576)
            dogs:flush_all()
            dogs:flush_expired()
            local before = dogs:free_space()
            for i = 1, 200 do dogs:set("big" .. i, string.rep("x", 4000)) end
            ngx.say(dogs:free_space() < before)
            dogs:flush_all()
            dogs:flush_expired()
            ngx.say(dogs:free_space() >= before - 8192)
        }
    }
--- request
GET /t
--- response_body
1048576 16384
true
true
true
--- no_error_log
[error]



=== TEST 10: binary keys and values with NUL bytes, large values
--- http_config
    lua_shared_dict dogs 2m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            local k1, k2 = "a\0b", "a\0c"
            dogs:set(k1, "x\0y\0")
            dogs:set(k2, "\0")
            ngx.say(dogs:get(k1) == "x\0y\0", " ", #dogs:get(k1), " ", dogs:get(k2) == "\0")
            dogs:set("empty", "")
            ngx.say("empty: [", dogs:get("empty"), "] ", type(dogs:get("empty")))
            local big = string.rep("0123456789", 100000) .. "\0end"
            ngx.say(dogs:set("big", big))
            local v = dogs:get("big")
            ngx.say(#v, " ", v == big)
            local v2, f, stale = dogs:get_stale("big")
            ngx.say(v2 == big, " ", f, " ", stale)
            local keys = dogs:get_keys(0)
            local found = 0
            for _, k in ipairs(keys) do if k == k1 or k == k2 then found = found + 1 end end
            ngx.say(found)
        }
    }
--- request
GET /t
--- response_body
true 4 true
empty: [] string
truenilfalse
1000004 true
true nil false
2
--- no_error_log
[error]



=== TEST 11: values near the zone size; too big is "no memory"
--- http_config
    lua_shared_dict small 64k;
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.small
            d:flush_all()
            d:flush_expired()
            local ok, err, forcible = d:set("huge", string.rep("x", 70000))
            ngx.say(ok, " ", err, " ", forcible)
            ok, err = d:set("near", string.rep("y", 40000))
            ngx.say(ok, " ", err)
            ngx.say(#d:get("near"))
            ok, err, forcible = d:set("near2", string.rep("z", 40000))
            ngx.say(ok, " ", err, " ", forcible, " ", d:get("near"))
            ngx.say(#d:get("near2"))
            ok, err, forcible = d:safe_set("near3", string.rep("w", 40000))
            ngx.say(ok, " ", err, " ", forcible)
        }
    }
--- request
GET /t
--- response_body
false no memory false
true nil
40000
true nil true nil
40000
false no memory false
--- no_error_log
[error]



=== TEST 12: LRU eviction evicts the least recently used item, with forcible
--- http_config
    lua_shared_dict small 32k;
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.small
            d:flush_all()
            d:flush_expired()
            local n = 0
            local val = string.rep("v", 60)
            while true do
                local ok, err, forcible = d:safe_set("key" .. n, val)
                if not ok then
                    ngx.say("safe_set stops with: ", err, " ", forcible)
                    break
                end
                n = n + 1
            end
            ngx.say("stored many: ", n > 50)
            -- touch key0 so key1 becomes the least recently used
            ngx.say("key0: ", d:get("key0"))
            local ok, err, forcible = d:set("new", val)
            ngx.say("set: ", ok, " ", err, " ", forcible)
            ngx.say("key0 kept: ", d:get("key0") ~= nil)
            ngx.say("key1 evicted: ", d:get("key1") == nil)
            ngx.say("key2 kept: ", d:get("key2") ~= nil)
            ngx.say("new: ", d:get("new") ~= nil)
            ok, err = d:incr("counter", 1, 0)
            ngx.say("incr init: ", ok, " ", err)
            ok, err, forcible = d:add("added", val)
            ngx.say("add: ", ok, " ", err, " ", forcible)
        }
    }
--- request
GET /t
--- response_body_like chomp
\Asafe_set stops with: no memory false
stored many: true
key0: v{60}
set: true nil true
key0 kept: true
key1 evicted: true
key2 kept: true
new: true
incr init: 1 nil
add: true nil true
\z
--- no_error_log
[error]



=== TEST 13: dicts are usable from init_by_lua and timers
--- http_config
    lua_shared_dict dogs 1m;
    init_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:set("from_init", "hello from init")
        dogs:incr("init_runs", 1, 0)
        init_capacity = dogs:capacity()
    }
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say(dogs:get("from_init"), " ", init_capacity)
            ngx.timer.at(0, function()
                dogs:set("from_timer", "hello from timer")
            end)
            ngx.sleep(0.05)
            ngx.say(dogs:get("from_timer"))
            dogs:delete("from_timer")
        }
    }
--- request
GET /t
--- response_body
hello from init 1048576
hello from timer
--- no_error_log
[error]



=== TEST 14: several dicts are independent; unknown dicts are nil
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict cats 1m;
--- config
    location = /t {
        content_by_lua_block {
            ngx.shared.dogs:set("k", "dog")
            ngx.shared.cats:set("k", "cat")
            ngx.say(ngx.shared.dogs:get("k"), " ", ngx.shared.cats:get("k"), " ", ngx.shared.birds)
            local n = 0
            for name, dict in pairs(ngx.shared) do n = n + 1 end
            ngx.say(n)
        }
    }
--- request
GET /t
--- response_body
dog cat nil
2
--- no_error_log
[error]



=== TEST 15: in every phase
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        set_by_lua_block $v { ngx.shared.dogs:set("set", 1) return "x" }
        rewrite_by_lua_block { ngx.shared.dogs:incr("set", 1) }
        access_by_lua_block { ngx.shared.dogs:incr("set", 1) }
        content_by_lua_block { ngx.say(ngx.shared.dogs:get("set")) }
        log_by_lua_block { ngx.shared.dogs:incr("set", 1) }
    }
--- request
GET /t
--- response_body
3
--- no_error_log
[error]



=== TEST 16: get of a list value
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:delete("l")
            dogs:lpush("l", "a")
            ngx.say(dogs:get("l"))
            ngx.say(dogs:get_stale("l"))
            ngx.say(dogs:incr("l", 1))
            ngx.say(dogs:set("l", "now a string"))
            ngx.say(dogs:get("l"))
        }
    }
--- request
GET /t
--- response_body
nilvalue is a list
nilvalue is a list
nilnot a number
truenilfalse
now a string
--- no_error_log
[error]



=== TEST 17: the directive rejects bad sizes
--- http_config
    lua_shared_dict dogs 8191;
--- config
    location = /t {
        return 200;
    }
--- must_die
--- error_log
invalid lua shared dict size "8191"



=== TEST 18: duplicate dict names
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        return 200;
    }
--- must_die
--- error_log
lua_shared_dict "dogs" is already defined as "dogs"



=== TEST 19: exptime under a millisecond never expires; fractional ttls
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("a", 1, 0.0005)
            ngx.say(dogs:ttl("a"))
            dogs:set("b", 1, 0.25)
            local t = dogs:ttl("b")
            ngx.say(t > 0.2 and t <= 0.25)
        }
    }
--- request
GET /t
--- response_body
0
true
--- no_error_log
[error]



=== TEST 20: the smallest zone (8k) works
--- http_config
    lua_shared_dict tiny 8k;
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.tiny
            ngx.say(d:set("a", "b"))
            ngx.say(d:get("a"))
            local n = 0
            while d:safe_set("k" .. n, "v") do n = n + 1 end
            ngx.say(n > 10)
        }
    }
--- request
GET /t
--- response_body
truenilfalse
b
true
--- no_error_log
[error]
