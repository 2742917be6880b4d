using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Checks;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Global functions, as the kernel verifies them: a call checks the arguments against the prototype and goes on with r0
/// an unknown scalar, without entering the callee (check_func_call); every global function some path called is then
/// proven once on its own, from the states its prototype allows (do_check_subprogs), until no new one is called.
/// </summary>
internal sealed partial class Exploration
{
    /// <summary>The kernel's check_func_call for a global callee: the arguments must fit the prototype.</summary>
    private void GlobalCall(GlobalFunction function, int target)
    {
        var index = flow.SubprogramOf(target);
        var name = $"func#{index} ('{function.Name}')";
        if (function.Unsupported is { } why)
            throw Fail(VerifierRule.GlobalFunction, $"{why}; Caller passes invalid args into {name}");
        for (var i = 0; i < function.Args.Count; i++)
        {
            var r = i + 1;
            var reg = cur.Regs[r];
            var arg = function.Args[i];
            switch (arg.Kind)
            {
                case GlobalFunctionArgKind.Scalar:
                    if (reg.Kind != RegKind.Scalar)
                        throw Fail(reg.Kind == RegKind.NotInit ? VerifierRule.UninitializedRegister : VerifierRule.HelperArgument,
                            $"R{r} is not a scalar; Caller passes invalid args into {name}", r);
                    break;
                case GlobalFunctionArgKind.Context:
                    if (reg.Kind != RegKind.Ctx)
                        throw Fail(VerifierRule.HelperArgument, $"arg#{i} expects pointer to ctx; Caller passes invalid args into {name}", r);
                    if (reg.Off != 0 || !reg.Var.IsConst || reg.Var.ConstValue != 0)
                        throw Fail(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{r} off={reg.Off} disallowed", r);
                    break;
                default:
                    GlobalMemoryArg(r, reg, arg.MemorySize, name);
                    break;
            }
        }
        log.Note($"Func#{index} ('{function.Name}') is global and assumed valid.");
        Learning.MarkRead(cur, cur.Frames.Count - 1, (ushort)(((1 << function.Args.Count) - 1) << 1), 0);
        globalCalled[index] = true;
        if (flow.ChangesPacket[index])
            InvalidatePacketPointers();
        ClobberCallerSaved();
        Write(0, Reg.Unknown);
        pc++;
    }

    /// <summary>
    /// The kernel's check_mem_reg: NULL, or memory the callee may read and write for the pointed-to type's size. A pointer
    /// that may be NULL is checked as if it were not: the callee must check it anyway.
    /// </summary>
    private void GlobalMemoryArg(int r, Reg reg, int size, string name)
    {
        if (reg.IsConstScalar(0))
            return;
        if (reg.MaybeNull)
            reg.Kind = reg.Kind == RegKind.MapValueOrNull ? RegKind.MapValue : RegKind.Mem;
        if (!HelperChecks.IsMemory(reg.Kind))
            throw Fail(reg.Kind == RegKind.NotInit ? VerifierRule.UninitializedRegister : VerifierRule.HelperArgument,
                $"R{r} type={Reg.KindName(reg.Kind)} expected={HelperChecks.MemoryKinds}; Caller passes invalid args into {name}", r);
        HelperChecks.Memory(At, r, reg, size, write: false);
        StackArgument(reg, size, write: false);
        HelperChecks.Memory(At, r, reg, size, write: true);
        StackArgument(reg, size, write: true);
    }

    /// <summary>The kernel's do_check_subprogs: each global function called on some path, once, until no new one is called.</summary>
    private void VerifyCalledGlobals()
    {
        for (var again = true; again;)
        {
            again = false;
            for (var s = 1; s < globalCalled.Length; s++)
            {
                if (!globalCalled[s] || globalVerified[s])
                    continue;
                globalVerified[s] = again = true;
                VerifyGlobal(s, program.GlobalFunctionAt(flow.SubprogramStarts[s])!);
            }
        }
    }

    /// <summary>The kernel's do_check_common for a global subprogram: r1-r5 as its prototype says, nothing known of the caller.</summary>
    private void VerifyGlobal(int subprogram, GlobalFunction function)
    {
        // States of other roots are not this root's: the kernel frees them between do_check_common runs.
        Array.Clear(visited);
        var frame = new FrameState { Subprogram = subprogram };
        for (var i = 0; i < function.Args.Count; i++)
        {
            var arg = function.Args[i];
            frame.Regs[i + 1] = arg.Kind switch
            {
                GlobalFunctionArgKind.Scalar => Reg.Unknown,
                GlobalFunctionArgKind.Context => Reg.Pointer(RegKind.Ctx),
                _ => Reg.Pointer(RegKind.MemOrNull) with { MemSize = arg.MemorySize, Id = NewId() },
            };
        }
        frame.Regs[BPF_REG_FP] = Reg.Pointer(RegKind.Stack);
        cur = new VerifierState();
        cur.Frames.Add(frame);
        pc = flow.SubprogramStarts[subprogram];
        rootFunction = function;
        log.Note($"Validating {function.Name}() func#{subprogram}...");
        try
        {
            Explore();
            log.Note($"Func#{subprogram} ('{function.Name}') is safe for any args that match its prototype");
        }
        catch (VerifierException e)
        {
            throw new VerifierException(e.Rule, e.Pc, $"in global function {function.Name}() func#{subprogram}, verified on its own: {e.Message}");
        }
    }
}
