-- Wraps a Rust API function so that an error it reports (a marker followed by
-- a message) is raised as a plain Lua string with the caller's position, as
-- both lua-nginx-module's C functions (luaL_error names the caller) and
-- lua-resty-core (error(msg, 2)) do. `check` is tail-called, so level 2 is
-- the API function's caller. The plain marker raises without a position.
local raise_marker, raise_plain_marker = ...
local error, select = error, select

local function check(...)
    local first = ...
    if first == raise_marker then
        error((select(2, ...)), 2)
    elseif first == raise_plain_marker then
        error((select(2, ...)), 0)
    end
    return ...
end

local function wrap(f)
    return function(...)
        return check(f(...))
    end
end

-- For Lua shims that call a raw Rust function themselves:
-- `local rc, err = start(...); raise(rc, err)` raises at the shim's caller.
local function raise(first, msg)
    if first == raise_marker then
        error(msg, 3)
    elseif first == raise_plain_marker then
        error(msg, 0)
    end
end

return wrap, raise
