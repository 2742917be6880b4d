namespace XdpGate.Bpf.Maps;

/// <summary>A map bpf_redirect_map sends frames through: its entries name egress interfaces.</summary>
public interface IDeviceMap
{
    /// <summary>The ifindex stored under <paramref name="key"/>, or 0 when there is no entry.</summary>
    uint Ifindex(uint key);
}
