using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Verifier;

/// <summary>Calls and returns: BPF-to-BPF calls, bpf_loop callbacks, exits, lddw forms and legacy packet loads.</summary>
internal sealed partial class Exploration
{
    private void LoadImmediate(bpf_insn insn)
    {
        if (!InstructionValidator.IsWide(insn))
        {
            LegacyPacketLoad(insn);
            pc++;
            return;
        }
        var next = insns[pc + 1];
        // A callback runs with the arguments of the helper that calls it, which only inline verification knows.
        if (insn.src_reg == BPF_PSEUDO_FUNC && program.GlobalFunctionAt(pc + 1 + insn.imm) is not null)
            throw Fail(VerifierRule.GlobalFunction, "callback function not static");
        var value = insn.src_reg switch
        {
            0 => Reg.Const(((ulong)(uint)next.imm << 32) | (uint)insn.imm),
            BPF_PSEUDO_FUNC => new Reg { Kind = RegKind.Func, Off = pc + 1 + insn.imm, Var = Scalar.Const(0) },
            BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_IDX => Reg.Pointer(RegKind.MapPtr) with { Map = program.MapAt(pc) },
            _ => Reg.Pointer(RegKind.MapValue, next.imm) with { Map = program.MapAt(pc) },
        };
        Set(insn.dst_reg, value);
        pc += 2;
    }

    /// <summary>The kernel's check_ld_abs: the context must be in r6; r1-r5 are clobbered and r0 gets the loaded bytes.</summary>
    private void LegacyPacketLoad(bpf_insn insn)
    {
        if (Read(6).Kind != RegKind.Ctx)
            throw Fail(VerifierRule.InvalidContextAccess, "at the time of BPF_LD_ABS|IND R6 != pointer to skb", 6);
        if (Mode(insn.code) == BPF_IND)
            Read(insn.src_reg);
        if (cur.References.Count > 0)
            throw Fail(VerifierRule.UnreleasedReference, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
        ClobberCallerSaved();
        Write(0, Reg.Of(ScalarAlu.Load(SizeInBytes(Size(insn.code)))));
    }

    private void ClobberCallerSaved()
    {
        for (var r = 1; r <= 5; r++)
            Write(r, Reg.NotInit);
    }

    private void Call(bpf_insn insn)
    {
        if (insn.src_reg == BPF_PSEUDO_CALL)
        {
            var target = pc + 1 + insn.imm;
            if (program.GlobalFunctionAt(target) is { } global)
                GlobalCall(global, target);
            else
                EnterFrame(target, callSite: pc, isCallback: false, args: cur.Regs.AsSpan(1, 5));
            return;
        }
        HelperCall(insn.imm);
    }

    /// <summary>Pushes a frame for the subprogram at <paramref name="target"/>, with r1-r5 as given.</summary>
    private void EnterFrame(int target, int callSite, bool isCallback, ReadOnlySpan<Reg> args)
    {
        if (cur.Frames.Count >= MAX_CALL_FRAMES)
            throw Fail(VerifierRule.CallDepth, $"the call stack of {cur.Frames.Count + 1} frames is too deep");
        var callee = new FrameState { CallSite = callSite, Subprogram = flow.SubprogramOf(target), IsCallback = isCallback };
        args.CopyTo(callee.Regs.AsSpan(1));
        callee.Regs[BPF_REG_FP] = Reg.Pointer(RegKind.Stack) with { Frame = cur.Frames.Count };
        if (!isCallback)
        {
            // The callee may read any argument the caller set.
            ushort passed = 0;
            for (var r = 1; r <= 5; r++)
                passed |= (ushort)(cur.Regs[r].Kind == RegKind.NotInit ? 0 : 1 << r);
            Learning.MarkRead(cur, cur.Frames.Count - 1, passed, 0);
            Write(0, Reg.NotInit);
            ClobberCallerSaved();
        }
        cur.Frames.Add(callee);
        pc = target;
    }

    /// <summary>Exit: a return to the caller, the end of a callback run, or the end of the program (false: the path is done).</summary>
    private bool Exit()
    {
        var r0 = Read(0);
        var frame = cur.Current;
        if (cur.Frames.Count > 1)
        {
            if (frame.IsCallback)
            {
                // bpf_loop's callback says 0 to go on and 1 to stop; the kernel relies on r0's value here.
                if (r0.Kind != RegKind.Scalar || r0.Var.UMax > 1)
                    throw Fail(VerifierRule.InvalidReturnValue, $"At callback return the register R0 has {r0} should have been in [0, 1]", 0);
                NeedPrecise(0);
                cur.History!.EndsCallback = true;
            }
            else if (r0.Kind == RegKind.Stack && r0.Frame == cur.Frames.Count - 1)
            {
                throw Fail(VerifierRule.InvalidStackAccess, "cannot return stack pointer to the caller", 0);
            }
            cur.Frames.RemoveAt(cur.Frames.Count - 1);
            if (frame.IsCallback)
            {
                // Back to the bpf_loop call, which may run the callback again or return.
                pc = frame.CallSite;
                return true;
            }
            Write(0, r0);
            pc = frame.CallSite + 1;
            return true;
        }
        // The kernel's check_return_code for a subprogram proven on its own: callers take r0 as an unknown scalar.
        if (rootFunction is not null && r0.Kind != RegKind.Scalar)
            throw Fail(VerifierRule.InvalidReturnValue, $"At subprogram exit the register R0 is not a scalar value ({Reg.KindName(r0.Kind)})", 0);
        if (r0.IsPointer && Strict)
            throw Fail(VerifierRule.PointerLeak, "R0 leaks addr as return value", 0);
        if (cur.References.Count > 0)
            throw Fail(VerifierRule.UnreleasedReference, $"Unreleased reference id={cur.References[0]}");
        log.Note($"{pc}: exit");
        return false;
    }
}
