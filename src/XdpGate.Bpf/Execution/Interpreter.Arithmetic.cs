using System.Runtime.CompilerServices;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>The atomics, dispatched on their imm; division, modulo and xor are the runtime's (<see cref="BpfRuntime"/>).</summary>
internal static unsafe partial class Interpreter
{
    /// <summary>One atomic on a 32-bit (<paramref name="wide"/> false) or 64-bit word, as the JIT's EmitAtomic.</summary>
    private static void Atomic(DecodedInsn* i, ulong address, ulong* r, bool wide)
    {
        var op = (int)i->Imm;
        if (op == BPF_CMPXCHG)
        {
            r[0] = wide ? CompareExchange64(address, r[i->Src], r[0]) : CompareExchange32(address, r[i->Src], r[0]);
            return;
        }
        var old = wide ? Fetch64(address, r[i->Src], op) : Fetch32(address, r[i->Src], op);
        if ((op & BPF_FETCH) != 0)
            r[i->Src] = old;
    }

    // The caller has checked the address (writable, aligned); op is the atomic's imm. One body per width, like the
    // JIT's: Interlocked.Add has no generic form, and a compare-exchange loop in its place would slow add/or/and.

    /// <summary>add/or/and/xor/xchg on a 32-bit word; returns the old value, zero-extended.</summary>
    private static ulong Fetch32(ulong address, ulong operandRegister, int op)
    {
        var operand = (uint)operandRegister;
        ref var location = ref *(int*)address;
        return (op & ~BPF_FETCH) switch
        {
            BPF_ADD => (uint)Interlocked.Add(ref location, (int)operand) - operand,
            BPF_OR => (uint)Interlocked.Or(ref location, (int)operand),
            BPF_AND => (uint)Interlocked.And(ref location, (int)operand),
            BPF_XOR => (uint)BpfRuntime.Xor(ref location, (int)operand),
            _ => (uint)Interlocked.Exchange(ref location, (int)operand), // BPF_XCHG
        };
    }

    /// <summary>add/or/and/xor/xchg on a 64-bit word; returns the old value.</summary>
    private static ulong Fetch64(ulong address, ulong operand, int op)
    {
        ref var location = ref *(long*)address;
        return (op & ~BPF_FETCH) switch
        {
            BPF_ADD => (ulong)Interlocked.Add(ref location, (long)operand) - operand,
            BPF_OR => (ulong)Interlocked.Or(ref location, (long)operand),
            BPF_AND => (ulong)Interlocked.And(ref location, (long)operand),
            BPF_XOR => (ulong)BpfRuntime.Xor(ref location, (long)operand),
            _ => (ulong)Interlocked.Exchange(ref location, (long)operand), // BPF_XCHG
        };
    }

    /// <summary>BPF_CMPXCHG on a 32-bit word: compares with w0; returns the new r0 (the old value, zero-extended).</summary>
    private static ulong CompareExchange32(ulong address, ulong operand, ulong r0) =>
        BpfRuntime.CompareExchange(ref *(int*)address, (int)(uint)operand, (int)(uint)r0);

    /// <summary>BPF_CMPXCHG on a 64-bit word: compares with r0; returns the new r0 (the old value).</summary>
    private static ulong CompareExchange64(ulong address, ulong operand, ulong r0) =>
        (ulong)Interlocked.CompareExchange(ref *(long*)address, (long)operand, (long)r0);
}
