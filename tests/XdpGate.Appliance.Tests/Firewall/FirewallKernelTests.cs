using System.Runtime.InteropServices;
using Xunit;
using XdpGate.Appliance.Firewall;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>
/// The shipped firewall.o in the running kernel (as root): the kernel's verifier accepts it, and with the maps our
/// compiler writes (copied entry by entry into kernel maps) BPF_PROG_TEST_RUN gives the reference's verdict on every
/// packet and the reference's per-rule counts.
/// </summary>
public sealed class FirewallKernelTests
{
    [SkippableFact]
    public void The_kernel_runs_the_shipped_firewall_with_the_compiled_maps_as_the_reference_says()
    {
        var unavailable = BpfSyscall.WhyUnavailable();
        Skip.If(unavailable is not null, $"kernel agreement not checked: {unavailable}");
        var random = new RandomFirewall(11);
        var policy = random.Policy(700);
        using var kernel = KernelFirewall.Load(RuleCompiler.Compile(policy));
        var expectedRules = new ulong[policy.Rules.Count];
        var runs = 0;
        for (var i = 0; i < 1500; i++)
        {
            var (frame, _) = random.Packet();
            if (frame.Length < 14)
                continue; // the kernel's test run refuses frames without an Ethernet header
            // Without an ingress device in ctx_in the kernel's test run receives on the loopback device, ifindex 1.
            var expected = ReferenceFirewall.Evaluate(policy, frame, ingressIfindex: 1);
            var run = BpfSyscall.ProgTestRun(kernel.Program, frame, frame.Length + 256);
            Assert.True(expected.Verdict == run.Retval, $"packet {i} ({Convert.ToHexString(frame)}): reference {expected.Verdict}, kernel {run.Retval}");
            foreach (var rule in expected.CountedRules)
                expectedRules[rule]++;
            runs++;
        }

        var counters = kernel.Maps[FirewallMaps.RuleCounts];
        var perCpu = new byte[FirewallLayout.CounterSize * PossibleCpus.Count];
        for (var rule = 0; rule < policy.Rules.Count; rule++)
        {
            Assert.True(BpfSyscall.MapLookup(counters, BitConverter.GetBytes(rule), perCpu));
            var words = MemoryMarshal.Cast<byte, ulong>(perCpu);
            ulong packets = 0;
            for (var cpu = 0; cpu < PossibleCpus.Count; cpu++)
                packets += words[cpu * 2];
            Assert.Equal((rule, expectedRules[rule]), (rule, packets));
        }
        Assert.True(runs > 1000);
    }
}
