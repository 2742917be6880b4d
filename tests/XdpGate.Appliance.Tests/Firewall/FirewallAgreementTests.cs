using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Execution;
using Xunit;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>The compiled firewall in our engine against the reference first-match evaluator, on random rule sets and packets.</summary>
public class FirewallAgreementTests
{
    public static TheoryData<int, int, int, ExecutionEngine> RuleSets() => new()
    {
        // seed, rules, packets, engine: many small rule sets, a few that span several bitmap blocks.
        { 1, 60, 4000, ExecutionEngine.Jit },
        { 2, 8, 3000, ExecutionEngine.Jit },
        { 3, 25, 3000, ExecutionEngine.Interpreter },
        { 4, 700, 1500, ExecutionEngine.Jit },
        { 5, 1, 1000, ExecutionEngine.Jit },
        { 6, 0, 500, ExecutionEngine.Jit },
        { 7, 1200, 1500, ExecutionEngine.Jit },
        { 8, 3, 3000, ExecutionEngine.Jit },
        { 9, 120, 3000, ExecutionEngine.Jit },
        { 10, 40, 3000, ExecutionEngine.Interpreter },
    };

    [Theory]
    [MemberData(nameof(RuleSets))]
    public void The_compiled_firewall_agrees_with_the_reference_on_every_packet_and_counter(int seed, int rules, int packets, ExecutionEngine engine)
    {
        var random = new RandomFirewall(seed);
        var policy = random.Policy(rules);
        using var firewall = new FirewallHarness(policy, engine);
        var expectedRules = new ulong[rules];
        var expectedStats = new ulong[(int)fw_stat.FW_STATS];

        for (var i = 0; i < packets; i++)
        {
            var (frame, ingress) = random.Packet();
            var expected = ReferenceFirewall.Evaluate(policy, frame, ingress);
            var verdict = firewall.Run(frame, ingress);
            Assert.True(expected.Verdict == verdict,
                $"packet {i} ({Convert.ToHexString(frame)}, ingress {ingress}): reference {expected.Verdict} via rules [{string.Join(",", expected.CountedRules)}] stat {expected.Stat}, program {verdict}");
            foreach (var rule in expected.CountedRules)
                expectedRules[rule]++;
            if (expected.Stat is { } stat)
                expectedStats[(int)stat]++;
        }

        for (var rule = 0; rule < rules; rule++)
            Assert.Equal((rule, expectedRules[rule]), (rule, firewall.RuleCounter(rule).Packets));
        for (var stat = 0; stat < expectedStats.Length; stat++)
            Assert.Equal(((fw_stat)stat, expectedStats[stat]), ((fw_stat)stat, firewall.Stat((fw_stat)stat).Packets));
        Assert.True(rules == 0 || expectedStats.Sum(s => (long)s) < packets, "some packets reached a terminal rule");
    }
}
