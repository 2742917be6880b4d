using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// get_next_key for maps indexed by a u32 slot (array, percpu_array, prog_array, devmap): every index in order,
/// starting over at 0 for a missing or out-of-range key, as the kernel's array maps iterate.
/// </summary>
internal static class ArrayKeys
{
    public static int GetNext(ReadOnlySpan<byte> key, int maxEntries, Span<byte> nextKey)
    {
        uint next = 0;
        if (key.Length == sizeof(uint))
        {
            var index = MemoryMarshal.Read<uint>(key);
            if (index < (uint)maxEntries)
            {
                if (index == (uint)maxEntries - 1)
                    return -Errno.ENOENT;
                next = index + 1;
            }
        }
        MemoryMarshal.Write(nextKey, next);
        return 0;
    }
}
