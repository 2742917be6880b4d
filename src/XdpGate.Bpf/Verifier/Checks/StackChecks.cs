using XdpGate.Bpf.Verifier.Transfer;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// The kernel's stack access rules (check_stack_access_within_bounds, check_stack_read and check_stack_write with
/// fixed and variable offsets): bounds and alignment, what may be spilled where, and, unprivileged, no read of bytes
/// never written or of part of a spilled pointer.
/// </summary>
internal static class StackChecks
{
    /// <summary>
    /// An access of <paramref name="size"/> bytes at <paramref name="off"/> from register <paramref name="b"/>, which
    /// holds the stack pointer <paramref name="ptr"/>; a store writes <paramref name="value"/>.
    /// </summary>
    public static void Access(in CheckSite at, int b, in Reg ptr, int off, int size, bool write, in Reg value, bool signed)
    {
        var frame = at.State.Frames[ptr.Frame];
        var start = (long)ptr.Off + off;
        var verb = write ? "write to" : "read from";
        if (!ptr.Var.IsConst)
        {
            var low = start + ptr.Var.SMin;
            var high = start + ptr.Var.SMax + size;
            if (low < -MAX_BPF_STACK || high > 0 || ptr.Var.SMin == long.MinValue || ptr.Var.SMax == long.MaxValue)
                throw at.Refuse(VerifierRule.InvalidStackAccess, $"invalid variable-offset {verb} stack R{b} off={start} size={size}", b);
            if (!write)
                Readable(at, b, frame, MAX_BPF_STACK + (int)low, MAX_BPF_STACK + (int)high);
            else if (value.IsPointer)
                throw at.Refuse(VerifierRule.InvalidStackAccess, "spilled ptr in range of var-offset stack write", b);
            return;
        }
        start += (long)ptr.Var.ConstValue;
        // The kernel checks stack alignment even where unaligned access is cheap.
        if (start % size != 0)
            throw at.Refuse(VerifierRule.InvalidStackAccess, $"misaligned stack access off {(long)ptr.Var.ConstValue}+{ptr.Off}+{off} size {size}", b);
        if (start < -MAX_BPF_STACK || start + size > 0)
            throw at.Refuse(VerifierRule.InvalidStackAccess, $"invalid {verb} stack R{b} off={start} size={size}", b);
        var index = MAX_BPF_STACK + (int)start;
        if (write)
        {
            if (value.Kind == RegKind.Stack && value.Frame > ptr.Frame)
                throw at.Refuse(VerifierRule.InvalidStackAccess, "cannot spill pointers to stack into stack frame of the caller", b);
            if (value.IsPointer && size != 8)
                throw at.Refuse(VerifierRule.InvalidStackAccess, "invalid size of register spill");
            return;
        }
        if (!StackMemory.ReadsSpill(frame, index, size))
        {
            Readable(at, b, frame, index, index + size);
            return;
        }
        // Part of a spilled pointer is a number to a privileged loader, and the pointer's address to any other.
        if (!StackMemory.FillsWhole(frame, index, size, signed) && frame.Spills[index / 8].IsPointer && at.Strict)
            throw at.Refuse(VerifierRule.PointerLeak, $"leaking pointer from stack off {index - MAX_BPF_STACK}", b);
    }

    /// <summary>
    /// Stack memory given to a helper or a global function in register <paramref name="r"/>: every offset the pointer
    /// may have, with <paramref name="size"/> bytes from it, inside the frame; and what is read, readable.
    /// </summary>
    public static void HelperMemory(in CheckSite at, int r, in Reg reg, long size, bool write)
    {
        var (low, high) = StackMemory.HelperRange(reg, size);
        if (reg.Var.SMin < -AccessChecks.MaxVarOff || reg.Var.UMax > AccessChecks.MaxVarOff || low < -MAX_BPF_STACK || high > 0)
            throw at.Refuse(VerifierRule.HelperArgument, $"invalid {(write ? "write to" : "read from")} stack R{r} off={reg.Off} size={size}", r);
        if (!write)
            Readable(at, r, at.State.Frames[reg.Frame], MAX_BPF_STACK + (int)low, MAX_BPF_STACK + (int)high);
    }

    /// <summary>
    /// Bytes [<paramref name="from"/>, <paramref name="to"/>) of a frame's stack (indexed from MAX_BPF_STACK below the
    /// frame pointer) that a load or a helper reads through register <paramref name="r"/>: unprivileged, every one
    /// written, and none part of a spilled pointer.
    /// </summary>
    public static void Readable(in CheckSite at, int r, FrameState frame, int from, int to)
    {
        if (!at.Strict)
            return;
        for (var i = from; i < to; i++)
        {
            var kind = frame.Bytes[i];
            if (kind == SlotKind.Invalid)
                throw at.Refuse(VerifierRule.UninitializedStackRead, $"invalid read from stack R{r} off {from - MAX_BPF_STACK}+{i - from} size {to - from}", r);
            if (kind == SlotKind.Spill && frame.Spills[i / 8].IsPointer)
                throw at.Refuse(VerifierRule.PointerLeak, $"leaking pointer from stack off {i - MAX_BPF_STACK}", r);
        }
    }
}
