namespace XdpGate.Appliance.Ports;

/// <summary>
/// Frames that enter the dataplane from the host rather than from a wire (what the host stack sends through a TAP
/// device): they leave by the port the source stands for, without running the program, as the host's own
/// traffic leaves an interface in the kernel without passing its ingress XDP hook.
/// </summary>
public interface IFrameSource
{
    /// <summary>A descriptor to poll() for readable events, or -1.</summary>
    int PollDescriptor { get; }

    /// <summary>Copies the next frame into <paramref name="buffer"/>: its length, 0 when none waits, negative on an error. Never blocks.</summary>
    int Read(Span<byte> buffer);
}
