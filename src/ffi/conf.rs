//! Safe access to the `ngx_conf_t` a directive handler receives.

use nginx_sys::{ngx_conf_log_error, ngx_conf_t, ngx_read_file, ngx_str_t, NGX_INVALID_FILE};

use crate::conf::lua_block;

/// A directive handler's view of the config being parsed.
pub struct Conf(*mut ngx_conf_t);

impl Conf {
    /// # Safety
    /// `cf` must be the live `ngx_conf_t` nginx passed to a directive or module hook.
    pub unsafe fn new(cf: *mut ngx_conf_t) -> Conf {
        Conf(cf)
    }

    pub fn raw(&self) -> *mut ngx_conf_t {
        self.0
    }

    /// The directive's words, the directive name first.
    pub fn args(&self) -> &[ngx_str_t] {
        // SAFETY: cf->args is the array of the current directive's tokens.
        unsafe {
            let a = (*self.0).args;
            if a.is_null() || (*a).nelts == 0 {
                return &[];
            }
            std::slice::from_raw_parts((*a).elts as *const ngx_str_t, (*a).nelts)
        }
    }

    pub fn arg(&self, i: usize) -> &[u8] {
        match self.args().get(i) {
            // SAFETY: tokens live in cf->pool for the whole configuration.
            Some(s) => unsafe { super::str_bytes(s) },
            None => &[],
        }
    }

    /// Logs an emerg with the directive's file:line, as nginx does for config errors.
    pub fn error(&self, msg: &str) {
        // SAFETY: cf is live; "%*s" reads exactly len bytes.
        unsafe {
            ngx_conf_log_error(
                nginx_sys::NGX_LOG_EMERG as usize,
                self.0,
                0,
                c"%*s".as_ptr(),
                msg.len(),
                msg.as_ptr(),
            )
        }
    }

    /// Current line in the file being parsed.
    pub fn line(&self) -> usize {
        // SAFETY: conf_file is set while a file (or -g string) is parsed.
        unsafe {
            let f = (*self.0).conf_file;
            if f.is_null() {
                0
            } else {
                (*f).line
            }
        }
    }

    /// Base name of the file being parsed ("nginx.conf"), as chunk names use it.
    pub fn file_basename(&self) -> String {
        // SAFETY: see `line`.
        let name = unsafe {
            let f = (*self.0).conf_file;
            if f.is_null() {
                &[][..]
            } else {
                super::str_bytes(&(*f).file.name)
            }
        };
        let base = name.rsplit(|&c| c == b'/').next().unwrap_or(name);
        String::from_utf8_lossy(base).into_owned()
    }

    /// The cycle's prefix (`-p`), with a trailing slash.
    pub fn prefix(&self) -> Vec<u8> {
        // SAFETY: cf->cycle is the cycle being configured.
        unsafe { super::str_bytes(&(*(*self.0).cycle).prefix).to_vec() }
    }

    /// Reads the body of a `*_by_lua_block {` directive straight from the config
    /// text, leaves nginx's tokenizer just past the closing `}`, and returns the
    /// Lua code.
    pub fn read_lua_block(&self) -> Result<Vec<u8>, String> {
        // SAFETY: during a block directive's handler, conf_file->buffer holds the
        // unread config text at [pos, last) and file.offset is the file offset of
        // `last`. We read the rest of the file ourselves and move pos/offset past
        // the block, which is exactly where nginx's reader resumes.
        unsafe {
            let cf = &mut *self.0;
            let cfile = &mut *cf.conf_file;
            let b = &mut *cfile.buffer;
            let buffered = b.last.offset_from(b.pos) as usize;
            let in_buffer = std::slice::from_raw_parts(b.pos, buffered);

            let from_file = cfile.file.fd != NGX_INVALID_FILE;
            let text: Vec<u8>;
            let src: &[u8] = if from_file {
                let size = cfile.file.info.st_size;
                let start = cfile.file.offset - buffered as i64;
                let len = (size - start).max(0) as usize;
                let mut buf = vec![0u8; len];
                let saved = cfile.file.offset;
                let n = ngx_read_file(&mut cfile.file, buf.as_mut_ptr(), len, start);
                cfile.file.offset = saved;
                if n < 0 {
                    return Err("failed to read the Lua block from the config file".into());
                }
                buf.truncate(n as usize);
                text = buf;
                &text
            } else {
                in_buffer
            };

            let block = lua_block::scan(src).map_err(|e| e.to_string())?;
            let code = src[..block.code_len].to_vec();
            if block.consumed <= buffered {
                b.pos = b.pos.add(block.consumed);
            } else {
                b.pos = b.last;
                cfile.file.offset += (block.consumed - buffered) as i64;
            }
            cfile.line += block.lines;
            Ok(code)
        }
    }
}
