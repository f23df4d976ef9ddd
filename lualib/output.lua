-- ngx.say / ngx.print. One string argument, the common case, is sent by a
-- C function (src/ffi/output.rs) that returns false for anything else, and
-- for every refusal or error; the full Rust path then handles the call.
local say_full, print_full, say_fast, print_fast = ...

ngx.say = function(...)
    local ok, err = say_fast(...)
    if ok ~= false then
        return ok, err
    end
    -- A tail call, so errors raised there name the caller's line.
    return say_full(...)
end

ngx.print = function(...)
    local ok, err = print_fast(...)
    if ok ~= false then
        return ok, err
    end
    return print_full(...)
end
