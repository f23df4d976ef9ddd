-- ngx.req.read_body: starts reading in Rust; if the body is not complete,
-- yields to the scheduler until nginx has read it.
local start, raise, wait_marker, exit_marker = ...
local yield = coroutine.yield

ngx.req.read_body = function()
    local rc, err = start()
    raise(rc, err)
    if rc == 1 then
        yield(wait_marker)
    elseif rc == 2 then
        yield(exit_marker)
    end
end
