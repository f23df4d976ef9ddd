-- ngx.location.capture / capture_multi: Rust validates the options and
-- issues the subrequests, then the coroutine yields until the last one ends;
-- the scheduler resumes it with the response tables.
local start, raise, wait_marker = ...
local yield, select, error = coroutine.yield, select, error

ngx.location.capture_multi = function(...)
    local rc, err = start(...)
    raise(rc, err)
    return yield(wait_marker)
end

ngx.location.capture = function(...)
    local n = select("#", ...)
    if n ~= 1 and n ~= 2 then
        error("expecting one or two arguments", 2)
    end
    local rc, err = start({ { ... } })
    raise(rc, err)
    return yield(wait_marker)
end
