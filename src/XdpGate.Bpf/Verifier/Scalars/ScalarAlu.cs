using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// The kernel's adjust_scalar_min_max_vals and friends: what is known about <c>dst op src</c> from what is known
/// about dst and src. Every result must contain every value the real operation can produce (soundness).
/// </summary>
public static class ScalarAlu
{
    /// <summary>
    /// dst = dst op src for a BPF_ALU/BPF_ALU64 <paramref name="op"/> (BPF_ADD..BPF_ARSH, BPF_MOV, BPF_NEG;
    /// <paramref name="offset"/> is the instruction's off: signed div/mod when 1, movsx width in bits when 8/16/32).
    /// A 32-bit operation zero-extends its result to 64 bits, as the ISA does.
    /// </summary>
    public static Scalar Apply(byte op, in Scalar dst, in Scalar src, bool is64, short offset = 0) => Scalar.Unknown;

    /// <summary>BPF_END: byte swap (to big or little endian, or unconditional in ALU64) of <paramref name="bits"/> bits.</summary>
    public static Scalar Endian(in Scalar dst, int bits, bool swap) => Scalar.Unknown;

    /// <summary>The value of a zero-extending load of <paramref name="bytes"/> bytes of unknown memory.</summary>
    public static Scalar Load(int bytes) => Scalar.Unknown;

    /// <summary>The value of a sign-extending (BPF_MEMSX) load of <paramref name="bytes"/> bytes of unknown memory.</summary>
    public static Scalar LoadSigned(int bytes) => Scalar.Unknown;
}
