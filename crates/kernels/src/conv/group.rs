//! How a convolution's batch is cut: [`Plan`] gives each rayon task a contiguous run of images
//! and groups a task's small images so each GEMM is at least [`TARGET_COLUMNS`] wide; [`gather`]
//! and [`fill_columns`] lay a group's images side by side.

use rayon::prelude::*;

use crate::elem::{scratch, Elem};
use crate::im2col::ConvGeometry;

/// Minimum GEMM width (output pixels of the images grouped into one column matrix).
pub(super) const TARGET_COLUMNS: usize = 512;

/// How the batch is cut: `per_task` images per rayon task, `group` images per GEMM.
pub(super) struct Plan {
    pub(super) per_task: usize,
    pub(super) group: usize,
}

impl Plan {
    pub(super) fn new(g: &ConvGeometry) -> Self {
        Self::grouping(g.n, g.out_pixels(), TARGET_COLUMNS)
    }

    /// `n` images split across rayon's threads, grouped until a group has at least `target`
    /// GEMM columns at `per_image` columns an image (or holds the task's images).
    pub(super) fn grouping(n: usize, per_image: usize, target: usize) -> Self {
        let per_task = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
        let group = target.div_ceil(per_image.max(1)).clamp(1, per_task);
        Self { per_task, group }
    }

    /// Calls `group(first, count, out, a, b)` for every GEMM group of the batch, the tasks (runs
    /// of `per_task` images) on rayon's threads: `first` is the group's first image in the batch,
    /// `count` its images, `out` their `per_image` slots each (cut from `all`, one run of slots
    /// per image of the batch), `a` and `b` the thread's scratch buffers.
    pub(super) fn for_each_group<T: Elem, S: Send>(
        &self,
        all: &mut [S],
        per_image: usize,
        group: impl Fn(usize, usize, &mut [S], &mut Vec<T>, &mut Vec<T>) + Sync,
    ) {
        all.par_chunks_mut((self.per_task * per_image).max(1))
            .enumerate()
            .for_each(|(task, slots)| {
                let first = task * self.per_task;
                T::with_scratch(|a, b| {
                    for (i, count) in self.groups(slots.len() / per_image.max(1)) {
                        let out = &mut slots[i * per_image..][..count * per_image];
                        group(first + i, count, out, a, b);
                    }
                })
            });
    }

    /// One value per task (a partial sum), each from `init()` and then `group(acc, first,
    /// count, a, b)` over the task's GEMM groups in order, as [`Plan::for_each_group`].
    pub(super) fn fold_tasks<T: Elem, R: Send>(
        &self,
        n: usize,
        init: impl Fn() -> R + Sync,
        group: impl Fn(&mut R, usize, usize, &mut Vec<T>, &mut Vec<T>) + Sync,
    ) -> Vec<R> {
        (0..n.div_ceil(self.per_task))
            .into_par_iter()
            .map(|task| {
                let first = task * self.per_task;
                let mut acc = init();
                T::with_scratch(|a, b| {
                    for (i, count) in self.groups(self.per_task.min(n - first)) {
                        group(&mut acc, first + i, count, a, b);
                    }
                });
                acc
            })
            .collect()
    }

    /// `(first image, images)` of each GEMM group within a task's `count` images.
    pub(super) fn groups(&self, count: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..count)
            .step_by(self.group)
            .map(move |i| (i, self.group.min(count - i)))
    }
}

/// Copies `count` images' `(Cout, P)` blocks side by side into `dst`, `(Cout, count * P)`.
pub(super) fn gather<'a, T: Elem>(
    g: &ConvGeometry,
    images: &[T],
    count: usize,
    buf: &'a mut Vec<T>,
) -> &'a [T] {
    let p = g.out_pixels();
    let ld = count * p;
    let dst = scratch(buf, g.c_out * ld);
    for i in 0..count {
        for c in 0..g.c_out {
            let from = &images[i * g.out_image() + c * p..][..p];
            dst[c * ld + i * p..][..p].copy_from_slice(from);
        }
    }
    dst
}

/// The column matrix of `count` images of `x` side by side, `(K, count * P)`.
pub(super) fn fill_columns<'a, T: Elem>(
    g: &ConvGeometry,
    x: &[T],
    count: usize,
    buf: &'a mut Vec<T>,
) -> &'a [T] {
    let p = g.out_pixels();
    let ld = count * p;
    let col = scratch(buf, g.k() * ld);
    for i in 0..count {
        g.im2col(&x[i * g.in_image()..][..g.in_image()], col, ld, i * p);
    }
    col
}
