-- TCP cosockets: ngx.socket.tcp/stream/connect and the tcpsock methods,
-- and ngx.req.socket's objects, which share the methods they support.
-- The hot methods are C functions already in `mt` that raise and yield by
-- themselves (src/ffi/lua_stack.rs, c_method). The others are Rust functions
-- wrapped here: one that must wait returns the wait marker and yields here,
-- and the event that completes it resumes the coroutine with the method's
-- results; raised errors come back as a raise marker.
local fns, socket, mt, raise, wait_marker, req, req_mt, raw_mt = ...
local yield = coroutine.yield

mt.__index = mt

-- Tail-called by the methods, so raise()'s level 3 is the method's caller.
local function finish(rc, ...)
    raise(rc, (...))
    if rc == wait_marker then
        return yield(wait_marker)
    end
    return rc, ...
end

for _, name in ipairs({ "setoption", "getoption", "getfd", "sslhandshake" }) do
    local f = fns[name]
    mt[name] = function(...)
        return finish(f(...))
    end
end

local receiveuntil, until_next = fns.receiveuntil, fns.until_next

function mt.receiveuntil(...)
    local it, err = receiveuntil(...)
    raise(it, err)
    if not it then
        return nil, err
    end
    return function(...)
        return finish(until_next(it, ...))
    end
end

local tcp = fns.new

socket.tcp = tcp
socket.stream = tcp

socket.connect = function(...)
    local sock = tcp()
    local ok, err = sock:connect(...)
    if ok then
        return sock
    end
    return nil, err
end

-- ngx.req.socket(): the body reader reads only; the raw socket also sends.
for _, name in ipairs({ "receive", "receiveany", "receiveuntil", "settimeout",
                         "settimeouts" }) do
    req_mt[name] = mt[name]
    raw_mt[name] = mt[name]
end
raw_mt.send = mt.send
req_mt.__index = req_mt
raw_mt.__index = raw_mt

local req_socket = fns.req_socket

req.socket = function(...)
    local sock, err = req_socket(...)
    raise(sock, err)
    return sock, err
end

return finish
