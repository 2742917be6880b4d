using System.Numerics;
using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Execution;

/// <summary>Division, modulo and atomic xor: the operations both engines call rather than inline.</summary>
internal static partial class BpfRuntime
{
    // offset 1 selects the signed form (sdiv/smod). Division by zero gives 0; modulo by zero leaves dst unchanged;
    // the one signed overflow (MIN / -1) gives MIN and MIN % -1 gives 0, which C# would otherwise trap on. One body
    // serves both widths (U/S: uint/int for BPF_ALU, ulong/long for BPF_ALU64): each instantiation compiles to the
    // width's own division, and the result is zero-extended as a 32-bit ALU result must be.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Div<U, S>(U dst, U src, int signed)
        where U : IBinaryInteger<U>, IUnsignedNumber<U>
        where S : IBinaryInteger<S>, ISignedNumber<S>
    {
        if (U.IsZero(src))
            return 0;
        if (signed == 0)
            return ulong.CreateTruncating(dst / src);
        var divisor = S.CreateTruncating(src);
        var dividend = S.CreateTruncating(dst);
        return ulong.CreateTruncating(U.CreateTruncating(divisor == S.NegativeOne ? -dividend : dividend / divisor));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mod<U, S>(U dst, U src, int signed)
        where U : IBinaryInteger<U>, IUnsignedNumber<U>
        where S : IBinaryInteger<S>, ISignedNumber<S>
    {
        if (U.IsZero(src))
            return ulong.CreateTruncating(dst);
        if (signed == 0)
            return ulong.CreateTruncating(dst % src);
        var divisor = S.CreateTruncating(src);
        return divisor == S.NegativeOne ? 0 : ulong.CreateTruncating(U.CreateTruncating(S.CreateTruncating(dst) % divisor));
    }

    // Interlocked has no Xor: a compare-exchange loop that retries with the value the failed exchange saw, the shape
    // of Interlocked.Or's and of the kernel's x86 JIT for the fetch forms.

    /// <summary>Atomic xor of a 32- or 64-bit word; returns the old value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Xor<T>(ref T location, T operand) where T : IBinaryInteger<T>
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

    /// <summary>
    /// BPF_CMPXCHG on a 32-bit word: r0 becomes the old value, zero-extended. On success x86's 32-bit cmpxchg leaves
    /// the upper half of rax as it was, and RyuJIT's optimized code takes its result as already zero-extended, so a
    /// comparand whose register held r0's upper half kept it (r0 = 0x12345678_fffffffe matching 0xfffffffe stayed
    /// 0x12345678_fffffffe). The kernel's x86 JIT zero-extends explicitly for the same reason; here the success case
    /// returns the comparand's own zero extension.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong CompareExchange(ref int location, int value, int comparand)
    {
        var old = Interlocked.CompareExchange(ref location, value, comparand);
        return old == comparand ? (uint)comparand : (uint)old;
    }
}
