# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;

repeat_each(2);

# lines logged once at startup must stay visible to the repeated requests
check_accum_error_log();

# TEST 12 adds one shutdown_error_log check (once per block, not per repeat)
plan tests => repeat_each() * (blocks() * 3) + 1;

no_long_string();
run_tests();

__DATA__

=== TEST 1: init_by_lua_block sets a global visible in requests
--- http_config
    init_by_lua_block { my_init_global = "from init" }
--- config
    location /t {
        content_by_lua_block { ngx.say(my_init_global) }
    }
--- request
GET /t
--- response_body
from init
--- no_error_log
[error]



=== TEST 2: init_by_lua string form
--- http_config
    init_by_lua 'answer = 40 + 2';
--- config
    location /t {
        content_by_lua_block { ngx.say("answer: ", answer) }
    }
--- request
GET /t
--- response_body
answer: 42
--- no_error_log
[error]



=== TEST 3: init_by_lua_file relative to the prefix
--- http_config
    init_by_lua_file html/init.lua;
--- config
    location /t {
        content_by_lua_block { ngx.say(from_file) }
    }
--- user_files
>>> init.lua
from_file = "set by init.lua"
--- request
GET /t
--- response_body
set by init.lua
--- no_error_log
[error]



=== TEST 4: ngx.get_phase() in init_by_lua and init_worker_by_lua
--- http_config
    init_by_lua_block { init_phase = ngx.get_phase() }
    init_worker_by_lua_block { iw_phase = ngx.get_phase() }
--- config
    location /t {
        content_by_lua_block { ngx.say(init_phase, " ", iw_phase, " ", ngx.get_phase()) }
    }
--- request
GET /t
--- response_body
init init_worker content
--- no_error_log
[error]



=== TEST 5: require "resty.core" works in init_by_lua
--- http_config
    init_by_lua_block {
        local ok, err = pcall(require, "resty.core")
        resty_core_loaded = tostring(ok) .. " " .. type(err)
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(resty_core_loaded) }
    }
--- request
GET /t
--- response_body
true table
--- no_error_log
[error]



=== TEST 6: modules preloaded in init_by_lua are shared with requests
--- http_config
    init_by_lua_block {
        package.loaded.preloaded_mod = { value = "preloaded" }
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(require("preloaded_mod").value) }
    }
--- request
GET /t
--- response_body
preloaded
--- no_error_log
[error]



=== TEST 7: init_worker_by_lua runs in the worker
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "init worker: id=", ngx.worker.id(), " count=", ngx.worker.count(),
                " phase=", ngx.get_phase())
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[lua\] init_worker_by_lua\(nginx\.conf:\d+\):2: init worker: id=0 count=1 phase=init_worker/



=== TEST 8: init_by_lua runs before init_worker_by_lua
--- http_config
    init_by_lua_block { trail = "init" }
    init_worker_by_lua_block { trail = trail .. ",init_worker" }
--- config
    location /t {
        content_by_lua_block { ngx.say(trail) }
    }
--- request
GET /t
--- response_body
init,init_worker
--- no_error_log
[error]



=== TEST 9: an error in init_worker_by_lua is logged, the worker still serves
--- http_config
    init_worker_by_lua_block {
        error("init worker failed")
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("still serving") }
    }
--- request
GET /t
--- response_body
still serving
--- error_log eval
qr/init_worker_by_lua error: init_worker_by_lua\(nginx\.conf:\d+\):2: init worker failed/



=== TEST 10: init_worker_by_lua_file
--- http_config
    init_worker_by_lua_file html/iw.lua;
--- config
    location /t {
        content_by_lua_block { ngx.say("worker pid matches: ", iw_pid == ngx.worker.pid()) }
    }
--- user_files
>>> iw.lua
iw_pid = ngx.worker.pid()
--- request
GET /t
--- response_body
worker pid matches: true
--- no_error_log
[error]



=== TEST 11: an error in init_by_lua stops nginx from starting
--- http_config
    init_by_lua_block {
        error("init failed")
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("unreachable") }
    }
--- must_die
--- error_log eval
[
qr/init_by_lua error: init_by_lua\(nginx\.conf:\d+\):2: init failed/,
qr/\[(?:emerg|error)\]/,
]



=== TEST 12: exit_worker_by_lua runs when the worker exits
--- http_config
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit worker: phase=", ngx.get_phase(), " exiting=", ngx.worker.exiting())
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("exiting now: ", ngx.worker.exiting()) }
    }
--- request
GET /t
--- response_body
exiting now: false
--- no_error_log
[error]
--- shutdown_error_log
exit worker: phase=exit_worker exiting=true



=== TEST 13: ngx.config.* in requests
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.config.subsystem, " ", type(ngx.config.debug), " ",
                    type(ngx.config.nginx_version), " ", ngx.config.nginx_version >= 1000000, " ",
                    ngx.config.prefix():sub(-1), " ", type(ngx.config.nginx_configure()), " ",
                    type(ngx.config.ngx_lua_version))
        }
    }
--- request
GET /t
--- response_body
http boolean number true / string number
--- no_error_log
[error]



=== TEST 14: ngx.config.subsystem and ngx.worker.count() in init_by_lua
--- http_config
    init_by_lua_block { init_subsys = ngx.config.subsystem }
--- config
    location /t {
        content_by_lua_block { ngx.say(init_subsys, " ", ngx.worker.count()) }
    }
--- request
GET /t
--- response_body
http 1
--- no_error_log
[error]



=== TEST 15: ngx.worker.id() and pid in a request
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.worker.id(), " ", type(ngx.worker.pid()), " ", ngx.worker.pid() > 0)
        }
    }
--- request
GET /t
--- response_body
0 number true
--- no_error_log
[error]



=== TEST 16: ngx.* constants are available in init_by_lua
--- http_config
    init_by_lua_block { init_consts = table.concat({ ngx.OK, ngx.ERROR, ngx.HTTP_OK, ngx.WARN }, " ") .. " " .. tostring(ngx.null == ngx.null) }
--- config
    location /t {
        content_by_lua_block { ngx.say(init_consts) }
    }
--- request
GET /t
--- response_body
0 -1 200 5 true
--- no_error_log
[error]
