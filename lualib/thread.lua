-- ngx.thread.spawn and ngx.thread.wait. Rust keeps the request's coroutines;
-- these shims yield to the scheduler, which runs a new thread first (spawn)
-- or parks the caller until an awaited thread ends (wait).
local spawn_start, wait_start, wait_results, raise, spawn_marker, thread_wait_marker = ...
local yield = coroutine.yield

ngx.thread.spawn = function(...)
    local idx, err = spawn_start(...)
    raise(idx, err)
    return yield(spawn_marker, idx)
end

ngx.thread.wait = function(...)
    local ready, err = wait_start(...)
    raise(ready, err)
    if ready then
        return wait_results()
    end
    return yield(thread_wait_marker)
end
