using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;

namespace XdpGate.Bpf.Helpers;

/// <summary>bpf_csum_diff.</summary>
internal static unsafe class ChecksumHelpers
{
    /// <summary>
    /// csum_diff(from, from_size, to, to_size, seed), as Linux computes it since the helper was made the same on every
    /// architecture (measured on 6.18): any sizes, the sum of <c>to</c> (seeded) less the sum of <c>from</c>,
    /// folded to 16 bits. Pushing (from empty) and pulling (to empty) keep the seed on the right side.
    /// </summary>
    public static ulong CsumDiff(BpfVm vm, ulong from, ulong fromSize, ulong to, ulong toSize, ulong seed)
    {
        if (fromSize > int.MaxValue || toSize > int.MaxValue
            || !HelperArguments.Memory(vm, from, (int)fromSize, write: false) || !HelperArguments.Memory(vm, to, (int)toSize, write: false))
            return 0;
        var sum = (uint)seed;
        if (fromSize != 0 && toSize != 0)
            sum = Subtract(Partial((byte*)to, (int)toSize, sum), Partial((byte*)from, (int)fromSize, 0));
        else if (toSize != 0)
            sum = Partial((byte*)to, (int)toSize, sum);
        else if (fromSize != 0)
            sum = ~Partial((byte*)from, (int)fromSize, ~sum);
        return Fold16(sum);
    }

    /// <summary>
    /// csum_partial: the one's-complement sum of little-endian 32-bit words (a short last word zero-padded) plus
    /// <paramref name="seed"/>, with end-around carry. x86 adds 64-bit words, which is the same sum modulo 2^32-1.
    /// </summary>
    private static uint Partial(byte* data, int length, uint seed)
    {
        ulong sum = seed;
        var i = 0;
        for (; i + 4 <= length; i += 4)
            sum += Unsafe.ReadUnaligned<uint>(data + i);
        uint tail = 0;
        for (var shift = 0; i < length; i++, shift += 8)
            tail |= (uint)data[i] << shift;
        sum += tail;
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        return (uint)sum;
    }

    /// <summary>csum_sub: adds the complement, with end-around carry.</summary>
    private static uint Subtract(uint a, uint b)
    {
        var sum = (ulong)a + ~b;
        return (uint)((sum & 0xffff_ffff) + (sum >> 32));
    }

    /// <summary>csum_from32to16: the 32-bit sum folded to 16 bits with end-around carry.</summary>
    private static uint Fold16(uint sum)
    {
        sum = (sum & 0xffff) + (sum >> 16);
        return (sum & 0xffff) + (sum >> 16);
    }
}
