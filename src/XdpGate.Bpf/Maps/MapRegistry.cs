using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// Process-wide table of live maps, so that a program register can hold a small handle (like a kernel map pointer)
/// and a helper can turn it back into the map with one array read.
/// </summary>
public static class MapRegistry
{
    /// <summary>Handles live in a range no user-space pointer uses, so a handle is never mistaken for memory.</summary>
    public const ulong HandleTag = 0xffff_f000_0000_0000;
    private const int Capacity = 1 << 16;

    private static readonly BpfMap?[] Maps = new BpfMap?[Capacity];
    private static readonly Lock Gate = new();
    private static int next = 1;

    internal static int Register(BpfMap map)
    {
        lock (Gate)
        {
            for (var tries = 0; tries < Capacity; tries++)
            {
                var id = next;
                next = next + 1 == Capacity ? 1 : next + 1;
                if (Maps[id] is null)
                {
                    Volatile.Write(ref Maps[id], map);
                    return id;
                }
            }
        }
        throw new InvalidOperationException($"more than {Capacity - 1} maps are open");
    }

    internal static void Unregister(int id)
    {
        lock (Gate)
            Volatile.Write(ref Maps[id], null);
    }

    public static ulong HandleOf(int id) => HandleTag | (uint)id;

    /// <summary>The map a handle refers to, or null when the value is not a live map handle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BpfMap? FromHandle(ulong handle)
    {
        var id = handle ^ HandleTag;
        return id < Capacity ? Maps[id] : null;
    }

    public static BpfMap? FromId(int id) => (uint)id < Capacity ? Maps[id] : null;
}
