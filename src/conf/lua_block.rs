//! Finds the end of a `*_by_lua_block { ... }` body.
//!
//! nginx's own tokenizer would mangle Lua (it unescapes `\n` in quoted strings
//! and splits on `;`), so the block directives read the raw config text
//! themselves. This scanner knows just enough Lua lexing (strings, long
//! brackets, comments) to match braces.

/// A block body found in config text that starts right after the opening `{`.
#[derive(Debug, PartialEq, Eq)]
pub struct Block {
    /// Length of the Lua code (the text before the closing `}`).
    pub code_len: usize,
    /// Bytes consumed, including the closing `}`.
    pub consumed: usize,
    /// Newlines inside the consumed text.
    pub lines: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScanError {
    /// The text ended before the block was closed; carries what was open.
    Unterminated(&'static str),
    /// A long string or comment `[==[` of this level was never closed.
    LongBracket(usize),
}

impl std::fmt::Display for ScanError {
    /// lua-nginx-module's wording for these config errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::LongBracket(level) => {
                write!(
                    f,
                    "Lua code block missing the closing long bracket \"]{}]\"",
                    "=".repeat(*level)
                )
            }
            ScanError::Unterminated(_) => write!(f, "Lua code block missing the \"}}\" character"),
        }
    }
}

/// Level of a long bracket opening at `s[i]` (`[`, `[=`, `[==` ...), if any.
fn long_bracket_level(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while s.get(j) == Some(&b'=') {
        j += 1;
    }
    (s.get(j) == Some(&b'[')).then_some(j - i - 1)
}

/// Index just past the long bracket close `]=*]` of `level`, searching from `i`.
fn long_bracket_end(s: &[u8], mut i: usize, level: usize) -> Option<usize> {
    while i < s.len() {
        if s[i] == b']' {
            let mut j = i + 1;
            while j < s.len() && s[j] == b'=' {
                j += 1;
            }
            if j < s.len() && s[j] == b']' && j - i - 1 == level {
                return Some(j + 1);
            }
        }
        i += 1;
    }
    None
}

/// Scans `s` (the config text right after `{`) for the matching `}`.
pub fn scan(s: &[u8]) -> Result<Block, ScanError> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'{' => depth += 1,
            b'}' => {
                if depth == 0 {
                    let lines = s[..=i].iter().filter(|&&c| c == b'\n').count();
                    return Ok(Block {
                        code_len: i,
                        consumed: i + 1,
                        lines,
                    });
                }
                depth -= 1;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    match s.get(i) {
                        None => return Err(ScanError::Unterminated("string")),
                        Some(b'\\') => i += 2,
                        Some(&c) if c == q => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'[' => {
                if let Some(level) = long_bracket_level(s, i) {
                    i = long_bracket_end(s, i + level + 2, level)
                        .ok_or(ScanError::LongBracket(level))?;
                    continue;
                }
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                if let Some(level) = long_bracket_level(s, i + 2) {
                    i = long_bracket_end(s, i + 2 + level + 2, level)
                        .ok_or(ScanError::LongBracket(level))?;
                    continue;
                }
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Err(ScanError::Unterminated("block"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> &str {
        let b = scan(s.as_bytes()).expect("scan");
        &s[..b.code_len]
    }

    #[test]
    fn simple() {
        assert_eq!(code(" ngx.say(1) }\nmore"), " ngx.say(1) ");
    }

    #[test]
    fn nested_tables_and_strings() {
        let s = " local t = {a = {1}} ngx.say(\"}\", '{', \"\\\"}\") }rest";
        assert_eq!(code(s), &s[..s.len() - 5]);
    }

    #[test]
    fn long_strings_and_comments() {
        let s = " local a = [[ } ]] local b = [==[ ]] } ]==] -- }\n --[[ } ]] --[=[ } ]=] }";
        assert_eq!(code(s), &s[..s.len() - 1]);
    }

    #[test]
    fn counts_lines() {
        let b = scan(b"\n a\n b\n}").expect("scan");
        assert_eq!(b.lines, 3);
        assert_eq!(b.consumed, 8);
    }

    #[test]
    fn unterminated() {
        assert_eq!(
            scan(b" ngx.say('x) }"),
            Err(ScanError::Unterminated("string"))
        );
        assert_eq!(scan(b" do "), Err(ScanError::Unterminated("block")));
        assert_eq!(scan(b" --[[ }"), Err(ScanError::LongBracket(0)));
        assert_eq!(
            ScanError::LongBracket(2).to_string(),
            "Lua code block missing the closing long bracket \"]==]\""
        );
    }
}
