//! `lua_package_path` / `lua_package_cpath` expansion: `;;` stands for the
//! default search path and `$prefix` / `${prefix}` for nginx's prefix.

/// Where distributions install Lua 5.1 modules (Debian's lua-resty-* and
/// lua-cjson among them). Appended to LuaJIT's built-in defaults so that code
/// written against a distribution's OpenResty packages finds its libraries,
/// as it would with the distribution's LuaJIT.
pub const SYSTEM_PATH: &str = "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua";
#[cfg(target_arch = "x86_64")]
pub const SYSTEM_CPATH: &str = "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/lib/lua/5.1/?.so";
#[cfg(target_arch = "aarch64")]
pub const SYSTEM_CPATH: &str = "/usr/lib/aarch64-linux-gnu/lua/5.1/?.so;/usr/lib/lua/5.1/?.so";
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const SYSTEM_CPATH: &str = "/usr/lib/lua/5.1/?.so";

/// Expands a configured search path against the VM's default and the prefix.
pub fn expand_package_path(configured: &[u8], default: &[u8], prefix: &[u8]) -> Vec<u8> {
    // The prefix keeps its trailing slash: upstream users write
    // "$prefix/lib/?.lua" as well as "${prefix}lib/?.lua".
    let with_prefix = replace(
        &replace(configured, b"${prefix}", prefix),
        b"$prefix",
        prefix,
    );
    let mut middle = b";".to_vec();
    middle.extend_from_slice(default);
    middle.push(b';');
    replace(&with_prefix, b";;", &middle)
}

fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_prefix() {
        assert_eq!(
            expand_package_path(b"/a/?.lua;;", b"./?.lua", b"/p/"),
            b"/a/?.lua;./?.lua;".to_vec()
        );
        assert_eq!(
            expand_package_path(b"$prefix/lib/?.lua", b"x", b"/p/"),
            b"/p//lib/?.lua".to_vec()
        );
        assert_eq!(
            expand_package_path(b"${prefix}lib/?.lua", b"x", b"/p/"),
            b"/p/lib/?.lua".to_vec()
        );
    }
}
