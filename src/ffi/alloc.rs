//! The global allocator: mimalloc, called so that requests aligned to no
//! more than mimalloc's natural 16 bytes take its plain (fast) paths.
//!
//! mlua hands every LuaJIT allocation to Rust's allocator with 16-byte
//! alignment; the mimalloc crate's wrapper sends all of them through
//! mi_malloc_aligned / mi_realloc_aligned, whose generic paths showed up in
//! profiles of socket and filter requests.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// mi_malloc returns blocks aligned to at least this for sizes >= it.
const NATURAL_ALIGN: usize = 16;

pub struct MiAlloc;

// SAFETY: every method forwards to mimalloc, which returns memory of at
// least the requested size and alignment (a size raised to the alignment
// for small requests gets a block aligned to it), or null on failure; mi_free
// and mi_realloc accept any pointer mimalloc returned.
unsafe impl GlobalAlloc for MiAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= NATURAL_ALIGN {
                mi::mi_malloc(layout.size().max(layout.align())) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= NATURAL_ALIGN {
                mi::mi_zalloc(layout.size().max(layout.align())) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: see the impl.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= NATURAL_ALIGN {
                mi::mi_realloc(ptr as *mut c_void, new_size.max(layout.align())) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}
