//! The allocator the cxr binaries install: mimalloc, told to keep the memory it frees.
//!
//! A training step allocates and frees the same large buffers every step (activations of 30-70 MB
//! at 128 px, their gradients, the optimiser's temporaries). glibc's malloc serves anything over
//! 32 MB with `mmap` and hands it back with `munmap` on free, so every step faults its
//! activations back in page by page, and each fault zeroes a page and (in a VM) shoots down TLBs
//! on the other cores with inter-processor interrupts: measured here, 30 % of a CNN training
//! step in the kernel (`perf record`, `native_write_msr`, `clear_page_erms`). mimalloc reuses
//! freed blocks, and with purging off it never returns them to the OS, so after the first step
//! a training loop allocates from memory it already has. The price is that the process keeps its
//! peak resident set until it exits (a sweep's peak is its largest run's peak anyway).
//!
//! Install it in a binary and call [`keep_freed_memory`] first thing in `main`:
//! ```
//! #[global_allocator]
//! static ALLOCATOR: cxr_kernels::alloc::Allocator = cxr_kernels::alloc::Allocator;
//!
//! fn main() {
//!     cxr_kernels::alloc::keep_freed_memory();
//!     if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
//!         assert_eq!(cxr_kernels::alloc::purge_delay_ms(), -1);
//!     }
//! }
//! ```

/// mimalloc as a `GlobalAlloc`.
pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the Rust bindings of
/// libmimalloc-sys 0.1.49, pinned in the workspace, do not name it; the test below checks that
/// this index holds the purge delay's documented default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Turns off mimalloc's purging of freed memory (`-1`: never return it to the OS), unless the
/// user set `MIMALLOC_PURGE_DELAY` in the environment, which then wins.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; any value is valid
    // for the purge delay and the call is thread-safe.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

/// The purge delay in milliseconds now in force (`-1`: never).
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reads one entry of mimalloc's option table.
    #[allow(clippy::useless_conversion)] // c_long is i32 on some targets
    i64::from(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_we_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return; // the environment decides; nothing to check
        }
        // mimalloc 3's documented default purge delay (options.c) is 1000 ms; the neighbouring
        // options default to 0, so a wrong index would read something else.
        assert_eq!(purge_delay_ms(), 1000);
        keep_freed_memory();
        assert_eq!(purge_delay_ms(), -1);
    }
}
