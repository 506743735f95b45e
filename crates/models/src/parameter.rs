//! Named tensors of a model: learnable weights and BatchNorm running statistics, each marked
//! frozen or trainable, so the trainer can build its optimizer and count parameters.

use candle_core::{Tensor, Var};

/// What a named tensor is to the optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A learnable parameter (conv/linear weight or bias, BatchNorm weight or bias); PyTorch's
    /// `parameters()`.
    Weight,
    /// A BatchNorm running mean or variance; PyTorch's buffers. Updated by training-mode forwards,
    /// never by the optimizer, and not counted as parameters.
    RunningStat,
}

/// One named tensor of a model, under its torchvision name (`layer1.0.bn1.running_mean`).
#[derive(Debug, Clone)]
pub struct Parameter {
    name: String,
    var: Var,
    role: Role,
    frozen: bool,
}

impl Parameter {
    /// A named tensor; `frozen` says whether it belongs to the frozen prefix.
    pub(crate) fn new(name: String, var: Var, role: Role, frozen: bool) -> Self {
        Self {
            name,
            var,
            role,
            frozen,
        }
    }

    /// The torchvision-style name, e.g. `layer4.1.conv2.weight`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The variable holding the values (shared with the model: setting it changes the model).
    pub fn var(&self) -> &Var {
        &self.var
    }

    /// The current values.
    pub fn tensor(&self) -> &Tensor {
        self.var.as_tensor()
    }

    /// Whether this is a learnable weight or a running statistic.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether this tensor belongs to the frozen prefix (never changed by training).
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Whether the optimizer should update this tensor: a weight outside the frozen prefix.
    pub fn is_trainable(&self) -> bool {
        self.role == Role::Weight && !self.frozen
    }

    /// Number of scalars.
    pub fn numel(&self) -> usize {
        self.var.elem_count()
    }
}

/// Parameter counts as PyTorch reports them: `sum(p.numel() for p in model.parameters())`, and the
/// same over parameters with `requires_grad` (the reference study's "trainable parameters" metric). Running
/// statistics are buffers, not parameters, so they are in neither count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamCount {
    /// Every learnable scalar, frozen or not.
    pub total: usize,
    /// Learnable scalars the optimizer updates.
    pub trainable: usize,
}

/// The variables an optimizer updates among `params`: the trainable weights, never running
/// statistics or frozen tensors.
pub(crate) fn trainable_vars(params: &[Parameter]) -> Vec<Var> {
    params
        .iter()
        .filter(|p| p.is_trainable())
        .map(|p| p.var().clone())
        .collect()
}

impl ParamCount {
    /// Counts over a model's named tensors.
    pub fn of(params: &[Parameter]) -> Self {
        let weights = params.iter().filter(|p| p.role() == Role::Weight);
        let total = weights.clone().map(Parameter::numel).sum();
        let trainable = weights
            .filter(|p| p.is_trainable())
            .map(Parameter::numel)
            .sum();
        Self { total, trainable }
    }
}
