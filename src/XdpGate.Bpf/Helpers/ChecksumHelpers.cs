using System.Runtime.CompilerServices;
using XdpGate.Bpf.Execution;

namespace XdpGate.Bpf.Helpers;

/// <summary>bpf_csum_diff.</summary>
internal static unsafe class ChecksumHelpers
{
    /// <summary>The kernel's scratch buffer holds 128 words, so from_size + to_size may be at most 512 bytes.</summary>
    private const ulong MaxDiffBytes = 512;

    /// <summary>
    /// csum_diff(from, from_size, to, to_size, seed): the one's-complement sum of seed, the complement of every word
    /// of from and every word of to, as x86's csum_partial computes it (32-bit result, end-around carry).
    /// </summary>
    public static ulong CsumDiff(BpfVm vm, ulong from, ulong fromSize, ulong to, ulong toSize, ulong seed)
    {
        if (((fromSize | toSize) & 3) != 0 || fromSize > MaxDiffBytes || toSize > MaxDiffBytes || fromSize + toSize > MaxDiffBytes)
            return HelperArguments.Error(Errno.EINVAL);
        if (!HelperArguments.Memory(vm, from, (int)fromSize, write: false) || !HelperArguments.Memory(vm, to, (int)toSize, write: false))
            return 0;
        ulong sum = (uint)seed;
        for (ulong i = 0; i < fromSize; i += 4)
            sum += ~Unsafe.ReadUnaligned<uint>((void*)(from + i));
        for (ulong i = 0; i < toSize; i += 4)
            sum += Unsafe.ReadUnaligned<uint>((void*)(to + i));
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        return (uint)sum;
    }
}
