"""PyTorch side of `just bench-e2e`: what a PyTorch user would write for cxr's end-to-end jobs.

Each subcommand prints one JSON object (the last line of stdout); `bench/e2e.py` runs it in its
own process beside the matching `cxr` command.

    python bench/torch_e2e.py train --data ROOT --model cnn [--epochs 2] [--image-size 128]
    python bench/torch_e2e.py evaluate --data ROOT --model cnn [--image-size 128]
    python bench/torch_e2e.py predict --inputs DIR [DIR ...] --model cnn [--image-size 128]

Protocol (cxr's defaults for a sweep, see crates/experiment: `[split]` 0.7/0.1/0.2 stratified
per class, `train.batch_size` 128, `train.sampler = "balanced"`, Adam lr 1e-3, betas 0.9/0.999,
eps 1e-8, no weight decay, no augmentation; normalisation = the training split's pixel mean and
std; grayscale replicated to 3 channels):

- Every image is read from disk and decoded in the DataLoader's workers (`--workers`, default 2,
  persistent across epochs) on every pass: PIL open, to 8-bit gray ("L"), resize to the image
  size with PIL's bilinear (a triangle filter, as cxr's), to float in [0, 1], normalised. The
  split's statistics come from a one-time pass over the training images, not timed (cxr
  computes them from its cache).
- `train`: builds the model (the CNN of crates/models/src/cnn.rs, or torchvision's ResNet18 /
  ResNet34 with 4->classes outputs, random init), then per epoch times (a) one pass over the
  training split drawn by a WeightedRandomSampler (weights 1/class count, with replacement,
  epoch length = training images) in batches of 128: training-mode forward, cross-entropy,
  backward, Adam step, loss read; (b) one pass over the validation split in eval mode under
  torch.inference_mode(). An epoch's time is (a) + (b), as cxr's history.parquet
  train_time_s + eval_time_s. Worker start-up falls inside epoch 1 (as cxr's first-epoch
  allocations fall inside its epoch 1).
- `evaluate`: every image of the class folders (as `cxr evaluate --data`), decode + resize +
  normalise in the workers, eval-mode forward in batches of 32 (cxr's evaluation batch),
  softmax, predictions and the confusion matrix. Timed from before the file listing to the
  last prediction (the `import torch` before it is not timed; cxr's process start is ~10 ms).
- `predict`: every PNG/JPEG under the inputs, batches of 32 (cxr's PREDICT_BATCH), softmax,
  one line per image written to stdout's replacement (discarded), timed as `evaluate`.

The weights are random, not the cxr run's: the compute is the same and nothing is scored.
torch.set_num_threads(os.cpu_count()) unless `--threads`. Peak memory: the main process's
ru_maxrss and, separately, the largest worker's (RUSAGE_CHILDREN once the workers have exited;
a forked worker's resident set counts the pages it shares with the main process).
"""

import argparse
import gc
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

EXTENSIONS = {".png", ".jpg", ".jpeg"}
SKIP_DIRS = {"masks", "lesions"}


def images_under(folder):
    """Image files under `folder`, recursively and sorted, skipping masks/, lesions/ and hidden entries."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in EXTENSIONS:
                found.append(os.path.join(dirpath, name))
    return sorted(found)


def class_folders(root):
    """(paths, labels, classes): every image of every class folder under `root`, classes sorted."""
    classes = sorted(d.name for d in Path(root).iterdir() if d.is_dir() and not d.name.startswith("."))
    paths, labels = [], []
    for label, name in enumerate(classes):
        for path in images_under(Path(root) / name):
            paths.append(path)
            labels.append(label)
    return paths, labels, classes


def stratified_split(labels, fractions, seed):
    """Per class, shuffled, the first `train` fraction to train, the next `val` to validation."""
    rng = random.Random(seed)
    train, val, test = [], [], []
    for c in sorted(set(labels)):
        idx = [i for i, l in enumerate(labels) if l == c]
        rng.shuffle(idx)
        n_train = round(len(idx) * fractions[0])
        n_val = round(len(idx) * fractions[1])
        train += idx[:n_train]
        val += idx[n_train : n_train + n_val]
        test += idx[n_train + n_val :]
    return train, val, test


class Films:
    """A map-style dataset decoding each file when asked (in a DataLoader worker)."""

    def __init__(self, paths, labels, size, mean, std, channels=3):
        self.paths, self.labels, self.size = paths, labels, size
        self.mean, self.std, self.channels = mean, std, channels

    def __len__(self):
        return len(self.paths)

    def pixels(self, i):
        from PIL import Image
        import numpy as np

        with Image.open(self.paths[i]) as img:
            gray = img.convert("L").resize((self.size, self.size), Image.BILINEAR)
        return np.asarray(gray, dtype=np.float32) / 255.0

    def __getitem__(self, i):
        import torch

        x = torch.from_numpy((self.pixels(i) - self.mean) / self.std)
        return x.unsqueeze(0).expand(self.channels, -1, -1).contiguous(), self.labels[i]


def build(model_name, freeze, classes):
    import torch.nn as nn
    import torchvision

    if model_name == "cnn":
        layers, cin = [], 3
        for cout, k in zip((32, 64, 128, 256, 512), (5, 5, 3, 3, 3)):
            layers += [nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
            cin = cout
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)), []
    ctor = {"resnet18": torchvision.models.resnet18, "resnet34": torchvision.models.resnet34}[model_name]
    model = ctor(weights=None, num_classes=classes)
    frozen = [model.conv1, model.bn1] + [getattr(model, f"layer{i}") for i in range(1, freeze + 1)] if freeze else []
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    return model, frozen


def loader(dataset, batch, workers, sampler=None):
    import torch

    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=sampler, shuffle=False, num_workers=workers,
        persistent_workers=workers > 0,
    )


def peaks():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return dict(peak_mb=round(own, 1), worker_peak_mb=round(workers, 1))


def train(args):
    import numpy as np
    import torch

    torch.manual_seed(args.seed)
    paths, labels, classes = class_folders(args.data)
    train_idx, val_idx, _ = stratified_split(labels, args.split, args.seed)
    # The training split's statistics (cxr: `normalization = "auto"`), untimed.
    probe = Films(paths, labels, args.image_size, 0.0, 1.0)
    pix = np.stack([probe.pixels(i) for i in train_idx])
    mean, std = float(pix.mean()), float(pix.std())
    del pix
    films = Films(paths, labels, args.image_size, mean, std)
    counts = np.bincount([labels[i] for i in train_idx], minlength=len(classes))
    weights = torch.tensor([1.0 / counts[labels[i]] for i in train_idx], dtype=torch.double)
    sampler = torch.utils.data.WeightedRandomSampler(weights, len(train_idx), replacement=True)
    train_loader = loader(torch.utils.data.Subset(films, train_idx), args.batch_size, args.workers, sampler)
    val_loader = loader(torch.utils.data.Subset(films, val_idx), args.batch_size, args.workers)
    model, frozen = build(args.model, args.freeze, len(classes))
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        for module in frozen:
            module.eval()
        total = seen = 0
        for x, y in train_loader:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            seen += len(y)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        model.eval()
        correct = n = 0
        with torch.inference_mode():
            for x, y in val_loader:
                correct += (model(x).argmax(1) == y).sum().item()
                n += len(y)
        val_s = time.perf_counter() - start
        row = dict(epoch=epoch, train_s=round(train_s, 3), val_s=round(val_s, 3), epoch_s=round(train_s + val_s, 3),
                   train_loss=round(total / seen, 4), val_recall=round(correct / max(n, 1), 4))
        print(json.dumps(row), file=sys.stderr)
        epochs.append(row)
    # Shut the persistent workers down so that RUSAGE_CHILDREN holds their peaks.
    del train_loader, val_loader
    gc.collect()
    return dict(model=args.model, freeze=args.freeze, train_images=len(train_idx), val_images=len(val_idx),
                batch_size=args.batch_size, epochs=epochs, **peaks())


def infer(args, paths, labels, classes, batch):
    import torch

    start = time.perf_counter()
    films = Films(paths, labels, args.image_size, args.mean, args.std)
    model, _ = build(args.model, 0, classes)
    model.eval()
    predictions = []
    with torch.inference_mode():
        for x, _ in loader(films, batch, args.workers):
            probs = torch.softmax(model(x), dim=1)
            predictions += probs.argmax(1).tolist()
    seconds = time.perf_counter() - start
    return predictions, seconds


def evaluate(args):
    start = time.perf_counter()
    paths, labels, classes = class_folders(args.data)
    listed = time.perf_counter() - start
    predictions, seconds = infer(args, paths, labels, len(classes), 32)
    confusion = [[0] * len(classes) for _ in classes]
    for l, p in zip(labels, predictions):
        confusion[l][p] += 1
    seconds += listed
    return dict(job="evaluate", model=args.model, images=len(paths), seconds=round(seconds, 3),
                img_s=round(len(paths) / seconds, 2), **peaks())


def predict(args):
    start = time.perf_counter()
    paths = [p for folder in args.inputs for p in (images_under(folder) if os.path.isdir(folder) else [folder])]
    listed = time.perf_counter() - start
    predictions, seconds = infer(args, paths, [0] * len(paths), args.classes, 32)
    with open(os.devnull, "w") as sink:
        for path, p in zip(paths, predictions):
            print(f"{path}: {p}", file=sink)
    seconds += listed
    return dict(job="predict", model=args.model, images=len(paths), seconds=round(seconds, 3),
                img_s=round(len(paths) / seconds, 2), **peaks())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default="cnn", choices=["cnn", "resnet18", "resnet34"])
    common.add_argument("--image-size", type=int, default=128)
    common.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    common.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    t = sub.add_parser("train", parents=[common])
    t.add_argument("--data", required=True, help="dataset root with one folder per class")
    t.add_argument("--freeze", type=int, default=0)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--split", type=lambda s: [float(x) for x in s.split(",")], default=[0.7, 0.1, 0.2])
    t.add_argument("--seed", type=int, default=0)
    for name in ("evaluate", "predict"):
        p = sub.add_parser(name, parents=[common])
        p.add_argument("--mean", type=float, default=0.5, help="normalisation (any: timing only)")
        p.add_argument("--std", type=float, default=0.25)
    sub.choices["evaluate"].add_argument("--data", required=True)
    sub.choices["predict"].add_argument("--inputs", nargs="+", required=True)
    sub.choices["predict"].add_argument("--classes", type=int, default=3, help="the model's outputs")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    result = {"train": train, "evaluate": evaluate, "predict": predict}[args.command](args)
    result.update(torch=torch.__version__, threads=torch.get_num_threads(), workers=args.workers)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
