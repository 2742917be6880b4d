using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project perf/XdpGate.Benchmarks -- --filter '*'
// One group: --filter '*Lpm*'. Short runs for a quick look: add --job short.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
