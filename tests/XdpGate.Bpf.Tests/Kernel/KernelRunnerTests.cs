using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Kernel;

/// <summary>The runner itself: programs, packets and maps go through the kernel and our engine alike.</summary>
public sealed class KernelRunnerTests
{
    private static readonly byte[] Packet = Packets.Udp4(53, payload: 26); // 68 bytes

    [Fact]
    public void Map_index_forms_become_map_fd_forms_with_the_fd_as_imm()
    {
        var insns = Assembler.Assemble("""
            r1 = map_by_idx(1) ll
            r2 = map_value_by_idx(0, +8) ll
            r0 = 0x100000002 ll
            exit
            """);
        var bound = KernelRelocation.BindMapFds(insns, [40, 41]);
        Assert.Equal((BPF_PSEUDO_MAP_FD, 41), (bound[0].src_reg, bound[0].imm));
        Assert.Equal((BPF_PSEUDO_MAP_VALUE, 40, 8), (bound[2].src_reg, bound[2].imm, bound[3].imm));
        Assert.Equal(insns[4..], bound[4..]);
        Assert.Throws<ArgumentException>(() => KernelRelocation.BindMapFds(Assembler.Assemble("r1 = map_by_idx(2) ll\nexit"), [40, 41]));
    }

    [Theory]
    [InlineData("my_map", "my_map")]
    [InlineData("xdp_stats_map_long_name", "xdp_stats_map_l")]
    [InlineData(".rodata", ".rodata")]
    [InlineData("a-b c", "a_b_c")]
    public void Names_are_cut_to_what_the_kernel_takes(string name, string kernel) => Assert.Equal(kernel, KernelObject.KernelName(name));

    [SkippableFact]
    public void Verdicts_agree()
    {
        // 0xfffffff2 is a helper's -EINVAL seen as a retval.
        uint[] verdicts = [0, 1, 2, 3, 4, 0xfffffff2];
        KernelAgreement.Check("runner/verdicts.txt", "a program returning each value: the run, and whether the packet came back untouched",
            open => verdicts.Select(verdict =>
            {
                using var target = open();
                target.Load("verdict", $"r0 = {(int)verdict}\nexit");
                var run = target.Run("verdict", Packet);
                return $"r0 = {(int)verdict}: {run}, packet {(run.Packet.AsSpan().SequenceEqual(Packet) ? "untouched" : Convert.ToHexString(run.Packet))}";
            }).ToList());
    }

    [SkippableFact]
    public void Context_fields_agree()
    {
        KernelAgreement.Check("runner/context-fields.txt", "ingress_ifindex * 1000 + rx_queue_index of a test run", open =>
        {
            using var target = open();
            // test_run's device is the loopback (ifindex 1). egress_ifindex is refused by the kernel's verifier unless
            // expected_attach_type is BPF_XDP_DEVMAP ("invalid bpf_context access off=20").
            target.Load("ctx", """
                r2 = *(u32 *)(r1 + 12)
                r3 = *(u32 *)(r1 + 16)
                r0 = r2
                r0 *= 1000
                r0 += r3
                exit
                """);
            return [target.Run("ctx", Packet).ToString()];
        });
    }

    /// <summary>Swaps the MAC addresses and sets the IPv4 TTL to 1, after the bounds check the verifier insists on.</summary>
    private const string RewriteProgram = """
        r2 = *(u32 *)(r1 + 0)
        r3 = *(u32 *)(r1 + 4)
        r4 = r2
        r4 += 34
        if r4 > r3 goto pass
        r5 = *(u32 *)(r2 + 0)
        r6 = *(u16 *)(r2 + 4)
        r7 = *(u32 *)(r2 + 6)
        r8 = *(u16 *)(r2 + 10)
        *(u32 *)(r2 + 0) = r7
        *(u16 *)(r2 + 4) = r8
        *(u32 *)(r2 + 6) = r5
        *(u16 *)(r2 + 10) = r6
        *(u8 *)(r2 + 22) = 1
        r0 = 3
        exit
        pass:
        r0 = 2
        exit
        """;

    /// <summary>counts[2] += 1 on this CPU; by_len[len] += len (created when missing); last.value[8..16] = len.</summary>
    private const string CountProgram = """
        r6 = r1
        r7 = *(u32 *)(r6 + 0)
        r8 = *(u32 *)(r6 + 4)
        r8 -= r7
        ; counts[2] += 1 on this CPU
        r1 = 2
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        r1 = map_by_idx(0) ll
        call 1
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 0)
        r1 += 1
        *(u64 *)(r0 + 0) = r1
        ; by_len[len] += len, creating the element if it is missing
        *(u32 *)(r10 - 8) = r8
        r2 = r10
        r2 += -8
        r1 = map_by_idx(1) ll
        call 1
        if r0 == 0 goto create
        r1 = *(u64 *)(r0 + 0)
        r1 += r8
        *(u64 *)(r0 + 0) = r1
        goto last
        create:
        *(u64 *)(r10 - 16) = r8
        r1 = map_by_idx(1) ll
        r2 = r10
        r2 += -8
        r3 = r10
        r3 += -16
        r4 = 0
        call 2
        last:
        ; last.value[8..16] = len, through the direct value address
        r1 = map_value_by_idx(2, +8) ll
        *(u64 *)(r1 + 0) = r8
        out:
        r0 = 2
        exit
        """;

    [SkippableFact]
    public void Packet_rewrites_agree()
    {
        KernelAgreement.Check("runner/packet-rewrites.txt", "MAC addresses swapped and the IPv4 TTL set to 1: the run and the packet after", open =>
        {
            using var target = open();
            target.Load("rewrite", RewriteProgram);
            var run = target.Run("rewrite", Packet);
            Assert.Equal(3u, run.Retval);
            Assert.Equal(Packet[6..12], run.Packet[..6]);
            Assert.Equal(1, run.Packet[22]);
            return [$"{run}: {Convert.ToHexString(run.Packet)}"];
        });
    }

    [SkippableFact]
    public void Map_updates_from_programs_agree_including_per_cpu_and_direct_values()
    {
        KernelAgreement.Check("runner/map-updates.txt", "a per-CPU counter, a hash created and added to, and a direct value write, over four runs", open =>
        {
            using var target = open(
                new MapDefinition("counts", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4),
                new MapDefinition("by_len", bpf_map_type.BPF_MAP_TYPE_HASH, 4, 8, 16),
                new MapDefinition("last", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 16, 1));
            target.Update(1, BitConverter.GetBytes(60u), BitConverter.GetBytes(1000UL));
            target.Load("count", CountProgram);
            var facts = new[] { Packet, new byte[60], new byte[100], Packet }.Select(packet => target.Run("count", packet).ToString()).ToList();
            facts.AddRange(Enumerable.Range(0, 3).Select(map => KernelAgreement.Dump(target, map)));
            return facts;
        });
    }
}
