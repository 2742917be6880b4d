using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// The reference semantics: executes decoded instructions one at a time, exactly as RFC 9669 and the kernel's
/// interpreter define them, checking every memory access at run time. Faults end the run (r0 = 0), never the process.
/// </summary>
internal static unsafe partial class Interpreter
{
    /// <summary>Runs a program set up by the VM (<see cref="BpfVm.BeginXdp"/>) from its first instruction with r1, r2; returns r0.</summary>
    public static ulong Execute(BpfVm vm, BpfProgram program, ulong r1, ulong r2) => Run(vm, program, 0, r1, r2, 0, depth: 0);

    /// <summary>bpf_loop's callbacks in the interpreter: a new frame at the callback with r1 = the iteration, r2 = the context.</summary>
    internal readonly struct Callbacks(BpfProgram program) : ICallbackRunner
    {
        public ulong RunCallback(BpfVm vm, int startPc, ulong iteration, ulong context, int depth) =>
            Run(vm, program, startPc, iteration, context, 0, depth);
    }

    /// <summary>Runs from <paramref name="startPc"/> in call frame <paramref name="depth"/> until that frame exits.</summary>
    /// <remarks>Compiled fully optimized on first call: the first packets and one-shot runs (`prog run`) should not
    /// pay for tier-0 code.</remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Run(BpfVm vm, BpfProgram program, int startPc, ulong a1, ulong a2, ulong a3, int depth)
    {
        var r = stackalloc ulong[MAX_BPF_REG];
        r[0] = 0;
        r[1] = a1;
        r[2] = a2;
        r[3] = a3;
        r[4] = r[5] = r[6] = r[7] = r[8] = r[9] = 0;
        r[BPF_REG_FP] = BpfRuntime.FramePointer(vm, depth);
        var entryDepth = depth;
        var code = program.Code;
        var pc = startPc;

        while (true)
        {
            var i = code + pc;
            pc++;
            ulong address;
            switch (i->Code)
            {
                // ---- 64-bit ALU ----
                case BPF_ALU64 | BPF_ADD | BPF_K: r[i->Dst] += (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_ADD | BPF_X: r[i->Dst] += r[i->Src]; break;
                case BPF_ALU64 | BPF_SUB | BPF_K: r[i->Dst] -= (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_SUB | BPF_X: r[i->Dst] -= r[i->Src]; break;
                case BPF_ALU64 | BPF_MUL | BPF_K: r[i->Dst] *= (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_MUL | BPF_X: r[i->Dst] *= r[i->Src]; break;
                case BPF_ALU64 | BPF_DIV | BPF_K: r[i->Dst] = BpfRuntime.Div<ulong, long>(r[i->Dst], (ulong)i->Imm, i->Off); break;
                case BPF_ALU64 | BPF_DIV | BPF_X: r[i->Dst] = BpfRuntime.Div<ulong, long>(r[i->Dst], r[i->Src], i->Off); break;
                case BPF_ALU64 | BPF_MOD | BPF_K: r[i->Dst] = BpfRuntime.Mod<ulong, long>(r[i->Dst], (ulong)i->Imm, i->Off); break;
                case BPF_ALU64 | BPF_MOD | BPF_X: r[i->Dst] = BpfRuntime.Mod<ulong, long>(r[i->Dst], r[i->Src], i->Off); break;
                case BPF_ALU64 | BPF_OR | BPF_K: r[i->Dst] |= (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_OR | BPF_X: r[i->Dst] |= r[i->Src]; break;
                case BPF_ALU64 | BPF_AND | BPF_K: r[i->Dst] &= (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_AND | BPF_X: r[i->Dst] &= r[i->Src]; break;
                case BPF_ALU64 | BPF_XOR | BPF_K: r[i->Dst] ^= (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_XOR | BPF_X: r[i->Dst] ^= r[i->Src]; break;
                // C# masks 64-bit shift counts to 6 bits, exactly as the RFC requires.
                case BPF_ALU64 | BPF_LSH | BPF_K: r[i->Dst] <<= (int)i->Imm; break;
                case BPF_ALU64 | BPF_LSH | BPF_X: r[i->Dst] <<= (int)r[i->Src]; break;
                case BPF_ALU64 | BPF_RSH | BPF_K: r[i->Dst] >>= (int)i->Imm; break;
                case BPF_ALU64 | BPF_RSH | BPF_X: r[i->Dst] >>= (int)r[i->Src]; break;
                case BPF_ALU64 | BPF_ARSH | BPF_K: r[i->Dst] = (ulong)((long)r[i->Dst] >> (int)i->Imm); break;
                case BPF_ALU64 | BPF_ARSH | BPF_X: r[i->Dst] = (ulong)((long)r[i->Dst] >> (int)r[i->Src]); break;
                case BPF_ALU64 | BPF_NEG: r[i->Dst] = (ulong)-(long)r[i->Dst]; break;
                case BPF_ALU64 | BPF_MOV | BPF_K: r[i->Dst] = (ulong)i->Imm; break;
                case BPF_ALU64 | BPF_MOV | BPF_X:
                    r[i->Dst] = i->Off switch
                    {
                        0 => r[i->Src],
                        8 => (ulong)(long)(sbyte)r[i->Src],
                        16 => (ulong)(long)(short)r[i->Src],
                        _ => (ulong)(long)(int)r[i->Src],
                    };
                    break;
                case BPF_ALU64 | BPF_END | BPF_TO_LE:
                    r[i->Dst] = i->Imm switch
                    {
                        16 => BinaryPrimitives.ReverseEndianness((ushort)r[i->Dst]),
                        32 => BinaryPrimitives.ReverseEndianness((uint)r[i->Dst]),
                        _ => BinaryPrimitives.ReverseEndianness(r[i->Dst]),
                    };
                    break;

                // ---- 32-bit ALU: operate on the low halves, zero the upper half ----
                case BPF_ALU | BPF_ADD | BPF_K: r[i->Dst] = (uint)r[i->Dst] + (uint)i->Imm; break;
                case BPF_ALU | BPF_ADD | BPF_X: r[i->Dst] = (uint)r[i->Dst] + (uint)r[i->Src]; break;
                case BPF_ALU | BPF_SUB | BPF_K: r[i->Dst] = (uint)r[i->Dst] - (uint)i->Imm; break;
                case BPF_ALU | BPF_SUB | BPF_X: r[i->Dst] = (uint)r[i->Dst] - (uint)r[i->Src]; break;
                case BPF_ALU | BPF_MUL | BPF_K: r[i->Dst] = (uint)r[i->Dst] * (uint)i->Imm; break;
                case BPF_ALU | BPF_MUL | BPF_X: r[i->Dst] = (uint)r[i->Dst] * (uint)r[i->Src]; break;
                case BPF_ALU | BPF_DIV | BPF_K: r[i->Dst] = BpfRuntime.Div<uint, int>((uint)r[i->Dst], (uint)i->Imm, i->Off); break;
                case BPF_ALU | BPF_DIV | BPF_X: r[i->Dst] = BpfRuntime.Div<uint, int>((uint)r[i->Dst], (uint)r[i->Src], i->Off); break;
                case BPF_ALU | BPF_MOD | BPF_K: r[i->Dst] = BpfRuntime.Mod<uint, int>((uint)r[i->Dst], (uint)i->Imm, i->Off); break;
                case BPF_ALU | BPF_MOD | BPF_X: r[i->Dst] = BpfRuntime.Mod<uint, int>((uint)r[i->Dst], (uint)r[i->Src], i->Off); break;
                case BPF_ALU | BPF_OR | BPF_K: r[i->Dst] = (uint)r[i->Dst] | (uint)i->Imm; break;
                case BPF_ALU | BPF_OR | BPF_X: r[i->Dst] = (uint)r[i->Dst] | (uint)r[i->Src]; break;
                case BPF_ALU | BPF_AND | BPF_K: r[i->Dst] = (uint)r[i->Dst] & (uint)i->Imm; break;
                case BPF_ALU | BPF_AND | BPF_X: r[i->Dst] = (uint)r[i->Dst] & (uint)r[i->Src]; break;
                case BPF_ALU | BPF_XOR | BPF_K: r[i->Dst] = (uint)r[i->Dst] ^ (uint)i->Imm; break;
                case BPF_ALU | BPF_XOR | BPF_X: r[i->Dst] = (uint)r[i->Dst] ^ (uint)r[i->Src]; break;
                case BPF_ALU | BPF_LSH | BPF_K: r[i->Dst] = (uint)r[i->Dst] << (int)i->Imm; break;
                case BPF_ALU | BPF_LSH | BPF_X: r[i->Dst] = (uint)r[i->Dst] << (int)r[i->Src]; break;
                case BPF_ALU | BPF_RSH | BPF_K: r[i->Dst] = (uint)r[i->Dst] >> (int)i->Imm; break;
                case BPF_ALU | BPF_RSH | BPF_X: r[i->Dst] = (uint)r[i->Dst] >> (int)r[i->Src]; break;
                case BPF_ALU | BPF_ARSH | BPF_K: r[i->Dst] = (uint)((int)r[i->Dst] >> (int)i->Imm); break;
                case BPF_ALU | BPF_ARSH | BPF_X: r[i->Dst] = (uint)((int)r[i->Dst] >> (int)r[i->Src]); break;
                case BPF_ALU | BPF_NEG: r[i->Dst] = (uint)-(int)r[i->Dst]; break;
                case BPF_ALU | BPF_MOV | BPF_K: r[i->Dst] = (uint)i->Imm; break;
                case BPF_ALU | BPF_MOV | BPF_X:
                    r[i->Dst] = i->Off switch
                    {
                        0 => (uint)r[i->Src],
                        8 => (uint)(int)(sbyte)r[i->Src],
                        _ => (uint)(int)(short)r[i->Src],
                    };
                    break;
                // This engine only runs on little-endian hosts: to-le truncates, to-be swaps.
                case BPF_ALU | BPF_END | BPF_TO_LE:
                    r[i->Dst] = i->Imm switch
                    {
                        16 => (ushort)r[i->Dst],
                        32 => (uint)r[i->Dst],
                        _ => r[i->Dst],
                    };
                    break;
                case BPF_ALU | BPF_END | BPF_TO_BE:
                    r[i->Dst] = i->Imm switch
                    {
                        16 => BinaryPrimitives.ReverseEndianness((ushort)r[i->Dst]),
                        32 => BinaryPrimitives.ReverseEndianness((uint)r[i->Dst]),
                        _ => BinaryPrimitives.ReverseEndianness(r[i->Dst]),
                    };
                    break;

                // ---- jumps ----
                case BPF_JMP | BPF_JA:
                case BPF_JMP32 | BPF_JA:
                    if (!Jump(vm, ref pc, i->Off)) return 0;
                    break;
                case BPF_JMP | BPF_JEQ | BPF_K: if (r[i->Dst] == (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JEQ | BPF_X: if (r[i->Dst] == r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JNE | BPF_K: if (r[i->Dst] != (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JNE | BPF_X: if (r[i->Dst] != r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JGT | BPF_K: if (r[i->Dst] > (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JGT | BPF_X: if (r[i->Dst] > r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JGE | BPF_K: if (r[i->Dst] >= (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JGE | BPF_X: if (r[i->Dst] >= r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JLT | BPF_K: if (r[i->Dst] < (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JLT | BPF_X: if (r[i->Dst] < r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JLE | BPF_K: if (r[i->Dst] <= (ulong)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JLE | BPF_X: if (r[i->Dst] <= r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSET | BPF_K: if ((r[i->Dst] & (ulong)i->Imm) != 0 && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSET | BPF_X: if ((r[i->Dst] & r[i->Src]) != 0 && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSGT | BPF_K: if ((long)r[i->Dst] > i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSGT | BPF_X: if ((long)r[i->Dst] > (long)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSGE | BPF_K: if ((long)r[i->Dst] >= i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSGE | BPF_X: if ((long)r[i->Dst] >= (long)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSLT | BPF_K: if ((long)r[i->Dst] < i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSLT | BPF_X: if ((long)r[i->Dst] < (long)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSLE | BPF_K: if ((long)r[i->Dst] <= i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP | BPF_JSLE | BPF_X: if ((long)r[i->Dst] <= (long)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;

                case BPF_JMP32 | BPF_JEQ | BPF_K: if ((uint)r[i->Dst] == (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JEQ | BPF_X: if ((uint)r[i->Dst] == (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JNE | BPF_K: if ((uint)r[i->Dst] != (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JNE | BPF_X: if ((uint)r[i->Dst] != (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JGT | BPF_K: if ((uint)r[i->Dst] > (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JGT | BPF_X: if ((uint)r[i->Dst] > (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JGE | BPF_K: if ((uint)r[i->Dst] >= (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JGE | BPF_X: if ((uint)r[i->Dst] >= (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JLT | BPF_K: if ((uint)r[i->Dst] < (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JLT | BPF_X: if ((uint)r[i->Dst] < (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JLE | BPF_K: if ((uint)r[i->Dst] <= (uint)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JLE | BPF_X: if ((uint)r[i->Dst] <= (uint)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSET | BPF_K: if (((uint)r[i->Dst] & (uint)i->Imm) != 0 && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSET | BPF_X: if (((uint)r[i->Dst] & (uint)r[i->Src]) != 0 && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSGT | BPF_K: if ((int)r[i->Dst] > (int)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSGT | BPF_X: if ((int)r[i->Dst] > (int)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSGE | BPF_K: if ((int)r[i->Dst] >= (int)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSGE | BPF_X: if ((int)r[i->Dst] >= (int)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSLT | BPF_K: if ((int)r[i->Dst] < (int)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSLT | BPF_X: if ((int)r[i->Dst] < (int)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSLE | BPF_K: if ((int)r[i->Dst] <= (int)i->Imm && !Jump(vm, ref pc, i->Off)) return 0; break;
                case BPF_JMP32 | BPF_JSLE | BPF_X: if ((int)r[i->Dst] <= (int)r[i->Src] && !Jump(vm, ref pc, i->Off)) return 0; break;

                // ---- calls and exit ----
                case BPF_JMP | BPF_CALL:
                    if (i->Src == BPF_PSEUDO_CALL)
                    {
                        if (depth + 1 >= MAX_CALL_FRAMES)
                        {
                            vm.RaiseFault(FaultReason.CallStackOverflow, pc - 1);
                            return 0;
                        }
                        depth++;
                        ref var frame = ref vm.CallFrames[depth];
                        frame.Program = program;
                        frame.ReturnPc = pc;
                        frame.R6 = r[6];
                        frame.R7 = r[7];
                        frame.R8 = r[8];
                        frame.R9 = r[9];
                        r[BPF_REG_FP] = BpfRuntime.FramePointer(vm, depth);
                        pc = (int)i->Imm;
                        break;
                    }
                    switch ((bpf_func_id)i->Imm)
                    {
                        case bpf_func_id.BPF_FUNC_tail_call:
                            if (BpfRuntime.TailCall(vm, r[2], r[3]) is { } next)
                            {
                                program = next;
                                code = next.Code;
                                pc = 0;
                            }
                            else if (vm.PendingFault != FaultReason.None)
                            {
                                return 0;
                            }
                            break;
                        case bpf_func_id.BPF_FUNC_loop:
                            r[0] = BpfRuntime.Loop(vm, pc - 1, r[1], r[2], r[3], r[4], depth, new Callbacks(program));
                            break;
                        default:
                            vm.CurrentPc = pc - 1;
                            r[0] = HelperTable.Functions[i->Imm](vm, r[1], r[2], r[3], r[4], r[5]);
                            break;
                    }
                    if (vm.PendingFault != FaultReason.None)
                        return 0;
                    break;
                case BPF_JMP | BPF_EXIT:
                    if (depth == entryDepth)
                        return r[0];
                    program = BpfRuntime.ReturnFromCall(vm, r, ref depth, out pc);
                    code = program.Code;
                    break;

                // ---- 64-bit immediate and legacy packet loads ----
                case BPF_LD | BPF_IMM | BPF_DW:
                    r[i->Dst] = (ulong)i->Imm;
                    pc++;
                    break;
                case BPF_LD | BPF_ABS | BPF_W:
                case BPF_LD | BPF_ABS | BPF_H:
                case BPF_LD | BPF_ABS | BPF_B:
                case BPF_LD | BPF_IND | BPF_W:
                case BPF_LD | BPF_IND | BPF_H:
                case BPF_LD | BPF_IND | BPF_B:
                    // Out-of-range legacy loads end the program with r0 = 0: the kernel's defined behaviour, not a fault.
                    if (!BpfRuntime.LoadPacket(vm, SizeInBytes(Size(i->Code)),
                            (int)i->Imm + (Mode(i->Code) == BPF_IND ? (long)(int)(uint)r[i->Src] : 0), out r[0]))
                        return 0;
                    break;

                // ---- loads ----
                case BPF_LDX | BPF_MEM | BPF_B:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 1, pc - 1)) return 0;
                    r[i->Dst] = *(byte*)address;
                    break;
                case BPF_LDX | BPF_MEM | BPF_H:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 2, pc - 1)) return 0;
                    r[i->Dst] = Unsafe.ReadUnaligned<ushort>((void*)address);
                    break;
                case BPF_LDX | BPF_MEM | BPF_W:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.LoadWord(vm, address, pc - 1, out r[i->Dst])) return 0;
                    break;
                case BPF_LDX | BPF_MEM | BPF_DW:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 8, pc - 1)) return 0;
                    r[i->Dst] = Unsafe.ReadUnaligned<ulong>((void*)address);
                    break;
                case BPF_LDX | BPF_MEMSX | BPF_B:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 1, pc - 1)) return 0;
                    r[i->Dst] = (ulong)(long)*(sbyte*)address;
                    break;
                case BPF_LDX | BPF_MEMSX | BPF_H:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 2, pc - 1)) return 0;
                    r[i->Dst] = (ulong)(long)Unsafe.ReadUnaligned<short>((void*)address);
                    break;
                case BPF_LDX | BPF_MEMSX | BPF_W:
                    address = r[i->Src] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Readable(vm, address, 4, pc - 1)) return 0;
                    r[i->Dst] = (ulong)(long)Unsafe.ReadUnaligned<int>((void*)address);
                    break;

                // ---- stores ----
                case BPF_ST | BPF_MEM | BPF_B:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 1, pc - 1)) return 0;
                    *(byte*)address = (byte)i->Imm;
                    break;
                case BPF_ST | BPF_MEM | BPF_H:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 2, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, (ushort)i->Imm);
                    break;
                case BPF_ST | BPF_MEM | BPF_W:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 4, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, (uint)i->Imm);
                    break;
                case BPF_ST | BPF_MEM | BPF_DW:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 8, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, (ulong)i->Imm);
                    break;
                case BPF_STX | BPF_MEM | BPF_B:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 1, pc - 1)) return 0;
                    *(byte*)address = (byte)r[i->Src];
                    break;
                case BPF_STX | BPF_MEM | BPF_H:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 2, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, (ushort)r[i->Src]);
                    break;
                case BPF_STX | BPF_MEM | BPF_W:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 4, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, (uint)r[i->Src]);
                    break;
                case BPF_STX | BPF_MEM | BPF_DW:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.Writable(vm, address, 8, pc - 1)) return 0;
                    Unsafe.WriteUnaligned((void*)address, r[i->Src]);
                    break;
                case BPF_STX | BPF_ATOMIC | BPF_W:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.AtomicTarget(vm, address, 4, pc - 1)) return 0;
                    Atomic(i, address, r, wide: false);
                    break;
                case BPF_STX | BPF_ATOMIC | BPF_DW:
                    address = r[i->Dst] + (ulong)(long)i->Off;
                    if (!BpfRuntime.AtomicTarget(vm, address, 8, pc - 1)) return 0;
                    Atomic(i, address, r, wide: true);
                    break;

                default:
                    // Unreachable: the loader refuses unknown opcodes. Kept as a fault so a bug cannot run off.
                    vm.RaiseFault(FaultReason.InvalidInstruction, pc - 1);
                    return 0;
            }
        }
    }

    /// <summary>Takes a jump; a backward one spends the run's budget (<see cref="BpfRuntime.BackwardJump"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Jump(BpfVm vm, ref int pc, int target)
    {
        if (target < pc && !BpfRuntime.BackwardJump(vm, pc - 1))
            return false;
        pc = target;
        return true;
    }
}
