using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Transfer;

/// <summary>
/// What each side of a conditional jump learns (the kernel's reg_set_min_max, mark_ptr_or_null_regs and
/// try_match_pkt_pointers): narrower scalars, a checked pointer null or not, packet bytes proven against data_end.
/// Each reaches every copy of the operands (registers and spills in every frame sharing their id).
/// </summary>
internal static class BranchRefinement
{
    /// <summary>The kernel's MAX_PACKET_OFF: ranges are proven only for offsets below it.</summary>
    private const int MaxPacketOff = 0xffff;

    /// <summary>Narrows both operands for one side of the branch, and every register sharing their ids; false when that side is impossible.</summary>
    public static bool RefineScalars(VerifierState state, byte op, int d, int s, Scalar immediate, bool is32, bool taken)
    {
        var regs = state.Regs;
        var dst = regs[d].Var;
        var src = s >= 0 ? regs[s].Var : immediate;
        if (!ScalarBranch.Refine(op, ref dst, ref src, is32, taken))
            return false;
        Narrow(state, d, dst);
        if (s >= 0)
            Narrow(state, s, src);
        return true;
    }

    private static void Narrow(VerifierState state, int r, Scalar value)
    {
        var id = state.Regs[r].Id;
        state.Regs[r].Var = value;
        if (id == 0)
            return;
        state.ForEachReg(reg => reg.Kind == RegKind.Scalar && reg.Id == id, (ref Reg reg) => reg.Var = value);
    }

    /// <summary>The kernel's mark_ptr_or_null_regs: every copy of a checked pointer becomes null (0) or the pointer proper.</summary>
    public static void MarkNullChecked(VerifierState state, int id, bool isNull)
    {
        var released = 0;
        state.ForEachReg(reg => reg.MaybeNull && reg.Id == id, (ref Reg reg) =>
        {
            if (isNull)
            {
                released = reg.RefId;
                reg = Reg.Const(0);
            }
            else
            {
                reg.Kind = reg.Kind == RegKind.MapValueOrNull ? RegKind.MapValue : RegKind.Mem;
            }
        });
        // A reservation that failed holds nothing to release.
        if (released != 0)
            state.References.Remove(released);
    }

    /// <summary>Whether this compares a packet pointer with its bound: pkt with pkt_end, or pkt_meta with pkt.</summary>
    public static bool PacketComparison(in Reg dst, in Reg src, bool is32) =>
        !is32 && (IsBoundedBy(dst, src) || IsBoundedBy(src, dst));

    private static bool IsBoundedBy(in Reg ptr, in Reg bound) =>
        (ptr.Kind == RegKind.Packet && bound.Kind == RegKind.PacketEnd) || (ptr.Kind == RegKind.PacketMeta && bound.Kind == RegKind.Packet);

    /// <summary>
    /// The kernel's try_match_pkt_pointers: on the side where <c>pkt + off &lt;= pkt_end</c> holds, every copy of the
    /// pointer may access <c>off</c> bytes (one more when the comparison was strict).
    /// </summary>
    public static void MarkPacketRanges(VerifierState taken, VerifierState fallthrough, byte op, in Reg dst, in Reg src)
    {
        if (IsBoundedBy(dst, src))
        {
            // pkt' OP pkt_end
            switch (op)
            {
                case BPF_JGT: ProveRange(fallthrough, dst, rightOpen: false); break;
                case BPF_JLT: ProveRange(taken, dst, rightOpen: true); break;
                case BPF_JGE: ProveRange(fallthrough, dst, rightOpen: true); break;
                case BPF_JLE: ProveRange(taken, dst, rightOpen: false); break;
            }
        }
        else
        {
            // pkt_end OP pkt'
            switch (op)
            {
                case BPF_JGT: ProveRange(taken, src, rightOpen: true); break;
                case BPF_JLT: ProveRange(fallthrough, src, rightOpen: false); break;
                case BPF_JGE: ProveRange(taken, src, rightOpen: false); break;
                case BPF_JLE: ProveRange(fallthrough, src, rightOpen: true); break;
            }
        }
    }

    private static void ProveRange(VerifierState state, Reg ptr, bool rightOpen)
    {
        if (ptr.Off < 0 || (ptr.Off == 0 && rightOpen))
            return;
        if (ptr.Var.UMax > MaxPacketOff || ptr.Var.UMax + (ulong)ptr.Off > MaxPacketOff)
            return;
        var range = ptr.Off + (rightOpen ? 1 : 0);
        state.ForEachReg(reg => reg.Kind == ptr.Kind && reg.Id == ptr.Id, (ref Reg reg) => reg.Range = Math.Max(reg.Range, range));
    }
}
