//! Adam with PyTorch's semantics (`torch.optim.Adam`): bias-corrected moments and, when set, L2
//! weight decay added to the gradient (not AdamW's decoupled decay, which is what candle-nn
//! ships and which would silently change the seed's optimiser).

use candle_core::{backprop::GradStore, Result, Tensor, Var};

/// Adam hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator guard.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

struct Slot {
    var: Var,
    m: Tensor,
    v: Tensor,
}

/// Adam over a fixed list of variables (the model's trainable ones).
pub struct Adam {
    config: AdamConfig,
    slots: Vec<Slot>,
    step: i32,
}

impl Adam {
    /// An optimiser for `vars`, moments initialised to zero.
    pub fn new(vars: Vec<Var>, config: AdamConfig) -> Result<Self> {
        let slots = vars
            .into_iter()
            .map(|var| {
                let m = var.zeros_like()?;
                let v = var.zeros_like()?;
                Ok(Slot { var, m, v })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            slots,
            step: 0,
        })
    }

    /// Back-propagates `loss` and applies one update.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// Applies one update from `grads`; variables without a gradient are left as they are.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let c = self.config;
        let bias1 = 1.0 - c.beta1.powi(self.step);
        let bias2 = 1.0 - c.beta2.powi(self.step);
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let g = if c.weight_decay > 0.0 {
                (g + slot.var.as_detached_tensor().affine(c.weight_decay, 0.0)?)?
            } else {
                g.clone()
            };
            // Gradients can carry the op graph of the step that made them; the moments must not,
            // or every step would keep the previous one's graph alive.
            let g = g.detach();
            slot.m = ((&slot.m * c.beta1)? + (&g * (1.0 - c.beta1))?)?.detach();
            slot.v = ((&slot.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?.detach();
            let m_hat = (&slot.m / bias1)?;
            let denom = ((&slot.v / bias2)?.sqrt()? + c.eps)?;
            let update = ((m_hat / denom)? * c.lr)?;
            slot.var.set(&slot.var.as_tensor().sub(&update)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_pytorch_on_a_quadratic() -> Result<()> {
        // Reference: torch.optim.Adam([w], lr=0.1) on loss = sum(w**2), w0 = [1.0, -2.0];
        // w after 1, 2, 3 steps, printed (rounded to 4 places) by PyTorch 2.15.0:
        //   [0.9, -1.9], [0.8004, -1.8002], [0.7016, -1.7006]
        let w = Var::new(&[1.0f32, -2.0], &Device::Cpu)?;
        let mut opt = Adam::new(
            vec![w.clone()],
            AdamConfig {
                lr: 0.1,
                ..Default::default()
            },
        )?;
        let expected = [[0.9f32, -1.9], [0.8004, -1.8002], [0.7016, -1.7006]];
        for want in expected {
            opt.backward_step(&w.as_tensor().sqr()?.sum_all()?)?;
            let got = w.as_tensor().to_vec1::<f32>()?;
            for (g, e) in got.iter().zip(want) {
                assert!((g - e).abs() < 2e-4, "{got:?} vs {want:?}");
            }
        }
        Ok(())
    }

    #[test]
    fn weight_decay_is_l2_on_the_gradient() -> Result<()> {
        // Reference: torch.optim.Adam([w], lr=0.1, weight_decay=0.5) on loss = sum(w**3),
        // w0 = [1.0, -2.0], PyTorch 2.15.0, rounded to 4 places. (AdamW's decoupled decay would
        // give [0.85, -2.0], [0.7096, -2.0], [0.5799, -2.0] instead.)
        let w = Var::new(&[1.0f32, -2.0], &Device::Cpu)?;
        let cfg = AdamConfig {
            lr: 0.1,
            weight_decay: 0.5,
            ..Default::default()
        };
        let mut opt = Adam::new(vec![w.clone()], cfg)?;
        let expected = [[0.9f32, -2.1], [0.801, -2.2001], [0.7037, -2.3005]];
        for want in expected {
            let t = w.as_tensor();
            opt.backward_step(&(t.sqr()? * t)?.sum_all()?)?;
            let got = w.as_tensor().to_vec1::<f32>()?;
            for (g, e) in got.iter().zip(want) {
                assert!((g - e).abs() < 2e-4, "{got:?} vs {want:?}");
            }
        }
        Ok(())
    }
}
