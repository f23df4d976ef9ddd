-- UDP cosockets: ngx.socket.udp and the udpsock methods. `finish` (from
-- socket_tcp.lua) raises on the raise marker and yields on the wait marker.
local fns, socket, mt, finish = ...

mt.__index = mt

for _, name in ipairs({ "setpeername", "send", "receive", "settimeout", "close" }) do
    local f = fns[name]
    mt[name] = function(...)
        return finish(f(...))
    end
end

local new = fns.new

socket.udp = function(...)
    return finish(new(...))
end
