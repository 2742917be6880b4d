using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Calls and returns (BPF-to-BPF calls, bpf_loop callbacks, exits), lddw forms and legacy packet loads, once checked
/// (<see cref="CallChecks"/>, <see cref="ReturnChecks"/>): frames entered and left, registers passed and clobbered.
/// </summary>
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
        if (insn.src_reg == BPF_PSEUDO_FUNC)
            CallChecks.Callback(At, program, insn);
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

    /// <summary>The kernel's check_ld_abs: it reads the context in r6 (and the index register); r1-r5 are clobbered and r0 gets the loaded bytes.</summary>
    private void LegacyPacketLoad(bpf_insn insn)
    {
        CallChecks.LegacyPacketLoad(At, insn);
        LearnRead((ushort)((1 << 6) | (Mode(insn.code) == BPF_IND ? 1 << insn.src_reg : 0)));
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
        CallChecks.Depth(At);
        var callee = new FrameState { CallSite = callSite, Subprogram = flow.SubprogramOf(target), IsCallback = isCallback };
        args.CopyTo(callee.Regs.AsSpan(1));
        callee.Regs[BPF_REG_FP] = Reg.Pointer(RegKind.Stack) with { Frame = cur.Frames.Count };
        if (!isCallback)
        {
            // The callee may read any argument the caller set.
            ushort passed = 0;
            for (var r = 1; r <= 5; r++)
                passed |= (ushort)(cur.Regs[r].Kind == RegKind.NotInit ? 0 : 1 << r);
            LearnRead(passed);
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
        ReturnChecks.Exit(At, r0, root: rootFunction is not null);
        var frame = cur.Current;
        if (cur.Frames.Count > 1)
        {
            if (frame.IsCallback)
            {
                // Whether the loop goes on depends on r0's value.
                NeedPrecise(0);
                cur.History!.EndsCallback = true;
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
        log.Note($"{pc}: exit");
        return false;
    }
}
