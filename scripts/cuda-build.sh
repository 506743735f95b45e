#!/usr/bin/env bash
# Builds (or checks) cxr's `cuda` feature on a machine without a GPU or a CUDA toolkit: the
# CUDA 13.0 compiler and headers come from PyPI into a virtual environment.
#
#   scripts/cuda-build.sh check [CAP]   cargo clippy of the cuda code (what CI runs)
#   scripts/cuda-build.sh build [CAP]   release `cxr`, `cxr-bench` and the CUDA test binary,
#                                       stripped into bench/cuda/carry/cxr-cuda.tar.xz for
#                                       bench/cuda/device-check.sh on a GPU machine
#
# CAP is the GPUs' compute capability (default 90: H100/H200); candle's kernels are compiled to
# PTX for it. The wheels are pinned to CUDA 13.0: the lent GPU machines' driver (580) and nvcc
# are 13.0, and PTX from a newer compiler may not load there (nvidia-nvvm must be pinned too:
# unpinned it pulls 13.x's cicc, whose PTX 13.0's ptxas rejects). Environment: CXR_CUDA_VENV
# (default /var/tmp/cxr-cuda-venv), CXR_CUDA_TARGET (the cargo target dir, default
# /var/tmp/cxr-cuda-target: the feature rebuilds candle, so keep it apart from the CPU build's).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}
cap=${2:-90}
venv=${CXR_CUDA_VENV:-/var/tmp/cxr-cuda-venv}
wheels=(
    nvidia-cuda-nvcc==13.0.88
    nvidia-cuda-runtime==13.0.96
    nvidia-cuda-crt==13.0.88
    nvidia-cuda-cccl==13.0.85
    nvidia-nvvm==13.0.88
)

cuda_root() {
    "$venv/bin/python" -c 'import os, nvidia; print(os.path.join(list(nvidia.__path__)[0], "cu13"))' 2>/dev/null
}
root=$(cuda_root || true)
if [ -z "$root" ] || [ ! -x "$root/bin/nvcc" ] || [ ! -d "$root/nvvm" ]; then
    echo "--- CUDA 13.0 compiler and headers from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${wheels[@]}"
    root=$(cuda_root)
fi
export PATH="$root/bin:$PATH" CUDA_ROOT="$root" CUDA_PATH="$root" CUDA_COMPUTE_CAP="$cap"
# candle-kernels links its MoE kernels against `-lcudart`; the wheel has no unversioned
# libcudart.so, so point that name at the static runtime: the binaries then need only the
# driver and the libraries cudarc opens at run time.
mkdir -p "$venv/link"
ln -sf "$root/lib/libcudart_static.a" "$venv/link/libcudart.a"
export LIBRARY_PATH="$venv/link${LIBRARY_PATH:+:$LIBRARY_PATH}"
export CARGO_TARGET_DIR=${CXR_CUDA_TARGET:-/var/tmp/cxr-cuda-target}
nvcc --version | tail -1

case $mode in
check)
    # Every `#[cfg(feature = "cuda")]` line lives in cxr-models (the other crates pass the
    # feature on), so checking it and its tests with the feature (clippy: the same check plus
    # the workspace's lints) keeps the GPU code compiling without building polars again.
    cargo clippy --release -p cxr-models --features cuda --lib --tests -- -D warnings
    ;;
build)
    cargo build --release -p cxr-cli -p cxr-bench --features cuda
    test_bin=$(cargo test --release -p cxr-models --features cuda --test candle_ops --no-run \
        --message-format=json | "$venv/bin/python" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "candle_ops":
        print(m["executable"])')
    stage=$(mktemp -d)
    strip -o "$stage/cxr" "$CARGO_TARGET_DIR/release/cxr"
    strip -o "$stage/cxr-bench" "$CARGO_TARGET_DIR/release/cxr-bench"
    strip -o "$stage/candle_ops" "$test_bin"
    mkdir -p bench/cuda/carry
    tar -cJf bench/cuda/carry/cxr-cuda.tar.xz -C "$stage" cxr cxr-bench candle_ops
    rm -rf "$stage"
    ls -l bench/cuda/carry/cxr-cuda.tar.xz
    echo "carry bench/cuda/carry to a GPU machine and run bench/cuda/device-check.sh there"
    ;;
*)
    sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
