#!/usr/bin/env python3
"""Generate the PyTorch parity fixture for cxr-models' ResNet18.

A whole ResNet18 state dict is 45 MB, too big to commit. Instead every weight is a simple,
exactly reproducible function of its name and position (see `formula_value`), which the Rust test
(`crates/models/tests/it/parity.rs`) recomputes bit for bit. The committed fixture then holds only
what torchvision computes from those weights: inputs, eval-mode logits, one training-mode forward
(logits, loss, updated running statistics) and gradients, plus checksums of the weights so that a
divergence of the formula is reported as such rather than as a numerical mismatch.

The formula: tensors are numbered by their name's position in the sorted list of state-dict names
(without `num_batches_tracked`); element i (row-major) of tensor t draws
    u = (splitmix64(((t + 1) << 32) | i) >> 40) / 2**23 - 1        in [-1, 1), 24-bit exact
and its value, computed in float64 then rounded once to float32, is
    conv weight      u * sqrt(6 / fan_in)         (Kaiming-uniform scale)
    bn weight        1 + 0.25 u
    bn bias          0.1 u
    bn running_mean  0.1 u
    bn running_var   1.5 + 0.5 u                  (in [1, 2))
    fc weight        u / sqrt(in_features)
    fc bias          0.1 u
Every step is exact or a single correctly rounded IEEE operation, so both sides agree exactly.

Outputs (into --out-dir, default crates/models/tests/fixtures):
    resnet18_parity.safetensors  inputs, expected outputs and gradients (see `main`)
    resnet18_partial.pth         torch.save of part of the formula state dict (conv1, bn1 with its
                                 num_batches_tracked, fc), to test the .pth reader on a real
                                 torch file
With --full-pth PATH it also writes a whole torchvision ResNet18 state dict with ImageNet's
1000-class head (formula weights), as `torch.save(resnet18().state_dict())` would, for the
torch-gated test `pretrained_pth_from_torchvision_loads` (run it with CXR_TORCH_PYTHON set).

Run: /var/tmp/torchenv/bin/python scripts/resnet18_parity_fixture.py
Generated with torch 2.15.0, torchvision 0.29.2, safetensors 0.8.0, numpy 2.4.6 on CPU.
"""

import argparse
import math
import pathlib

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

NUM_CLASSES = 4
BATCH, SIZE = 2, 64
LABELS = [1, 3]
# Every GRAD_STRIDE-th element of the flattened layer4.1.conv2.weight gradient (2.36M values).
GRAD_STRIDE = 509
CHECKSUM_TENSORS = ["conv1.weight", "layer3.0.downsample.0.weight", "layer4.1.bn2.running_var", "fc.weight"]
STAT_TENSORS = ["bn1.running_mean", "bn1.running_var", "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var"]

MASK64 = (1 << 64) - 1


def splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's output function on uint64 (arithmetic wraps mod 2**64)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def formula_value(name: str, index: int, shape: tuple) -> np.ndarray:
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    key = np.uint64(((index + 1) << 32) & MASK64) | i
    u = (splitmix64(key) >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0
    leaf = name.rsplit(".", 1)[1]
    if len(shape) == 4:
        v = u * math.sqrt(6.0 / (shape[1] * shape[2] * shape[3]))
    elif name.startswith("fc."):
        v = u / math.sqrt(shape[1]) if leaf == "weight" else 0.1 * u
    elif leaf == "weight":
        v = 1.0 + 0.25 * u
    elif leaf in ("bias", "running_mean"):
        v = 0.1 * u
    elif leaf == "running_var":
        v = 1.5 + 0.5 * u
    else:
        raise ValueError(f"no formula for {name}")
    return v.astype(np.float32).reshape(shape)


def formula_state_dict(model: torch.nn.Module) -> dict:
    sd = model.state_dict()
    names = sorted(k for k in sd if not k.endswith("num_batches_tracked"))
    out = {}
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.zeros_like(v)
        else:
            out[k] = torch.from_numpy(formula_value(k, names.index(k), tuple(v.shape)))
    return out


def build(num_classes: int) -> torch.nn.Module:
    model = torchvision.models.resnet18(num_classes=num_classes)
    model.load_state_dict(formula_state_dict(model))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out-dir", type=pathlib.Path, default=root / "crates/models/tests/fixtures")
    parser.add_argument("--full-pth", type=pathlib.Path, help="also write a full 1000-class .pth here")
    args = parser.parse_args()
    torch.manual_seed(0)

    rng = np.random.default_rng(20240601)
    images = torch.from_numpy(rng.standard_normal((BATCH, 3, SIZE, SIZE)).astype(np.float32))
    labels = torch.tensor(LABELS, dtype=torch.int64)

    fixture = {"images": images, "labels": labels}

    model = build(NUM_CLASSES).eval()
    sd = model.state_dict()
    for name in CHECKSUM_TENSORS:
        fixture[f"checksum.{name}"] = sd[name].double().sum().reshape(1)
    with torch.no_grad():
        fixture["eval_logits"] = model(images)

    model = build(NUM_CLASSES).train()
    logits = model(images)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    fixture["train_logits"] = logits.detach()
    fixture["train_loss"] = loss.detach().reshape(1)
    fixture["grad.fc.weight"] = model.fc.weight.grad
    conv_grad = model.layer4[1].conv2.weight.grad
    fixture["grad.layer4.1.conv2.weight.strided"] = conv_grad.flatten()[::GRAD_STRIDE].clone()
    fixture["grad.layer4.1.conv2.weight.sum"] = conv_grad.double().sum().reshape(1)
    fixture["grad.layer4.1.conv2.weight.sumsq"] = conv_grad.double().square().sum().reshape(1)
    sd = model.state_dict()
    for name in STAT_TENSORS:
        fixture[f"after_train.{name}"] = sd[name]

    args.out_dir.mkdir(parents=True, exist_ok=True)
    fixture = {k: v.contiguous() for k, v in fixture.items()}
    save_file(fixture, str(args.out_dir / "resnet18_parity.safetensors"))

    partial = {k: v for k, v in formula_state_dict(build(NUM_CLASSES)).items() if k.split(".")[0] in ("conv1", "bn1", "fc")}
    torch.save(partial, args.out_dir / "resnet18_partial.pth")

    if args.full_pth is not None:
        torch.save(formula_state_dict(build(1000)), args.full_pth)

    for name in ("eval_logits", "train_logits", "train_loss"):
        print(name, fixture[name].tolist())
    for arch in ("resnet18", "resnet34", "resnet50"):
        m = getattr(torchvision.models, arch)(num_classes=NUM_CLASSES)
        print(arch, "parameters with 4 classes:", sum(p.numel() for p in m.parameters()))


if __name__ == "__main__":
    main()
