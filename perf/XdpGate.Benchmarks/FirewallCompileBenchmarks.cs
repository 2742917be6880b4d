using BenchmarkDotNet.Attributes;
using XdpGate.Appliance.Builtins.Firewall;

namespace XdpGate.Benchmarks;

/// <summary>
/// What a reload of the built-in firewall costs before the swap: compiling the rules (<see cref="FirewallFixture"/>)
/// and loading a fresh firewall with its maps written.
/// </summary>
[MemoryDiagnoser]
public class FirewallCompileBenchmarks
{
    private FirewallPolicy policy = null!;

    [Params(1000, 10000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup() => policy = FirewallFixture.Policy(Rules);

    [Benchmark(Description = "compile rules to map contents (ms)")]
    public CompiledFirewall Compile() => RuleCompiler.Compile(policy);

    [Benchmark(Description = "compile, load firewall.o and write its maps (ms)")]
    public int CompileAndLoad()
    {
        using var loaded = FirewallBuiltin.Load(RuleCompiler.Compile(policy), possibleCpus: 2);
        return loaded.Maps.Count;
    }
}
