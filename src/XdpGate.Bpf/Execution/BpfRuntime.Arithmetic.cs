using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Execution;

/// <summary>Division, modulo and atomic xor: the operations both engines call rather than inline.</summary>
internal static partial class BpfRuntime
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

    // Interlocked has no Xor: a compare-exchange loop that retries with the value the failed exchange saw, the shape
    // of Interlocked.Or's and of the kernel's x86 JIT for the fetch forms.

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
