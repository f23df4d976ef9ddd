-- ngx.flush(wait?): Rust sends the buffered output; when it must wait for
-- the client to take it, it returns the wait marker and this yields until
-- the write event (or send_timeout) resumes the coroutine with the result.
local flush, raise, wait_marker = ...
local yield = coroutine.yield

-- Tail-called, so raise()'s level 3 is ngx.flush's caller.
local function finish(rc, ...)
    raise(rc, (...))
    if rc == wait_marker then
        return yield(wait_marker)
    end
    return rc, ...
end

ngx.flush = function(...)
    return finish(flush(...))
end
