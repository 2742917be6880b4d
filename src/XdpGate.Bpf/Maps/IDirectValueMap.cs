namespace XdpGate.Bpf.Maps;

/// <summary>
/// Maps whose value memory a program may address directly with <c>lddw rX, map_value(...)</c>
/// (the kernel's map_direct_value_addr): global data sections are single-element arrays used this way.
/// </summary>
public interface IDirectValueMap
{
    /// <summary>Whether this map allows direct value access at all (the kernel: plain arrays with max_entries 1).</summary>
    bool HasDirectValue { get; }

    /// <summary>The address of byte <paramref name="offset"/> of element 0's value, or 0 when out of range.</summary>
    nint DirectValueAddress(uint offset);
}
