#!/usr/bin/env bash
# `just sweep` (cargo run -p cxr-cli) must never rebuild what `just test` (cargo test
# --workspace) built: that holds while every dependency of the CLI is built with the same
# features in both selections. Cargo resolves features per selection of packages, so a feature
# turned on only by another member or a dev-dependency (gemm's AVX-512 reaching bytemuck, which
# polars uses, was one) would make the two builds differ and rebuild polars (~10 min on 2
# cores). Prints the dependencies whose features differ and exits 1 if there are any.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() { cargo tree --locked -e normal,build -f '{p} [{f}]' --prefix none "$@" | sed 's/ (\*)$//' | grep -v '^cxr' | sort -u; }
workspace=$(mktemp)
cli=$(mktemp)
trap 'rm -f "$workspace" "$cli"' EXIT
cargo tree --locked --workspace -e normal,build,dev -f '{p} [{f}]' --prefix none | sed 's/ (\*)$//' | grep -v '^cxr' | sort -u >"$workspace"
tree -p cxr-cli >"$cli"
# A package built by both with another feature set: a line (name version [features]) in one
# list whose name and version appear in the other with other features.
differ=$(comm -3 "$workspace" "$cli" | sed 's/^\t//' | awk '{print $1, $2}' | sort | uniq -d)
if [ -n "$differ" ]; then
    echo "error: these dependencies build with other features for \`cargo run -p cxr-cli\` than for \`cargo test --workspace\`, so \`just sweep\` would rebuild them after \`just test\`; give the CLI the same features (or the test build fewer):" >&2
    echo "$differ" >&2
    exit 1
fi
echo "cxr-cli builds every dependency with the workspace test build's features: just sweep rebuilds nothing that just test built"
