#!/bin/sh
# The dataplane figures: one core's in-process ceiling (synthetic ports, no sockets), then the appliance against
# native kernel XDP and against plain C loops over the same sockets (perf/reference; xsk_loop needs libxdp-dev) on a
# veth pair that `xdpgate bench` builds and removes (needs root and two CPUs).
# Usage: perf/bench.sh [extra xdpgate bench options, e.g. --duration 6 --mode drop --mode tx]
set -eu
cd "$(dirname "$0")/.."
dotnet build src/XdpGate.Cli -c Release -v q -nologo >/dev/null
perf/reference/build.sh perf/reference/bin
xdpgate=src/XdpGate.Cli/bin/Release/net10.0/xdpgate
"$xdpgate" bench --driver synthetic "$@"
"$xdpgate" bench --driver afxdp --driver afpacket --reference perf/reference/bin "$@"
