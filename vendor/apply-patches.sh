#!/usr/bin/env bash
# Rebuilds vendor/candle-core from the crate as published plus vendor/patches (vendor/README.md).
#
#   vendor/apply-patches.sh DIR            trim DIR (an extracted candle-core crate) to the files
#                                          we vendor and apply every patch to it, in place
#   vendor/apply-patches.sh --check [CRATE]
#                                          download the pinned .crate (or use CRATE, a .crate
#                                          file), check its sha256, trim and patch it in a
#                                          temporary folder, and diff it against vendor/candle-core
#                                          (exit 0: identical)
set -euo pipefail

# The published crate the patches apply to; change all three together when upgrading.
NAME=candle-core
VERSION=0.11.1
SHA256=d11c8be87cfbaef9ebb62fb3f850d1fc8e00cc1d11d393fdbe55a4d5c2cdb325

vendor_dir=$(cd "$(dirname "$0")" && pwd)

usage() {
    sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# The crate's own tests, benches, examples and lock file are left out: we never build them.
trim() {
    rm -rf "$1/benches" "$1/examples" "$1/tests" "$1/Cargo.lock"
}

apply() {
    local dir=$1 p
    trim "$dir"
    for p in "$vendor_dir"/patches/"$NAME-$VERSION"-*.patch; do
        # Dry run first, so a patch that no longer fits leaves DIR untouched by it.
        patch -d "$dir" -p1 --forward --batch --silent --dry-run <"$p" \
            || { echo "error: $p does not apply to $dir" >&2; exit 1; }
        patch -d "$dir" -p1 --forward --batch --silent --no-backup-if-mismatch <"$p"
        echo "applied $(basename "$p")"
    done
}

check() {
    local crate
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    crate=${1:-$tmp/$NAME-$VERSION.crate}
    if [ $# -eq 0 ]; then
        curl -sSfL "https://static.crates.io/crates/$NAME/$NAME-$VERSION.crate" -o "$crate"
    fi
    echo "$SHA256  $crate" | sha256sum --check --quiet \
        || { echo "error: $crate is not $NAME $VERSION as published" >&2; exit 1; }
    tar -xzf "$crate" -C "$tmp"
    apply "$tmp/$NAME-$VERSION" >/dev/null
    if diff -r "$tmp/$NAME-$VERSION" "$vendor_dir/$NAME"; then
        echo "vendor/$NAME is $NAME $VERSION as published plus vendor/patches"
    else
        echo "error: vendor/$NAME differs from $NAME $VERSION plus vendor/patches" >&2
        exit 1
    fi
}

case "${1:-}" in
    --check) shift; [ $# -le 1 ] || usage; check "$@" ;;
    "" | -*) usage ;;
    *) [ $# -eq 1 ] && [ -d "$1" ] || usage; apply "$1" ;;
esac
