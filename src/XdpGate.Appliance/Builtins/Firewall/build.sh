#!/bin/sh
# Rebuilds firewall.o, the built-in firewall the appliance embeds, from firewall.c.
#
#   ./build.sh           rebuild firewall.o
#   ./build.sh --check   build into a temporary directory and compare with the
#                        committed object; exit 1 if it differs
#
# Same flags as tests/data/programs/build.sh (clang -O2 -g -target bpf, with the
# directory mapped to "." so the bytes do not depend on the checkout path);
# the committed object is from clang 14.0.6 with libbpf 1.1 headers.
set -eu
cd "$(dirname "$0")"
here=$(pwd)
CLANG=${CLANG:-clang}
triplet=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
CFLAGS="-O2 -g -target bpf -I/usr/include/$triplet -fdebug-prefix-map=$here=."

out=.
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
$CLANG $CFLAGS -c firewall.c -o "$out/firewall.o"
if [ "$out" != . ]; then
    if cmp -s "$out/firewall.o" firewall.o; then
        echo "ok       firewall.o"
    else
        echo "DIFFERS  firewall.o"
        exit 1
    fi
fi
