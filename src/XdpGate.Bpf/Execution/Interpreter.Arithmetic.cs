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
    private static ulong Div64(ulong dst, ulong src, int signed)
    {
        if (src == 0)
            return 0;
        if (signed == 0)
            return dst / src;
        return (long)src == -1 ? (ulong)-(long)dst : (ulong)((long)dst / (long)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mod64(ulong dst, ulong src, int signed)
    {
        if (src == 0)
            return dst;
        if (signed == 0)
            return dst % src;
        return (long)src == -1 ? 0 : (ulong)((long)dst % (long)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Div32(uint dst, uint src, int signed)
    {
        if (src == 0)
            return 0;
        if (signed == 0)
            return dst / src;
        return (int)src == -1 ? (uint)-(int)dst : (uint)((int)dst / (int)src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mod32(uint dst, uint src, int signed)
    {
        if (src == 0)
            return dst;
        if (signed == 0)
            return dst % src;
        return (int)src == -1 ? 0 : (uint)((int)dst % (int)src);
    }

    private static void Atomic32(DecodedInsn* i, uint* target, ulong* r)
    {
        var operand = (uint)r[i->Src];
        var location = (int*)target;
        uint old;
        switch ((int)i->Imm & ~BPF_FETCH)
        {
            case BPF_ADD: old = (uint)Interlocked.Add(ref *location, (int)operand) - operand; break;
            case BPF_OR: old = (uint)Interlocked.Or(ref *location, (int)operand); break;
            case BPF_AND: old = (uint)Interlocked.And(ref *location, (int)operand); break;
            case BPF_XOR: old = XorInterlocked(location, (int)operand); break;
            case BPF_XCHG & ~BPF_FETCH: old = (uint)Interlocked.Exchange(ref *location, (int)operand); break;
            default: // BPF_CMPXCHG: compare with w0, old value into r0 (zero-extended)
                r[0] = (uint)Interlocked.CompareExchange(ref *location, (int)operand, (int)(uint)r[0]);
                return;
        }
        if (((int)i->Imm & BPF_FETCH) != 0)
            r[i->Src] = old;
    }

    private static void Atomic64(DecodedInsn* i, ulong* target, ulong* r)
    {
        var operand = r[i->Src];
        var location = (long*)target;
        ulong old;
        switch ((int)i->Imm & ~BPF_FETCH)
        {
            case BPF_ADD: old = (ulong)Interlocked.Add(ref *location, (long)operand) - operand; break;
            case BPF_OR: old = (ulong)Interlocked.Or(ref *location, (long)operand); break;
            case BPF_AND: old = (ulong)Interlocked.And(ref *location, (long)operand); break;
            case BPF_XOR: old = XorInterlocked(location, (long)operand); break;
            case BPF_XCHG & ~BPF_FETCH: old = (ulong)Interlocked.Exchange(ref *location, (long)operand); break;
            default: // BPF_CMPXCHG
                r[0] = (ulong)Interlocked.CompareExchange(ref *location, (long)operand, (long)r[0]);
                return;
        }
        if (((int)i->Imm & BPF_FETCH) != 0)
            r[i->Src] = old;
    }

    private static uint XorInterlocked(int* location, int operand)
    {
        int old;
        do
            old = Volatile.Read(ref *location);
        while (Interlocked.CompareExchange(ref *location, old ^ operand, old) != old);
        return (uint)old;
    }

    private static ulong XorInterlocked(long* location, long operand)
    {
        long old;
        do
            old = Volatile.Read(ref *location);
        while (Interlocked.CompareExchange(ref *location, old ^ operand, old) != old);
        return (ulong)old;
    }
}
