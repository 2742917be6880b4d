using System.Runtime.InteropServices;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Firewall;
using XdpGate.Testing.Kernel;
using Xunit;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>
/// The shipped firewall.o in the running kernel (as root): the kernel's verifier accepts it, and with the maps our
/// compiler writes (copied entry by entry into kernel maps) BPF_PROG_TEST_RUN gives the reference's verdict on every
/// packet and the reference's per-rule counts. The kernel's answers are recorded (tests/data/kernel/firewall.txt), so
/// the reference is checked on any machine and a kernel of another release that differs is reported.
/// </summary>
public sealed class FirewallKernelTests
{
    private const int Packets = 1500;

    [SkippableFact]
    public void The_kernel_runs_the_shipped_firewall_with_the_compiled_maps_as_the_reference_says()
    {
        var random = new RandomFirewall(11);
        // Mostly count rules: packets walk far down the list, so the counters of many rules are compared.
        var policy = random.Policy(700, countShare: 0.97);
        // Without an ingress device in ctx_in the kernel's test run receives on the loopback device, ifindex 1; and it
        // refuses frames without an Ethernet header.
        var frames = Enumerable.Range(0, Packets).Select(_ => random.Packet().Frame).Where(f => f.Length >= 14).ToList();
        Assert.True(frames.Count > 1000);
        var expectedRules = new ulong[policy.Rules.Count];
        var reference = new List<string>();
        for (var i = 0; i < frames.Count; i++)
        {
            var expected = ReferenceFirewall.Evaluate(policy, frames[i], ingressIfindex: 1);
            reference.Add($"packet {i}: {expected.Verdict}");
            foreach (var rule in expected.CountedRules)
                expectedRules[rule]++;
        }
        reference.AddRange(expectedRules.Select((n, rule) => $"rule {rule}: {n} packets"));

        Assert.True(expectedRules.Count(n => n > 0) > 50, $"only {expectedRules.Count(n => n > 0)} rules count a packet: the test compares too little");
        KernelOracle.Check("kernel/firewall.txt", $"the built-in firewall with 700 random rules, nearly all count rules (seed 11), on {frames.Count} random packets: verdicts, then per-rule packet counts",
            reference, () =>
            {
                using var kernel = KernelFirewall.Load(RuleCompiler.Compile(policy));
                var facts = frames.Select((frame, i) => $"packet {i}: {BpfSyscall.ProgTestRun(kernel.Program, frame, frame.Length + 256).Retval}").ToList();
                var counters = kernel.Maps[FirewallMaps.RuleCounts];
                var perCpu = new fw_counter[PossibleCpus.Count];
                for (var rule = 0; rule < policy.Rules.Count; rule++)
                {
                    Assert.True(BpfSyscall.MapLookup(counters, BitConverter.GetBytes(rule), MemoryMarshal.AsBytes(perCpu.AsSpan())));
                    facts.Add($"rule {rule}: {perCpu.Aggregate(0UL, (sum, c) => sum + c.packets)} packets");
                }
                return facts;
            }, engineName: "reference firewall");
    }
}
