-- ngx.say / ngx.print. One string argument, the common case, goes through an
-- exported C function called via LuaJIT's FFI (no mlua callback, no
-- argument table); everything else, and every refusal or error, takes the
-- full Rust path, which the fast path leaves untouched when it declines.
local say_full, print_full = ...
local ffi = require "ffi"
local C = ffi.C
local type, select = type, select

ffi.cdef [[
int ngx_lua_rs_output(const char *data, size_t len, int newline);
]]

-- Return codes of ngx_lua_rs_output (src/ffi/output.rs).
local DONE, FILTER_ERROR = 0, 2

ngx.say = function(...)
    if select("#", ...) == 1 then
        local s = ...
        if type(s) == "string" then
            local rc = C.ngx_lua_rs_output(s, #s, 1)
            if rc == DONE then
                return 1
            elseif rc == FILTER_ERROR then
                return nil, "nginx output filter error"
            end
        end
    end
    -- A tail call, so errors raised there name the caller's line.
    return say_full(...)
end

ngx.print = function(...)
    if select("#", ...) == 1 then
        local s = ...
        if type(s) == "string" then
            local rc = C.ngx_lua_rs_output(s, #s, 0)
            if rc == DONE then
                return 1
            elseif rc == FILTER_ERROR then
                return nil, "nginx output filter error"
            end
        end
    end
    return print_full(...)
end
