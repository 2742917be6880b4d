using System.Text;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier.Scalars;

namespace XdpGate.Bpf.Verifier;

/// <summary>What a register holds, as the kernel's enum bpf_reg_type names it (with PTR_MAYBE_NULL folded into the kind).</summary>
public enum RegKind : byte
{
    NotInit,
    Scalar,
    Ctx,
    Packet,
    PacketEnd,
    PacketMeta,
    Stack,
    MapPtr,
    MapValue,
    MapValueOrNull,
    /// <summary>Helper-returned memory of a known size (a ring buffer record).</summary>
    Mem,
    MemOrNull,
    /// <summary>The address of a subprogram (lddw func), for bpf_loop callbacks.</summary>
    Func,
}

/// <summary>
/// The kernel's bpf_reg_state: kind, fixed offset <see cref="Off"/> and variable part <see cref="Var"/> of a pointer (the
/// value itself for a scalar), and the kind's extras: the id shared by copies (null checks and packet ranges reach every
/// copy), the proven packet range, the map, the memory size, the stack frame, the ring buffer reference.
/// </summary>
public struct Reg : IEquatable<Reg>
{
    public RegKind Kind;
    public int Off;
    public Scalar Var;
    public int Id;
    public int Range;
    public BpfMap? Map;
    public int MemSize;
    public int Frame;
    public int RefId;

    public static Reg NotInit => default;

    public static Reg Unknown => new() { Kind = RegKind.Scalar, Var = Scalar.Unknown };

    public static Reg Const(ulong value) => new() { Kind = RegKind.Scalar, Var = Scalar.Const(value) };

    public static Reg Of(Scalar value) => new() { Kind = RegKind.Scalar, Var = value };

    public static Reg Pointer(RegKind kind, int off = 0) => new() { Kind = kind, Off = off, Var = Scalar.Const(0) };

    public readonly bool IsPointer => Kind is not (RegKind.NotInit or RegKind.Scalar);

    public readonly bool IsPacket => Kind is RegKind.Packet or RegKind.PacketMeta;

    public readonly bool MaybeNull => Kind is RegKind.MapValueOrNull or RegKind.MemOrNull;

    public readonly bool IsConstScalar(ulong value) => Kind == RegKind.Scalar && Var.IsConst && Var.ConstValue == value;

    public readonly bool Equals(Reg other) =>
        Kind == other.Kind && Off == other.Off && Id == other.Id && Range == other.Range && ReferenceEquals(Map, other.Map)
        && MemSize == other.MemSize && Frame == other.Frame && RefId == other.RefId && SameScalar(Var, other.Var);

    public override readonly bool Equals(object? obj) => obj is Reg other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(Kind, Off, Var.Bits, Var.UMin, Var.UMax, Range);

    private static bool SameScalar(in Scalar a, in Scalar b) =>
        a.Bits == b.Bits && a.SMin == b.SMin && a.SMax == b.SMax && a.UMin == b.UMin && a.UMax == b.UMax
        && a.S32Min == b.S32Min && a.S32Max == b.S32Max && a.U32Min == b.U32Min && a.U32Max == b.U32Max;

    /// <summary>The kernel log's spelling of a kind: scalar, ctx, pkt, pkt_end, map_value_or_null...</summary>
    public static string KindName(RegKind kind) => kind switch
    {
        RegKind.NotInit => "?",
        RegKind.Scalar => "scalar",
        RegKind.Ctx => "ctx",
        RegKind.Packet => "pkt",
        RegKind.PacketEnd => "pkt_end",
        RegKind.PacketMeta => "pkt_meta",
        RegKind.Stack => "fp",
        RegKind.MapPtr => "map_ptr",
        RegKind.MapValue => "map_value",
        RegKind.MapValueOrNull => "map_value_or_null",
        RegKind.Mem => "mem",
        RegKind.MemOrNull => "mem_or_null",
        _ => "func",
    };

    /// <summary>The state as the kernel's log prints it, e.g. <c>pkt(id=0,off=14,r=0)</c> or <c>scalar(umax=255)</c>.</summary>
    public override readonly string ToString()
    {
        if (Kind == RegKind.Scalar)
            return Var.IsConst ? ((long)Var.ConstValue).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"scalar({Bounds(Var)})";
        if (Kind == RegKind.NotInit)
            return "?";
        var text = new StringBuilder(KindName(Kind)).Append('(');
        if (Kind is RegKind.Packet or RegKind.PacketMeta)
            text.Append($"id={Id},off={Off},r={Range}");
        else if (Kind == RegKind.Stack)
            text.Append($"frame={Frame},off={Off}");
        else if (Kind is RegKind.MapValue or RegKind.MapValueOrNull or RegKind.MapPtr)
            text.Append($"map={Map?.Name},ks={Map?.KeySize},vs={Map?.ValueSize},off={Off}");
        else if (Kind is RegKind.Mem or RegKind.MemOrNull)
            text.Append($"sz={MemSize},off={Off}");
        else
            text.Append($"off={Off}");
        if (!Var.IsConst)
            text.Append(',').Append(Bounds(Var));
        return text.Append(')').ToString();
    }

    private static string Bounds(in Scalar s)
    {
        var parts = new List<string>();
        if (s.SMin != long.MinValue) parts.Add($"smin={s.SMin}");
        if (s.SMax != long.MaxValue) parts.Add($"smax={s.SMax}");
        if (s.UMin != 0) parts.Add($"umin={s.UMin}");
        if (s.UMax != ulong.MaxValue) parts.Add($"umax={s.UMax}");
        if (!s.Bits.IsUnknown) parts.Add($"var_off=(0x{s.Bits.Value:x}; 0x{s.Bits.Mask:x})");
        return string.Join(',', parts);
    }
}
