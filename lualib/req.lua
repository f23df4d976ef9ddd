-- ngx.req.set_uri: Rust validates and rewrites the URI; with jump=true it
-- also records that the rewrite phase must end here, and this shim yields
-- the exit marker so the scheduler ends the handler (nginx's post-rewrite
-- phase then looks the location up again).
local set_uri_prepare, raise_marker, exit_marker = ...
local yield = coroutine.yield
local error = error

ngx.req.set_uri = function(...)
    local rc, err = set_uri_prepare(...)
    if rc == raise_marker then
        error(err, 2)
    end
    if rc then
        return yield(exit_marker)
    end
end
