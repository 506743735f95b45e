//! The allocator the cxr binaries install: mimalloc, told to keep the memory it frees, behind a
//! pool of large blocks kept by size class.
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
//! mimalloc alone still let a ResNet18 run at batch 128 and 128 px grow from 1.7 GB after its
//! first step to 2.4 GB by its second epoch: the epoch's last, smaller batch and the validation
//! pass carve the freed huge blocks into other sizes, and the next full batch no longer finds
//! room and faults in fresh memory (`clear_page_erms` in epoch 2; RSS sampled from `/proc`). So
//! blocks of [`POOL_MIN`] bytes or more are rounded up to one of eight size classes per doubling
//! (at most 12.5 % larger), and a freed one waits in its class's free list instead of going back
//! to mimalloc. A request takes the smallest kept block of its class or up to twice its size
//! (a last batch of 118 images reuses the blocks of the batches of 128), so a shape the loop has
//! seen before finds its blocks again however the sizes in between were interleaved. Measured on
//! that run (`cxr sweep` of a one-run grid, RSS from `/proc` every 0.25 s): flat from the first
//! step on, with a peak of 2.2 GB instead of 2.4 GB.
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
//!     let a = vec![0f32; 1 << 20]; // 4 MiB: pooled
//!     let at = a.as_ptr();
//!     drop(a);
//!     assert_eq!(vec![0f32; 1 << 20].as_ptr(), at); // the same block again
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::sync::{Mutex, MutexGuard, PoisonError};

use mimalloc::MiMalloc;

/// The smallest request the pool keeps (1 MiB); smaller ones go straight to mimalloc, whose own
/// size classes serve them well.
pub const POOL_MIN: usize = 1 << 20;
const MIN_SHIFT: u32 = POOL_MIN.trailing_zeros();
/// Size classes per doubling of the size: a block is at most 1/8 larger than its request.
const CLASSES_PER_DOUBLING: usize = 8;
const STEP_SHIFT: u32 = CLASSES_PER_DOUBLING.trailing_zeros();
/// Requests of `2^MAX_SHIFT` bytes (1 TiB) and more are not pooled.
const MAX_SHIFT: u32 = 40;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT) as usize * CLASSES_PER_DOUBLING + 1;
/// Freed blocks a class keeps; a block freed into a full class goes back to mimalloc.
const SLOTS: usize = 64;
/// Every pooled block is this aligned, so any request of smaller alignment can reuse it.
const POOL_ALIGN: usize = 64;

/// mimalloc as a `GlobalAlloc`, with large blocks pooled by size class (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

/// One class's freed blocks (addresses, so the static is `Sync`).
struct FreeList {
    len: usize,
    blocks: [usize; SLOTS],
}

impl FreeList {
    const fn new() -> Self {
        Self {
            len: 0,
            blocks: [0; SLOTS],
        }
    }
}

static POOL: [Mutex<FreeList>; CLASSES] = [const { Mutex::new(FreeList::new()) }; CLASSES];
/// The class of `bytes` as (index, class size): rounded `up` to the smallest class that holds
/// it, or down to the largest no bigger than it; `None` outside the pool's range.
fn class(bytes: usize, up: bool) -> Option<(usize, usize)> {
    if bytes < POOL_MIN {
        return None;
    }
    let shift = usize::BITS - 1 - bytes.leading_zeros();
    if shift >= MAX_SHIFT {
        return None;
    }
    let step_shift = shift - STEP_SHIFT;
    // CLASSES_PER_DOUBLING..=2 * CLASSES_PER_DOUBLING rounded up, ..2 * rounded down.
    let steps = if up {
        bytes.div_ceil(1 << step_shift)
    } else {
        bytes >> step_shift
    };
    let index = (shift - MIN_SHIFT) as usize * CLASSES_PER_DOUBLING + steps - CLASSES_PER_DOUBLING;
    Some((index, steps << step_shift))
}

/// The class of a request, as (index, block size): the smallest class that holds it, or `None`
/// when it is not pooled.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    if layout.align() > POOL_ALIGN {
        return None;
    }
    class(layout.size(), true)
}

/// The class a block of `usable` bytes serves: the largest class no bigger than it.
fn block_class(usable: usize) -> Option<usize> {
    class(usable, false).map(|(index, _)| index)
}

/// Class `index`'s free list, locked (a poisoned lock still holds a consistent list: every
/// update is one push or pop).
fn free_list(index: usize) -> MutexGuard<'static, FreeList> {
    POOL[index].lock().unwrap_or_else(PoisonError::into_inner)
}

/// The layout a pooled block of `size` bytes is allocated with.
fn block_layout(size: usize) -> Layout {
    Layout::from_size_align(size, POOL_ALIGN).expect("a class size below 2 TiB is a valid layout")
}

/// A freed block for a request of class `index`: the smallest one kept, from its own class up to
/// [`CLASSES_PER_DOUBLING`] classes (twice the size) above.
fn take(index: usize) -> Option<*mut u8> {
    (index..CLASSES.min(index + CLASSES_PER_DOUBLING + 1)).find_map(|class| {
        let mut list = free_list(class);
        (list.len > 0).then(|| {
            list.len -= 1;
            list.blocks[list.len] as *mut u8
        })
    })
}

/// Keeps the pooled block `ptr` in the free list of the class its size serves; false when that
/// list is full (or the block is too large to pool).
fn keep(ptr: *mut u8) -> bool {
    let Some(class) = block_class(capacity(ptr)) else {
        return false;
    };
    let mut list = free_list(class);
    if list.len == SLOTS {
        return false;
    }
    let len = list.len;
    list.blocks[len] = ptr as usize;
    list.len += 1;
    true
}

/// Hands every kept block back to mimalloc, which can join neighbours into blocks of other
/// sizes. A sweep calls it between runs: the next run's shapes may be another model's, and
/// without it a CNN run then a ResNet18 run in one process peaked at 2.9 GB, the two working sets
/// side by side, against 2.0 GB for the CNN alone. Blocks in use are not affected.
pub fn release_pool() {
    (0..CLASSES).for_each(release_class);
}

/// Hands class `index`'s kept blocks back to mimalloc.
fn release_class(index: usize) {
    let mut list = free_list(index);
    while list.len > 0 {
        list.len -= 1;
        // SAFETY: a kept block is mimalloc's and no longer in use; it leaves the list here.
        unsafe { libmimalloc_sys::mi_free((list.blocks[list.len] as *mut u8).cast()) };
    }
}

/// A new pooled block of `size` bytes from mimalloc (null when it has none).
fn fresh(size: usize, zeroed: bool) -> *mut u8 {
    // SAFETY: `block_layout` is non-zero-sized.
    unsafe {
        if zeroed {
            MiMalloc.alloc_zeroed(block_layout(size))
        } else {
            MiMalloc.alloc(block_layout(size))
        }
    }
}

/// The bytes a pooled block can hold.
fn capacity(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` is a live block mimalloc allocated (every pooled block is).
    unsafe { libmimalloc_sys::mi_usable_size(ptr.cast()) }
}

// SAFETY: every block handed out is either mimalloc's own answer to the caller's layout or a
// pooled block, allocated by mimalloc with `block_layout` of a class whose size and alignment
// cover the request, and handed out again only to requests no larger than its usable size. A
// pooled block is in at most one place at a time (handed out, or in one free list, which the
// class's mutex guards), and goes back to mimalloc through `mi_free`, which needs no layout.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            // SAFETY: the caller's contract (non-zero size) carries over to mimalloc.
            None => unsafe { MiMalloc.alloc(layout) },
            Some((index, size)) => take(index).unwrap_or_else(|| fresh(size, false)),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            // SAFETY: as in `alloc`.
            None => unsafe { MiMalloc.alloc_zeroed(layout) },
            Some((index, size)) => match take(index) {
                Some(ptr) => {
                    // SAFETY: the block holds at least `layout.size()` bytes and is ours.
                    unsafe { ptr.write_bytes(0, layout.size()) };
                    ptr
                }
                None => fresh(size, true),
            },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if class_of(layout).is_some() && keep(ptr) {
            return;
        }
        // SAFETY: `ptr` came from mimalloc (the caller's contract, and every pooled block).
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            // SAFETY: neither is pooled: mimalloc's block, mimalloc's contract.
            (None, None) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            // A pooled block already has room for this size.
            (Some(_), Some(_)) if new_size <= capacity(ptr) => ptr,
            _ => {
                // SAFETY: `new_layout` is valid and non-zero-sized; both blocks are live and
                // distinct, and at least `min(old, new)` bytes long.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

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

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 4).expect("a valid layout")
    }

    #[test]
    fn classes_cover_their_requests_within_an_eighth() {
        assert_eq!(class_of(layout(POOL_MIN - 1)), None);
        assert_eq!(class_of(layout(POOL_MIN)), Some((0, POOL_MIN)));
        assert_eq!(
            class_of(layout(POOL_MIN + 1)),
            Some((1, POOL_MIN + POOL_MIN / 8))
        );
        assert_eq!(class_of(layout(2 * POOL_MIN)), Some((8, 2 * POOL_MIN)));
        assert_eq!(
            class_of(Layout::from_size_align(POOL_MIN, 128).expect("a valid layout")),
            None
        );
        assert_eq!(class_of(layout(1 << MAX_SHIFT)), None);
        let top = class_of(layout((1 << MAX_SHIFT) - 1)).expect("pooled");
        assert_eq!(top, (CLASSES - 1, 1 << MAX_SHIFT));
        let mut last = (0, POOL_MIN);
        for size in (POOL_MIN..64 * POOL_MIN).step_by(4099) {
            let (index, block) = class_of(layout(size)).expect("pooled");
            assert!(
                block >= size && block - size <= size / 8,
                "{size} -> {block}"
            );
            assert!(
                index >= last.0 && (index > last.0) == (block > last.1),
                "{size}"
            );
            assert_eq!(block % POOL_ALIGN, 0);
            assert_eq!(block_class(block), Some(index));
            assert_eq!(
                block_class(block + POOL_MIN / 16),
                Some(index),
                "{block}: rounded down"
            );
            last = (index, block);
        }
    }

    #[test]
    fn a_freed_block_serves_the_next_request_of_its_class() {
        // Sizes no other test uses, so the class's free list is this test's alone.
        let (a, b) = (layout(5 * POOL_MIN + 3), layout(5 * POOL_MIN + 1000));
        assert_eq!(class_of(a).map(|c| c.0), class_of(b).map(|c| c.0));
        unsafe {
            let first = Allocator.alloc(a);
            assert_eq!(first as usize % POOL_ALIGN, 0);
            first.write_bytes(7, a.size());
            Allocator.dealloc(first, a);
            let again = Allocator.alloc_zeroed(b);
            assert_eq!(again, first);
            assert!(std::slice::from_raw_parts(again, b.size())
                .iter()
                .all(|&v| v == 0));
            // Growing within the class keeps the block and its bytes; past it, it moves them.
            again.write_bytes(9, b.size());
            let grown = Allocator.realloc(again, b, 5 * POOL_MIN + 5000);
            assert_eq!(grown, again);
            let moved = Allocator.realloc(grown, layout(5 * POOL_MIN + 5000), 9 * POOL_MIN);
            assert_ne!(moved, grown);
            assert!(std::slice::from_raw_parts(moved, b.size())
                .iter()
                .all(|&v| v == 9));
            // A request takes the smallest kept block up to twice its size: `grown` (5.6 MiB)
            // before `moved` (9 MiB), and a 4 MiB one neither.
            Allocator.dealloc(moved, layout(9 * POOL_MIN));
            assert_eq!(Allocator.alloc(layout(5 * POOL_MIN)), grown);
            assert_eq!(Allocator.alloc(layout(5 * POOL_MIN)), moved);
            Allocator.dealloc(moved, layout(5 * POOL_MIN));
            let other = Allocator.alloc(layout(4 * POOL_MIN));
            assert_ne!(other, moved);
            Allocator.dealloc(other, layout(4 * POOL_MIN));
            Allocator.dealloc(grown, layout(5 * POOL_MIN));
            let moved = Allocator.alloc(layout(9 * POOL_MIN));
            std::slice::from_raw_parts_mut(moved, 9 * POOL_MIN).fill(9);
            // Shrinking below the pool hands it to mimalloc with its bytes.
            let small = Allocator.realloc(moved, layout(9 * POOL_MIN), 4096);
            assert!(std::slice::from_raw_parts(small, 4096)
                .iter()
                .all(|&v| v == 9));
            Allocator.dealloc(small, layout(4096));
        }
    }

    #[test]
    fn a_full_class_hands_blocks_back_to_mimalloc() {
        let a = layout(POOL_MIN + POOL_MIN / 2 + 11);
        let index = class_of(a).expect("pooled").0;
        unsafe {
            let blocks: Vec<_> = (0..SLOTS + 3).map(|_| Allocator.alloc(a)).collect();
            for &block in &blocks {
                Allocator.dealloc(block, a);
            }
            assert_eq!(POOL[index].lock().expect("not poisoned").len, SLOTS);
            let again: Vec<_> = (0..SLOTS).map(|_| Allocator.alloc(a)).collect();
            assert!(again.iter().all(|block| blocks.contains(block)));
            for block in again {
                Allocator.dealloc(block, a);
            }
        }
    }

    #[test]
    fn released_blocks_leave_the_pool() {
        // 40 MiB: no other test's request (at most 9 MiB, taking blocks up to twice that) can
        // take it, and only this class is released, so the tests beside it keep theirs.
        let a = layout(40 * POOL_MIN + 5);
        let index = unsafe {
            let block = Allocator.alloc(a);
            // Kept in the class its usable size serves (mimalloc may round a block up).
            let index = block_class(capacity(block)).expect("pooled");
            Allocator.dealloc(block, a);
            index
        };
        assert!(POOL[index].lock().expect("not poisoned").len > 0);
        release_class(index);
        assert_eq!(POOL[index].lock().expect("not poisoned").len, 0);
    }

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
