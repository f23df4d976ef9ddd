-- ngx.shared.DICT methods. The hot ones call the module's exported C
-- functions through LuaJIT's FFI (src/shm/exports.rs), so loops calling them
-- stay JIT-compiled; list operations, flush_expired and get_keys are Rust
-- functions passed in `cold`. Argument checks, returns and error strings
-- follow lua-resty-core's shdict (hot methods) and lua-nginx-module's C
-- functions (the others).
local cold = ...

local ffi = require "ffi"
local C = ffi.C
local ffi_new = ffi.new
local ffi_str = ffi.string
local type = type
local tostring = tostring
local tonumber = tonumber
local error = error
local select = select

ffi.cdef [[
int ngx_lua_rs_shdict_get(void *zone, const unsigned char *key, size_t klen,
    int stale, unsigned char *buf, size_t buf_len, size_t *vlen, double *num,
    int *flags, int *is_stale);
int ngx_lua_rs_shdict_store(void *zone, int op, const unsigned char *key,
    size_t klen, int vtype, const unsigned char *str, size_t slen, double num,
    int64_t exptime_ms, int user_flags, int *forcible);
int ngx_lua_rs_shdict_incr(void *zone, const unsigned char *key, size_t klen,
    double *value, int has_init, double init, int64_t init_ttl_ms,
    int *forcible);
int ngx_lua_rs_shdict_ttl(void *zone, const unsigned char *key, size_t klen,
    int64_t *ttl_ms);
int ngx_lua_rs_shdict_expire(void *zone, const unsigned char *key,
    size_t klen, int64_t exptime_ms);
int ngx_lua_rs_shdict_llen(void *zone, const unsigned char *key, size_t klen,
    double *len);
int ngx_lua_rs_shdict_flush_all(void *zone);
size_t ngx_lua_rs_shdict_capacity(void *zone);
size_t ngx_lua_rs_shdict_free_space(void *zone);
int ngx_lua_rs_shdict_valid(void *zone);
]]

local c_get = C.ngx_lua_rs_shdict_get
local c_store = C.ngx_lua_rs_shdict_store
local c_incr = C.ngx_lua_rs_shdict_incr
local c_ttl = C.ngx_lua_rs_shdict_ttl
local c_expire = C.ngx_lua_rs_shdict_expire
local c_llen = C.ngx_lua_rs_shdict_llen

local RC_BAD_ZONE = -1
local RC_NEED_BUF = -2

local errs = {
    [1] = "not found",
    [2] = "exists",
    [3] = "no memory",
    [4] = "not a number",
    [5] = "value not a list",
    [6] = "value is a list",
    [7] = "attempt to add or replace nil values",
}

-- per-VM scratch state (one VM per worker, one Lua thread at a time)
local buf_size = 4096
local buf = ffi_new("unsigned char[?]", buf_size)
local vlen = ffi_new("size_t[1]")
local num = ffi_new("double[1]")
local uflags = ffi_new("int[1]")
local stale = ffi_new("int[1]")
local forcible = ffi_new("int[1]")
local ttl_out = ffi_new("int64_t[1]")

-- The dict's zone as a `void *` cdata, cached per dict table: LuaJIT's
-- JIT cannot pass a lightuserdata (the dict's [1]) to a C function on
-- 64-bit (NYI conversion), which would abort every trace.
local ptrs = setmetatable({}, { __mode = "k" })

local function zone_slow(zone)
    if type(zone) ~= "table" then
        error('bad "zone" argument', 3)
    end
    local z = zone[1]
    if type(z) ~= "userdata" then
        error('bad "zone" argument', 3)
    end
    local p = ffi.cast("void *", z)
    ptrs[zone] = p
    return p
end

local function check_zone(zone)
    local p = ptrs[zone]
    if p then
        return p
    end
    return zone_slow(zone)
end

local function bad_zone()
    error('bad "zone" argument', 3)
end

-- The value did not fit the scratch buffer: grow it and fetch again (kept
-- out of get_helper so the hot path has no loop for the JIT to deal with).
local function get_big(z, key, klen, get_stale)
    local typ = RC_NEED_BUF
    while typ == RC_NEED_BUF do
        local need = tonumber(vlen[0])
        local size = buf_size
        while size < need do
            size = size * 2
        end
        buf = ffi_new("unsigned char[?]", size)
        buf_size = size
        typ = c_get(z, key, klen, get_stale, buf, buf_size, vlen, num,
                    uflags, stale)
    end
    return typ
end

-- The key checks every method makes: returns the key as a string and its
-- length, or nil and upstream's error.
local function check_key(key)
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local klen = #key
    if klen == 0 then
        return nil, "empty key"
    end
    if klen > 65535 then
        return nil, "key too long"
    end
    return key, klen
end

local function get_helper(zone, key, get_stale)
    local z = check_zone(zone)
    local klen
    key, klen = check_key(key)
    if not key then
        return nil, klen
    end

    local typ = c_get(z, key, klen, get_stale, buf, buf_size, vlen, num,
                      uflags, stale)
    if typ == RC_NEED_BUF then
        typ = get_big(z, key, klen, get_stale)
    end

    if typ == 0 then
        return nil
    end

    local val
    if typ == 4 then
        val = ffi_str(buf, vlen[0])
    elseif typ == 3 then
        val = num[0]
    elseif typ == 1 then
        val = num[0] ~= 0
    elseif typ == 5 then
        return nil, "value is a list"
    else
        error('bad "zone" argument', 3)
    end

    local f = uflags[0]
    if get_stale == 1 then
        if f ~= 0 then
            return val, f, stale[0] == 1
        end
        return val, nil, stale[0] == 1
    end
    if f ~= 0 then
        return val, f
    end
    return val
end

local function shdict_get(zone, key)
    return get_helper(zone, key, 0)
end

local function shdict_get_stale(zone, key)
    return get_helper(zone, key, 1)
end

local function shdict_store(zone, op, key, value, exptime, flags)
    local z = check_zone(zone)

    if not exptime then
        exptime = 0
    elseif exptime < 0 then
        error('bad "exptime" argument', 2)
    end
    if not flags then
        flags = 0
    end

    local klen
    key, klen = check_key(key)
    if not key then
        return nil, klen
    end

    local vtyp = type(value)
    local str, slen, n = nil, 0, 0
    if vtyp == "string" then
        vtyp = 4
        str = value
        slen = #value
    elseif vtyp == "number" then
        vtyp = 3
        n = value
    elseif value == nil then
        vtyp = 0
    elseif vtyp == "boolean" then
        vtyp = 1
        n = value and 1 or 0
    else
        return nil, "bad value type"
    end

    local rc = c_store(z, op, key, klen, vtyp, str, slen, n, exptime * 1000,
                       flags, forcible)
    if rc == 0 then
        return true, nil, forcible[0] == 1
    end
    if rc == RC_BAD_ZONE then
        bad_zone()
    end
    return false, errs[rc], forcible[0] == 1
end

local function shdict_set(zone, key, value, exptime, flags)
    return shdict_store(zone, 0, key, value, exptime, flags)
end

local function shdict_safe_set(zone, key, value, exptime, flags)
    return shdict_store(zone, 4, key, value, exptime, flags)
end

local function shdict_add(zone, key, value, exptime, flags)
    return shdict_store(zone, 1, key, value, exptime, flags)
end

local function shdict_safe_add(zone, key, value, exptime, flags)
    return shdict_store(zone, 5, key, value, exptime, flags)
end

local function shdict_replace(zone, key, value, exptime, flags)
    return shdict_store(zone, 2, key, value, exptime, flags)
end

local function shdict_delete(zone, key)
    return shdict_store(zone, 0, key, nil)
end

local function shdict_incr(zone, key, value, init, init_ttl)
    local z = check_zone(zone)
    local klen
    key, klen = check_key(key)
    if not key then
        return nil, klen
    end

    if type(value) ~= "number" then
        value = tonumber(value)
    end
    num[0] = value

    if init then
        local typ = type(init)
        if typ ~= "number" then
            init = tonumber(init)
            if not init then
                error("bad init arg: number expected, got " .. typ, 2)
            end
        end
    end

    if init_ttl ~= nil then
        local typ = type(init_ttl)
        if typ ~= "number" then
            init_ttl = tonumber(init_ttl)
            if not init_ttl then
                error("bad init_ttl arg: number expected, got " .. typ, 2)
            end
        end
        if init_ttl < 0 then
            error('bad "init_ttl" argument', 2)
        end
        if not init then
            error('must provide "init" when providing "init_ttl"', 2)
        end
    else
        init_ttl = 0
    end

    local rc = c_incr(z, key, klen, num, init and 1 or 0, init or 0,
                      init_ttl * 1000, forcible)
    if rc ~= 0 then
        if rc == RC_BAD_ZONE then
            bad_zone()
        end
        return nil, errs[rc]
    end
    if not init then
        return num[0]
    end
    return num[0], nil, forcible[0] == 1
end

local function key_arg(key)
    if type(key) ~= "string" then
        key = tostring(key)
    end
    return key, #key
end

local function shdict_ttl(zone, key)
    local z = check_zone(zone)
    if key == nil then
        return nil, "nil key"
    end
    local klen
    key, klen = key_arg(key)
    if klen == 0 then
        return nil, "empty key"
    end
    if klen > 65535 then
        return nil, "key too long"
    end
    local rc = c_ttl(z, key, klen, ttl_out)
    if rc == 0 then
        return tonumber(ttl_out[0]) / 1000
    end
    if rc == RC_BAD_ZONE then
        bad_zone()
    end
    return nil, errs[rc]
end

local function shdict_expire(zone, key, exptime)
    local z = check_zone(zone)
    if not exptime then
        error('bad "exptime" argument', 2)
    end
    if key == nil then
        return nil, "nil key"
    end
    local klen
    key, klen = key_arg(key)
    if klen == 0 then
        return nil, "empty key"
    end
    if klen > 65535 then
        return nil, "key too long"
    end
    local rc = c_expire(z, key, klen, exptime * 1000)
    if rc == 0 then
        return true
    end
    if rc == RC_BAD_ZONE then
        bad_zone()
    end
    return nil, errs[rc]
end

local function shdict_llen(...)
    local n = select("#", ...)
    if n ~= 2 then
        error("expecting 2 arguments, but only seen " .. n, 2)
    end
    local zone, key = ...
    local z = check_zone(zone)
    if key == nil then
        return nil, "nil key"
    end
    local klen
    key, klen = key_arg(key)
    if klen == 0 then
        return nil, "empty key"
    end
    if klen > 65535 then
        return nil, "key too long"
    end
    local rc = c_llen(z, key, klen, num)
    if rc == 0 then
        return num[0]
    end
    if rc == RC_BAD_ZONE then
        bad_zone()
    end
    return nil, errs[rc]
end

local function shdict_flush_all(zone)
    local z = check_zone(zone)
    if C.ngx_lua_rs_shdict_flush_all(z) == RC_BAD_ZONE then
        bad_zone()
    end
end

local function shdict_capacity(zone)
    local z = check_zone(zone)
    if C.ngx_lua_rs_shdict_valid(z) == 0 then
        bad_zone()
    end
    return tonumber(C.ngx_lua_rs_shdict_capacity(z))
end

local function shdict_free_space(zone)
    local z = check_zone(zone)
    if C.ngx_lua_rs_shdict_valid(z) == 0 then
        bad_zone()
    end
    return tonumber(C.ngx_lua_rs_shdict_free_space(z))
end

local mt = {
    get = shdict_get,
    get_stale = shdict_get_stale,
    set = shdict_set,
    safe_set = shdict_safe_set,
    add = shdict_add,
    safe_add = shdict_safe_add,
    replace = shdict_replace,
    delete = shdict_delete,
    incr = shdict_incr,
    ttl = shdict_ttl,
    expire = shdict_expire,
    llen = shdict_llen,
    flush_all = shdict_flush_all,
    capacity = shdict_capacity,
    free_space = shdict_free_space,
    lpush = cold.lpush,
    rpush = cold.rpush,
    lpop = cold.lpop,
    rpop = cold.rpop,
    flush_expired = cold.flush_expired,
    get_keys = cold.get_keys,
}
mt.__index = mt

return mt
