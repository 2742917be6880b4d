using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Verifier;
using Xunit;
using Xunit.Abstractions;

namespace XdpGate.Appliance.Tests.Firewall;

public sealed class FirewallVerificationTests(ITestOutputHelper output)
{
    [Fact]
    public void The_built_in_firewall_is_verified_at_the_default_level_in_a_tenth_of_the_instruction_budget()
    {
        using var loaded = FirewallBuiltin.Open().Load(possibleCpus: 2);
        var result = loaded.Programs["xdp_firewall"].Verification;

        output.WriteLine($"firewall.o: {result.InstructionsProcessed} insns processed, peak states {result.PeakStates}, total states {result.TotalStates}, {result.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(VerificationLevel.Privileged, result.Level);
        // firewall.c is shaped so that neither the rules nor the parse paths multiply the walk (10.3k when written); a
        // change of the program or of the verifier that loses that shows here long before the 1M budget.
        Assert.InRange(result.InstructionsProcessed, 1, 100_000);
    }
}
