//! How a convolution's batch is cut: [`Plan`] gives each rayon task a contiguous run of images
//! and groups a task's small images so each GEMM is at least [`TARGET_COLUMNS`] wide; [`gather`]
//! and [`fill_columns`] lay a group's images side by side.

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
