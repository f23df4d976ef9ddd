-- ngx.header's metamethods. The common cases (a string or number name; a
-- string, number, boolean or nil value) are C functions (src/api/header.rs);
-- they return false for anything else (a table of values, a name that needs
-- tostring), which the full Rust path handles. Slow paths are tail-called
-- and raise() uses level 3, so errors name the user's line either way.
local get_fast, get_slow, set_fast, set_slow, raise = ...

local mt = {}

mt.__index = function(t, k)
    local ok, v = get_fast(k)
    if ok == true then
        return v
    elseif ok == false then
        return get_slow(t, k)
    end
    raise(ok, v)
end

mt.__newindex = function(t, k, v)
    local rc, err = set_fast(k, v)
    if rc == nil then
        return
    elseif rc == false then
        return set_slow(t, k, v)
    end
    raise(rc, err)
end

return mt
