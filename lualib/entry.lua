-- The body of every entry coroutine: runs the handler under xpcall so that a
-- Lua error is turned into a message and a traceback taken where it was
-- raised. Yields (waits, ngx.exit) pass through xpcall untouched.
local failed_marker = ...
local xpcall, traceback, type = xpcall, debug.traceback, type

local function on_error(e)
    -- lua-nginx-module reports only string (and number) errors; anything
    -- else, tables with __tostring included, is an "unknown reason".
    local t = type(e)
    if t ~= "string" and t ~= "number" then
        e = "unknown reason"
    end
    return traceback(e, 1)
end

local function finish(ok, ...)
    if ok then
        return ...
    end
    return failed_marker, (...)
end

return function(f, ...)
    return finish(xpcall(f, on_error, ...))
end
