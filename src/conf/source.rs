//! Where a handler's Lua code comes from, and the chunk names upstream gives it.

/// One `*_by_lua*` directive's code.
#[derive(Clone, Debug)]
pub struct Handler {
    pub source: Source,
    /// `=content_by_lua(nginx.conf:12)` for inline code.
    pub chunkname: String,
}

#[derive(Clone, Debug)]
pub enum Source {
    /// Inline code, compiled at configuration time into the VM's slot `slot`.
    Inline { slot: usize },
    /// A file path; may contain nginx variables (evaluated per request), and is
    /// relative to the prefix unless absolute.
    File { path: Vec<u8>, has_vars: bool },
}

/// lua-nginx-module's chunk name for inline code: `=<tag>(<conf file>:<line>)`.
pub fn inline_chunkname(tag: &str, conf_file: &str, line: usize) -> String {
    format!("={tag}({conf_file}:{line})")
}

/// Makes a relative path absolute against the prefix (which ends with '/').
pub fn absolute_path(prefix: &[u8], path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') || prefix.is_empty() {
        return path.to_vec();
    }
    let mut full = prefix.to_vec();
    if full.last() != Some(&b'/') {
        full.push(b'/');
    }
    full.extend_from_slice(path);
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunkname() {
        assert_eq!(
            inline_chunkname("content_by_lua", "nginx.conf", 12),
            "=content_by_lua(nginx.conf:12)"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(absolute_path(b"/p/", b"a.lua"), b"/p/a.lua");
        assert_eq!(absolute_path(b"/p", b"a.lua"), b"/p/a.lua");
        assert_eq!(absolute_path(b"/p/", b"/abs.lua"), b"/abs.lua");
    }
}
