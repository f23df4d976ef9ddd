-- ngx.sleep: Rust arms the timer, the coroutine yields until it fires.
local start, raise, wait_marker = ...
local yield = coroutine.yield

ngx.sleep = function(seconds)
    local rc, err = start(seconds)
    raise(rc, err)
    return yield(wait_marker)
end
