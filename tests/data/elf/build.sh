#!/bin/sh
# Rebuilds the ELF loader's fixtures: every *.c here into a committed *.o, with the flags libbpf projects use
# (and ClangCompiler uses). The tests never need clang; a test that rebuilds and compares runs when clang exists.
# Run from anywhere: sh tests/data/elf/build.sh
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
# Code generation changes between clang releases; the rebuild test compares only with the same clang.
"$CLANG" --version | head -n 1 > clang-version.txt
for source in *.c; do
	# Relative source names and the prefix map keep line info and DWARF free of this machine's paths.
	"$CLANG" -O2 -g -target bpf -I"/usr/include/$MULTIARCH" -fdebug-prefix-map="$PWD"=. -c "$source" -o "${source%.c}.o"
	echo "built ${source%.c}.o"
done
