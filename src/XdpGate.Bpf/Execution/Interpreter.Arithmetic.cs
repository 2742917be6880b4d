using System.Runtime.CompilerServices;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Execution;

/// <summary>Division, modulo and atomics: the operations whose edge cases RFC 9669 spells out.</summary>
internal static unsafe partial class Interpreter
{
    // offset 1 selects the signed form (sdiv/smod). Division by zero gives 0; modulo by zero leaves dst unchanged;
    // the one signed overflow (MIN / -1) gives MIN and MIN % -1 gives 0, which C# would otherwise trap on.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Div64(ulong dst, ulong src, int signed)
    {
        if (src == 0)
            return 0;
        if (signed == 0)
            return dst / src;
        return (long)src == -1 ? (ulong)-(long)dst : (ulong)((long)dst / (long)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mod64(ulong dst, ulong src, int signed)
    {
        if (src == 0)
            return dst;
        if (signed == 0)
            return dst % src;
        return (long)src == -1 ? 0 : (ulong)((long)dst % (long)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Div32(uint dst, uint src, int signed)
    {
        if (src == 0)
            return 0;
        if (signed == 0)
            return dst / src;
        return (int)src == -1 ? (uint)-(int)dst : (uint)((int)dst / (int)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mod32(uint dst, uint src, int signed)
    {
        if (src == 0)
            return dst;
        if (signed == 0)
            return dst % src;
        return (int)src == -1 ? 0 : (uint)((int)dst % (int)src);
    }

    private static void Atomic32(DecodedInsn* i, ulong address, ulong* r)
    {
        var op = (int)i->Imm;
        if (op == BPF_CMPXCHG)
        {
            r[0] = CompareExchange32(address, r[i->Src], r[0]);
            return;
        }
        var old = Fetch32(address, r[i->Src], op);
        if ((op & BPF_FETCH) != 0)
            r[i->Src] = old;
    }

    private static void Atomic64(DecodedInsn* i, ulong address, ulong* r)
    {
        var op = (int)i->Imm;
        if (op == BPF_CMPXCHG)
        {
            r[0] = CompareExchange64(address, r[i->Src], r[0]);
            return;
        }
        var old = Fetch64(address, r[i->Src], op);
        if ((op & BPF_FETCH) != 0)
            r[i->Src] = old;
    }

    // The caller has checked the address (writable, aligned); op is the atomic's imm.

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
            BPF_XOR => (uint)Xor(ref location, (int)operand),
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
            BPF_XOR => (ulong)Xor(ref location, (long)operand),
            _ => (ulong)Interlocked.Exchange(ref location, (long)operand), // BPF_XCHG
        };
    }

    /// <summary>BPF_CMPXCHG on a 32-bit word: compares with w0; returns the new r0 (the old value, zero-extended).</summary>
    private static ulong CompareExchange32(ulong address, ulong operand, ulong r0) =>
        (uint)Interlocked.CompareExchange(ref *(int*)address, (int)(uint)operand, (int)(uint)r0);

    /// <summary>BPF_CMPXCHG on a 64-bit word: compares with r0; returns the new r0 (the old value).</summary>
    private static ulong CompareExchange64(ulong address, ulong operand, ulong r0) =>
        (ulong)Interlocked.CompareExchange(ref *(long*)address, (long)operand, (long)r0);

    // Interlocked has no Xor: a compare-exchange loop that retries with the value the failed exchange saw, the shape
    // of Interlocked.Or's and of the kernel's x86 JIT for the fetch forms. Also called by the JIT's code.

    /// <summary>Atomic xor of a 32-bit word; returns the old value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Xor(ref int location, int operand)
    {
        var current = location;
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref location, current ^ operand, current);
            if (seen == current)
                return current;
            current = seen;
        }
    }

    /// <summary>Atomic xor of a 64-bit word; returns the old value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Xor(ref long location, long operand)
    {
        var current = location;
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref location, current ^ operand, current);
            if (seen == current)
                return current;
            current = seen;
        }
    }
}
