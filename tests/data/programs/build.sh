#!/bin/sh
# Rebuilds every XDP object in this directory from its C source.
#
#   ./build.sh           rebuild NAME.o from NAME.c for every NAME.c
#   ./build.sh --check   build into a temporary directory and compare with the
#                        committed objects; exit 1 if any differs
#
# Flags: the corpus's standard `clang -O2 -g -target bpf -I/usr/include/<triplet>`
# plus -fdebug-prefix-map, which rewrites this directory's absolute path to "."
# in DWARF and BTF so the bytes do not depend on where the repository is
# checked out. Output is deterministic for a given clang and set of headers
# (clang 14.0.6 and libbpf 1.1 headers for the committed objects).
set -eu
cd "$(dirname "$0")"
here=$(pwd)
CLANG=${CLANG:-clang}
triplet=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
CFLAGS="-O2 -g -target bpf -I/usr/include/$triplet -fdebug-prefix-map=$here=."

check=0
[ "${1:-}" = "--check" ] && check=1
out=.
if [ $check = 1 ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

status=0
for src in *.c; do
    obj="${src%.c}.o"
    $CLANG $CFLAGS -c "$src" -o "$out/$obj"
    if [ $check = 1 ]; then
        if cmp -s "$out/$obj" "$obj"; then
            echo "ok       $obj"
        else
            echo "DIFFERS  $obj"
            status=1
        fi
    fi
done
exit $status
