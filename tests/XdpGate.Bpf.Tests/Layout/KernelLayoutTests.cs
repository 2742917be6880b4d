using System.Runtime.InteropServices;
using Xunit;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Tests.Layout;

/// <summary>The structs we mirror from the kernel's uapi headers keep its exact sizes and offsets.</summary>
public sealed class KernelLayoutTests
{
    [Fact]
    public void Bpf_insn_is_8_bytes_with_registers_in_one_byte()
    {
        Assert.Equal(8, Marshal.SizeOf<bpf_insn>());
        Assert.Equal(0, (int)Marshal.OffsetOf<bpf_insn>(nameof(bpf_insn.code)));
        Assert.Equal(1, (int)Marshal.OffsetOf<bpf_insn>(nameof(bpf_insn.regs)));
        Assert.Equal(2, (int)Marshal.OffsetOf<bpf_insn>(nameof(bpf_insn.off)));
        Assert.Equal(4, (int)Marshal.OffsetOf<bpf_insn>(nameof(bpf_insn.imm)));
        var insn = bpf_insn.FromBytes([0xbf, 0x21, 0, 0, 0, 0, 0, 0])[0];
        Assert.Equal(1, insn.dst_reg);
        Assert.Equal(2, insn.src_reg);
    }

    [Theory]
    [InlineData(nameof(xdp_md.data), 0)]
    [InlineData(nameof(xdp_md.data_end), 4)]
    [InlineData(nameof(xdp_md.data_meta), 8)]
    [InlineData(nameof(xdp_md.ingress_ifindex), 12)]
    [InlineData(nameof(xdp_md.rx_queue_index), 16)]
    [InlineData(nameof(xdp_md.egress_ifindex), 20)]
    public void Xdp_md_fields_sit_at_the_uapi_offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<xdp_md>(field));

    [Fact]
    public void Xdp_md_is_24_bytes() => Assert.Equal(24, Marshal.SizeOf<xdp_md>());
}
