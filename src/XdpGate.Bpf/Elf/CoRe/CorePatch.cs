using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>libbpf's bpf_core_patch_insn and bpf_core_poison_insn: a relocation's result written into its instruction.</summary>
internal static class CorePatch
{
    public const string SizeMismatch = "the target field has another size, and only pointers and unsigned integers may be read with another load size";

    /// <summary>
    /// libbpf's bpf_core_patch_insn: the immediate of an ALU op, the offset of a load or store, or an lddw's 64-bit
    /// value; true when the instruction was poisoned instead.
    /// </summary>
    public static bool Patch(bpf_insn[] instructions, int pc, CoreResult result, string where)
    {
        ref var insn = ref instructions[pc];
        var isLddw = insn.code == (BPF_LD | BPF_IMM | BPF_DW);
        if (isLddw && pc + 1 >= instructions.Length)
            throw new BpfLoadException($"{where}: the lddw's second slot is past the end of the function");
        if (result.Poison || (result.FailSizeAdjust && Class(insn.code) is BPF_LDX or BPF_ST or BPF_STX))
        {
            if (isLddw)
                Poison(ref instructions[pc + 1]);
            Poison(ref insn);
            return true;
        }

        switch (Class(insn.code))
        {
            case BPF_ALU or BPF_ALU64:
                if (Source(insn.code) != BPF_K)
                    throw new BpfLoadException($"{where}: the ALU instruction takes a register, not an immediate to patch");
                if (result.Validate && (ulong)(long)insn.imm != result.Original)
                    throw new BpfLoadException($"{where}: the instruction's immediate is {insn.imm}, the local BTF says {result.Original}");
                insn.imm = (int)result.New;
                break;
            case BPF_LDX or BPF_ST or BPF_STX:
                if (result.Validate && (ulong)(long)insn.off != result.Original)
                    throw new BpfLoadException($"{where}: the instruction's offset is {insn.off}, the local BTF says {result.Original}");
                if (result.New > (ulong)short.MaxValue)
                    throw new BpfLoadException($"{where}: offset {result.New} does not fit a load or store");
                insn.off = (short)result.New;
                if (result.NewSize != result.OriginalSize)
                {
                    var size = SizeBytes(insn.code);
                    if (size != result.OriginalSize)
                        throw new BpfLoadException($"{where}: the instruction accesses {size} bytes, the local field has {result.OriginalSize}");
                    insn.code = (byte)(Mode(insn.code) | SizeCode(result.NewSize, where) | Class(insn.code));
                }
                break;
            case BPF_LD when isLddw:
                ref var next = ref instructions[pc + 1];
                if (insn.src_reg != 0 || insn.off != 0 || next.code != 0 || next.dst_reg != 0 || next.src_reg != 0 || next.off != 0)
                    throw new BpfLoadException($"{where}: the lddw has an unexpected form");
                var value = (uint)insn.imm | ((ulong)(uint)next.imm << 32);
                if (result.Validate && value != result.Original)
                    throw new BpfLoadException($"{where}: the lddw loads {value}, the local BTF says {result.Original}");
                insn.imm = (int)result.New;
                next.imm = (int)(result.New >> 32);
                break;
            default:
                throw new BpfLoadException($"{where}: instruction code 0x{insn.code:x2} is not one a CO-RE relocation can patch (ALU immediate, load, store, lddw)");
        }
        return false;
    }

    private static void Poison(ref bpf_insn insn) => insn = new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, ProgramOptions.CorePoisonHelper);

    private static int SizeBytes(byte code) => Size(code) switch
    {
        BPF_B => 1,
        BPF_H => 2,
        BPF_W => 4,
        _ => 8,
    };

    private static byte SizeCode(uint bytes, string where) => bytes switch
    {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => throw new BpfLoadException($"{where}: the target field is {bytes} bytes, which no load or store reads"),
    };
}
