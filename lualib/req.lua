-- ngx.req.set_uri: Rust validates and rewrites the URI; with jump=true it
-- also records that the rewrite phase must end here, and this shim yields
-- the exit marker so the scheduler ends the handler (nginx's post-rewrite
-- phase then looks the location up again).
local set_uri_prepare, raise, exit_marker = ...
local yield = coroutine.yield

ngx.req.set_uri = function(...)
    local rc, err = set_uri_prepare(...)
    raise(rc, err)
    if rc then
        return yield(exit_marker)
    end
end
