//! Whole-image passes from painted buffer to film: smooth random texture, blur, and the exposure.

use image::{GrayImage, Luma};
use rand::Rng;
use rand_distr::StandardNormal;

use super::canvas::smoothstep;
use super::uni;

/// Smooth random field in [-1, 1]: bilinear-smoothstep interpolation of a `cells`-wide grid.
pub(super) fn value_noise<R: Rng>(n: usize, cells: usize, rng: &mut R) -> Vec<f32> {
    let g = cells + 1;
    let grid: Vec<f32> = (0..g * g).map(|_| uni(rng, -1.0, 1.0)).collect();
    let mut out = vec![0.0; n * n];
    for y in 0..n {
        let gy = (y as f32 + 0.5) / n as f32 * cells as f32;
        let (iy, fy) = (
            (gy.floor() as usize).min(cells - 1),
            smoothstep(0.0, 1.0, gy.fract()),
        );
        for x in 0..n {
            let gx = (x as f32 + 0.5) / n as f32 * cells as f32;
            let (ix, fx) = (
                (gx.floor() as usize).min(cells - 1),
                smoothstep(0.0, 1.0, gx.fract()),
            );
            let at = |i: usize, j: usize| grid[j * g + i];
            let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * fx;
            let bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * fx;
            out[y * n + x] = top + (bottom - top) * fy;
        }
    }
    out
}

/// Blurs the `n x n` buffer in place: the unsharpness of a real detector.
pub(super) fn gaussian_blur(buf: &mut [f32], n: usize, sigma: f32) {
    let r = (2.5 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let mut tmp = vec![0.0; buf.len()];
    let last = n as isize - 1;
    // Two 1-D passes; edges repeat the border pixel.
    for pass in 0..2 {
        let (src, dst): (&[f32], &mut [f32]) = if pass == 0 {
            (&*buf, &mut tmp)
        } else {
            (&tmp, &mut *buf)
        };
        for y in 0..n {
            for x in 0..n {
                let mut acc = 0.0;
                for (k, w) in kernel.iter().enumerate() {
                    let o = k as isize - r;
                    let (sx, sy) = if pass == 0 {
                        ((x as isize + o).clamp(0, last) as usize, y)
                    } else {
                        (x, (y as isize + o).clamp(0, last) as usize)
                    };
                    acc += w * src[sy * n + sx];
                }
                dst[y * n + x] = acc / total;
            }
        }
    }
}

/// The film: a little more quantum noise, then a random contrast, brightness and gamma per
/// image (scanners and exposures differ), quantised to 8 bits.
pub(super) fn expose<R: Rng>(val: &[f32], n: usize, rng: &mut R) -> GrayImage {
    let noise = uni(rng, 0.006, 0.015);
    let (gain, offset, gamma) = (
        uni(rng, 0.85, 1.15),
        uni(rng, -0.06, 0.06),
        uni(rng, 0.8, 1.25),
    );
    let mut image = GrayImage::new(n as u32, n as u32);
    for (i, g) in val.iter().enumerate() {
        let g = g + noise * rng.sample::<f32, _>(StandardNormal);
        let film = ((g - 0.5) * gain + 0.5 + offset)
            .clamp(0.0, 1.0)
            .powf(gamma);
        image.put_pixel(
            (i % n) as u32,
            (i / n) as u32,
            Luma([(film * 255.0).round() as u8]),
        );
    }
    image
}
