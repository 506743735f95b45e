//! Progress of a cold cache build, as log lines: a batch job's log, where no bar can be drawn,
//! shows that decoding 21,000 films is going forward.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Log lines while a dataset is decoded: a batch job's log (where no bar can be drawn) shows that
/// a cold cache build of 21,000 films is progressing, at each tenth of the files once the build
/// has taken a second (a small set decodes without a line per tenth).
pub(crate) struct DecodeProgress<'a> {
    root: &'a Path,
    total: usize,
    done: AtomicUsize,
    start: Instant,
}

impl<'a> DecodeProgress<'a> {
    /// Logs the start of decoding `total` images of `root`.
    pub(crate) fn start(root: &'a Path, total: usize, image_size: u32) -> Self {
        tracing::info!(
            "decoding {total} images of {} at {image_size}x{image_size} into the cache",
            root.display()
        );
        Self {
            root,
            total,
            done: AtomicUsize::new(0),
            start: Instant::now(),
        }
    }

    /// One more image decoded (from any thread).
    pub(crate) fn one_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if at_a_tenth(done, self.total) && self.start.elapsed().as_secs_f64() >= 1.0 {
            tracing::info!(
                "decoded {done}/{} images ({}%) in {:.0} s",
                self.total,
                done * 100 / self.total,
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    /// Logs the end, with the time taken.
    pub(crate) fn finish(&self) {
        tracing::info!(
            "decoded {} images of {} in {:.1} s",
            self.done.load(Ordering::Relaxed),
            self.root.display(),
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Whether `done` of `total` is a whole tenth (10%, 20%, ..., 90%; the end is logged apart).
fn at_a_tenth(done: usize, total: usize) -> bool {
    done < total && done.is_multiple_of(total.div_ceil(10).max(1))
}

#[cfg(test)]
mod tests {
    use super::at_a_tenth;

    #[test]
    fn nine_lines_per_build_at_most() {
        for total in [1, 9, 10, 11, 21_165] {
            let lines = (1..=total).filter(|&d| at_a_tenth(d, total)).count();
            assert!(lines <= 9, "{total}: {lines}");
        }
        let marks: Vec<usize> = (1..=21_165).filter(|&d| at_a_tenth(d, 21_165)).collect();
        assert_eq!(marks.len(), 9);
        assert_eq!((marks[0], marks[8]), (2_117, 19_053));
    }
}
