using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// The seeded key hash of the hash map family (the kernel uses jhash with a random seed, or seed 0 under
/// BPF_F_ZERO_SEED). Keys are folded 8 bytes at a time with a 64x64→128 multiply whose halves are xored together:
/// one multiply per word mixes every input bit into the low bits we pick buckets with.
/// </summary>
/// <remarks>
/// Stable across processes for a given seed, so BPF_F_ZERO_SEED gives the same bucket order on every run, as it
/// does in the kernel. Not a cryptographic hash: a random seed only makes collisions hard to plan from outside.
/// </remarks>
internal static unsafe class KeyHash
{
    // Odd 64-bit constants with well spread bits (the first is 2^64 / golden ratio).
    private const ulong LengthMix = 0x9E37_79B9_7F4A_7C15;
    private const ulong WordMix = 0xC2B2_AE3D_27D4_EB4F;
    private const ulong TailMix = 0x1656_67B1_9E37_79F9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute(byte* key, int length, ulong seed)
    {
        var acc = seed ^ ((ulong)length * LengthMix);
        var p = key;
        var n = length;
        while (n > 8)
        {
            acc = Fold(acc ^ Unsafe.ReadUnaligned<ulong>(p), WordMix);
            p += 8;
            n -= 8;
        }

        // 1 to 8 bytes remain. Reading two overlapping 4-byte words (or three single bytes) covers every byte
        // without a loop; the length mixed in above keeps differently sized tails apart.
        ulong tail = n >= 4
            ? ((ulong)Unsafe.ReadUnaligned<uint>(p) << 32) | Unsafe.ReadUnaligned<uint>(p + n - 4)
            : ((ulong)p[0] << 16) | ((ulong)p[n >> 1] << 8) | p[n - 1];
        acc = Fold(acc ^ tail, TailMix);
        // One multiply leaves keys that differ only in their high bytes (big-endian addresses) too close together;
        // a second round spreads them like random keys.
        acc = Fold(acc, WordMix);
        return (uint)(acc ^ (acc >> 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fold(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return high ^ low;
    }
}
