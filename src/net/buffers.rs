//! Spare byte buffers for cosockets, kept per worker thread.
//!
//! Client libraries make a socket object per request (lua-resty-redis,
//! -memcached, ...), and each would otherwise allocate its read buffer, the
//! accumulator of its results and its send buffer, then free them when the
//! object is collected. Handing buffers back here makes the next request's
//! socket start with buffers that already have room.

use std::cell::RefCell;

/// How many buffers are kept; beyond that, given-back buffers are freed.
const KEEP: usize = 64;
/// Larger buffers are freed rather than kept (a big receive("*a") should
/// not pin its memory for the life of the worker); smaller ones (an error
/// string's bytes) would only take a slot from a useful one.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;
const MIN_KEPT_CAPACITY: usize = 64;

/// Buffers of at least this capacity are kept apart: they serve reads of
/// `lua_socket_buffer_size` bytes, which a small buffer would first have to
/// grow (a reallocation per request).
const LARGE: usize = 1024;

thread_local! {
    /// [small, large] spare buffers.
    static SPARE: RefCell<[Vec<Vec<u8>>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

fn pop(large: bool) -> Option<Vec<u8>> {
    SPARE.with(|s| {
        s.try_borrow_mut()
            .ok()
            .and_then(|mut s| s[usize::from(large)].pop())
    })
}

/// An empty buffer, with room if a spare one was kept.
pub fn take() -> Vec<u8> {
    pop(false).or_else(|| pop(true)).unwrap_or_default()
}

/// `buf` is no longer needed: keep it for [`take`] (cleared) or free it.
pub fn give(mut buf: Vec<u8>) {
    let cap = buf.capacity();
    if !(MIN_KEPT_CAPACITY..=MAX_KEPT_CAPACITY).contains(&cap) {
        return;
    }
    buf.clear();
    SPARE.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            let list = &mut s[usize::from(cap >= LARGE)];
            if list.len() < KEEP {
                list.push(buf);
            }
        }
    });
}

/// `buf` itself if it already has room, else a spare one.
pub fn ensure(buf: &mut Vec<u8>) {
    if buf.capacity() == 0 {
        *buf = take();
    }
}

/// Makes the empty `buf` hold at least `want` bytes without growing: a
/// large spare buffer if one has the room, else a new one of that size.
pub fn ensure_room(buf: &mut Vec<u8>, want: usize) {
    if buf.capacity() >= want {
        return;
    }
    let spare = match pop(want >= LARGE) {
        Some(b) if b.capacity() >= want => b,
        other => {
            // Too small for this read: kept for another use.
            if let Some(b) = other {
                give(b);
            }
            Vec::with_capacity(want)
        }
    };
    give(std::mem::replace(buf, spare));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_buffers_come_back_empty_with_room() {
        let mut b = Vec::with_capacity(100);
        b.extend_from_slice(b"abc");
        give(b);
        let t = take();
        assert!(t.is_empty());
        assert!(t.capacity() >= 100);
    }

    #[test]
    fn reads_get_a_buffer_with_room() {
        while take().capacity() > 0 {}
        give(Vec::with_capacity(100));
        give(Vec::with_capacity(8192));
        give(Vec::with_capacity(200));
        let mut b = Vec::new();
        ensure_room(&mut b, 4096);
        assert!(
            b.capacity() >= 8192,
            "the large spare, not a small one grown"
        );
        let mut small = Vec::with_capacity(16);
        ensure_room(&mut small, 4096);
        assert!(small.capacity() >= 4096);
        assert!(take().capacity() >= 100);
        assert!(take().capacity() >= 100);
    }

    #[test]
    fn large_and_tiny_buffers_are_not_kept() {
        while take().capacity() > 0 {}
        give(Vec::new());
        give(Vec::with_capacity(MIN_KEPT_CAPACITY - 1));
        give(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert_eq!(take().capacity(), 0);
    }
}
