//! The matcher behind `tcpsock:receiveuntil(pattern)`: finds a byte pattern
//! in a stream that arrives in pieces, copying the data before it to the
//! caller. A partial match at the end of a piece is kept in the matcher (not
//! in the output) until the next piece confirms or breaks it.
//!
//! Pure Rust (KMP over the pattern), no nginx.

/// What a [`Until::feed`] call stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The whole pattern was seen (and consumed).
    Found,
    /// The output reached the size limit before the pattern.
    Full,
    /// All input was consumed without finding the pattern.
    NeedMore,
}

#[derive(Debug, Clone)]
pub struct Until {
    pat: Vec<u8>,
    /// `fail[i]`: length of the longest proper border of `pat[..=i]`.
    fail: Vec<usize>,
    inclusive: bool,
    /// How many bytes of the pattern the stream currently matches.
    state: usize,
}

impl Until {
    /// `pat` must not be empty.
    pub fn new(pat: &[u8], inclusive: bool) -> Until {
        let mut fail = vec![0usize; pat.len()];
        let mut k = 0;
        for i in 1..pat.len() {
            while k > 0 && pat[i] != pat[k] {
                k = fail[k - 1];
            }
            if pat[i] == pat[k] {
                k += 1;
            }
            fail[i] = k;
        }
        Until {
            pat: pat.to_vec(),
            fail,
            inclusive,
            state: 0,
        }
    }

    /// Consumes bytes of `input`, appending the data that precedes the
    /// pattern to `out`, until the pattern is complete, `out` holds `limit`
    /// bytes (when given), or the input is exhausted. Returns how many input
    /// bytes were consumed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, limit: Option<usize>) -> (usize, Step) {
        for (i, &c) in input.iter().enumerate() {
            if let Some(l) = limit {
                if out.len() >= l && self.state == 0 {
                    return (i, Step::Full);
                }
            }
            while self.state > 0 && c != self.pat[self.state] {
                // The bytes that can no longer start a match are data.
                let keep = self.fail[self.state - 1];
                out.extend_from_slice(&self.pat[..self.state - keep]);
                self.state = keep;
            }
            if c == self.pat[self.state] {
                self.state += 1;
                if self.state == self.pat.len() {
                    self.state = 0;
                    if self.inclusive {
                        out.extend_from_slice(&self.pat);
                    }
                    return (i + 1, Step::Found);
                }
            } else {
                out.push(c);
            }
        }
        if let Some(l) = limit {
            if out.len() >= l && self.state == 0 {
                return (input.len(), Step::Full);
            }
        }
        (input.len(), Step::NeedMore)
    }

    /// Moves a pending partial match into `out` (the stream ended or failed)
    /// and resets the matcher.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pat[..self.state]);
        self.state = 0;
    }

    pub fn reset(&mut self) {
        self.state = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` one by one; returns the outputs of each completed read.
    fn run(
        pat: &str,
        inclusive: bool,
        pieces: &[&str],
        limit: Option<usize>,
    ) -> Vec<(String, Step)> {
        let mut u = Until::new(pat.as_bytes(), inclusive);
        let mut res = Vec::new();
        let mut out = Vec::new();
        for p in pieces {
            let mut input = p.as_bytes();
            while !input.is_empty() {
                let (n, step) = u.feed(input, &mut out, limit);
                input = &input[n..];
                if step != Step::NeedMore {
                    res.push((String::from_utf8(std::mem::take(&mut out)).unwrap(), step));
                }
            }
        }
        if !out.is_empty() {
            res.push((String::from_utf8(out).unwrap(), Step::NeedMore));
        }
        res
    }

    #[test]
    fn simple() {
        assert_eq!(
            run("\r\n", false, &["hello\r\nworld\r\n"], None),
            vec![("hello".into(), Step::Found), ("world".into(), Step::Found)]
        );
    }

    #[test]
    fn split_across_pieces() {
        assert_eq!(
            run("--abc", false, &["xx-", "-a", "bcyy"], None),
            vec![("xx".into(), Step::Found), ("yy".into(), Step::NeedMore)]
        );
    }

    #[test]
    fn false_starts() {
        assert_eq!(
            run("aab", false, &["aaab"], None),
            vec![("a".into(), Step::Found)]
        );
        assert_eq!(
            run("abab", false, &["abaabab"], None),
            vec![("aba".into(), Step::Found)]
        );
        assert_eq!(
            run("--a", false, &["---a"], None),
            vec![("-".into(), Step::Found)]
        );
        assert_eq!(
            run("ab", false, &["aXb ab"], None),
            vec![("aXb ".into(), Step::Found)]
        );
    }

    #[test]
    fn inclusive() {
        assert_eq!(
            run("\r\n", true, &["a\r\nb\r\n"], None),
            vec![("a\r\n".into(), Step::Found), ("b\r\n".into(), Step::Found)]
        );
    }

    #[test]
    fn sized() {
        assert_eq!(
            run(
                "\r\n--abcedhb",
                false,
                &["hello, world! -agentzh\r\n--abcedhb blah"],
                Some(4)
            ),
            vec![
                ("hell".into(), Step::Full),
                ("o, w".into(), Step::Full),
                ("orld".into(), Step::Full),
                ("! -a".into(), Step::Full),
                ("gent".into(), Step::Full),
                ("zh".into(), Step::Found),
                (" bla".into(), Step::Full),
                ("h".into(), Step::NeedMore),
            ]
        );
    }

    #[test]
    fn flush_partial() {
        let mut u = Until::new(b"abc", false);
        let mut out = Vec::new();
        assert_eq!(u.feed(b"xxab", &mut out, None), (4, Step::NeedMore));
        assert_eq!(out, b"xx");
        u.flush(&mut out);
        assert_eq!(out, b"xxab");
    }

    #[test]
    fn single_byte_pattern() {
        assert_eq!(
            run("|", false, &["a|b||c"], None),
            vec![
                ("a".into(), Step::Found),
                ("b".into(), Step::Found),
                ("".into(), Step::Found),
                ("c".into(), Step::NeedMore)
            ]
        );
    }
}
