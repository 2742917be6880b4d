using Xunit;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.HotPath;

namespace XdpGate.Bpf.Tests.Execution;

public sealed class XdpRunTests
{
    [Fact]
    public void Context_loads_of_data_and_data_end_give_real_packet_pointers()
    {
        var program = TestPrograms.Xdp("""
            r2 = *(u32 *)(r1 + 4)
            r1 = *(u32 *)(r1 + 0)
            r0 = r2
            r0 -= r1
            exit
            """);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[77]);
        Assert.Equal((xdp_action)77, vm.RunXdp(program, ref frame.Context));
    }

    [Fact]
    public void Context_fields_ingress_ifindex_and_rx_queue_index_are_read()
    {
        var program = TestPrograms.Xdp("""
            r0 = *(u32 *)(r1 + 12)
            r0 <<= 8
            r2 = *(u32 *)(r1 + 16)
            r0 |= r2
            exit
            """);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60], ingressIfindex: 7, rxQueueIndex: 3);
        Assert.Equal((xdp_action)0x703, vm.RunXdp(program, ref frame.Context));
    }

    [Theory]
    [InlineData("r0 = *(u16 *)(r1 + 0)", "invalid context access")]
    [InlineData("r0 = *(u32 *)(r1 + 2)", "invalid context access")]
    [InlineData("r0 = *(u32 *)(r1 + 24)", "read outside")]
    [InlineData("*(u32 *)(r1 + 0) = 1", "invalid context access")]
    public void Invalid_context_accesses_abort_the_run_with_a_reason(string access, string reason)
    {
        var source = $"""
            r0 = 2
            {access}
            exit
            """;
        Assert.Throws<XdpGate.Bpf.Verifier.VerifierException>(() => TestPrograms.Xdp(source));
        var program = TestPrograms.UnverifiedXdp(source);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(xdp_action.XDP_ABORTED, vm.RunXdp(program, ref frame.Context));
        Assert.Contains(reason, vm.LastFault.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_one_byte_past_data_end_faults_at_its_instruction()
    {
        var program = TestPrograms.UnverifiedXdp("""
            r2 = *(u32 *)(r1 + 0)
            r0 = *(u8 *)(r2 + 60)
            exit
            """);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(xdp_action.XDP_ABORTED, vm.RunXdp(program, ref frame.Context));
        Assert.Equal(FaultReason.InvalidRead, vm.LastFault.Reason);
        Assert.Equal(1, vm.LastFault.Pc);
    }

    [Fact]
    public void The_parse_and_count_program_drops_dns_and_passes_other_udp()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
        using (var vm = new BpfVm(processorId: 1))
        using (var frame = new PacketBuffer())
        {
            frame.Reset(Packets.Udp4(53));
            Assert.Equal(xdp_action.XDP_DROP, vm.RunXdp(program, ref frame.Context));
            frame.Reset(Packets.Udp4(54, ihl: 7));
            Assert.Equal(xdp_action.XDP_PASS, vm.RunXdp(program, ref frame.Context));
            frame.Reset(Packets.Udp4(53, ihl: 6));
            Assert.Equal(xdp_action.XDP_DROP, vm.RunXdp(program, ref frame.Context));
            frame.Reset(Packets.Udp4(53)[..40]);
            Assert.Equal(xdp_action.XDP_DROP, vm.RunXdp(program, ref frame.Context));

            var value = new byte[16];
            Assert.Equal(0, counters.Lookup(BitConverter.GetBytes(1u), value));
            Assert.Equal(0UL, BitConverter.ToUInt64(value, 0));
            Assert.Equal(3UL, BitConverter.ToUInt64(value, 8));
            Assert.Equal(0, counters.Lookup(BitConverter.GetBytes(2u), value));
            Assert.Equal(1UL, BitConverter.ToUInt64(value, 8));
        }
    }

    [Fact]
    public void A_million_runs_allocate_nothing()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
        using (var vm = new BpfVm())
        using (var frame = new PacketBuffer())
        {
            frame.Reset(Packets.Udp4(80));
            Assert.Equal(0, Allocations.InSteadyState(() =>
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    var context = frame.Context;
                    vm.RunXdp(program, ref context);
                }
            }));
        }
    }

    [Fact]
    public void An_endless_loop_is_stopped_by_the_instruction_budget()
    {
        var program = TestPrograms.Raw("""
            r0 = 0
            loop:
            r0 += 1
            goto loop
            exit
            """);
        using var vm = new BpfVm { BackwardJumpLimit = 10_000 };
        Assert.Equal(0UL, vm.Run(program, []));
        Assert.Equal(FaultReason.InstructionLimit, vm.LastFault.Reason);
    }

    [Fact]
    public void A_vm_runs_again_cleanly_after_a_fault()
    {
        var faulting = TestPrograms.Raw("r0 = *(u64 *)(r1 + 100)\nexit");
        var fine = TestPrograms.Raw("r0 = 7\nexit");
        using var vm = new BpfVm();
        vm.Run(faulting, new byte[8]);
        Assert.Equal(FaultReason.InvalidRead, vm.LastFault.Reason);
        Assert.Equal(7UL, vm.Run(fine, new byte[8]));
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
    }
}
