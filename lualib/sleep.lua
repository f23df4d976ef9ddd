-- ngx.sleep: Rust arms the timer, the coroutine yields until it fires.
local start, raise_marker, wait_marker = ...
local yield = coroutine.yield
local error = error

ngx.sleep = function(seconds)
    local rc, err = start(seconds)
    if rc == raise_marker then
        error(err, 2)
    end
    return yield(wait_marker)
end
