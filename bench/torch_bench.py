"""PyTorch reference for `just bench`: the same cases, models and steps as `cxr-bench`.

Writes the same JSON as `cxr-bench all` (a label, the 2048^2 sgemm GFLOP/s, the threads and one
result per case). Each case runs in a fresh child process (`--case`) so its peak memory
(ru_maxrss) is its own.

    python bench/torch_bench.py --out bench/torch.json [--seconds 15] [--models cnn,resnet18]

Cases: the handcrafted CNN (the layout of crates/models/src/cnn.rs), torchvision ResNet18 at
freeze 0..4 and ResNet34 at freeze 0, batch 32 of 3x128x128, 4 classes; `train` is forward in
training mode (frozen stages' BatchNorms in eval mode, their parameters without gradients),
cross-entropy, backward and torch.optim.Adam(lr=1e-3); `infer` is an eval-mode forward under
torch.inference_mode(). torch.set_num_threads(os.cpu_count()), or `--threads N`.

`--device cuda --batch 128` runs the same cases on the GPU (`just bench-cuda`): each step ends
with `.item()`, which waits for the GPU, as cxr-bench's steps do; cuDNN keeps PyTorch's defaults
(`torch.backends.cudnn.benchmark = False`, TF32 convolutions allowed) unless
`--cudnn-benchmark`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

BATCH, SIZE, CLASSES = 32, 128, 4


def default_cases():
    models = [("cnn", 0)] + [("resnet18", k) for k in range(5)] + [("resnet34", 0)]
    return [dict(model=m, freeze=k, mode=mode) for mode in ("train", "infer") for m, k in models]


def build(model_name, freeze):
    import torch.nn as nn
    import torchvision

    if model_name == "cnn":
        layers, cin = [], 3
        for cout, k in zip((32, 64, 128, 256, 512), (5, 5, 3, 3, 3)):
            layers += [nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
            cin = cout
        model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, CLASSES))
        return model, []
    ctor = {"resnet18": torchvision.models.resnet18, "resnet34": torchvision.models.resnet34}[model_name]
    model = ctor(weights=None, num_classes=CLASSES)
    frozen = []
    if freeze > 0:
        frozen = [model.conv1, model.bn1] + [getattr(model, f"layer{i}") for i in range(1, freeze + 1)]
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    return model, frozen


def run_case(case, seconds, warmup, threads, device="cpu", batch=BATCH, cudnn_benchmark=False):
    import torch

    torch.set_num_threads(threads)
    torch.backends.cudnn.benchmark = cudnn_benchmark
    torch.manual_seed(0)
    model, frozen = build(case["model"], case["freeze"])
    model = model.to(device)
    images = torch.randn(batch, 3, SIZE, SIZE, device=device)
    labels = torch.arange(batch, device=device) % CLASSES
    if case["mode"] == "train":
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            model.train()
            for module in frozen:
                module.eval()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(images), labels)
            loss.backward()
            opt.step()
            loss.item()
    elif case["mode"] == "infer":
        model.eval()

        def step():
            with torch.inference_mode():
                model(images).sum().item()
    else:
        raise SystemExit(f"unsupported mode {case['mode']}")
    for _ in range(warmup):
        step()
    start, steps = time.perf_counter(), 0
    while steps < 3 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result = dict(case, img_s=steps * batch / elapsed, steps=steps, seconds=elapsed, peak_mb=peak_mb, device=device, batch=batch)
    if device.startswith("cuda"):
        result["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def sgemm_gflops(threads, device="cpu"):
    import torch

    torch.set_num_threads(threads)
    n = 2048 if device == "cpu" else 8192
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    a @ b
    sync()
    best = min(_timed(lambda: a @ b, sync) for _ in range(5))
    return 2 * n**3 / best / 1e9


def _timed(f, sync=lambda: None):
    start = time.perf_counter()
    f()
    sync()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="results JSON (all cases)")
    parser.add_argument("--case", help="run one case given as JSON and print its result")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--models", default="", help="comma-separated model filter")
    parser.add_argument("--modes", default="", help="comma-separated mode filter")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN time its algorithms")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: every core)")
    args = parser.parse_args()
    device_args = ["--device", args.device, "--batch", str(args.batch)] + (["--cudnn-benchmark"] if args.cudnn_benchmark else [])
    if args.case:
        print(json.dumps(run_case(json.loads(args.case), args.seconds, args.warmup, args.threads, args.device, args.batch, args.cudnn_benchmark)))
        return
    import torch

    models = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    cases = [c for c in default_cases() if (not models or c["model"] in models) and (not modes or c["mode"] in modes)]
    gflops = sgemm_gflops(args.threads, args.device)
    print(f"torch: sgemm on {args.device} {gflops:.0f} GFLOP/s", file=sys.stderr)
    results = []
    for case in cases:
        out = subprocess.run(
            [sys.executable, __file__, "--case", json.dumps(case), "--seconds", str(args.seconds), "--warmup", str(args.warmup), "--threads", str(args.threads)] + device_args,
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout)
        print(f"torch: {case['model']} freeze {case['freeze']} {case['mode']}: {result['img_s']:.1f} img/s, peak {result['peak_mb']:.0f} MB", file=sys.stderr)
        results.append(result)
    label = f"torch {torch.__version__}" + ("" if args.device == "cpu" else f" {args.device} (cuDNN {torch.backends.cudnn.version()})")
    suite = dict(label=label, gemm_gflops=gflops, threads=torch.get_num_threads(), results=results)
    with open(args.out, "w") as f:
        json.dump(suite, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
