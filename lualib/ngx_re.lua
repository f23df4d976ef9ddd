-- ngx.re.match/find/gmatch/sub/gsub, and the `ngx.re` module (split, opt),
-- over the ngx_lua_rs_re_* C functions of src/ffi/pcre.rs called through
-- LuaJIT's FFI, so hot loops stay JIT-compiled.
--
-- Called once per VM with (ngx, state); returns (ngx.re table, the "ngx.re"
-- module, the "resty.core.regex" module).
local ngx, state_lud = ...

local ffi = require "ffi"
local bit = require "bit"
local new_tab = require "table.new"
local str_buf = require "string.buffer"

local C = ffi.C
local ffi_string = ffi.string
local ffi_gc = ffi.gc
local ffi_cast = ffi.cast
local band = bit.band
local bor = bit.bor
local lshift = bit.lshift
local sub = string.sub
local byte = string.byte
local fmt = string.format
local type = type
local tostring = tostring
local error = error
local math_min = math.min
local math_max = math.max
local setmetatable = setmetatable

ffi.cdef [[
typedef struct {
    int                   ncaptures;
    int                   name_count;
    int                   name_entry_size;
    int                  *captures;
    const unsigned char  *name_table;
} ngx_lua_rs_regex_t;

typedef struct {
    const char  *data;
    size_t       len;
} ngx_lua_rs_re_out_t;

int ngx_lua_rs_re_parse_opts(const char *opts, size_t len);
ngx_lua_rs_regex_t *ngx_lua_rs_re_compile(void *st, const char *pat,
    size_t len, int opts, unsigned char *err, size_t errlen);
int ngx_lua_rs_re_set_template(ngx_lua_rs_regex_t *re, const char *tpl,
    size_t len);
ngx_lua_rs_regex_t *ngx_lua_rs_re_cache_get(void *st, int kind,
    const char *pat, size_t len, int opts, const char *tpl, size_t tpl_len);
int ngx_lua_rs_re_cache_put(void *st, int kind, const char *pat, size_t len,
    int opts, const char *tpl, size_t tpl_len, ngx_lua_rs_regex_t *re);
int ngx_lua_rs_re_cache_empty(void *st);
const int *ngx_lua_rs_re_generation(void *st);
ngx_lua_rs_regex_t *ngx_lua_rs_re_retain(ngx_lua_rs_regex_t *re);
void ngx_lua_rs_re_release(ngx_lua_rs_regex_t *re);
int ngx_lua_rs_re_exec(void *st, ngx_lua_rs_regex_t *re, const char *subj,
    size_t len, int pos);
int ngx_lua_rs_re_subst(void *st, ngx_lua_rs_regex_t *re, const char *subj,
    size_t len, int global, ngx_lua_rs_re_out_t *out);
int ngx_lua_rs_re_set_jit_stack_size(void *st, int size, unsigned char *err,
    size_t errlen);
]]

local st = ffi.cast("void *", state_lud)
local re_exec = C.ngx_lua_rs_re_exec
local re_release = C.ngx_lua_rs_re_release
local re_retain = C.ngx_lua_rs_re_retain
local cache_get = C.ngx_lua_rs_re_cache_get

-- Option bits (src/api/re.rs OPT_*).
local OPT_ONCE = 0x001
local OPT_DFA = 0x002
local OPT_DUPNAMES = 0x008
local OPT_UTF8 = 0x400

local KIND_PLAIN = 1
local KIND_TEMPLATE = 2

local NOMATCH = -1
local ERR_LEN = 128
local errbuf = ffi.new("unsigned char[?]", ERR_LEN)
local out = ffi.new("ngx_lua_rs_re_out_t")

-- options string -> bits
local opt_cache = {}

-- Raises upstream's error for a bad option string at `level` (counted from
-- the caller of parse_opts).
local function parse_opts(opts, level)
    if type(opts) ~= "string" then
        opts = tostring(opts)
        local bits = opt_cache[opts]
        if bits then
            return bits
        end
    end
    local r = C.ngx_lua_rs_re_parse_opts(opts, #opts)
    if r < 0 then
        local i = -r
        error(fmt('unknown flag "%s" (flags "%s")', sub(opts, i, i), opts),
              level + 1)
    end
    opt_cache[opts] = r
    return r
end

local function bad_regex(regex, fname, level)
    if type(regex) == "number" then
        return tostring(regex)
    end
    error(fmt("bad argument #2 to '%s' (string expected, got %s)", fname,
              type(regex)), level + 1)
end

-- An index of the Rust cache in Lua tables, so that a cache hit costs no
-- FFI call: plain[flags][regex] and templ[flags][regex][template] hold
-- borrowed handles. Any eviction from the Rust cache bumps its generation,
-- and then the whole index is dropped. (Hits through the index do not
-- refresh the Rust LRU order, so under churn eviction is closer to FIFO.)
local generation = C.ngx_lua_rs_re_generation(st)
local index_gen = generation[0]
local plain_index = {}
local templ_index = {}

local function index_add(regex, flags, tpl, h)
    if tpl then
        local by_flags = templ_index[flags]
        if not by_flags then
            by_flags = {}
            templ_index[flags] = by_flags
        end
        local by_regex = by_flags[regex]
        if not by_regex then
            by_regex = {}
            by_flags[regex] = by_regex
        end
        by_regex[tpl] = h
    else
        local by_flags = plain_index[flags]
        if not by_flags then
            by_flags = {}
            plain_index[flags] = by_flags
        end
        by_flags[regex] = h
    end
end

local function free(h)
    re_release(ffi_gc(h, nil))
end

-- Returns handle, owned (true when the caller must free it); or nil, err.
-- A handle that is not owned is borrowed from the cache: valid until Lua
-- code runs that may compile other "o" regexes.
local function get_regex(regex, flags, tpl)
    local once = band(flags, OPT_ONCE) ~= 0
    local kind = KIND_PLAIN
    local tpl_len = 0
    if tpl then
        kind = KIND_TEMPLATE
        tpl_len = #tpl
    end
    if once then
        if generation[0] ~= index_gen then
            index_gen = generation[0]
            plain_index = {}
            templ_index = {}
        end
        if tpl then
            local by_flags = templ_index[flags]
            local by_regex = by_flags and by_flags[regex]
            local h = by_regex and by_regex[tpl]
            if h then
                return h, false
            end
        else
            local by_flags = plain_index[flags]
            local h = by_flags and by_flags[regex]
            if h then
                return h, false
            end
        end
        local h = cache_get(st, kind, regex, #regex, flags, tpl, tpl_len)
        if h ~= nil then
            index_add(regex, flags, tpl, h)
            return h, false
        end
    end
    local h = C.ngx_lua_rs_re_compile(st, regex, #regex, flags, errbuf, ERR_LEN)
    if h == nil then
        return nil, ffi_string(errbuf)
    end
    if tpl and C.ngx_lua_rs_re_set_template(h, tpl, tpl_len) ~= 0 then
        re_release(h)
        return nil, "failed to compile the replacement template"
    end
    if once and C.ngx_lua_rs_re_cache_put(st, kind, regex, #regex, flags, tpl,
                                          tpl_len, h) ~= 0
    then
        if generation[0] ~= index_gen then
            index_gen = generation[0]
            plain_index = {}
            templ_index = {}
        end
        index_add(regex, flags, tpl, h)
        return h, false
    end
    return ffi_gc(h, re_release), true
end

local function collect_names(h, flags, res)
    local names = h.name_table
    local size = h.name_entry_size
    local dup = band(flags, OPT_DUPNAMES) ~= 0
    local off = 0
    for _ = 1, h.name_count do
        local n = bor(lshift(names[off], 8), names[off + 1])
        local name = ffi_string(names + off + 2)
        local cap = res[n]
        if dup then
            -- unmatched groups are left out of the arrays
            if cap then
                local t = res[name]
                if t then
                    t[#t + 1] = cap
                else
                    res[name] = { cap }
                end
            end
        else
            res[name] = cap
        end
        off = off + size
    end
end

local function collect(h, subj, flags, res)
    local caps = h.captures
    local ncap = h.ncaptures
    if not res then
        res = new_tab(ncap, h.name_count)
    end
    local n = 0
    for i = 0, ncap do
        local from = caps[n]
        if from >= 0 then
            res[i] = sub(subj, from + 1, caps[n + 1])
        else
            res[i] = false
        end
        n = n + 2
    end
    if h.name_count > 0 then
        collect_names(h, flags, res)
    end
    return res
end

-- The byte offset after an empty match at `pos` (a whole character in
-- UTF-8 mode).
local function step(subj, pos, flags)
    if band(flags, OPT_UTF8) ~= 0 then
        local c = byte(subj, pos + 1)
        if c then
            if c >= 0xF0 then
                return pos + 4
            elseif c >= 0xE0 then
                return pos + 3
            elseif c >= 0xC0 then
                return pos + 2
            end
        end
    end
    return pos + 1
end

local re = new_tab(0, 5)

function re.match(subj, regex, opts, ctx, res)
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if type(regex) ~= "string" then
        regex = bad_regex(regex, "match", 2)
    end
    local flags = 0
    if opts then
        flags = opt_cache[opts] or parse_opts(opts, 2)
    end
    local h, owned = get_regex(regex, flags)
    if not h then
        return nil, owned
    end

    local pos = 0
    if ctx then
        pos = ctx.pos
        if not pos or pos <= 0 then
            pos = 0
        else
            pos = pos - 1
        end
    end

    local rc = re_exec(st, h, subj, #subj, pos)
    if rc < 0 then
        if owned then
            free(h)
        end
        if rc == NOMATCH then
            return nil
        end
        return nil, "pcre_exec() failed: " .. rc
    end

    if ctx then
        ctx.pos = h.captures[1] + 1
    end
    res = collect(h, subj, flags, res)
    if owned then
        free(h)
    end
    return res
end

function re.find(subj, regex, opts, ctx, nth)
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if type(regex) ~= "string" then
        regex = bad_regex(regex, "find", 2)
    end
    local flags = 0
    if opts then
        flags = opt_cache[opts] or parse_opts(opts, 2)
    end
    local h, owned = get_regex(regex, flags)
    if not h then
        return nil, nil, owned
    end

    local pos = 0
    if ctx then
        pos = ctx.pos
        if not pos or pos <= 0 then
            pos = 0
        else
            pos = pos - 1
        end
    end

    local rc = re_exec(st, h, subj, #subj, pos)
    if rc < 0 then
        if owned then
            free(h)
        end
        if rc == NOMATCH then
            return nil
        end
        return nil, nil, "pcre_exec() failed: " .. rc
    end

    local caps = h.captures
    if ctx then
        ctx.pos = caps[1] + 1
    end
    if not nth or nth < 0 then
        nth = 0
    end
    local from, to, err = -1, -1, nil
    if nth > h.ncaptures then
        err = "nth out of bound"
    elseif nth < rc then
        from = caps[nth * 2]
        to = caps[nth * 2 + 1]
    end
    if owned then
        free(h)
    end
    if err then
        return nil, nil, err
    end
    if from < 0 or to < 0 then
        return nil, nil
    end
    return from + 1, to
end

-- gmatch iterators are callable tables, as in lua-resty-core.
local gmatch_mt = {}

gmatch_mt.__call = function(self)
    local pos = self._pos
    if not pos then
        return nil
    end
    local h = self._re
    local subj = self._subj
    local len = #subj
    local rc = re_exec(st, h, subj, len, pos)
    if rc < 0 then
        self._pos = nil
        self._re = nil
        free(h)
        if rc == NOMATCH then
            return nil
        end
        return nil, "pcre_exec() failed: " .. rc
    end
    local flags = self._flags
    local res = collect(h, subj, flags)
    local from, to = h.captures[0], h.captures[1]
    if from == to then
        to = step(subj, to, flags)
        if to > len then
            self._pos = nil
            self._re = nil
            free(h)
            return res
        end
    end
    self._pos = to
    return res
end

function re.gmatch(subj, regex, opts)
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if type(regex) ~= "string" then
        regex = bad_regex(regex, "gmatch", 2)
    end
    local flags = 0
    if opts then
        flags = opt_cache[opts] or parse_opts(opts, 2)
    end
    local h, owned = get_regex(regex, flags)
    if not h then
        return nil, owned
    end
    if not owned then
        -- keep a cached regex alive for as long as the iterator needs it
        h = ffi_gc(re_retain(h), re_release)
    end
    return setmetatable({ _re = h, _subj = subj, _flags = flags, _pos = 0 },
                        gmatch_mt)
end

-- Free output buffers for gsub with a function (a stack: the function may
-- call ngx.re.gsub itself; a buffer whose call raised is left to the GC).
local free_bufs = {}
local n_free_bufs = 0
local c_str = ffi.typeof("const char *")

local function sub_func(subj, regex, repl, flags, global)
    local h, owned = get_regex(regex, flags)
    if not h then
        return nil, nil, owned
    end
    if not owned then
        -- the callback may evict it from the cache
        h = ffi_gc(re_retain(h), re_release)
    end

    local len = #subj
    local base = ffi_cast(c_str, subj)
    local pos, cp, count = 0, 0, 0
    local buf
    while true do
        local rc = re_exec(st, h, subj, len, pos)
        if rc < 0 then
            if rc == NOMATCH then
                break
            end
            free(h)
            if buf then
                buf:reset()
                n_free_bufs = n_free_bufs + 1
                free_bufs[n_free_bufs] = buf
            end
            return nil, nil, "pcre_exec() failed: " .. rc
        end
        count = count + 1
        local from, to = h.captures[0], h.captures[1]
        if not buf then
            if n_free_bufs > 0 then
                buf = free_bufs[n_free_bufs]
                free_bufs[n_free_bufs] = nil
                n_free_bufs = n_free_bufs - 1
            else
                buf = str_buf.new()
            end
        end
        local piece = tostring(repl(collect(h, subj, flags)))
        buf:putcdata(base + cp, from - cp)
        buf:put(piece)
        cp = to
        pos = to
        if from == to then
            pos = step(subj, pos, flags)
            if pos > len then
                break
            end
        end
        if not global then
            break
        end
    end
    free(h)
    if count == 0 then
        return subj, 0
    end
    if cp < len then
        buf:putcdata(base + cp, len - cp)
    end
    local res = buf:get()
    n_free_bufs = n_free_bufs + 1
    free_bufs[n_free_bufs] = buf
    return res, count
end

local function sub_template(subj, regex, repl, flags, global)
    local h, owned = get_regex(regex, flags, repl)
    if not h then
        return nil, nil, owned
    end
    local n = C.ngx_lua_rs_re_subst(st, h, subj, #subj, global, out)
    if owned then
        free(h)
    end
    if n < 0 then
        return nil, nil, "pcre_exec() failed: " .. n
    end
    if n == 0 then
        return subj, 0
    end
    return ffi_string(out.data, out.len), n
end

-- sub and gsub; called as a tail call so the level-2 errors below name the
-- user's caller.
local function substitute(name, global, subj, regex, repl, opts)
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if type(regex) ~= "string" then
        regex = bad_regex(regex, name, 2)
    end
    local flags = 0
    if opts then
        flags = opt_cache[opts] or parse_opts(opts, 2)
    end
    if type(repl) == "function" then
        return sub_func(subj, regex, repl, flags, global)
    end
    if type(repl) ~= "string" then
        repl = tostring(repl)
    end
    return sub_template(subj, regex, repl, flags, global and 1 or 0)
end

function re.sub(subj, regex, repl, opts)
    return substitute("sub", false, subj, regex, repl, opts)
end

function re.gsub(subj, regex, repl, opts)
    return substitute("gsub", true, subj, regex, repl, opts)
end

-- require "ngx.re"

local split_ctx = new_tab(0, 1)

local function split(subj, regex, opts, ctx, max, res)
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if not ctx then
        ctx = split_ctx
        ctx.pos = 1
    elseif not ctx.pos then
        ctx.pos = 1
    end
    max = max or 0
    if not res then
        res = new_tab(max > 0 and math_min(4, max) or 4, 0)
    elseif type(res) ~= "table" then
        error("res is not a table", 2)
    end

    local len = #subj
    if ctx.pos > len then
        res[1] = nil
        return res
    end

    if type(regex) ~= "string" then
        regex = bad_regex(regex, "split", 2)
    end
    local flags = 0
    if opts then
        flags = opt_cache[opts] or parse_opts(opts, 2)
    end
    local h, owned = get_regex(regex, flags)
    if not h then
        return nil, owned
    end

    local piece_start = ctx.pos -- 1-based start of the next piece
    local n = 0
    local count = 1
    local last_empty
    ctx.pos = piece_start - 1 -- 0-based offset of the next search

    while max <= 0 or count < max do
        local rc = re_exec(st, h, subj, len, math_max(ctx.pos, 0))
        if rc < 0 then
            if rc == NOMATCH then
                break
            end
            if owned then
                free(h)
            end
            return nil, "pcre_exec() failed: " .. rc
        end
        local caps = h.captures
        local from, to = caps[0], caps[1]
        if from < 0 or to < 0 then
            break
        end
        if from == to then
            ctx.pos = to + 1
        else
            ctx.pos = to
        end
        local capture
        if h.ncaptures > 0 and caps[2] >= 0 then
            capture = sub(subj, caps[2] + 1, caps[3])
        end
        from = from + 1
        to = to + 1

        if last_empty then
            piece_start = last_empty
        end
        if from == to then
            last_empty = from
        end
        if from > piece_start or not last_empty then
            count = count + 1
            n = n + 1
            res[n] = sub(subj, piece_start, from - 1)
            if capture then
                n = n + 1
                res[n] = capture
            end
            piece_start = to
            if piece_start > len then
                break
            end
        end
    end

    if owned then
        free(h)
    end

    if max <= 0 and piece_start > len then
        -- drop trailing empty pieces
        local last = 0
        for i = n, 1, -1 do
            if res[i] ~= "" then
                last = i
                break
            end
            res[i] = nil
        end
        n = last
    else
        n = n + 1
        res[n] = sub(subj, piece_start)
    end
    res[n + 1] = nil
    return res
end

local function opt(option, value)
    if option == "jit_stack_size" then
        if C.ngx_lua_rs_re_cache_empty(st) == 0 then
            error("changing jit stack size is not allowed when some regexs "
                  .. "have already been compiled and cached", 2)
        end
        if C.ngx_lua_rs_re_set_jit_stack_size(st, tonumber(value) or 0,
                                              errbuf, ERR_LEN) == 0
        then
            return
        end
        error(ffi_string(errbuf), 2)
    end
    error("unrecognized option name", 2)
end

local module = {
    version = "0.1.28",
    split = split,
    opt = opt,
}

local core_regex = {
    version = "0.1.28",
    set_buf_grow_ratio = function() end,
    is_regex_cache_empty = function()
        return C.ngx_lua_rs_re_cache_empty(st) ~= 0
    end,
}

return re, module, core_regex
