using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Checks;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Global functions, as the kernel verifies them: a call checks the arguments against the prototype
/// (<see cref="CallChecks.GlobalArguments"/>) and goes on with r0 an unknown scalar, without entering the callee
/// (check_func_call); every global function some path called is then proven once on its own, from the states its
/// prototype allows (do_check_subprogs), until no new one is called.
/// </summary>
internal sealed partial class Exploration
{
    /// <summary>The kernel's check_func_call for a global callee: the arguments checked against the prototype, the callee not entered.</summary>
    private void GlobalCall(GlobalFunction function, int target)
    {
        var index = flow.SubprogramOf(target);
        CallChecks.GlobalArguments(At, function, index);
        log.Note($"Func#{index} ('{function.Name}') is global and assumed valid.");
        LearnRead((ushort)(((1 << function.Args.Count) - 1) << 1));
        for (var i = 0; i < function.Args.Count; i++)
        {
            if (function.Args[i].Kind is GlobalFunctionArgKind.Scalar or GlobalFunctionArgKind.Context)
                continue;
            // Stack memory the callee may read and write.
            var memory = cur.Regs[i + 1];
            StackArgument(memory, function.Args[i].MemorySize, write: false);
            StackArgument(memory, function.Args[i].MemorySize, write: true);
        }
        globalCalled[index] = true;
        if (flow.ChangesPacket[index])
            InvalidatePacketPointers();
        ClobberCallerSaved();
        Write(0, Reg.Unknown);
        pc++;
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
