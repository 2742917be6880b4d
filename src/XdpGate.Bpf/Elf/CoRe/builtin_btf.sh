#!/bin/sh
# Rebuilds builtin_btf.o, the built-in CO-RE target BTF embedded in XdpGate.Bpf, from builtin_btf.c.
set -eu
cd "$(dirname "$0")"
triplet=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
${CLANG:-clang} -O2 -g -target bpf -I/usr/include/"$triplet" -fdebug-prefix-map="$(pwd)"=. -c builtin_btf.c -o builtin_btf.o
