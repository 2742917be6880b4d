using Xunit;
using Xunit.Abstractions;
using XdpGate.Linux.Netlink;

namespace XdpGate.Linux.Tests.Netlink;

/// <summary>The netlink structs and numbers keep linux/netlink.h, rtnetlink.h and if_link.h's layout and values.</summary>
public sealed class RtnetlinkLayoutTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Structs_and_constants_agree_with_the_installed_headers_compiled_by_gcc()
    {
        var why = HeaderProbe.WhyUnavailable("linux/netlink.h", "linux/rtnetlink.h", "linux/if_link.h");
        Skip.If(why is not null, why);
        var count = HeaderProbe.Check(["sys/socket.h", "linux/netlink.h", "linux/rtnetlink.h", "linux/if_link.h"],
            [typeof(nlmsghdr), typeof(nlmsgerr), typeof(nlattr), typeof(ifinfomsg), typeof(sockaddr_nl)],
            [typeof(netlink), typeof(rtnetlink)]);
        output.WriteLine($"{count} fields and constants agree");
    }
}
