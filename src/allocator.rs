//! The process's allocator. A token request makes about ninety small, short-lived allocations
//! (headers, claims, the audit event), on whichever worker thread polls it; mimalloc serves those
//! from per-thread free lists, faster than glibc's malloc (docs/benchmarks.md, "mimalloc for small
//! blocks"). Blocks of [`LARGE`] bytes or more, in practice argon2's working memory, stay with
//! glibc, where a fixed mmap threshold ([`tune_system_allocator`]) gives each its own mapping,
//! returned to the OS when freed. [`configure`] makes mimalloc commit memory as it uses it and give
//! freed pages back within milliseconds, so the idle and peak memory stay near glibc's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

use mimalloc::MiMalloc;

/// mimalloc's option numbers (`mi_option_e` in the v3 `mimalloc.h` this build compiles; the
/// crate names only the options common to v2 and v3). The test below checks their defaults.
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc's memory options unless the operator set them (`MIMALLOC_ARENA_EAGER_COMMIT`,
/// `MIMALLOC_PURGE_DELAY`): its arenas committed as they are used (by default Linux gets its first
/// arena committed up front: about 12 MiB more idle memory) and freed pages returned after 2 ms
/// instead of 1 s (a lower peak under password logins). It must run before the first
/// allocation, which reserves that first arena: `main` runs it as a constructor, and it allocates
/// nothing itself. Measured in docs/benchmarks.md ("mimalloc for small blocks").
pub extern "C" fn configure() {
    for (option, variable, value) in
        [(ARENA_EAGER_COMMIT, c"MIMALLOC_ARENA_EAGER_COMMIT", 0), (PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", 2)]
    {
        // SAFETY: getenv reads the environment with a NUL-terminated name; nothing writes it while
        // constructors run. mi_option_set stores a number in mimalloc's option table.
        unsafe {
            if libc::getenv(variable.as_ptr()).is_null() {
                libmimalloc_sys::mi_option_set(option, value);
            }
        }
    }
}

/// Blocks of this size or more are glibc's, and its mmap threshold ([`tune_system_allocator`]).
pub const LARGE: usize = 1 << 20;

/// argon2 works in 12 MiB per hashing thread, which the threads free when logins stop
/// (`crypto::hash_workers`). glibc's dynamic mmap threshold would, after the first free, serve such
/// blocks from a fragmenting heap that is never given back (882 MB peak measured); a fixed threshold
/// keeps every block of [`LARGE`] or more in its own mapping, returned to the OS when freed. Two
/// arenas keep the heap of many threads from multiplying (docs/benchmarks.md, "Password logins").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune_system_allocator() {
    // SAFETY: mallopt only sets allocator parameters; `main` runs this before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE as libc::c_int);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_system_allocator() {}

/// mimalloc below [`LARGE`], the system allocator from it. A block is freed by the allocator that
/// made it, since both choices follow the size its layout gives.
#[derive(Debug, Default, Clone, Copy)]
pub struct SplitAllocator;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every call is passed to one of two allocators that uphold the `GlobalAlloc` contract,
// chosen by the layout's size; `dealloc` and `realloc` receive the layout the block was made with,
// so they reach the allocator that made it. A `realloc` that crosses `LARGE` allocates in the
// other allocator, copies the smaller of the two sizes and frees the old block in its own.
unsafe impl GlobalAlloc for SplitAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { if is_large(layout.size()) { System.alloc(layout) } else { MiMalloc.alloc(layout) } }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { if is_large(layout.size()) { System.alloc_zeroed(layout) } else { MiMalloc.alloc_zeroed(layout) } }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` was made with `layout`, so by the allocator this size selects.
        unsafe { if is_large(layout.size()) { System.dealloc(block, layout) } else { MiMalloc.dealloc(block, layout) } }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (was_large, will_be_large) = (is_large(layout.size()), is_large(new_size));
        // SAFETY: `block` was made with `layout` by the allocator its size selects; a new layout of
        // `new_size` with the same alignment is valid (the caller guarantees it does not overflow).
        unsafe {
            match (was_large, will_be_large) {
                (false, false) => MiMalloc.realloc(block, layout, new_size),
                (true, true) => System.realloc(block, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `len` bytes from `block` with a pattern that depends on the position.
    unsafe fn fill(block: *mut u8, len: usize) {
        for i in 0..len {
            unsafe { block.add(i).write((i % 251) as u8) };
        }
    }

    unsafe fn holds_pattern(block: *const u8, len: usize) -> bool {
        (0..len).all(|i| unsafe { block.add(i).read() } == (i % 251) as u8)
    }

    #[test]
    fn a_block_keeps_its_bytes_when_it_grows_or_shrinks_across_the_boundary() {
        let allocator = SplitAllocator;
        for (from, to) in
            [(1000, LARGE + 4096), (LARGE + 4096, 1000), (LARGE - 1, LARGE), (LARGE, LARGE - 1), (64, 128)]
        {
            let layout = Layout::from_size_align(from, 16).unwrap();
            unsafe {
                let block = allocator.alloc(layout);
                assert!(!block.is_null());
                fill(block, from);
                let moved = allocator.realloc(block, layout, to);
                assert!(!moved.is_null());
                assert_eq!(moved as usize % 16, 0, "alignment kept from {from} to {to}");
                assert!(holds_pattern(moved, from.min(to)), "bytes kept from {from} to {to}");
                allocator.dealloc(moved, Layout::from_size_align(to, 16).unwrap());
            }
        }
    }

    #[test]
    fn the_option_numbers_name_the_options_meant() {
        // Their documented defaults: eager commit "2" (on overcommitting systems), purge delay 1000 ms
        // (unless MIMALLOC_* variables are set for the tests; `configure` is not run in them).
        // SAFETY: reading an option has no precondition.
        let defaults = unsafe {
            (libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT), libmimalloc_sys::mi_option_get(PURGE_DELAY))
        };
        assert_eq!(defaults, (2, 1000));
        assert_eq!(libmimalloc_sys::_mi_option_last, 47, "the option table of mimalloc v3");
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides() {
        let allocator = SplitAllocator;
        for size in [24, LARGE + 1] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let block = allocator.alloc_zeroed(layout);
                assert!(!block.is_null());
                assert!((0..size).all(|i| block.add(i).read() == 0));
                allocator.dealloc(block, layout);
            }
        }
    }
}
