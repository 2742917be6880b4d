using System.Globalization;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>What the checks of a helper call established for its effects: the map in r1, a reservation's size, the record a release ends.</summary>
internal readonly record struct HelperCall(HelperPrototype Prototype, BpfMap? Map, int AllocSize, int ReleaseRef);

/// <summary>
/// The kernel's check_helper_call up to the call's effects, the refusals: the helper exists and the program type may
/// use it, each argument fits its kind in the helper's prototype (check_func_arg), memory arguments reach only what
/// they may (check_helper_mem_access, check_mem_size_reg), and a tail call leaves no reference behind.
/// </summary>
internal static class HelperChecks
{
    public const string MemoryKinds = "fp, pkt, pkt_meta, map_key, map_value, mem";

    public static bool IsMemory(RegKind kind) =>
        kind is RegKind.Stack or RegKind.Packet or RegKind.PacketMeta or RegKind.MapValue or RegKind.Mem;

    public static HelperCall Call(in CheckSite at, int id, bpf_prog_type type)
    {
        var proto = HelperPrototypes.Get(id)
            ?? throw at.Refuse(VerifierRule.UnknownHelper, $"invalid func {HelperTable.Describe(id) ?? "unknown#" + id.ToString(CultureInfo.InvariantCulture)}");
        if (proto.Provided && !HelperTable.IsAvailable(id, type))
            throw at.Refuse(VerifierRule.UnknownHelper, $"program of this type cannot use helper {proto.Name}#{id}");
        BpfMap? map = null;
        var allocSize = 0;
        var releaseRef = 0;
        for (var i = 0; i < proto.Args.Length; i++)
        {
            var r = i + 1;
            RegisterChecks.Readable(at, r);
            var reg = at.Regs[r];
            switch (proto.Args[i])
            {
                case ArgKind.Anything:
                    if (reg.IsPointer && at.Strict)
                        throw at.Refuse(VerifierRule.PointerLeak, $"R{r} leaks addr into helper function", r);
                    break;
                case ArgKind.ConstMapPtr:
                    if (reg.Kind != RegKind.MapPtr)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=map_ptr", r);
                    map = reg.Map!;
                    if (!HelperPrototypes.MapFits(map.Type, id))
                        throw at.Refuse(VerifierRule.WrongMapType, $"cannot pass map_type {(int)map.Type} into func {proto.Name}#{id}", r);
                    break;
                case ArgKind.MapKey:
                    Memory(at, r, reg, map!.KeySize, write: false);
                    break;
                case ArgKind.MapValue:
                case ArgKind.WriteMapValue:
                    Memory(at, r, reg, map!.ValueSize, proto.Writes(i));
                    break;
                case ArgKind.ReadMem:
                case ArgKind.WriteMem:
                case ArgKind.ReadMemOrNull:
                    if (!(proto.Args[i] == ArgKind.ReadMemOrNull && reg.IsConstScalar(0)) && !IsMemory(reg.Kind))
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected={MemoryKinds}", r);
                    break;
                case ArgKind.ConstSize:
                case ArgKind.ConstSizeOrZero:
                    Size(at, r, reg, zeroAllowed: proto.Args[i] == ArgKind.ConstSizeOrZero, proto.Writes(i));
                    break;
                case ArgKind.ConstAllocSize:
                    if (reg.Kind != RegKind.Scalar || !reg.Var.IsConst)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} is not a known constant'", r);
                    allocSize = (int)Math.Min(reg.Var.ConstValue, int.MaxValue);
                    break;
                case ArgKind.Ctx:
                    if (reg.Kind != RegKind.Ctx)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=ctx", r);
                    if (reg.Off != 0 || !reg.Var.IsConst)
                        throw at.Refuse(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{r} off={reg.Off} disallowed", r);
                    break;
                case ArgKind.ReleaseMem:
                    if (reg.Kind != RegKind.Mem || reg.RefId == 0)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=ringbuf_mem", r);
                    if (reg.Off != 0 || !reg.Var.IsConst)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} must have zero offset when passed to release func", r);
                    releaseRef = reg.RefId;
                    break;
                case ArgKind.Func:
                    if (reg.Kind != RegKind.Func)
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=func", r);
                    break;
                case ArgKind.StackOrNull:
                    if (reg.Kind != RegKind.Stack && !reg.IsConstScalar(0))
                        throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=fp", r);
                    break;
            }
        }
        if ((bpf_func_id)id == BPF_FUNC_tail_call && at.State.References.Count > 0)
            throw at.Refuse(VerifierRule.UnreleasedReference, "tail_call would lead to reference leak");
        return new HelperCall(proto, map, allocSize, releaseRef);
    }

    /// <summary>A memory argument in register <paramref name="r"/>: its kind, and <paramref name="size"/> bytes from it accessible.</summary>
    public static void Memory(in CheckSite at, int r, in Reg reg, long size, bool write)
    {
        if (!IsMemory(reg.Kind))
            throw at.Refuse(reg.MaybeNull ? VerifierRule.PossiblyNullPointer : VerifierRule.HelperArgument,
                $"R{r} type={Reg.KindName(reg.Kind)} expected={MemoryKinds}", r);
        if (size == 0)
            return;
        switch (reg.Kind)
        {
            case RegKind.Stack:
                StackChecks.HelperMemory(at, r, reg, size, write);
                break;
            case RegKind.Packet:
            case RegKind.PacketMeta:
                AccessChecks.Packet(at, r, reg, 0, (int)size);
                break;
            default:
                AccessChecks.Region(at, r, reg, 0, (int)size, write);
                break;
        }
    }

    /// <summary>The kernel's check_mem_size_reg: a size argument with known bounds, then the memory before it checked for that many bytes.</summary>
    private static void Size(in CheckSite at, int r, in Reg size, bool zeroAllowed, bool write)
    {
        if (size.Kind != RegKind.Scalar)
            throw at.Refuse(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(size.Kind)} expected=scalar", r);
        var v = size.Var;
        if (v.SMin < 0)
            throw at.Refuse(VerifierRule.HelperArgument, $"R{r} min value is negative, either use unsigned or 'var &= const'", r);
        if (v.UMin == 0 && !zeroAllowed)
            throw at.Refuse(VerifierRule.HelperArgument, $"R{r} invalid zero-sized read: u64=[{v.UMin},{v.UMax}]", r);
        if (v.UMax >= AccessChecks.MaxVarOff)
            throw at.Refuse(VerifierRule.HelperArgument, $"R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'", r);
        var memory = at.Regs[r - 1];
        if (memory.IsConstScalar(0))
        {
            // NULL is memory only for a size of 0 (check_helper_mem_access: a zero-byte read from NULL).
            if (v.UMax != 0)
                throw at.Refuse(VerifierRule.HelperArgument, $"R{r - 1} type=scalar expected={MemoryKinds}", r - 1, r);
            return;
        }
        Memory(at, r - 1, memory, (long)v.UMax, write);
    }
}
