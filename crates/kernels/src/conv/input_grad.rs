//! The input gradient: `dx[n] = col2im(W^T (K, Cout) * dy[n] (Cout, P))`, one GEMM per group.

use super::group::{gather, Plan};
use super::{check_grad_shape, winograd, Conv2d};
use crate::elem::{scratch, zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::kernel::Kernel;
use crate::matmul::{matmul, Mat};
use candle_core::Shape;

/// `(weight, grad_output) -> grad_input` for an input of side `h x w`.
pub(super) struct ConvInputGrad {
    pub(super) conv: Conv2d,
    pub(super) h: usize,
    pub(super) w: usize,
}

impl Kernel<2> for ConvInputGrad {
    const NAME: &'static str = "conv2d-input-grad";
    type Sizes = ConvGeometry;

    fn check(&self, [w, dy]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let (c_out, c_in, _, _) = w.dims4()?;
        let (n, _, _, _) = dy.dims4()?;
        let x_shape = Shape::from((n, c_in, self.h, self.w));
        let g = self.conv.geometry(&x_shape, w)?;
        check_grad_shape(Self::NAME, &g, dy, c_out)?;
        Ok((g, x_shape))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [w, dy]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(input_grad(g, w, dy))
    }
}

/// `dx` from the weight and the output gradient.
fn input_grad<T: Elem>(g: &ConvGeometry, w: &[T], dy: &[T]) -> Vec<T> {
    if winograd::applies(g) {
        return winograd::input_grad(g, w, dy);
    }
    let mut dx = zeros(g.n * g.in_image());
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight_t = Mat::rows(w, g.c_out, k, k).t();
    plan.for_each_group(
        &mut dx,
        g.in_image(),
        |first, count, dx, col_buf, dy_buf| {
            let dy = &dy[first * g.out_image()..][..count * g.out_image()];
            let ld = count * p;
            let dy = if count == 1 {
                dy
            } else {
                gather(g, dy, count, dy_buf)
            };
            let dy = Mat::rows(dy, g.c_out, ld, ld);
            if count == 1 && g.is_pointwise() {
                matmul(dx, p, weight_t, dy, false);
                return;
            }
            let col = scratch(col_buf, k * ld);
            matmul(col, ld, weight_t, dy, false);
            for img in 0..count {
                g.col2im(
                    col,
                    ld,
                    img * p,
                    &mut dx[img * g.in_image()..][..g.in_image()],
                );
            }
        },
    );
    dx
}
