-- ngx.exit, ngx.exec and ngx.redirect. Rust validates and records what the
-- request must do; these shims then yield a marker to the scheduler, which
-- ends the handler's coroutine (Rust never yields itself).
local exit_prepare, exec_prepare, redirect_prepare, raise, exit_marker, exec_marker = ...
local yield = coroutine.yield
local ngx = ngx

ngx.exit = function(status)
    local rc, err = exit_prepare(status)
    raise(rc, err)
    if rc then
        return yield(exit_marker)
    end
end

ngx.exec = function(...)
    local rc, err = exec_prepare(...)
    raise(rc, err)
    return yield(exec_marker)
end

ngx.redirect = function(...)
    local rc, err = redirect_prepare(...)
    raise(rc, err)
    return yield(exit_marker)
end
