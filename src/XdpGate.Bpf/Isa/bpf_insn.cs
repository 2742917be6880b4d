using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// One 8-byte instruction exactly as the kernel's <c>struct bpf_insn</c> lays it out (little-endian):
/// code, dst_reg:4 | src_reg:4, off, imm. A 64-bit immediate load (lddw) takes two of these.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
#pragma warning disable CA1707, IDE1006 // kernel names kept exactly
public struct bpf_insn : IEquatable<bpf_insn>
{
    public byte code;
    /// <summary>dst_reg in the low nibble, src_reg in the high nibble, as on a little-endian host.</summary>
    public byte regs;
    public short off;
    public int imm;

    public bpf_insn(byte code, int dst, int src, short off, int imm)
    {
        this.code = code;
        regs = (byte)((dst & 0xf) | ((src & 0xf) << 4));
        this.off = off;
        this.imm = imm;
    }

    public int dst_reg
    {
        readonly get => regs & 0xf;
        set => regs = (byte)((regs & 0xf0) | (value & 0xf));
    }

    public int src_reg
    {
        readonly get => regs >> 4;
        set => regs = (byte)((regs & 0x0f) | ((value & 0xf) << 4));
    }

    public readonly bool Equals(bpf_insn other) => code == other.code && regs == other.regs && off == other.off && imm == other.imm;
    public override readonly bool Equals(object? obj) => obj is bpf_insn other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(code, regs, off, imm);
    public static bool operator ==(bpf_insn left, bpf_insn right) => left.Equals(right);
    public static bool operator !=(bpf_insn left, bpf_insn right) => !left.Equals(right);
    public override readonly string ToString() => $"{{code=0x{code:x2} dst=r{dst_reg} src=r{src_reg} off={off} imm={imm}}}";

    /// <summary>Reads instructions from raw little-endian bytes; the length must be a multiple of 8.</summary>
    public static bpf_insn[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 8 != 0)
            throw new BpfLoadException($"program is {bytes.Length} bytes, not a multiple of 8 (truncated instruction at byte {bytes.Length - bytes.Length % 8})");
        return MemoryMarshal.Cast<byte, bpf_insn>(bytes).ToArray();
    }

    public static byte[] ToBytes(ReadOnlySpan<bpf_insn> insns) => MemoryMarshal.AsBytes(insns).ToArray();
}
