using Xunit;
using XdpGate.Linux.Bpf;
using XdpGate.Linux.Netlink;
using XdpGate.Testing.Net;
using XdpGate.Uapi;

namespace XdpGate.Linux.Tests.Netlink;

/// <summary>rtnetlink link queries and XDP attach/detach on a veth pair in namespaces the test made.</summary>
public sealed class LinksTests
{
    // r0 = XDP_PASS (2); exit
    private static readonly byte[] PassProgram = [0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];

    [SkippableFact]
    public void A_link_is_found_by_name_and_by_index_with_its_mtu_mac_and_queues()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => new RouteSocket());
        var byName = Links.Get(socket, pair.InterfaceA);
        Assert.Equal(pair.IfindexA, byName.Ifindex);
        Assert.Equal(pair.InterfaceA, byName.Name);
        Assert.Equal(1500, byName.Mtu);
        Assert.Equal(pair.MacA, byName.Address);
        Assert.True(byName.RxQueues >= 1 && byName.TxQueues >= 1, $"{byName.RxQueues} RX / {byName.TxQueues} TX queues");
        Assert.Equal(XdpAttachMode.None, byName.XdpMode);
        Assert.Equal(byName, Links.Get(socket, pair.IfindexA) with { Address = byName.Address });
    }

    [SkippableFact]
    public void An_unknown_interface_is_refused_naming_it()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => new RouteSocket());
        var e = Assert.Throws<SyscallException>(() => Links.Get(socket, "xg-nonexistent"));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("xg-nonexistent", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Xdp_attaches_natively_to_veth_refuses_a_second_program_with_the_kernels_message_and_detaches_cleanly()
    {
        var why = VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => new RouteSocket());
        using var prog = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, PassProgram, name: "xg_test_pass");
        using var other = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, PassProgram, name: "xg_test_other");

        var mode = Links.AttachXdp(socket, pair.IfindexA, prog.Fd);
        Assert.Equal(XdpAttachMode.Driver, mode);
        var attached = Links.Get(socket, pair.IfindexA);
        Assert.Equal(XdpAttachMode.Driver, attached.XdpMode);
        Assert.Equal(BpfSyscall.ProgInfo(prog).Id, attached.XdpProgId);
        using (var found = BpfSyscall.ProgGetFdById(attached.XdpProgId))
            Assert.Equal("xg_test_pass", found!.Name);

        // XDP_FLAGS_UPDATE_IF_NOEXIST: the kernel refuses and says why in an extended ack.
        var e = Assert.Throws<SyscallException>(() => Links.AttachXdp(socket, pair.IfindexA, other.Fd));
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.False(string.IsNullOrEmpty(e.KernelMessage), e.Message);

        Links.DetachXdp(socket, pair.IfindexA, mode);
        var clean = Links.Get(socket, pair.IfindexA);
        Assert.Equal(XdpAttachMode.None, clean.XdpMode);
        Assert.Equal(0u, clean.XdpProgId);
    }

    [SkippableFact]
    public void Generic_mode_is_used_when_native_is_not_allowed()
    {
        var why = VethPair.WhyUnavailable() ?? BpfSyscall.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        using var socket = pair.InA(() => new RouteSocket());
        using var prog = BpfSyscall.ProgLoad(bpf_defines.BPF_PROG_TYPE_XDP, PassProgram, name: "xg_test_skb");
        Assert.Equal(XdpAttachMode.Generic, Links.AttachXdp(socket, pair.IfindexA, prog.Fd, allowNative: false));
        Assert.Equal(XdpAttachMode.Generic, Links.Get(socket, pair.IfindexA).XdpMode);
        Links.DetachXdp(socket, pair.IfindexA, XdpAttachMode.Generic);
        Assert.Equal(XdpAttachMode.None, Links.Get(socket, pair.IfindexA).XdpMode);
    }
}
