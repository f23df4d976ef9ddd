-- Built-in stand-in for lua-resty-core's entry module. Our ngx.* API is
-- already implemented natively, so loading it only has to succeed (init code
-- commonly does `require "resty.core"`).
return {
    version = "0.1.28",
}
