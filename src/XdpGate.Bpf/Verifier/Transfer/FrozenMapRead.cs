using System.Runtime.CompilerServices;
using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Verifier.Transfer;

/// <summary>
/// The kernel's bpf_map_direct_read: a load at a constant offset from a map the program cannot write and user
/// space can no longer write (BPF_F_RDONLY_PROG and frozen, as libbpf leaves .rodata) is the constant there now,
/// so branches on <c>volatile const</c> knobs are decided and the disabled side is never explored.
/// </summary>
internal static class FrozenMapRead
{
    /// <summary>Whether a load through the map value pointer <paramref name="ptr"/> reads a constant of the map.</summary>
    public static bool Reads(in Reg ptr)
    {
        var map = ptr.Map!;
        // The kernel asks the map type for a direct address: plain arrays have one (per-CPU arrays and others do not).
        return ptr.Var.IsConst && (map.Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) != 0 && map.IsFrozen
            && map.Type == bpf_map_type.BPF_MAP_TYPE_ARRAY && map is IDirectValueMap;
    }

    /// <summary>The offset into the map's value of a load at <paramref name="off"/> from <paramref name="ptr"/>.</summary>
    public static long Offset(in Reg ptr, int off) => (long)ptr.Off + off + (long)ptr.Var.ConstValue;

    /// <summary>The address of the bytes the load reads, or 0 where the map serves none.</summary>
    public static nint Address(in Reg ptr, int off) => ((IDirectValueMap)ptr.Map!).DirectValueAddress((uint)Offset(ptr, off));

    /// <summary>The constant a load the checks allowed reads.</summary>
    public static unsafe Reg Load(in Reg ptr, int off, int size, bool signed)
    {
        var p = (byte*)Address(ptr, off);
        var value = size switch
        {
            1 => signed ? (ulong)(long)*(sbyte*)p : *p,
            2 => signed ? (ulong)(long)Unsafe.ReadUnaligned<short>(p) : Unsafe.ReadUnaligned<ushort>(p),
            4 => signed ? (ulong)(long)Unsafe.ReadUnaligned<int>(p) : Unsafe.ReadUnaligned<uint>(p),
            _ => Unsafe.ReadUnaligned<ulong>(p),
        };
        return Reg.Const(value);
    }
}
