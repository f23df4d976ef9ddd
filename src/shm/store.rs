//! The shared dictionary's data structure, independent of nginx: a chained
//! hash table of `#[repr(C)]` nodes, an LRU queue through every node, lazy
//! expiry, and list values. All memory comes from an [`Alloc`]: nginx's slab
//! pool of the zone in production (see `zone.rs`), a heap arena with the
//! same size classes in unit tests.
//!
//! Nothing here locks: the caller holds the zone's mutex around every call.
//! Pointers stored in the structure point into the same allocator's memory
//! (the shared zone is mapped at one address in the master and every worker,
//! and stays mapped across reloads), never at per-process memory.
//!
//! Semantics follow lua-nginx-module's ngx_http_lua_shdict.c: `expire(1)`
//! before each operation, lookups move the item to the LRU head, writes that
//! need memory evict the LRU tail up to 30 times (`forcible`), `safe_*` and
//! list pushes never evict.

use std::ptr::{self, null_mut};

/// Value types, numbered like lua-nginx-module (= Lua's type tags).
pub const T_NIL: u8 = 0;
pub const T_BOOLEAN: u8 = 1;
pub const T_NUMBER: u8 = 3;
pub const T_STRING: u8 = 4;
pub const T_LIST: u8 = 5;

/// Store operation flags (as lua-nginx-module's).
pub const OP_ADD: u32 = 0x1;
pub const OP_REPLACE: u32 = 0x2;
pub const OP_SAFE: u32 = 0x4;

/// Keys longer than this are refused by the API layer.
pub const MAX_KEY_LEN: usize = 65535;

/// How many LRU items one write may evict before giving up.
const MAX_EVICT: usize = 30;

const MAGIC: u64 = u64::from_le_bytes(*b"LRSHDICT");
const VERSION: u32 = 1;
const INITIAL_BUCKETS: usize = 8;
const MAX_BUCKETS: usize = 1 << 28;

/// Why an operation failed; `code()` is what the FFI layer returns and the
/// Lua wrapper maps back to the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    NotFound = 1,
    Exists = 2,
    NoMemory = 3,
    NotANumber = 4,
    NotAList = 5,
    IsAList = 6,
    NilValue = 7,
}

impl Error {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn message(self) -> &'static str {
        match self {
            Error::NotFound => "not found",
            Error::Exists => "exists",
            Error::NoMemory => "no memory",
            Error::NotANumber => "not a number",
            Error::NotAList => "value not a list",
            Error::IsAList => "value is a list",
            Error::NilValue => "attempt to add or replace nil values",
        }
    }
}

/// Memory for the store. `alloc` returns null when out of memory; every
/// pointer is at least 8-byte aligned.
pub trait Alloc {
    fn alloc(&self, size: usize) -> *mut u8;
    /// # Safety
    /// `p` must come from `alloc` of this allocator and not be freed yet.
    unsafe fn free(&self, p: *mut u8);
}

/// A scalar value to store.
#[derive(Clone, Copy, Debug)]
pub enum Val<'a> {
    Nil,
    Bool(bool),
    Num(f64),
    Str(&'a [u8]),
}

impl<'a> Val<'a> {
    /// (type tag, bytes); numbers and booleans are encoded into `scratch`.
    fn encode(self, scratch: &'a mut [u8; 8]) -> (u8, Option<&'a [u8]>) {
        match self {
            Val::Nil => (T_NIL, None),
            Val::Bool(b) => {
                scratch[0] = b as u8;
                (T_BOOLEAN, Some(&scratch[..1]))
            }
            Val::Num(n) => {
                *scratch = n.to_ne_bytes();
                (T_NUMBER, Some(&scratch[..]))
            }
            Val::Str(s) => (T_STRING, Some(s)),
        }
    }
}

/// A value read out of the store (owned: used by list pops).
#[derive(Clone, Debug, PartialEq)]
pub enum Owned {
    Num(f64),
    Str(Vec<u8>),
}

#[repr(C)]
struct Link {
    prev: *mut Link,
    next: *mut Link,
}

/// One item. Followed in memory by the key, then the value bytes (or, for a
/// list, by an 8-aligned `Link` heading its element nodes).
#[repr(C)]
struct Node {
    /// LRU queue; must stay first (the sentinel is a bare `Link`).
    lru: Link,
    /// Next node in the same hash bucket.
    chain: *mut Node,
    /// Absolute expiry in ms since the epoch; 0 = never.
    expires: u64,
    hash: u32,
    /// Value bytes, or the element count of a list.
    value_len: u32,
    user_flags: u32,
    key_len: u16,
    value_type: u8,
    _pad: u8,
}

/// One list element, followed by its value bytes.
#[repr(C)]
struct ListNode {
    link: Link,
    value_len: u32,
    value_type: u8,
    _pad: [u8; 3],
}

/// The zone's root, at a fixed place (the slab pool's `data`).
#[repr(C)]
pub struct Header {
    magic: u64,
    version: u32,
    _pad: u32,
    lru: Link,
    buckets: *mut *mut Node,
    mask: usize,
    count: usize,
}

const NODE_SIZE: usize = std::mem::size_of::<Node>();
const LIST_NODE_SIZE: usize = std::mem::size_of::<ListNode>();

const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// The hash of a key (stable across processes: no seed).
pub fn hash(key: &[u8]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (key.len() as u64).wrapping_mul(K) ^ 0x243F_6A88_85A3_08D3;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 32;
    h as u32
}

/// What `get` found: the value lives in the store until the lock is released.
pub struct Found<'s> {
    pub value_type: u8,
    pub user_flags: u32,
    pub stale: bool,
    pub bytes: &'s [u8],
}

impl Found<'_> {
    pub fn number(&self) -> f64 {
        let mut b = [0u8; 8];
        if self.bytes.len() == 8 {
            b.copy_from_slice(self.bytes);
        }
        f64::from_ne_bytes(b)
    }
    pub fn boolean(&self) -> bool {
        self.bytes.first().is_some_and(|&c| c != 0)
    }
}

/// A view of one zone's store through its allocator. Cheap to build per call.
pub struct Store<'a, A: Alloc> {
    h: *mut Header,
    a: &'a A,
}

impl<'a, A: Alloc> Store<'a, A> {
    /// Creates an empty store in memory from `a`; returns its header.
    pub fn create(a: &A) -> Option<*mut Header> {
        let h = a.alloc(std::mem::size_of::<Header>()) as *mut Header;
        if h.is_null() {
            return None;
        }
        let buckets = a.alloc(INITIAL_BUCKETS * std::mem::size_of::<*mut Node>()) as *mut *mut Node;
        if buckets.is_null() {
            // SAFETY: h was just allocated by `a`.
            unsafe { a.free(h as *mut u8) };
            return None;
        }
        // SAFETY: both blocks were just allocated with the right sizes and
        // 8-byte alignment; we initialise every field before use.
        unsafe {
            for i in 0..INITIAL_BUCKETS {
                *buckets.add(i) = null_mut();
            }
            let sentinel = ptr::addr_of_mut!((*h).lru);
            h.write(Header {
                magic: MAGIC,
                version: VERSION,
                _pad: 0,
                lru: Link {
                    prev: sentinel,
                    next: sentinel,
                },
                buckets,
                mask: INITIAL_BUCKETS - 1,
                count: 0,
            });
        }
        Some(h)
    }

    /// # Safety
    /// `h` must be a header made by [`Store::create`] with the same allocator
    /// (or one over the same memory), and the caller must hold the zone lock
    /// for as long as the store is used.
    pub unsafe fn open(h: *mut Header, a: &'a A) -> Option<Store<'a, A>> {
        // SAFETY: guaranteed by the caller.
        if h.is_null() || unsafe { (*h).magic != MAGIC || (*h).version != VERSION } {
            return None;
        }
        Some(Store { h, a })
    }

    /// Number of items (expired ones included until they are freed).
    pub fn len(&self) -> usize {
        // SAFETY: h is a valid header (see `open`).
        unsafe { (*self.h).count }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sentinel(&self) -> *mut Link {
        // SAFETY: h is valid; we only take the field's address.
        unsafe { ptr::addr_of_mut!((*self.h).lru) }
    }

    // ---- raw helpers (all callers hold the lock; pointers come from us) ----

    unsafe fn key_of<'k>(n: *const Node) -> &'k [u8] {
        // SAFETY: a node is followed by key_len key bytes.
        unsafe {
            std::slice::from_raw_parts((n as *const u8).add(NODE_SIZE), (*n).key_len as usize)
        }
    }

    unsafe fn value_ptr(n: *mut Node) -> *mut u8 {
        // SAFETY: the value follows the key inside the node's allocation.
        unsafe { (n as *mut u8).add(NODE_SIZE + (*n).key_len as usize) }
    }

    unsafe fn list_head(n: *mut Node) -> *mut Link {
        // SAFETY: list nodes were allocated with room for an aligned Link after the key.
        unsafe { (n as *mut u8).add(align8(NODE_SIZE + (*n).key_len as usize)) as *mut Link }
    }

    unsafe fn link_remove(l: *mut Link) {
        // SAFETY: l is in a well-formed circular list.
        unsafe {
            (*(*l).prev).next = (*l).next;
            (*(*l).next).prev = (*l).prev;
        }
    }

    unsafe fn link_insert_after(at: *mut Link, l: *mut Link) {
        // SAFETY: `at` is in a well-formed circular list, `l` is not.
        unsafe {
            (*l).prev = at;
            (*l).next = (*at).next;
            (*(*at).next).prev = l;
            (*at).next = l;
        }
    }

    unsafe fn link_insert_before(at: *mut Link, l: *mut Link) {
        // SAFETY: as link_insert_after.
        unsafe { Self::link_insert_after((*at).prev, l) }
    }

    fn touch(&self, n: *mut Node) {
        // SAFETY: n is a live node in the LRU queue.
        unsafe {
            Self::link_remove(n as *mut Link);
            Self::link_insert_after(self.sentinel(), n as *mut Link);
        }
    }

    fn bucket(&self, hash: u32) -> *mut *mut Node {
        // SAFETY: the bucket array has mask + 1 entries.
        unsafe { (*self.h).buckets.add(hash as usize & (*self.h).mask) }
    }

    /// Finds a node without touching the LRU.
    fn peek(&self, hash: u32, key: &[u8]) -> *mut Node {
        // SAFETY: chains hold live nodes.
        unsafe {
            let mut n = *self.bucket(hash);
            while !n.is_null() {
                if (*n).hash == hash && (*n).key_len as usize == key.len() && Self::key_of(n) == key
                {
                    return n;
                }
                n = (*n).chain;
            }
        }
        null_mut()
    }

    /// Finds a node and moves it to the LRU head; `(node, expired)`.
    fn lookup(&self, hash: u32, key: &[u8], now: u64) -> (*mut Node, bool) {
        let n = self.peek(hash, key);
        if n.is_null() {
            return (n, false);
        }
        self.touch(n);
        // SAFETY: n is live.
        let exp = unsafe { (*n).expires };
        (n, exp != 0 && exp < now)
    }

    fn free_list_elems(&self, n: *mut Node) {
        // SAFETY: n is a live list node; its elements were allocated by us.
        unsafe {
            let head = Self::list_head(n);
            let mut l = (*head).next;
            while l != head {
                let next = (*l).next;
                self.a.free(l as *mut u8);
                l = next;
            }
            (*head).prev = head;
            (*head).next = head;
        }
    }

    /// Unlinks a node from its bucket, the LRU queue, and frees it.
    fn remove(&self, n: *mut Node) {
        // SAFETY: n is a live node of this store.
        unsafe {
            if (*n).value_type == T_LIST {
                self.free_list_elems(n);
            }
            let mut p = self.bucket((*n).hash);
            while !(*p).is_null() {
                if *p == n {
                    *p = (*n).chain;
                    break;
                }
                p = ptr::addr_of_mut!((**p).chain);
            }
            Self::link_remove(n as *mut Link);
            (*self.h).count -= 1;
            self.a.free(n as *mut u8);
        }
    }

    fn link_new(&self, n: *mut Node) {
        // SAFETY: n is a fully initialised node not yet linked anywhere.
        unsafe {
            let b = self.bucket((*n).hash);
            (*n).chain = *b;
            *b = n;
            Self::link_insert_after(self.sentinel(), n as *mut Link);
            (*self.h).count += 1;
        }
        self.maybe_grow();
    }

    /// Doubles the bucket array when chains get long (load factor > 2);
    /// silently keeps the old one when memory is short.
    fn maybe_grow(&self) {
        // SAFETY: header and buckets are ours; nodes are relinked in place.
        unsafe {
            let h = self.h;
            let nb = (*h).mask + 1;
            if (*h).count <= nb * 2 || nb >= MAX_BUCKETS {
                return;
            }
            let new_nb = nb * 2;
            let nbk = self.a.alloc(new_nb * std::mem::size_of::<*mut Node>()) as *mut *mut Node;
            if nbk.is_null() {
                return;
            }
            for i in 0..new_nb {
                *nbk.add(i) = null_mut();
            }
            let new_mask = new_nb - 1;
            for i in 0..nb {
                let mut n = *(*h).buckets.add(i);
                while !n.is_null() {
                    let next = (*n).chain;
                    let slot = nbk.add((*n).hash as usize & new_mask);
                    (*n).chain = *slot;
                    *slot = n;
                    n = next;
                }
            }
            self.a.free((*h).buckets as *mut u8);
            (*h).buckets = nbk;
            (*h).mask = new_mask;
        }
    }

    /// lua-nginx-module's `ngx_http_lua_shdict_expire`: `force == false`
    /// frees up to two expired items at the LRU tail; `force == true` frees
    /// the tail item whatever its expiry, then up to two expired ones.
    /// Returns how many were freed.
    pub fn expire(&self, force: bool, now: u64) -> usize {
        let mut n = if force { 0 } else { 1 };
        let mut freed = 0;
        let s = self.sentinel();
        while n < 3 {
            // SAFETY: the queue is well formed; its entries are live nodes.
            unsafe {
                let last = (*s).prev;
                if last == s {
                    return freed;
                }
                let node = last as *mut Node;
                let first = n == 0;
                n += 1;
                if !first {
                    let exp = (*node).expires;
                    if exp == 0 || exp > now {
                        return freed;
                    }
                }
                self.remove(node);
            }
            freed += 1;
        }
        freed
    }

    /// Allocates `size` bytes, evicting LRU items (up to 30) unless `safe`.
    /// Returns the block (or null) and whether anything was evicted.
    fn alloc_evicting(&self, size: usize, safe: bool, now: u64) -> (*mut u8, bool) {
        let p = self.a.alloc(size);
        if !p.is_null() || safe {
            return (p, false);
        }
        let mut forcible = false;
        for _ in 0..MAX_EVICT {
            if self.expire(true, now) == 0 {
                break;
            }
            forcible = true;
            let p = self.a.alloc(size);
            if !p.is_null() {
                return (p, true);
            }
        }
        (null_mut(), forcible)
    }

    /// Reads a value. `stale` also returns expired items (flagged).
    pub fn get(
        &self,
        hash: u32,
        key: &[u8],
        stale: bool,
        now: u64,
    ) -> Result<Option<Found<'_>>, Error> {
        if !stale {
            self.expire(false, now);
        }
        let (n, expired) = self.lookup(hash, key, now);
        if n.is_null() || (expired && !stale) {
            return Ok(None);
        }
        // SAFETY: n is live; its value bytes follow the key.
        unsafe {
            if (*n).value_type == T_LIST {
                return Err(Error::IsAList);
            }
            let bytes = std::slice::from_raw_parts(Self::value_ptr(n), (*n).value_len as usize);
            Ok(Some(Found {
                value_type: (*n).value_type,
                user_flags: (*n).user_flags,
                stale: expired,
                bytes,
            }))
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// set / add / replace / safe_* / delete (`Val::Nil`). `Ok(forcible)`,
    /// or the error and whether items were evicted on the way.
    pub fn store(
        &self,
        op: u32,
        hash: u32,
        key: &[u8],
        val: Val<'_>,
        exptime_ms: i64,
        user_flags: u32,
        now: u64,
    ) -> Result<bool, (Error, bool)> {
        let mut scratch = [0u8; 8];
        let (vtype, bytes) = val.encode(&mut scratch);
        if vtype == T_NIL && op & (OP_ADD | OP_REPLACE) != 0 {
            return Err((Error::NilValue, false));
        }
        let expires = if exptime_ms > 0 {
            now + exptime_ms as u64
        } else {
            0
        };
        self.expire(false, now);
        let (n, expired) = self.lookup(hash, key, now);

        let reuse = if op & OP_REPLACE != 0 {
            if n.is_null() || expired {
                return Err((Error::NotFound, false));
            }
            true
        } else if op & OP_ADD != 0 {
            if !n.is_null() && !expired {
                return Err((Error::Exists, false));
            }
            !n.is_null()
        } else {
            !n.is_null()
        };

        if reuse {
            // SAFETY: n is live.
            unsafe {
                match bytes {
                    Some(b) if b.len() == (*n).value_len as usize && (*n).value_type != T_LIST => {
                        (*n).expires = expires;
                        (*n).user_flags = user_flags;
                        (*n).value_type = vtype;
                        ptr::copy_nonoverlapping(b.as_ptr(), Self::value_ptr(n), b.len());
                        return Ok(false);
                    }
                    _ => self.remove(n),
                }
            }
        }

        let Some(b) = bytes else { return Ok(false) };
        if b.len() > u32::MAX as usize {
            return Err((Error::NoMemory, false));
        }
        let (p, forcible) =
            self.alloc_evicting(NODE_SIZE + key.len() + b.len(), op & OP_SAFE != 0, now);
        if p.is_null() {
            return Err((Error::NoMemory, forcible));
        }
        // SAFETY: p has room for the node, the key and the value.
        unsafe {
            let n = p as *mut Node;
            n.write(Node {
                lru: Link {
                    prev: null_mut(),
                    next: null_mut(),
                },
                chain: null_mut(),
                expires,
                hash,
                value_len: b.len() as u32,
                user_flags,
                key_len: key.len() as u16,
                value_type: vtype,
                _pad: 0,
            });
            ptr::copy_nonoverlapping(key.as_ptr(), p.add(NODE_SIZE), key.len());
            ptr::copy_nonoverlapping(b.as_ptr(), p.add(NODE_SIZE + key.len()), b.len());
            self.link_new(n);
        }
        Ok(forcible)
    }

    /// incr(key, delta, init?, init_ttl): `(new value, forcible)`.
    pub fn incr(
        &self,
        hash: u32,
        key: &[u8],
        delta: f64,
        init: Option<f64>,
        init_ttl_ms: i64,
        now: u64,
    ) -> Result<(f64, bool), Error> {
        self.expire(false, now);
        let (n, expired) = self.lookup(hash, key, now);
        if !n.is_null() && !expired {
            // SAFETY: n is live.
            unsafe {
                if (*n).value_type != T_NUMBER || (*n).value_len != 8 {
                    return Err(Error::NotANumber);
                }
                let p = Self::value_ptr(n);
                let mut b = [0u8; 8];
                ptr::copy_nonoverlapping(p, b.as_mut_ptr(), 8);
                let v = f64::from_ne_bytes(b) + delta;
                ptr::copy_nonoverlapping(v.to_ne_bytes().as_ptr(), p, 8);
                return Ok((v, false));
            }
        }
        let Some(init) = init else {
            return Err(Error::NotFound);
        };
        let v = init + delta;
        let expires = if init_ttl_ms > 0 {
            now + init_ttl_ms as u64
        } else {
            0
        };
        let set_value = |n: *mut Node| {
            // SAFETY: n is live with an 8-byte value area.
            unsafe {
                (*n).user_flags = 0;
                (*n).expires = expires;
                (*n).value_type = T_NUMBER;
                ptr::copy_nonoverlapping(v.to_ne_bytes().as_ptr(), Self::value_ptr(n), 8);
            }
        };
        if !n.is_null() {
            // SAFETY: n is live (expired).
            unsafe {
                if (*n).value_len == 8 && (*n).value_type != T_LIST {
                    set_value(n);
                    return Ok((v, false));
                }
            }
            self.remove(n);
        }
        let (p, forcible) = self.alloc_evicting(NODE_SIZE + key.len() + 8, false, now);
        if p.is_null() {
            return Err(Error::NoMemory);
        }
        // SAFETY: p has room for node + key + 8 bytes.
        unsafe {
            let n = p as *mut Node;
            n.write(Node {
                lru: Link {
                    prev: null_mut(),
                    next: null_mut(),
                },
                chain: null_mut(),
                expires,
                hash,
                value_len: 8,
                user_flags: 0,
                key_len: key.len() as u16,
                value_type: T_NUMBER,
                _pad: 0,
            });
            ptr::copy_nonoverlapping(key.as_ptr(), p.add(NODE_SIZE), key.len());
            set_value(n);
            self.link_new(n);
        }
        Ok((v, forcible))
    }

    /// Remaining time to live in ms (0 = never, negative = expired but
    /// still present); `None` when absent. No LRU update, as upstream.
    pub fn ttl(&self, hash: u32, key: &[u8], now: u64) -> Option<i64> {
        let n = self.peek(hash, key);
        if n.is_null() {
            return None;
        }
        // SAFETY: n is live.
        let exp = unsafe { (*n).expires };
        Some(if exp == 0 { 0 } else { exp as i64 - now as i64 })
    }

    /// Sets a new expiry (0 = never); false when absent.
    pub fn set_expire(&self, hash: u32, key: &[u8], exptime_ms: i64, now: u64) -> bool {
        let n = self.peek(hash, key);
        if n.is_null() {
            return false;
        }
        // SAFETY: n is live.
        unsafe {
            (*n).expires = if exptime_ms > 0 {
                now + exptime_ms as u64
            } else {
                0
            }
        };
        true
    }

    /// Marks every item expired and frees a few (lua-nginx-module's flush_all).
    pub fn flush_all(&self, now: u64) {
        let s = self.sentinel();
        // SAFETY: walking the well-formed LRU queue.
        unsafe {
            let mut l = (*s).next;
            while l != s {
                (*(l as *mut Node)).expires = 1;
                l = (*l).next;
            }
        }
        self.expire(true, now);
    }

    /// Frees expired items from the LRU tail, at most `max` (0 = all).
    pub fn flush_expired(&self, max: usize, now: u64) -> usize {
        let s = self.sentinel();
        let mut freed = 0;
        // SAFETY: walking the queue backwards; `prev` is read before freeing.
        unsafe {
            let mut l = (*s).prev;
            while l != s {
                let prev = (*l).prev;
                let n = l as *mut Node;
                if (*n).expires != 0 && (*n).expires <= now {
                    self.remove(n);
                    freed += 1;
                    if max != 0 && freed == max {
                        break;
                    }
                }
                l = prev;
            }
        }
        freed
    }

    /// Keys of unexpired items, least recently used first, at most `max` (0 = all).
    pub fn keys(&self, max: usize, now: u64) -> Vec<Vec<u8>> {
        let s = self.sentinel();
        let mut out = Vec::new();
        // SAFETY: walking the queue backwards.
        unsafe {
            let mut l = (*s).prev;
            while l != s {
                let n = l as *mut Node;
                if (*n).expires == 0 || (*n).expires > now {
                    out.push(Self::key_of(n).to_vec());
                    if max != 0 && out.len() == max {
                        break;
                    }
                }
                l = (*l).prev;
            }
        }
        out
    }

    /// lpush / rpush: the new length.
    pub fn push(
        &self,
        hash: u32,
        key: &[u8],
        left: bool,
        val: Val<'_>,
        now: u64,
    ) -> Result<u32, Error> {
        let mut scratch = [0u8; 8];
        let (vtype, bytes) = val.encode(&mut scratch);
        let bytes = match (vtype, bytes) {
            (T_NUMBER | T_STRING, Some(b)) => b,
            _ => return Err(Error::NotAList),
        };
        if bytes.len() > u32::MAX as usize {
            return Err(Error::NoMemory);
        }
        self.expire(false, now);
        let (mut n, expired) = self.lookup(hash, key, now);
        if !n.is_null() {
            // SAFETY: n is live.
            unsafe {
                if expired {
                    if (*n).value_type == T_LIST {
                        self.free_list_elems(n);
                        (*n).expires = 0;
                        (*n).value_len = 0;
                    } else {
                        self.remove(n);
                        n = null_mut();
                    }
                } else if (*n).value_type != T_LIST {
                    return Err(Error::NotAList);
                }
            }
        }
        if n.is_null() {
            let size = align8(NODE_SIZE + key.len()) + std::mem::size_of::<Link>();
            let p = self.a.alloc(size);
            if p.is_null() {
                return Err(Error::NoMemory);
            }
            // SAFETY: p has room for node, key, padding and the list head.
            unsafe {
                n = p as *mut Node;
                n.write(Node {
                    lru: Link {
                        prev: null_mut(),
                        next: null_mut(),
                    },
                    chain: null_mut(),
                    expires: 0,
                    hash,
                    value_len: 0,
                    user_flags: 0,
                    key_len: key.len() as u16,
                    value_type: T_LIST,
                    _pad: 0,
                });
                ptr::copy_nonoverlapping(key.as_ptr(), p.add(NODE_SIZE), key.len());
                let head = Self::list_head(n);
                (*head).prev = head;
                (*head).next = head;
                self.link_new(n);
            }
        }
        let p = self.a.alloc(LIST_NODE_SIZE + bytes.len());
        // SAFETY: n is a live list node; p (if any) has room for element + bytes.
        unsafe {
            if p.is_null() {
                if (*n).value_len == 0 {
                    self.remove(n);
                }
                return Err(Error::NoMemory);
            }
            let e = p as *mut ListNode;
            e.write(ListNode {
                link: Link {
                    prev: null_mut(),
                    next: null_mut(),
                },
                value_len: bytes.len() as u32,
                value_type: vtype,
                _pad: [0; 3],
            });
            ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(LIST_NODE_SIZE), bytes.len());
            let head = Self::list_head(n);
            if left {
                Self::link_insert_after(head, e as *mut Link);
            } else {
                Self::link_insert_before(head, e as *mut Link);
            }
            (*n).value_len += 1;
            Ok((*n).value_len)
        }
    }

    /// lpop / rpop: the element, or None when the key is absent.
    pub fn pop(&self, hash: u32, key: &[u8], left: bool, now: u64) -> Result<Option<Owned>, Error> {
        self.expire(false, now);
        let (n, expired) = self.lookup(hash, key, now);
        if n.is_null() || expired {
            return Ok(None);
        }
        // SAFETY: n is live; a list's queue holds live elements.
        unsafe {
            if (*n).value_type != T_LIST {
                return Err(Error::NotAList);
            }
            let head = Self::list_head(n);
            let l = if left { (*head).next } else { (*head).prev };
            if l == head {
                // An empty list never stays in the store; be defensive.
                self.remove(n);
                return Ok(None);
            }
            let e = l as *mut ListNode;
            let data = std::slice::from_raw_parts(
                (e as *const u8).add(LIST_NODE_SIZE),
                (*e).value_len as usize,
            );
            let v = if (*e).value_type == T_NUMBER {
                let mut b = [0u8; 8];
                if data.len() == 8 {
                    b.copy_from_slice(data);
                }
                Owned::Num(f64::from_ne_bytes(b))
            } else {
                Owned::Str(data.to_vec())
            };
            Self::link_remove(l);
            self.a.free(e as *mut u8);
            if (*n).value_len <= 1 {
                self.remove(n);
            } else {
                (*n).value_len -= 1;
            }
            Ok(Some(v))
        }
    }

    /// llen: 0 when absent or expired.
    pub fn llen(&self, hash: u32, key: &[u8], now: u64) -> Result<u32, Error> {
        self.expire(false, now);
        let (n, expired) = self.lookup(hash, key, now);
        if n.is_null() || expired {
            return Ok(0);
        }
        // SAFETY: n is live.
        unsafe {
            if (*n).value_type != T_LIST {
                return Err(Error::NotAList);
            }
            Ok((*n).value_len)
        }
    }
}

/// A heap arena with nginx's slab size classes and a byte budget, so unit
/// tests see the same "no memory" behaviour as a zone of that size.
pub struct HeapArena {
    capacity: usize,
    used: std::cell::Cell<usize>,
    blocks: std::cell::RefCell<std::collections::HashMap<usize, std::alloc::Layout>>,
}

impl HeapArena {
    pub fn new(capacity: usize) -> HeapArena {
        HeapArena {
            capacity,
            used: 0.into(),
            blocks: Default::default(),
        }
    }
    /// nginx's slab rounding: powers of two from 8 bytes to half a page,
    /// whole 4 KiB pages above.
    pub fn class(size: usize) -> usize {
        if size > 2048 {
            size.div_ceil(4096) * 4096
        } else {
            size.max(8).next_power_of_two()
        }
    }
    pub fn used(&self) -> usize {
        self.used.get()
    }
    pub fn blocks(&self) -> usize {
        self.blocks.borrow().len()
    }
}

impl Alloc for HeapArena {
    fn alloc(&self, size: usize) -> *mut u8 {
        let class = Self::class(size);
        if self.used.get() + class > self.capacity {
            return null_mut();
        }
        let Ok(layout) = std::alloc::Layout::from_size_align(class, 8) else {
            return null_mut();
        };
        // SAFETY: class > 0.
        let p = unsafe { std::alloc::alloc(layout) };
        if !p.is_null() {
            self.used.set(self.used.get() + class);
            self.blocks.borrow_mut().insert(p as usize, layout);
        }
        p
    }

    unsafe fn free(&self, p: *mut u8) {
        if let Some(layout) = self.blocks.borrow_mut().remove(&(p as usize)) {
            self.used.set(self.used.get() - layout.size());
            // SAFETY: p was allocated with this layout.
            unsafe { std::alloc::dealloc(p, layout) };
        }
    }
}

impl Drop for HeapArena {
    fn drop(&mut self) {
        for (p, layout) in self.blocks.borrow_mut().drain() {
            // SAFETY: every recorded block is live and was allocated with its layout.
            unsafe { std::alloc::dealloc(p as *mut u8, layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_store(a: &HeapArena) -> Store<'_, HeapArena> {
        let h = Store::create(a).expect("header");
        // SAFETY: fresh header from the same arena; tests are single-threaded.
        unsafe { Store::open(h, a) }.expect("open")
    }

    fn set(
        s: &Store<'_, HeapArena>,
        k: &str,
        v: Val<'_>,
        ttl: i64,
        now: u64,
    ) -> Result<bool, (Error, bool)> {
        s.store(0, hash(k.as_bytes()), k.as_bytes(), v, ttl, 0, now)
    }

    fn get_str(s: &Store<'_, HeapArena>, k: &str, now: u64) -> Option<Vec<u8>> {
        s.get(hash(k.as_bytes()), k.as_bytes(), false, now)
            .unwrap()
            .map(|f| f.bytes.to_vec())
    }

    #[test]
    fn hash_is_stable_and_spreads() {
        assert_eq!(hash(b"foo"), hash(b"foo"));
        assert_ne!(hash(b"foo"), hash(b"fop"));
        assert_ne!(hash(b""), hash(b"\0"));
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgh\0"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..10000 {
            seen.insert(hash(format!("key{i}").as_bytes()) & 1023);
        }
        assert_eq!(seen.len(), 1024);
    }

    #[test]
    fn node_layout_is_compact() {
        assert_eq!(NODE_SIZE, 48);
        assert_eq!(LIST_NODE_SIZE, 24);
    }

    #[test]
    fn set_get_replace_delete() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        assert_eq!(set(&s, "a", Val::Str(b"hello\0world"), 0, 1000), Ok(false));
        assert_eq!(
            get_str(&s, "a", 1000).as_deref(),
            Some(&b"hello\0world"[..])
        );
        // same size: in place
        let blocks = a.blocks();
        assert_eq!(set(&s, "a", Val::Str(b"HELLO\0WORLD"), 0, 1000), Ok(false));
        assert_eq!(a.blocks(), blocks);
        assert_eq!(
            get_str(&s, "a", 1000).as_deref(),
            Some(&b"HELLO\0WORLD"[..])
        );
        // different type and size
        set(&s, "a", Val::Num(3.5), 0, 1000).unwrap();
        let f = s.get(hash(b"a"), b"a", false, 1000).unwrap().unwrap();
        assert_eq!((f.value_type, f.number()), (T_NUMBER, 3.5));
        set(&s, "b", Val::Bool(false), 0, 1000).unwrap();
        let f = s.get(hash(b"b"), b"b", false, 1000).unwrap().unwrap();
        assert_eq!((f.value_type, f.boolean()), (T_BOOLEAN, false));
        assert_eq!(s.len(), 2);
        set(&s, "a", Val::Nil, 0, 1000).unwrap();
        assert_eq!(get_str(&s, "a", 1000), None);
        assert_eq!(s.len(), 1);
        // delete of a missing key is fine
        assert_eq!(set(&s, "zz", Val::Nil, 0, 1000), Ok(false));
    }

    #[test]
    fn add_replace_semantics() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        let h = hash(b"k");
        assert_eq!(
            s.store(OP_REPLACE, h, b"k", Val::Num(1.0), 0, 0, 0),
            Err((Error::NotFound, false))
        );
        assert_eq!(s.store(OP_ADD, h, b"k", Val::Num(1.0), 0, 0, 0), Ok(false));
        assert_eq!(
            s.store(OP_ADD, h, b"k", Val::Num(2.0), 0, 0, 0),
            Err((Error::Exists, false))
        );
        assert_eq!(
            s.store(OP_REPLACE, h, b"k", Val::Num(3.0), 0, 7, 0),
            Ok(false)
        );
        let f = s.get(h, b"k", false, 0).unwrap().unwrap();
        assert_eq!((f.number(), f.user_flags), (3.0, 7));
        assert_eq!(
            s.store(OP_ADD, h, b"k", Val::Nil, 0, 0, 0),
            Err((Error::NilValue, false))
        );
        // add over an expired item succeeds
        s.store(0, h, b"k", Val::Num(1.0), 10, 0, 100).unwrap();
        assert_eq!(
            s.store(OP_ADD, h, b"k", Val::Num(9.0), 0, 0, 111),
            Ok(false)
        );
        assert_eq!(s.get(h, b"k", false, 111).unwrap().unwrap().number(), 9.0);
        // replace over an expired item fails
        s.store(0, h, b"k", Val::Num(1.0), 10, 0, 200).unwrap();
        assert_eq!(
            s.store(OP_REPLACE, h, b"k", Val::Num(2.0), 0, 0, 211),
            Err((Error::NotFound, false))
        );
    }

    #[test]
    fn expiry_and_stale() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        // a never-expiring item at the LRU tail keeps expire(false) from freeing "k"
        set(&s, "other", Val::Str(b"o"), 0, 10_000).unwrap();
        set(&s, "k", Val::Str(b"v"), 1500, 10_000).unwrap();
        assert_eq!(s.ttl(hash(b"k"), b"k", 10_500), Some(1000));
        assert!(get_str(&s, "k", 11_499).is_some());
        assert!(get_str(&s, "k", 11_501).is_none());
        let f = s.get(hash(b"k"), b"k", true, 11_501).unwrap().unwrap();
        assert!(f.stale);
        assert_eq!(s.ttl(hash(b"k"), b"k", 11_600), Some(-100));
        assert!(s.set_expire(hash(b"k"), b"k", 0, 11_600));
        assert_eq!(s.ttl(hash(b"k"), b"k", 11_600), Some(0));
        assert!(get_str(&s, "k", 99_999).is_some());
        assert_eq!(s.ttl(hash(b"x"), b"x", 0), None);
        assert!(!s.set_expire(hash(b"x"), b"x", 10, 0));
    }

    #[test]
    fn flush_all_and_expired_and_keys() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        for i in 0..10 {
            set(
                &s,
                &format!("k{i}"),
                Val::Num(i as f64),
                if i % 2 == 0 { 100 } else { 0 },
                1000,
            )
            .unwrap();
        }
        assert_eq!(s.keys(0, 1000).len(), 10);
        assert_eq!(
            s.keys(3, 1000),
            vec![b"k0".to_vec(), b"k1".to_vec(), b"k2".to_vec()]
        );
        assert_eq!(s.keys(0, 2000).len(), 5);
        assert_eq!(s.flush_expired(2, 2000), 2);
        assert_eq!(s.flush_expired(0, 2000), 3);
        assert_eq!(s.len(), 5);
        s.flush_all(2000);
        assert!(s.len() < 5);
        assert!(s.keys(0, 2000).is_empty());
        assert!(get_str(&s, "k1", 2000).is_none());
        let left = s.len();
        assert_eq!(s.flush_expired(0, 2000), left);
        assert!(s.is_empty());
    }

    #[test]
    fn incr_semantics() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        let h = hash(b"n");
        assert_eq!(s.incr(h, b"n", 1.0, None, 0, 0), Err(Error::NotFound));
        assert_eq!(s.incr(h, b"n", 1.0, Some(10.0), 0, 0), Ok((11.0, false)));
        assert_eq!(s.incr(h, b"n", -0.5, Some(10.0), 0, 0), Ok((10.5, false)));
        s.store(0, h, b"n", Val::Str(b"x"), 0, 0, 0).unwrap();
        assert_eq!(
            s.incr(h, b"n", 1.0, Some(0.0), 0, 0),
            Err(Error::NotANumber)
        );
        // init_ttl applies only when initialising
        let h2 = hash(b"m");
        assert_eq!(
            s.incr(h2, b"m", 1.0, Some(0.0), 100, 1000),
            Ok((1.0, false))
        );
        assert_eq!(s.ttl(h2, b"m", 1000), Some(100));
        assert_eq!(
            s.incr(h2, b"m", 1.0, Some(0.0), 500, 1050),
            Ok((2.0, false))
        );
        assert_eq!(s.ttl(h2, b"m", 1050), Some(50));
        // expired: re-initialised
        assert_eq!(s.incr(h2, b"m", 1.0, Some(5.0), 0, 1200), Ok((6.0, false)));
        assert_eq!(s.ttl(h2, b"m", 1200), Some(0));
    }

    #[test]
    fn lists() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        let h = hash(b"l");
        assert_eq!(s.push(h, b"l", true, Val::Str(b"b"), 0), Ok(1));
        assert_eq!(s.push(h, b"l", true, Val::Str(b"a"), 0), Ok(2));
        assert_eq!(s.push(h, b"l", false, Val::Num(3.0), 0), Ok(3));
        assert_eq!(s.llen(h, b"l", 0), Ok(3));
        assert_eq!(s.get(h, b"l", false, 0).err(), Some(Error::IsAList));
        assert_eq!(s.incr(h, b"l", 1.0, None, 0, 0), Err(Error::NotANumber));
        assert_eq!(s.pop(h, b"l", false, 0), Ok(Some(Owned::Num(3.0))));
        assert_eq!(s.pop(h, b"l", true, 0), Ok(Some(Owned::Str(b"a".to_vec()))));
        assert_eq!(s.pop(h, b"l", true, 0), Ok(Some(Owned::Str(b"b".to_vec()))));
        assert_eq!(s.pop(h, b"l", true, 0), Ok(None));
        assert_eq!(s.llen(h, b"l", 0), Ok(0));
        assert!(s.is_empty());
        s.store(0, h, b"l", Val::Num(1.0), 0, 0, 0).unwrap();
        assert_eq!(
            s.push(h, b"l", true, Val::Num(1.0), 0),
            Err(Error::NotAList)
        );
        assert_eq!(s.pop(h, b"l", true, 0), Err(Error::NotAList));
        assert_eq!(s.llen(h, b"l", 0), Err(Error::NotAList));
        // set over a list frees its elements
        s.store(0, h, b"l", Val::Nil, 0, 0, 0).unwrap();
        s.push(h, b"l", true, Val::Str(b"x"), 0).unwrap();
        s.push(h, b"l", true, Val::Str(b"y"), 0).unwrap();
        s.store(0, h, b"l", Val::Str(b"plain"), 0, 0, 0).unwrap();
        assert_eq!(a.blocks(), 3); // header, buckets, one node
                                   // an expired list is reset by a push
        s.store(0, h, b"l", Val::Nil, 0, 0, 0).unwrap();
        s.push(h, b"l", true, Val::Str(b"x"), 0).unwrap();
        s.set_expire(h, b"l", 10, 0);
        assert_eq!(s.push(h, b"l", true, Val::Str(b"z"), 100), Ok(1));
        assert_eq!(s.ttl(h, b"l", 100), Some(0));
    }

    #[test]
    fn lru_eviction_and_forcible() {
        // room for the header, the buckets and a handful of 128-byte items
        let a = HeapArena::new(64 + 64 + 8 * 128);
        let s = new_store(&a);
        let val = [b'x'; 60]; // 48 + 2 + 60 -> 128-byte class
        for i in 0..8 {
            assert_eq!(
                set(&s, &format!("k{i}"), Val::Str(&val), 0, 0),
                Ok(false),
                "item {i}"
            );
        }
        // touch k0 so k1 is the least recently used
        assert!(get_str(&s, "k0", 0).is_some());
        assert_eq!(
            s.store(OP_SAFE, hash(b"k8"), b"k8", Val::Str(&val), 0, 0, 0),
            Err((Error::NoMemory, false))
        );
        assert_eq!(set(&s, "k8", Val::Str(&val), 0, 0), Ok(true));
        assert!(get_str(&s, "k1", 0).is_none());
        assert!(get_str(&s, "k0", 0).is_some());
        assert!(get_str(&s, "k8", 0).is_some());
        // a value larger than the whole zone: evicts everything, then fails
        let big = vec![0u8; 4096];
        assert_eq!(
            set(&s, "big", Val::Str(&big), 0, 0),
            Err((Error::NoMemory, true))
        );
        // list pushes never evict
        set(&s, "a", Val::Str(&val), 0, 0).unwrap();
        while set(&s, &format!("f{}", s.len()), Val::Str(&val), 0, 0) == Ok(false) {}
        assert_eq!(
            s.push(hash(b"L"), b"L", true, Val::Str(&val), 0),
            Err(Error::NoMemory)
        );
        assert_eq!(s.llen(hash(b"L"), b"L", 0), Ok(0));
    }

    #[test]
    fn expired_items_are_freed_before_evicting() {
        let a = HeapArena::new(64 + 64 + 4 * 128);
        let s = new_store(&a);
        let val = [b'x'; 60];
        for i in 0..4 {
            set(
                &s,
                &format!("k{i}"),
                Val::Str(&val),
                if i == 0 { 10 } else { 0 },
                0,
            )
            .unwrap();
        }
        // k0 (expired, LRU tail) is freed by expire(false) first: not forcible
        assert_eq!(set(&s, "k4", Val::Str(&val), 0, 100), Ok(false));
        assert!(get_str(&s, "k1", 100).is_some());
    }

    #[test]
    fn many_keys_grow_the_table_and_free_cleanly() {
        let a = HeapArena::new(64 << 20);
        let s = new_store(&a);
        for i in 0..20000 {
            let k = format!("key{i}");
            s.store(
                0,
                hash(k.as_bytes()),
                k.as_bytes(),
                Val::Num(i as f64),
                0,
                0,
                0,
            )
            .unwrap();
        }
        assert_eq!(s.len(), 20000);
        for i in (0..20000).step_by(7) {
            let k = format!("key{i}");
            let f = s
                .get(hash(k.as_bytes()), k.as_bytes(), false, 0)
                .unwrap()
                .unwrap();
            assert_eq!(f.number(), i as f64);
        }
        // SAFETY: reading our own header in a test.
        let nb = unsafe { (*s.h).mask + 1 };
        assert!(nb >= 8192, "buckets {nb}");
        for i in 0..20000 {
            let k = format!("key{i}");
            s.store(0, hash(k.as_bytes()), k.as_bytes(), Val::Nil, 0, 0, 0)
                .unwrap();
        }
        assert!(s.is_empty());
        assert_eq!(a.blocks(), 2);
    }

    #[test]
    fn binary_and_colliding_keys() {
        let a = HeapArena::new(1 << 20);
        let s = new_store(&a);
        let k1 = b"a\0b";
        let k2 = b"a\0c";
        s.store(0, hash(k1), k1, Val::Str(b"1"), 0, 0, 0).unwrap();
        s.store(0, hash(k2), k2, Val::Str(b"2"), 0, 0, 0).unwrap();
        // force a "collision": same hash, different keys
        s.store(0, 42, b"x", Val::Str(b"X"), 0, 0, 0).unwrap();
        s.store(0, 42, b"y", Val::Str(b"Y"), 0, 0, 0).unwrap();
        assert_eq!(s.get(42, b"x", false, 0).unwrap().unwrap().bytes, b"X");
        assert_eq!(s.get(42, b"y", false, 0).unwrap().unwrap().bytes, b"Y");
        s.store(0, 42, b"x", Val::Nil, 0, 0, 0).unwrap();
        assert!(s.get(42, b"x", false, 0).unwrap().is_none());
        assert_eq!(s.get(42, b"y", false, 0).unwrap().unwrap().bytes, b"Y");
        assert_eq!(s.get(hash(k2), k2, false, 0).unwrap().unwrap().bytes, b"2");
    }
}
