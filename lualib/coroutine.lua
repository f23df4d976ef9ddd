-- coroutine.resume / coroutine.wrap that let nginx waits pass through user
-- coroutines. When code inside a user coroutine waits (ngx.sleep, a socket,
-- ngx.exit...), its shim yields one of the scheduler's markers; the resume
-- that receives it yields the same marker upwards, so the request's entry
-- coroutine reaches the scheduler. When the event fires, the scheduler
-- resumes the entry coroutine, and each wrapper resumes its inner coroutine
-- again with the values it was given, until the user's own yield or return.
local markers = { ... }
local raw_resume = coroutine.resume
local raw_yield = coroutine.yield
local raw_create = coroutine.create
local select, error = select, error

local is_marker = {}
for _, m in ipairs(markers) do
    is_marker[m] = true
end

local function relay(co, ok, first, ...)
    while ok and is_marker[first] and coroutine.status(co) == "suspended" do
        return relay(co, raw_resume(co, raw_yield(first, ...)))
    end
    return ok, first, ...
end

local function resume(co, ...)
    return relay(co, raw_resume(co, ...))
end

local function wrap_results(ok, ...)
    if not ok then
        error((...), 2)
    end
    return ...
end

coroutine.resume = resume

coroutine.wrap = function(f)
    local co = raw_create(f)
    return function(...)
        return wrap_results(resume(co, ...))
    end
end
