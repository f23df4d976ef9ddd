-- ngx.flush(wait?): Rust sends the buffered output; when it must wait for
-- the client to take it, it returns the wait marker and this yields until
-- the write event (or send_timeout) resumes the coroutine with the result.
local flush, raise, wait_marker = ...
local yield = coroutine.yield

ngx.flush = function(...)
    local rc, err = flush(...)
    raise(rc, err)
    if rc == wait_marker then
        return yield(wait_marker)
    end
    return rc, err
end
