using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// Calls of BPF functions, the refusals: how deep frames may nest, which functions may be callbacks, what a global
/// function may be given (the kernel's check_func_call and btf_check_func_arg_match); and the legacy packet loads,
/// which call into the kernel (check_ld_abs).
/// </summary>
internal static class CallChecks
{
    /// <summary>Another frame on the current ones.</summary>
    public static void Depth(in CheckSite at)
    {
        if (at.State.Frames.Count >= MAX_CALL_FRAMES)
            throw at.Refuse(VerifierRule.CallDepth, $"the call stack of {at.State.Frames.Count + 1} frames is too deep");
    }

    /// <summary>An lddw of a function's address, for a callback.</summary>
    public static void Callback(in CheckSite at, BpfProgram program, bpf_insn insn)
    {
        // A callback runs with the arguments of the helper that calls it, which only inline verification knows.
        if (program.GlobalFunctionAt(at.Pc + 1 + insn.imm) is not null)
            throw at.Refuse(VerifierRule.GlobalFunction, "callback function not static");
    }

    /// <summary>
    /// A call of global function <paramref name="function"/>, subprogram <paramref name="index"/>: its prototype one the
    /// kernel verifies against, and r1-r5 fitting it. A pointer that may be NULL is checked as if it were not, for
    /// memory the callee may read and write (check_mem_reg): the callee must check it anyway.
    /// </summary>
    public static void GlobalArguments(in CheckSite at, GlobalFunction function, int index)
    {
        var name = $"func#{index} ('{function.Name}')";
        if (function.Unsupported is { } why)
            throw at.Refuse(VerifierRule.GlobalFunction, $"{why}; Caller passes invalid args into {name}");
        for (var i = 0; i < function.Args.Count; i++)
        {
            var r = i + 1;
            var reg = at.Regs[r];
            var arg = function.Args[i];
            switch (arg.Kind)
            {
                case GlobalFunctionArgKind.Scalar:
                    if (reg.Kind != RegKind.Scalar)
                        throw at.Refuse(reg.Kind == RegKind.NotInit ? VerifierRule.UninitializedRegister : VerifierRule.HelperArgument,
                            $"R{r} is not a scalar; Caller passes invalid args into {name}", r);
                    break;
                case GlobalFunctionArgKind.Context:
                    if (reg.Kind != RegKind.Ctx)
                        throw at.Refuse(VerifierRule.HelperArgument, $"arg#{i} expects pointer to ctx; Caller passes invalid args into {name}", r);
                    if (reg.Off != 0 || !reg.Var.IsConst || reg.Var.ConstValue != 0)
                        throw at.Refuse(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{r} off={reg.Off} disallowed", r);
                    break;
                default:
                    if (reg.IsConstScalar(0))
                        break;
                    if (reg.MaybeNull)
                        reg.Kind = reg.Kind == RegKind.MapValueOrNull ? RegKind.MapValue : RegKind.Mem;
                    if (!HelperChecks.IsMemory(reg.Kind))
                        throw at.Refuse(reg.Kind == RegKind.NotInit ? VerifierRule.UninitializedRegister : VerifierRule.HelperArgument,
                            $"R{r} type={Reg.KindName(reg.Kind)} expected={HelperChecks.MemoryKinds}; Caller passes invalid args into {name}", r);
                    HelperChecks.Memory(at, r, reg, arg.MemorySize, write: false);
                    HelperChecks.Memory(at, r, reg, arg.MemorySize, write: true);
                    break;
            }
        }
    }

    /// <summary>A legacy packet load (BPF_LD_ABS, BPF_LD_IND): the context in r6, the index register written, no reference held.</summary>
    public static void LegacyPacketLoad(in CheckSite at, bpf_insn insn)
    {
        RegisterChecks.Readable(at, 6);
        if (at.Regs[6].Kind != RegKind.Ctx)
            throw at.Refuse(VerifierRule.InvalidContextAccess, "at the time of BPF_LD_ABS|IND R6 != pointer to skb", 6);
        if (Mode(insn.code) == BPF_IND)
            RegisterChecks.Readable(at, insn.src_reg);
        if (at.State.References.Count > 0)
            throw at.Refuse(VerifierRule.UnreleasedReference, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
    }
}
