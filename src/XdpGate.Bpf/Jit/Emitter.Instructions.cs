using System.Reflection.Emit;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Jit;

/// <summary>One instruction at a time, case for case as Interpreter.Run, calling the same <see cref="BpfRuntime"/>.</summary>
internal sealed unsafe partial class Emitter
{
    private void EmitInstruction(int pc, DecodedInsn* i)
    {
        var cls = Class(i->Code);
        var handled = cls switch
        {
            BPF_ALU64 => EmitAlu64(i),
            BPF_ALU => EmitAlu32(i),
            BPF_JMP or BPF_JMP32 => EmitJump(pc, i),
            BPF_LD => EmitLd(pc, i),
            BPF_LDX => EmitLoad(pc, i),
            BPF_ST or BPF_STX => EmitStore(pc, i),
            _ => false,
        };
        // What the interpreter does with an opcode it has no case for (the loader lets none through).
        if (!handled)
            RaiseAndFault(FaultReason.InvalidInstruction, pc);
    }

    private void Ld(int register) => il.Emit(OpCodes.Ldloc, r[register]);
    private void St(int register) => il.Emit(OpCodes.Stloc, r[register]);
    private void Ld64(long value) => il.Emit(OpCodes.Ldc_I8, value);
    private void Ld32(int value) => il.Emit(OpCodes.Ldc_I4, value);

    private bool EmitAlu64(DecodedInsn* i)
    {
        var op = Op(i->Code);
        var x = Source(i->Code) == BPF_X;
        switch (op)
        {
            case BPF_NEG:
                if (x) return false;
                Ld(i->Dst); il.Emit(OpCodes.Neg); St(i->Dst);
                return true;
            case BPF_MOV:
                if (!x)
                {
                    Ld64(i->Imm);
                }
                else
                {
                    Ld(i->Src);
                    switch (i->Off)
                    {
                        case 0: break;
                        case 8: il.Emit(OpCodes.Conv_I1); il.Emit(OpCodes.Conv_I8); break;
                        case 16: il.Emit(OpCodes.Conv_I2); il.Emit(OpCodes.Conv_I8); break;
                        default: il.Emit(OpCodes.Conv_I4); il.Emit(OpCodes.Conv_I8); break;
                    }
                }
                St(i->Dst);
                return true;
            case BPF_END:
                if (x) return false;
                Ld(i->Dst);
                Swap(i->Imm);
                St(i->Dst);
                return true;
            case BPF_DIV or BPF_MOD:
                Ld(i->Dst);
                Operand64(i, x);
                Ld32(i->Off);
                il.Emit(OpCodes.Call, op == BPF_DIV ? Div64 : Mod64);
                St(i->Dst);
                return true;
            case BPF_LSH or BPF_RSH or BPF_ARSH:
                Ld(i->Dst);
                if (x) { Ld(i->Src); il.Emit(OpCodes.Conv_I4); Ld32(63); il.Emit(OpCodes.And); }
                else Ld32((int)i->Imm & 63);
                il.Emit(op == BPF_LSH ? OpCodes.Shl : op == BPF_RSH ? OpCodes.Shr_Un : OpCodes.Shr);
                St(i->Dst);
                return true;
        }
        if (Binary(op) is not { } opcode)
            return false;
        Ld(i->Dst);
        Operand64(i, x);
        il.Emit(opcode);
        St(i->Dst);
        return true;
    }

    private bool EmitAlu32(DecodedInsn* i)
    {
        var op = Op(i->Code);
        var x = Source(i->Code) == BPF_X;
        switch (op)
        {
            case BPF_NEG:
                if (x) return false;
                Ld(i->Dst); il.Emit(OpCodes.Conv_I4); il.Emit(OpCodes.Neg); il.Emit(OpCodes.Conv_U8); St(i->Dst);
                return true;
            case BPF_MOV:
                if (!x)
                {
                    Ld64((uint)i->Imm);
                }
                else
                {
                    Ld(i->Src);
                    switch (i->Off)
                    {
                        case 0: il.Emit(OpCodes.Conv_U4); break;
                        case 8: il.Emit(OpCodes.Conv_I1); break;
                        default: il.Emit(OpCodes.Conv_I2); break;
                    }
                    il.Emit(OpCodes.Conv_U8);
                }
                St(i->Dst);
                return true;
            case BPF_END:
                Ld(i->Dst);
                if (x)
                {
                    Swap(i->Imm); // to big-endian: this engine runs on little-endian hosts only
                }
                else
                {
                    switch (i->Imm)
                    {
                        case 16: il.Emit(OpCodes.Conv_U2); il.Emit(OpCodes.Conv_U8); break;
                        case 32: il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Conv_U8); break;
                    }
                }
                St(i->Dst);
                return true;
            case BPF_DIV or BPF_MOD:
                Ld(i->Dst);
                il.Emit(OpCodes.Conv_U4);
                Operand32(i, x);
                Ld32(i->Off);
                il.Emit(OpCodes.Call, op == BPF_DIV ? Div32 : Mod32);
                St(i->Dst);
                return true;
            case BPF_LSH or BPF_RSH or BPF_ARSH:
                Ld(i->Dst);
                il.Emit(OpCodes.Conv_U4);
                if (x) { Ld(i->Src); il.Emit(OpCodes.Conv_I4); Ld32(31); il.Emit(OpCodes.And); }
                else Ld32((int)i->Imm & 31);
                il.Emit(op == BPF_LSH ? OpCodes.Shl : op == BPF_RSH ? OpCodes.Shr_Un : OpCodes.Shr);
                il.Emit(OpCodes.Conv_U8);
                St(i->Dst);
                return true;
        }
        if (Binary(op) is not { } opcode)
            return false;
        Ld(i->Dst);
        il.Emit(OpCodes.Conv_U4);
        Operand32(i, x);
        il.Emit(opcode);
        il.Emit(OpCodes.Conv_U8);
        St(i->Dst);
        return true;
    }

    private static OpCode? Binary(byte op) => op switch
    {
        BPF_ADD => OpCodes.Add,
        BPF_SUB => OpCodes.Sub,
        BPF_MUL => OpCodes.Mul,
        BPF_OR => OpCodes.Or,
        BPF_AND => OpCodes.And,
        BPF_XOR => OpCodes.Xor,
        _ => null,
    };

    private void Operand64(DecodedInsn* i, bool x)
    {
        if (x) Ld(i->Src);
        else Ld64(i->Imm);
    }

    private void Operand32(DecodedInsn* i, bool x)
    {
        if (x) { Ld(i->Src); il.Emit(OpCodes.Conv_U4); }
        else Ld32((int)i->Imm);
    }

    /// <summary>Byte swap of the low 16, 32 or (any other imm) 64 bits, zero-extended.</summary>
    private void Swap(long width)
    {
        switch (width)
        {
            case 16: il.Emit(OpCodes.Conv_U2); il.Emit(OpCodes.Call, Swap16); il.Emit(OpCodes.Conv_U8); break;
            case 32: il.Emit(OpCodes.Conv_U4); il.Emit(OpCodes.Call, Swap32); il.Emit(OpCodes.Conv_U8); break;
            default: il.Emit(OpCodes.Call, Swap64); break;
        }
    }

    private bool EmitJump(int pc, DecodedInsn* i)
    {
        var op = Op(i->Code);
        var wide = Class(i->Code) == BPF_JMP;
        switch (op)
        {
            case BPF_JA:
                if (Source(i->Code) != BPF_K) return false;
                if (i->Off <= pc)
                    EmitBudget(pc);
                il.Emit(OpCodes.Br, labels[i->Off]);
                return true;
            case BPF_CALL:
                if (!wide || Source(i->Code) != BPF_K) return false;
                EmitCall(pc, i);
                return true;
            case BPF_EXIT:
                if (!wide || Source(i->Code) != BPF_K) return false;
                il.Emit(OpCodes.Br, exit);
                return true;
        }
        var branch = op switch
        {
            BPF_JEQ => OpCodes.Beq,
            BPF_JNE => OpCodes.Bne_Un,
            BPF_JGT => OpCodes.Bgt_Un,
            BPF_JGE => OpCodes.Bge_Un,
            BPF_JLT => OpCodes.Blt_Un,
            BPF_JLE => OpCodes.Ble_Un,
            BPF_JSGT => OpCodes.Bgt,
            BPF_JSGE => OpCodes.Bge,
            BPF_JSLT => OpCodes.Blt,
            BPF_JSLE => OpCodes.Ble,
            BPF_JSET => OpCodes.Brtrue,
            _ => (OpCode?)null,
        };
        if (branch is not { } opcode)
            return false;
        var x = Source(i->Code) == BPF_X;
        Ld(i->Dst);
        if (wide)
        {
            Operand64(i, x);
        }
        else
        {
            il.Emit(OpCodes.Conv_U4);
            Operand32(i, x);
        }
        if (op == BPF_JSET)
            il.Emit(OpCodes.And);
        var target = labels[i->Off];
        if (i->Off <= pc)
        {
            // A taken backward branch spends the budget first, out of line.
            target = il.DefineLabel();
            backwardStubs.Add((target, pc, i->Off));
        }
        il.Emit(opcode, target);
        return true;
    }

    private void EmitCall(int pc, DecodedInsn* i)
    {
        if (i->Src == BPF_PSEUDO_CALL)
        {
            EmitPseudoCall(pc, (int)i->Imm);
            return;
        }
        switch ((bpf_func_id)i->Imm)
        {
            case bpf_func_id.BPF_FUNC_tail_call:
            {
                var none = il.DefineLabel();
                il.Emit(OpCodes.Ldarg, ArgVm);
                Ld(2);
                Ld(3);
                il.Emit(OpCodes.Call, TailCall);
                il.Emit(OpCodes.Brfalse, none);
                Leave(JitStatus.TailCall);
                il.MarkLabel(none);
                break;
            }
            case bpf_func_id.BPF_FUNC_loop:
                il.Emit(OpCodes.Ldarg, ArgVm);
                il.Emit(OpCodes.Ldarg, ArgConstants);
                Ld32(OwnerConstant);
                il.Emit(OpCodes.Ldelem_Ref);
                il.Emit(OpCodes.Castclass, typeof(JitProgram));
                Ld32(pc);
                Ld(1); Ld(2); Ld(3); Ld(4);
                il.Emit(OpCodes.Ldloc, depth);
                il.Emit(OpCodes.Call, Loop);
                St(0);
                break;
            default:
                if (EmitInlineHelper(pc, (bpf_func_id)i->Imm))
                    return;
                var function = (ulong)i->Imm < 256 ? (nint)HelperTable.Functions[(int)i->Imm] : 0;
                if (function == 0)
                    throw new NotSupportedException($"{program.Name}: insn {pc}: helper {i->Imm} has no implementation");
                il.Emit(OpCodes.Ldarg, ArgVm);
                Ld32(pc);
                il.Emit(OpCodes.Stfld, CurrentPc);
                il.Emit(OpCodes.Ldarg, ArgVm);
                Ld(1); Ld(2); Ld(3); Ld(4); Ld(5);
                il.Emit(OpCodes.Ldc_I8, (long)function);
                il.Emit(OpCodes.Conv_I);
                il.EmitCalli(OpCodes.Calli, System.Reflection.CallingConventions.Standard, typeof(ulong), HelperParameters, null);
                St(0);
                break;
        }
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldfld, PendingFault);
        il.Emit(OpCodes.Brtrue, fault);
    }

    /// <summary>A BPF-to-BPF call: the interpreter's frame push, then a branch to the callee.</summary>
    private void EmitPseudoCall(int pc, int target)
    {
        var room = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, depth);
        Ld32(MAX_CALL_FRAMES - 1);
        il.Emit(OpCodes.Blt, room);
        RaiseAndFault(FaultReason.CallStackOverflow, pc);
        il.MarkLabel(room);
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, depth);
        FrameAt();
        il.Emit(OpCodes.Ldloc, frame);
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldfld, Running);
        il.Emit(OpCodes.Stfld, FrameProgram);
        il.Emit(OpCodes.Ldloc, frame);
        Ld32(pc + 1);
        il.Emit(OpCodes.Stfld, FrameReturnPc);
        for (var k = 0; k < 4; k++)
        {
            il.Emit(OpCodes.Ldloc, frame);
            Ld(6 + k);
            il.Emit(OpCodes.Stfld, FrameSaved[k]);
        }
        SetFramePointer();
        il.Emit(OpCodes.Br, labels[target]);
    }

    private bool EmitLd(int pc, DecodedInsn* i)
    {
        var mode = Mode(i->Code);
        if (i->Code == (BPF_LD | BPF_IMM | BPF_DW))
        {
            Ld64(i->Imm);
            St(i->Dst);
            // The second slot is code 0, a fault if jumped to; execution skips it.
            if (pc + 2 < length)
                il.Emit(OpCodes.Br, labels[pc + 2]);
            return true;
        }
        if (mode is not (BPF_ABS or BPF_IND) || Size(i->Code) == BPF_DW)
            return false;
        // Out of range ends the run with r0 = 0, not a fault (the kernel's rule), from any frame.
        var loaded = il.DefineLabel();
        il.Emit(OpCodes.Ldarg, ArgVm);
        Ld32(SizeInBytes(Size(i->Code)));
        Ld64((int)i->Imm);
        if (mode == BPF_IND)
        {
            Ld(i->Src);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Add);
        }
        il.Emit(OpCodes.Ldloca, scratch);
        il.Emit(OpCodes.Call, LoadPacket);
        il.Emit(OpCodes.Brtrue, loaded);
        Ld64(0);
        St(0);
        LeaveExit();
        il.MarkLabel(loaded);
        il.Emit(OpCodes.Ldloc, scratch);
        St(0);
        return true;
    }

    /// <summary>address = base + off</summary>
    private void Address(int register, int offset)
    {
        Ld(register);
        if (offset != 0)
        {
            Ld64(offset);
            il.Emit(OpCodes.Add);
        }
        il.Emit(OpCodes.Stloc, address);
    }

    /// <summary>Emits check(vm, address, size, pc) and a branch to the fault exit when it fails.</summary>
    private void Check(System.Reflection.MethodInfo check, int size, int pc)
    {
        if (IsProven(pc))
            return;
        checkedAccesses++;
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldloc, address);
        Ld32(size);
        Ld32(pc);
        il.Emit(OpCodes.Call, check);
        il.Emit(OpCodes.Brfalse, fault);
    }

    private bool IsProven(int pc) => (uint)pc < (uint)proven.Length && proven[pc];

    private bool EmitLoad(int pc, DecodedInsn* i)
    {
        var mode = Mode(i->Code);
        var size = SizeInBytes(Size(i->Code));
        if (mode == BPF_MEM && size == 4 && !IsProven(pc))
        {
            checkedAccesses++;
            // May be an xdp_md field, which the interpreter reads through TryLoadContext.
            Address(i->Src, i->Off);
            il.Emit(OpCodes.Ldarg, ArgVm);
            il.Emit(OpCodes.Ldloc, address);
            Ld32(pc);
            il.Emit(OpCodes.Ldloca, scratch);
            il.Emit(OpCodes.Call, LoadWord);
            il.Emit(OpCodes.Brfalse, fault);
            il.Emit(OpCodes.Ldloc, scratch);
            St(i->Dst);
            return true;
        }
        if (mode is not (BPF_MEM or BPF_MEMSX) || (mode == BPF_MEMSX && size == 8))
            return false;
        Address(i->Src, i->Off);
        Check(Readable, size, pc);
        il.Emit(OpCodes.Ldloc, address);
        il.Emit(OpCodes.Conv_U);
        if (size > 1)
            il.Emit(OpCodes.Unaligned, (byte)1);
        var signed = mode == BPF_MEMSX;
        switch (size)
        {
            case 1: il.Emit(signed ? OpCodes.Ldind_I1 : OpCodes.Ldind_U1); break;
            case 2: il.Emit(signed ? OpCodes.Ldind_I2 : OpCodes.Ldind_U2); break;
            case 4: il.Emit(signed ? OpCodes.Ldind_I4 : OpCodes.Ldind_U4); break;
            default: il.Emit(OpCodes.Ldind_I8); break;
        }
        if (size < 8)
            il.Emit(signed ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
        St(i->Dst);
        return true;
    }

    private void Unaligned() => il.Emit(OpCodes.Unaligned, (byte)1);

    private bool EmitStore(int pc, DecodedInsn* i)
    {
        var mode = Mode(i->Code);
        var size = SizeInBytes(Size(i->Code));
        var x = Class(i->Code) == BPF_STX;
        if (mode == BPF_ATOMIC && x && size is 4 or 8)
        {
            EmitAtomic(pc, i, size);
            return true;
        }
        if (mode != BPF_MEM)
            return false;
        Address(i->Dst, i->Off);
        Check(Writable, size, pc);
        il.Emit(OpCodes.Ldloc, address);
        il.Emit(OpCodes.Conv_U);
        if (x) Ld(i->Src);
        else Ld64(i->Imm);
        switch (size)
        {
            case 1: il.Emit(OpCodes.Conv_U1); il.Emit(OpCodes.Stind_I1); break;
            case 2: il.Emit(OpCodes.Conv_U2); Unaligned(); il.Emit(OpCodes.Stind_I2); break;
            case 4: il.Emit(OpCodes.Conv_U4); Unaligned(); il.Emit(OpCodes.Stind_I4); break;
            default: Unaligned(); il.Emit(OpCodes.Stind_I8); break;
        }
        return true;
    }

    /// <summary>
    /// The atomic inline, as the Interlocked intrinsics RyuJIT turns into single locked instructions: lock add/or/and
    /// when the result is unused (the no-fetch forms pop it), lock xadd, xchg and lock cmpxchg; fetch-or/and/xor and
    /// xor are a compare-exchange loop, as in the kernel's x86 JIT.
    /// </summary>
    private void EmitAtomic(int pc, DecodedInsn* i, int size)
    {
        if (IsProven(pc))
        {
            // Straight from the register, not through the address local: RyuJIT may spill that local (it does in the
            // xor and cmpxchg loops), and a reload after the previous locked instruction waits for that instruction.
            Ld(i->Dst);
            if (i->Off != 0)
            {
                Ld64(i->Off);
                il.Emit(OpCodes.Add);
            }
        }
        else
        {
            Address(i->Dst, i->Off);
            Check(AtomicTarget, size, pc);
            il.Emit(OpCodes.Ldloc, address);
        }
        il.Emit(OpCodes.Conv_U);
        var op = (int)i->Imm;
        var wide = size == 8;
        AtomicOperand(i->Src, wide);
        if (op == BPF_CMPXCHG)
        {
            AtomicOperand(0, wide);
            // The 32-bit form returns r0 zero-extended already (BpfRuntime.CompareExchange says why).
            il.Emit(OpCodes.Call, wide ? CompareExchange64 : CompareExchange32);
            St(0);
            return;
        }
        var fetch = (op & BPF_FETCH) != 0;
        switch (op & ~BPF_FETCH)
        {
            case BPF_ADD:
                il.Emit(OpCodes.Call, wide ? Add64 : Add32);
                if (fetch)
                {
                    // Interlocked.Add returns the new value; the old one is that less the operand.
                    AtomicOperand(i->Src, wide);
                    il.Emit(OpCodes.Sub);
                }
                break;
            case BPF_OR: il.Emit(OpCodes.Call, wide ? Or64 : Or32); break;
            case BPF_AND: il.Emit(OpCodes.Call, wide ? And64 : And32); break;
            case BPF_XOR: il.Emit(OpCodes.Call, wide ? Xor64 : Xor32); break;
            default: il.Emit(OpCodes.Call, wide ? Exchange64 : Exchange32); break; // BPF_XCHG
        }
        if (fetch)
        {
            ZeroExtend(wide);
            St(i->Src);
        }
        else
        {
            il.Emit(OpCodes.Pop);
        }
    }

    /// <summary>A 32-bit atomic's result (an int) zero-extended into a register.</summary>
    private void ZeroExtend(bool wide)
    {
        if (!wide)
            il.Emit(OpCodes.Conv_U8);
    }

    /// <summary>A register as the operand of a 64-bit (long) or 32-bit (int, its low half) atomic.</summary>
    private void AtomicOperand(int register, bool wide)
    {
        Ld(register);
        if (!wide)
            il.Emit(OpCodes.Conv_I4);
    }
}
