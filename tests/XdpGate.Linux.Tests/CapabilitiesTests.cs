using Xunit;

namespace XdpGate.Linux.Tests;

/// <summary>Narrowing the calling thread's effective capabilities, and getting them back.</summary>
public sealed class CapabilitiesTests
{
    private static readonly ulong BpfOnly = Capabilities.Bit(Capabilities.CAP_BPF) | Capabilities.Bit(Capabilities.CAP_NET_ADMIN);

    [SkippableFact]
    public void The_effective_set_is_narrowed_inside_and_restored_after()
    {
        Skip.IfNot((Capabilities.Permitted & BpfOnly) == BpfOnly, "the process may not hold CAP_BPF and CAP_NET_ADMIN");
        RunOnOwnThread(() =>
        {
            var before = Capabilities.Effective;
            var inside = Capabilities.WithEffective(BpfOnly, () => Capabilities.Effective);
            Assert.Equal(BpfOnly, inside);
            Assert.Equal(before, Capabilities.Effective);
        });
    }

    [SkippableFact]
    public void The_effective_set_is_restored_when_the_action_throws()
    {
        Skip.IfNot((Capabilities.Permitted & BpfOnly) == BpfOnly, "the process may not hold CAP_BPF and CAP_NET_ADMIN");
        RunOnOwnThread(() =>
        {
            var before = Capabilities.Effective;
            Assert.Throws<TimeoutException>(() => Capabilities.WithEffective<int>(BpfOnly, () => throw new TimeoutException()));
            Assert.Equal(before, Capabilities.Effective);
        });
    }

    [Fact]
    public void A_capability_outside_the_permitted_set_is_refused_by_name()
    {
        RunOnOwnThread(() =>
        {
            var missing = ~Capabilities.Permitted & Capabilities.Bit(63);
            Skip.If(missing == 0, "capability 63 is permitted here");
            var e = Assert.Throws<ArgumentException>(() => Capabilities.WithEffective(missing, () => 0));
            Assert.Contains("not in the thread's permitted set", e.Message, StringComparison.Ordinal);
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => Capabilities.Bit(64));
    }

    // Capabilities are per thread: a thread of its own keeps any change away from the test runner's pool.
    private static void RunOnOwnThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
}
