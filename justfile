# cxr task runner. `just --list` shows every recipe.
# Everything builds with the release profile: candle is unusably slow unoptimised, and one
# profile means one build of the dependencies.

set shell := ["bash", "-euo", "pipefail", "-c"]

cxr := "cargo run --release --quiet -p cxr-cli --"
synth_dir := "data/synthetic"

# List recipes.
default:
    @just --list

# Run every test (the command CI runs). Tests on the real data in ../shared/data sit in modules
# named `shared_data` and are #[ignore]d, so a plain `cargo test` counts them as ignored; the
# second command runs them where the folder exists (CI sets CXR_REQUIRE_SHARED_DATA: absent fails).
test:
    cargo test --release --workspace
    if [ -d ../shared/data ]; then \
        cargo test --release --workspace --test it -- --ignored shared_data::; \
    elif [ -n "${CXR_REQUIRE_SHARED_DATA:-}" ]; then \
        echo "error: ../shared/data is absent, and CXR_REQUIRE_SHARED_DATA is set" >&2; exit 1; \
    else \
        echo "SKIPPED: the shared_data tests: ../shared/data is absent"; \
    fi

# Submit the CI grid's --emit-slurm script to a one-node Slurm cluster started here (root; installs
# Slurm with apt-get if missing): equal to a local sweep, and resumes after a cancelled task.
slurm-test:
    scripts/slurm-test.sh

# Malformed grids, configs, preprocessing records, PNG/JPEG/DICOM films and label tables,
# 10,000 seeded mutants of each kind (`just test` runs 200): no panic, one-line errors naming
# the file. Counts are printed per kind.
fuzz cases="10000":
    CXR_FUZZ_CASES={{cases}} cargo test --release -p cxr-cli --test it fuzz -- --nocapture --test-threads 2

# Format and lint as CI does.
lint:
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# Train every unfinished run of a grid (default: the demo on built-in synthetic data).
sweep grid="experiments/demo.toml" *args="":
    {{cxr}} sweep {{grid}} {{args}}

# Figures and report.md for a grid's results: results/<grid>/report/.
report grid="demo" results="results":
    {{cxr}} report {{results}}/{{grid}}

# Open a grid's report.html in headless Chromium (Selenium) and check it as a reader uses it:
# console, rendering, sorting, filters, overlaid curves, a run's numbers against summary.parquet;
# screenshots in GRID_DIR/report/screenshots/. Installs chromium (apt) and selenium (venv) if
# missing. Without GRID_DIR: trains experiments/ci.toml into a temporary folder first.
report-browser-test grid_dir="" screenshots="":
    scripts/report-browser-test.sh {{grid_dir}} {{screenshots}}

# Compare a grid's test recall with experiments/baselines/<grid>.toml (exit 1 on a regression).
check grid="ci" results="results" *args="":
    {{cxr}} check {{results}}/{{grid}} --baseline experiments/baselines/{{grid}}.toml {{args}}

# Execute notebooks/results.ipynb headless against a grid's results (makes a venv from PyPI).
notebook grid_dir="results/demo" venv=".venv":
    test -x {{venv}}/bin/jupyter || (python3 -m venv {{venv}} && {{venv}}/bin/pip install --quiet -r notebooks/requirements.txt)
    CXR_GRID_DIR="$(realpath {{grid_dir}})" {{venv}}/bin/jupyter nbconvert --to notebook --execute notebooks/results.ipynb --output-dir "$(realpath {{grid_dir}})" --output results.executed.ipynb
    @echo "executed notebook: {{grid_dir}}/results.executed.ipynb"

# List the runs a grid expands to, without training.
plan grid="experiments/demo.toml":
    {{cxr}} sweep {{grid}} --dry-run

# Write the built-in synthetic dataset (4 classes x PER_CLASS phantoms with lung masks).
synth out=synth_dir per_class="200" size="128" seed="0":
    {{cxr}} data synth --out {{out}} --per-class {{per_class}} --size {{size}} --seed {{seed}}

# Per-class census of a dataset folder.
inspect dir=synth_dir:
    {{cxr}} data inspect {{dir}}

# Decode, resize and cache a dataset; run twice to see the warm-cache time.
prepare dir=synth_dir size="128":
    {{cxr}} data prepare {{dir}} --image-size {{size}}

# Run the cxr binary with any arguments, e.g. `just cxr data inspect DIR --json`.
cxr *args:
    {{cxr}} {{args}}

# Classify images with a trained run, e.g. `just predict results/demo/runs/<id> data/new/`.
predict run *inputs:
    {{cxr}} predict --run {{run}} {{inputs}}

# Score a trained run on another dataset in class folders (external validation).
evaluate run data *args="":
    {{cxr}} evaluate --run {{run}} --data {{data}} {{args}}

# Grad-CAM overlay of one image, e.g. `just explain results/demo/runs/<id> film.png film-cam.png`.
explain run image out *args="":
    {{cxr}} explain --run {{run}} {{image}} --out {{out}} {{args}}

# Decode throughput, PNG vs 12-bit DICOM (uncompressed, RLE, JPEG lossless), one thread, on the
# first `per_class` films of each class of the real sample (see BENCHMARKS.md).
bench-decode per_class="20" seconds="5":
    cargo run --release --quiet -p cxr-bench -- decode --per-class {{per_class}} --seconds {{seconds}}

# Issue 26's speed line: write a synthetic label table in NIH's format and size (112,120 films of
# 30,805 patients), then time reading it, patients + findings, and a grouped, stratified 5-fold
# split, one thread (see BENCHMARKS.md).
bench-split rows="112120" patients="30805" folds="5":
    cargo run --release --quiet -p cxr-bench -- split --rows {{rows}} --patients {{patients}} --folds {{folds}}

# PyTorch the benchmark compares against (plain PyPI wheels; the CPU-only index is not reachable).
torch_version := "2.15.0"
torchvision_version := "0.29.2"

# Training-step and inference img/s, ours vs PyTorch, on all cores; prints the table and writes
# bench/last.json (see BENCHMARKS.md). `python=` reuses an interpreter that has torch instead of
# creating bench/.venv; `models=resnet18` / `modes=train` narrow the grid.
bench seconds="15" python="" models="" modes="":
    cargo build --release --quiet -p cxr-bench
    py="{{python}}"; \
    if [ -z "$py" ]; then \
        py=bench/.venv/bin/python; \
        if ! "$py" -c "import torch, torchvision" 2>/dev/null; then \
            python3 -m venv bench/.venv; \
            "$py" -m pip install --quiet "torch=={{torch_version}}" "torchvision=={{torchvision_version}}"; \
        fi; \
    fi; \
    filter="--models={{models}} --modes={{modes}}"; \
    cargo run --release --quiet -p cxr-bench -- all --out bench/ours.json --seconds {{seconds}} $([ -n "{{models}}" ] && echo --models {{models}}) $([ -n "{{modes}}" ] && echo --modes {{modes}}); \
    "$py" bench/torch_bench.py --out bench/torch.json --seconds {{seconds}} $filter; \
    cargo run --release --quiet -p cxr-bench -- report --ours bench/ours.json --torch bench/torch.json --json bench/last.json

# Build `cxr` and `cxr-bench` with the `cuda` feature (candle's CUDA backend, cuDNN) for GPUs
# of compute capability `cap` (90: H100/H200), with CUDA 13.0's compiler from PyPI in a venv,
# and pack them with the CUDA test binary into bench/cuda/carry/ for a GPU machine.
build-cuda cap="90":
    scripts/cuda-build.sh build {{cap}}

# Compile the `cuda` feature's code without a GPU (what CI runs).
check-cuda:
    scripts/cuda-build.sh check

# On a GPU machine, after `just build-cuda`: training-step and inference img/s of the CNN and
# ResNet18 freeze 0..4 at 128 px, batch 128, ours vs PyTorch on the same GPU.
bench-cuda seconds="10" python="python3" target="/var/tmp/cxr-cuda-target":
    {{target}}/release/cxr-bench all --device cuda --batch 128 --models cnn,resnet18 --seconds {{seconds}} --out bench/ours-cuda.json
    {{python}} bench/torch_bench.py --device cuda --batch 128 --models cnn,resnet18 --modes train,infer --seconds {{seconds}} --out bench/torch-cuda.json
    {{target}}/release/cxr-bench report --ours bench/ours-cuda.json --torch bench/torch-cuda.json --json bench/last-cuda.json

# The GPU check a lent machine runs (bench/cuda/device-check.sh: CUDA tests, bench, sweep on
# CUDA vs CPU) from the bundle of `just build-cuda`; `device=cpu` rehearses every step here.
cuda-check device="cuda" seconds="4":
    CXR_CHECK_DEVICE={{device}} CXR_CHECK_SECONDS={{seconds}} bench/cuda/device-check.sh

# The interpreter with torch + torchvision that bench-paired and bench-e2e use: this venv, created
# from PyPI on first use, unless given (`just python=/path/to/python bench-e2e`).
torch_venv := "/var/tmp/torch-venv"
python := torch_venv / "bin/python"

# Make `python` importable with torch + torchvision: the default venv is created from PyPI.
_torch:
    @if ! "{{python}}" -c "import torch, torchvision" 2>/dev/null; then \
        if [ "{{python}}" != "{{torch_venv}}/bin/python" ]; then echo "error: {{python}} has no torch + torchvision" >&2; exit 2; fi; \
        python3 -m venv {{torch_venv}}; \
        {{torch_venv}}/bin/pip install --quiet "torch=={{torch_version}}" "torchvision=={{torchvision_version}}"; \
    fi

# `rows` = MODEL:FREEZE:MODE[:TORCH_MODE] ... (see `bench/paired.sh --help`; default: every row of
# issue 15); `threads` pins both sides (default: every core).
# Paired ours-then-PyTorch throughput per row and round; median ratios to bench/paired.json.
bench-paired rounds="3" seconds="12" rows="" threads="": _torch
    bench/paired.sh --python "{{python}}" --rounds {{rounds}} --seconds {{seconds}} --rows "{{rows}}" --threads "{{threads}}"

# report.html of a 100-run grid (bench/report_page.toml, a real sweep of a few minutes): its size
# and the page's load time in headless Chromium, with the browser test's checks.
bench-report results="/var/tmp/cxr-bench-report":
    {{cxr}} sweep bench/report_page.toml --results {{results}}
    scripts/report-browser-test.sh {{results}}/report-page

# Training epochs at 128 px (CNN, ResNet18 freeze 0), `cxr evaluate` and `cxr predict` of the
# trained CNN, each against PyTorch with a 2-worker DataLoader (see BENCHMARKS.md; `args` go to
# bench/e2e.py, e.g. `--models cnn --threads 2`). Without the real sample it only says so.
# End to end on the real films, ours vs PyTorch; table and bench/e2e.json.
bench-e2e rounds="1" epochs="2" jobs="train,evaluate,predict" *args="":
    @if python3 bench/e2e.py --check {{args}}; then \
        cargo build --release --quiet -p cxr-bench -p cxr-cli; \
        just python="{{python}}" _torch; \
        "{{python}}" bench/e2e.py --rounds {{rounds}} --epochs {{epochs}} --jobs {{jobs}} {{args}}; \
    fi

# Default grid: experiments/ci.toml, trained into a temporary folder; MLflow comes from PyPI into
# /var/tmp/cxr-web-venv unless there. Checks every param, epoch, final metric, tag and artifact,
# reruns, an interrupted export and the one-line errors.
# `cxr export mlflow` against a real `mlflow server`, checked with MLflow's own client.
mlflow-test grid_dir="":
    scripts/mlflow-test.sh {{grid_dir}}
