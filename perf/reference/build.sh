#!/bin/sh
# Builds the C reference loops into DIR (default perf/reference/bin, ignored by git) for `xdpgate bench --reference DIR`.
# tpacket_loop needs only gcc; xsk_loop needs libxdp-dev too, and is left out, saying so, where it is missing.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:-$src/bin}
command -v gcc >/dev/null || { echo "build.sh: gcc not found (apt-get install gcc)" >&2; exit 1; }
mkdir -p "$out"
gcc -O2 -Wall -Wextra -Werror -o "$out/tpacket_loop" "$src/tpacket_loop.c"
if echo '#include <xdp/xsk.h>' | gcc -E -x c - >/dev/null 2>&1; then
	gcc -O2 -Wall -Wextra -Werror -o "$out/xsk_loop" "$src/xsk_loop.c" -lxdp -lbpf
else
	rm -f "$out/xsk_loop"
	echo "build.sh: xsk_loop not built: libxdp headers missing (apt-get install libxdp-dev)" >&2
fi
