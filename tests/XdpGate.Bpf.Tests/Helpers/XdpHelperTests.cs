using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Helpers;

public sealed class XdpHelperTests
{
    private static (xdp_action Verdict, XdpContext Context, byte[] Packet) Run(string asm, byte[] packet, params BpfMap[] maps)
    {
        var program = TestPrograms.Xdp(asm, maps);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(packet);
        var verdict = vm.RunXdp(program, ref frame.Context);
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
        return (verdict, frame.Context, frame.Context.Packet.ToArray());
    }

    [Theory]
    [InlineData(-8, 0, 68)]
    [InlineData(-216, 0, 276)]
    [InlineData(-217, -22, 60)]
    [InlineData(46, 0, 14)]
    [InlineData(47, -22, 60)]
    public void Adjust_head_moves_data_within_headroom_and_keeps_an_ethernet_header(int delta, int expectedResult, int expectedLength)
    {
        var (verdict, context, _) = Run($"""
            r2 = {delta}
            call 44
            exit
            """, new byte[60]);
        Assert.Equal(expectedResult, (int)(uint)verdict);
        Assert.Equal(expectedLength, context.Length);
    }

    [Fact]
    public void Adjust_head_growth_exposes_new_bytes_before_the_old_packet()
    {
        var packet = Enumerable.Range(1, 60).Select(i => (byte)i).ToArray();
        var (_, _, after) = Run("""
            r6 = r1
            r2 = -4
            call 44
            r1 = *(u32 *)(r6 + 0)
            r2 = *(u32 *)(r6 + 4)
            r3 = r1
            r3 += 4
            if r3 > r2 goto out
            *(u32 *)(r1 + 0) = 0x44332211
            out:
            r0 = 2
            exit
            """, packet);
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44, 1, 2, 3 }, after[..7]);
    }

    [Theory]
    [InlineData(-4, 0)]
    [InlineData(-36, 0)]
    [InlineData(-216, 0)]
    [InlineData(-220, -22)]
    [InlineData(-2, -13)]
    [InlineData(4, -22)]
    public void Adjust_meta_takes_multiples_of_4_up_to_the_headroom(int delta, int expected)
    {
        var (verdict, context, _) = Run($"""
            r2 = {delta}
            call 54
            exit
            """, new byte[60]);
        Assert.Equal(expected, (int)(uint)verdict);
        Assert.Equal(expected == 0 ? -delta : 0, context.MetaLength);
    }

    [Fact]
    public void Adjust_head_carries_metadata_along()
    {
        var (_, context, _) = Run("""
            r6 = r1
            r2 = -8
            call 54
            r1 = *(u32 *)(r6 + 8)
            r2 = *(u32 *)(r6 + 0)
            r3 = r1
            r3 += 8
            if r3 > r2 goto out
            r4 = 0x0807060504030201 ll
            *(u64 *)(r1 + 0) = r4
            r1 = r6
            r2 = -20
            call 44
            out:
            r0 = 2
            exit
            """, new byte[60]);
        Assert.Equal(80, context.Length);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, context.Metadata.ToArray());
    }

    [Theory]
    [InlineData(-46, 0, 14)]
    [InlineData(-47, -22, 60)]
    [InlineData(100, 0, 160)]
    [InlineData(3460, 0, 3520)]
    [InlineData(3461, -22, 60)]
    public void Adjust_tail_stays_between_an_ethernet_header_and_the_reserved_tailroom(int delta, int expected, int length)
    {
        var (verdict, context, packet) = Run($"""
            r2 = {delta}
            call 65
            exit
            """, Enumerable.Repeat((byte)0xaa, 60).ToArray());
        Assert.Equal(expected, (int)(uint)verdict);
        Assert.Equal(length, context.Length);
        if (delta > 0 && expected == 0)
            Assert.All(packet[60..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Redirect_returns_xdp_redirect_and_records_the_target()
    {
        var program = TestPrograms.Xdp("r1 = 9\nr2 = 0\ncall 23\nexit");
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(xdp_action.XDP_REDIRECT, vm.RunXdp(program, ref frame.Context));
        Assert.Equal(9u, vm.RedirectIfindex);
    }

    [Fact]
    public void Redirect_with_flags_aborts()
    {
        var (verdict, _, _) = Run("r1 = 9\nr2 = 1\ncall 23\nexit", new byte[60]);
        Assert.Equal(xdp_action.XDP_ABORTED, verdict);
    }

    [Theory]
    [InlineData(0u, 0ul, xdp_action.XDP_REDIRECT)]
    [InlineData(1u, 2ul, xdp_action.XDP_PASS)]
    [InlineData(1u, 1ul, xdp_action.XDP_DROP)]
    [InlineData(7u, 3ul, xdp_action.XDP_TX)]
    [InlineData(0u, 0x20ul, xdp_action.XDP_ABORTED)]
    public void Redirect_map_falls_back_to_the_action_in_flags_when_the_slot_is_empty(uint key, ulong flags, xdp_action expected)
    {
        using var ports = new DevMap(new MapDefinition("ports", bpf_map_type.BPF_MAP_TYPE_DEVMAP, 4, 4, 8));
        Assert.Equal(0, ports.Update(BitConverter.GetBytes(0u), BitConverter.GetBytes(5u)));
        var program = TestPrograms.Xdp($"""
            r1 = map_by_idx(0) ll
            r2 = {key}
            r3 = {flags}
            call 51
            exit
            """, ports);
        using var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(new byte[60]);
        Assert.Equal(expected, vm.RunXdp(program, ref frame.Context));
        if (expected == xdp_action.XDP_REDIRECT)
            Assert.Equal(5u, ports.Ifindex(vm.RedirectKey));
    }

    [Fact]
    public void Load_and_store_bytes_copy_between_packet_and_stack_with_the_kernels_errors()
    {
        var packet = Enumerable.Range(0, 60).Select(i => (byte)i).ToArray();
        var (verdict, _, after) = Run("""
            r6 = r1
            r2 = 10
            r3 = r10
            r3 += -8
            r4 = 8
            call 189
            r7 = *(u64 *)(r10 - 8)
            r1 = r6
            r2 = 0
            r3 = r10
            r3 += -8
            r4 = 8
            call 190
            r1 = r6
            r2 = 56
            r3 = r10
            r3 += -8
            r4 = 8
            call 189
            r8 = r0
            r1 = r6
            r2 = 0x10000
            r3 = r10
            r3 += -8
            r4 = 8
            call 189
            r0 += r8
            exit
            """, packet);
        Assert.Equal(-22 + -14, (int)(long)(ulong)verdict);
        Assert.Equal(packet[10..18], after[..8]);
    }

    [Fact]
    public void Get_buff_len_is_the_packet_length()
    {
        var (verdict, _, _) = Run("call 188\nexit", new byte[123]);
        Assert.Equal((xdp_action)123, verdict);
    }

    [Fact]
    public void Xdp_helpers_are_refused_at_load_for_programs_without_an_xdp_context()
    {
        var error = Assert.Throws<BpfLoadException>(() => TestPrograms.Raw("r2 = 0\ncall 44\nexit"));
        Assert.Contains("xdp_adjust_head", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Legacy_packet_loads_are_refused_in_xdp_programs()
    {
        var error = Assert.Throws<BpfLoadException>(() => TestPrograms.Xdp("r0 = *(u8 *)skb[0]\nexit"));
        Assert.Contains("LD_ABS", error.Message, StringComparison.Ordinal);
    }
}
