using Xunit;
using XdpGate.Linux.Netns;
using XdpGate.Testing.Net;

namespace XdpGate.Linux.Tests.Netns;

/// <summary>The per-namespace, per-interface claim that tells a crashed run's leftovers from a live run's.</summary>
public sealed class InterfaceLockTests
{
    [SkippableFact]
    public void A_claimed_interface_is_refused_naming_the_holder_and_free_again_once_released()
    {
        var why = VethPair.WhyUnavailable();
        Skip.If(why is not null, why);
        using var pair = new VethPair();
        var first = pair.InA(() => InterfaceLock.Acquire(pair.IfindexA, pair.InterfaceA, "test"));
        Assert.True(File.Exists(first.Path));
        var e = Assert.Throws<InvalidOperationException>(() => pair.InA(() => InterfaceLock.Acquire(pair.IfindexA, pair.InterfaceA, "test")));
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        // The same ifindex in another namespace is another interface.
        using (pair.InB(() => InterfaceLock.Acquire(pair.IfindexA, pair.InterfaceB, "test")))
        {
        }
        first.Dispose();
        Assert.False(File.Exists(first.Path));
        using var again = pair.InA(() => InterfaceLock.Acquire(pair.IfindexA, pair.InterfaceA, "test"));
        Assert.Equal(first.Path, again.Path);
    }
}
