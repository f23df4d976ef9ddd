-- Wraps a Rust API function so that an error it reports (a marker followed by
-- a message) is raised as a plain Lua string at the caller's level.
-- `check` is tail-called, so level 2 is the API function's caller.
local raise_marker = ...
local error = error

local function check(first, ...)
    if first == raise_marker then
        error((...), 2)
    end
    return first, ...
end

return function(f)
    return function(...)
        return check(f(...))
    end
end
