namespace XdpGate.Appliance.Ports;

/// <summary>
/// A port that brings its own stand-in for the host network stack (an in-memory port has no kernel interface
/// behind it). Ports on real interfaces do not implement this: their host stack is reached through a TAP device.
/// </summary>
public interface IHostStackPort
{
    /// <summary>Where queue <paramref name="queue"/>'s XDP_PASS frames go when the pass target is the host.</summary>
    IFrameSink HostStack(int queue);
}
