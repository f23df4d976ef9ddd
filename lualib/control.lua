-- ngx.exit, ngx.exec and ngx.redirect. Rust validates and records what the
-- request must do; these shims then yield a marker to the scheduler, which
-- ends the handler's coroutine (Rust never yields itself).
local exit_prepare, exec_prepare, redirect_prepare, raise_marker, exit_marker, exec_marker = ...
local yield = coroutine.yield
local error = error
local ngx = ngx

ngx.exit = function(status)
    local rc, err = exit_prepare(status)
    if rc == raise_marker then
        error(err, 2)
    end
    if rc then
        return yield(exit_marker)
    end
end

ngx.exec = function(uri, args)
    local rc, err = exec_prepare(uri, args)
    if rc == raise_marker then
        error(err, 2)
    end
    return yield(exec_marker)
end

ngx.redirect = function(uri, status)
    local rc, err = redirect_prepare(uri, status)
    if rc == raise_marker then
        error(err, 2)
    end
    return yield(exit_marker)
end
