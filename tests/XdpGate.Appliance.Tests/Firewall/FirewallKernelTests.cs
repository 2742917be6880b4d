using System.Runtime.InteropServices;
using Xunit;
using XdpGate.Appliance.Firewall;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
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
        var obj = BuiltinFirewall.Open();
        using var engine = obj.Load();
        FirewallMapWriter.Write(RuleCompiler.Compile(policy), engine.Maps);

        var fds = new List<BpfMapFd>();
        try
        {
            foreach (var map in obj.Maps)
            {
                var d = map.Definition;
                var fd = BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, map.Name.Replace('.', '_'));
                fds.Add(fd);
                var ours = engine.Maps[map.Name];
                if (ours.IsPerCpu)
                    continue;
                foreach (var (key, value) in ours.Dump())
                {
                    // Kernel arrays start zeroed; copying only the written elements keeps this to seconds.
                    if (d.Type != bpf_map_type.BPF_MAP_TYPE_ARRAY || value.AsSpan().ContainsAnyExcept((byte)0))
                        BpfSyscall.MapUpdate(fd, key, value);
                }
            }
            var program = obj.Programs.Single(p => p.Name == FirewallMaps.Program);
            using var btf = BpfSyscall.BtfLoad(obj.KernelBtf()!);
            var funcInfo = program.FuncInfo.Select(f => new bpf_func_info { insn_off = (uint)f.InstructionIndex, type_id = f.TypeId }).ToArray();
            var bound = KernelRelocation.BindMapFds([.. program.Instructions], [.. fds.Select(f => f.Fd)]);
            using var prog = BpfSyscall.ProgLoad((uint)program.Type, bpf_insn.ToBytes(bound), "GPL", "xdp_firewall", btf: btf, funcInfo: funcInfo);

            var expectedRules = new ulong[policy.Rules.Count];
            var runs = 0;
            for (var i = 0; i < 1500; i++)
            {
                var (frame, _) = random.Packet();
                if (frame.Length < 14)
                    continue; // the kernel's test run refuses frames without an Ethernet header
                // Without an ingress device in ctx_in the kernel's test run receives on the loopback device, ifindex 1.
                var expected = ReferenceFirewall.Evaluate(policy, frame, ingressIfindex: 1);
                var kernel = BpfSyscall.ProgTestRun(prog, frame, frame.Length + 256);
                Assert.True(expected.Verdict == kernel.Retval, $"packet {i} ({Convert.ToHexString(frame)}): reference {expected.Verdict}, kernel {kernel.Retval}");
                foreach (var rule in expected.CountedRules)
                    expectedRules[rule]++;
                runs++;
            }

            var counters = fds[obj.Maps.ToList().FindIndex(m => m.Name == FirewallMaps.RuleCounts)];
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
        finally
        {
            foreach (var fd in fds)
                fd.Dispose();
        }
    }
}
