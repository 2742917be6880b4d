using System.Runtime.InteropServices;

namespace XdpGate.Bpf.Program;

/// <summary>
/// An instruction prepared for execution: registers unpacked, jump targets absolute, immediates sign-extended,
/// lddw values (constants, map handles, value and code addresses) resolved, so the interpreter does no decoding.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DecodedInsn
{
    public byte Code;
    public byte Dst;
    public byte Src;
    public byte Spare;
    /// <summary>Memory offset, or the absolute target of a jump.</summary>
    public int Off;
    /// <summary>Sign-extended imm; the full 64-bit value for lddw; the absolute target of a pseudo call.</summary>
    public long Imm;
}
