using Tmds.Linux;

namespace XdpGate.Linux.Threading;

/// <summary>poll() over a fixed set of descriptors for readable events, without allocating per call.</summary>
public sealed unsafe class PollSet
{
    private readonly pollfd[] descriptors;

    /// <summary>Watches <paramref name="fds"/> (negative entries are ignored, as poll() does) for POLLIN.</summary>
    public PollSet(IEnumerable<int> fds)
    {
        ArgumentNullException.ThrowIfNull(fds);
        descriptors = [.. fds.Select(fd => new pollfd { fd = fd, events = LibC.POLLIN })];
    }

    /// <summary>Whether the set holds any descriptor to wait on.</summary>
    public bool IsEmpty => descriptors.All(d => d.fd < 0);

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for any descriptor to be readable; returns how many are (0 on timeout or EINTR).</summary>
    public int Wait(int timeoutMilliseconds)
    {
        fixed (pollfd* p = descriptors)
        {
            var ready = LibC.poll(p, (ulong_t)(ulong)descriptors.Length, timeoutMilliseconds);
            return ready < 0 ? 0 : ready;
        }
    }
}
