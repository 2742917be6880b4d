using System.Runtime.InteropServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// get_next_key for maps indexed by a u32 slot (array, percpu_array, prog_array, devmap): every index in order,
/// starting over at 0 for a missing or out-of-range key, as the kernel's array maps iterate.
/// </summary>
internal static class ArrayKeys
{
    /// <summary>
    /// The update checks of the kernel's array-indexed maps, in its order: unknown flags (-EINVAL), index past
    /// max_entries (-E2BIG), BPF_NOEXIST on slots that always exist (-EEXIST). Arrays accept BPF_F_LOCK here and
    /// judge it afterwards; devmaps do not.
    /// </summary>
    public static int CheckUpdate(uint index, int maxEntries, ulong flags, bool lockFlagAllowed)
    {
        if ((lockFlagAllowed ? flags & ~MapFlags.BPF_F_LOCK : flags) > MapFlags.BPF_EXIST)
            return -Errno.EINVAL;
        if (index >= (uint)maxEntries)
            return -Errno.E2BIG;
        if ((flags & MapFlags.BPF_NOEXIST) != 0)
            return -Errno.EEXIST;
        return 0;
    }

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
