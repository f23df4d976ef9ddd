# vim:set ft= ts=4 sw=4 et fdm=marker:
# Shared dicts across worker processes and configuration reloads (HUP).
use Test::Nginx::Socket::Lua;

repeat_each(1);
master_on();
workers(4);

plan tests => repeat_each() * (blocks() * 3);

no_shuffle();
no_long_string();
run_tests();

__DATA__

=== TEST 1: workers increment one counter concurrently: the total is exact
--- http_config
    lua_shared_dict c 1m;
--- config
    location = /t {
        content_by_lua_block {
            local c = ngx.shared.c
            -- 8 parallel requests, served by the other workers while this
            -- one blocks in popen. The kernel may hand a whole batch to one
            -- worker (a busy machine): then the batch is run again, as the
            -- point is several workers incrementing at once.
            local url = "http://127.0.0.1:" .. ngx.var.server_port .. "/inc "
            local n = 0
            for attempt = 1, 10 do
                c:flush_all()
                c:flush_expired()
                local f = io.popen("curl -s --parallel --parallel-immediate --parallel-max 8 "
                                   .. string.rep(url, 8))
                local out = f:read("*a")
                f:close()
                local pids = {}
                n = 0
                for pid in out:gmatch("%d+") do
                    if not pids[pid] then n = n + 1 end
                    pids[pid] = true
                end
                if n > 1 then break end
            end
            ngx.log(ngx.WARN, "served by ", n, " workers")
            ngx.say(c:get("n"), " ", c:get("done"), " ", n > 1)
        }
    }
    location = /inc {
        content_by_lua_block {
            local c = ngx.shared.c
            for i = 1, 50000 do
                c:incr("n", 1, 0)
            end
            c:incr("done", 1, 0)
            ngx.say(ngx.worker.pid())
        }
    }
--- request
GET /t
--- timeout: 20
--- response_body
400000 8 true
--- no_error_log
[error]



=== TEST 2: add is atomic across workers (each key won exactly once)
--- http_config
    lua_shared_dict c 4m;
--- config
    location = /t {
        content_by_lua_block {
            local c = ngx.shared.c
            c:flush_all()
            c:flush_expired()
            local url = "http://127.0.0.1:" .. ngx.var.server_port .. "/race "
            local f = io.popen("curl -s --parallel --parallel-immediate --parallel-max 6 "
                               .. string.rep(url, 6))
            f:read("*a")
            f:close()
            ngx.say(c:get("done"), " ", c:get("wins"), " ", #c:get_keys(0))
        }
    }
    location = /race {
        content_by_lua_block {
            local c = ngx.shared.c
            local wins = 0
            for i = 1, 5000 do
                if c:add("k" .. i, ngx.worker.pid()) then
                    wins = wins + 1
                end
                c:set("scratch" .. (i % 100), string.rep("x", i % 300))
                c:get("k" .. (i - 1))
            end
            c:incr("wins", wins, 0)
            c:incr("done", 1, 0)
            ngx.say(wins)
        }
    }
--- request
GET /t
--- timeout: 20
--- response_body
6 5000 5102
--- no_error_log
[error]



=== TEST 3: data survives a HUP reload; init_by_lua runs again and sees it
--- http_config
    lua_shared_dict dogs 1m;
    init_by_lua_block {
        generation = ngx.shared.dogs:incr("gen", 1, 0)
    }
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("kept", "across reloads")
            dogs:rpush("list", "item")
            ngx.say("before: gen ", generation)
            os.execute("kill -HUP $(ps -o ppid= -p $PPID)")
            -- poll until a worker of the new generation answers (slow machines)
            local out
            for _ = 1, 40 do
                ngx.sleep(0.25)
                local f = io.popen("curl -s http://127.0.0.1:" .. ngx.var.server_port .. "/check")
                out = f:read("*a")
                f:close()
                if out:find("gen 2", 1, true) then break end
            end
            ngx.print(out)
        }
    }
    location = /check {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say("after: gen ", generation, " ", dogs:get("gen"), " ", dogs:get("kept"), " ", dogs:lpop("list"))
        }
    }
--- request
GET /t
--- timeout: 20
--- response_body
before: gen 1
after: gen 2 2 across reloads item
--- no_error_log
[error]



=== TEST 4: a zone whose size changes is recreated empty on reload
--- http_config
    lua_shared_dict dogs 1m;
    init_by_lua_block {
        generation = ngx.shared.dogs:incr("gen", 1, 0)
    }
--- config
    location = /t {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            dogs:set("kept", "before resize")
            ngx.say("before: gen ", generation, " ", dogs:capacity())
            local conf = ngx.config.prefix() .. "conf/nginx.conf"
            os.execute("sed -i 's/lua_shared_dict dogs 1m;/lua_shared_dict dogs 2m;/' " .. conf)
            os.execute("kill -HUP $(ps -o ppid= -p $PPID)")
            -- poll until a worker of the new generation answers (slow machines)
            local out
            for _ = 1, 40 do
                ngx.sleep(0.25)
                local f = io.popen("curl -s http://127.0.0.1:" .. ngx.var.server_port .. "/check")
                out = f:read("*a")
                f:close()
                if out:find("2097152", 1, true) then break end
            end
            ngx.print(out)
        }
    }
    location = /check {
        content_by_lua_block {
            local dogs = ngx.shared.dogs
            ngx.say("after: gen ", generation, " ", dogs:capacity(), " ", dogs:get("kept"))
        }
    }
--- request
GET /t
--- timeout: 20
--- response_body
before: gen 1 1048576
after: gen 1 2097152 nil
--- no_error_log
[error]
