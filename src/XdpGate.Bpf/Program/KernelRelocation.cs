using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Program;

/// <summary>
/// Binds a program's map references to kernel maps: our loader's lddw forms that index the object's maps
/// (BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE) become the forms that name a map fd (BPF_PSEUDO_MAP_FD,
/// BPF_PSEUDO_MAP_VALUE), whose imm the kernel reads as the fd. The value offset stays in the second slot's imm.
/// Used wherever the same program also runs in the kernel: agreement tests and the kernel baseline benchmark.
/// </summary>
public static class KernelRelocation
{
    public static bpf_insn[] BindMapFds(IReadOnlyList<bpf_insn> instructions, IReadOnlyList<int> mapFds)
    {
        var output = instructions.ToArray();
        for (var pc = 0; pc < output.Length; pc++)
        {
            if (!InstructionValidator.IsWide(output[pc]))
                continue;
            ref var insn = ref output[pc];
            switch (insn.src_reg)
            {
                case BPF_PSEUDO_MAP_IDX:
                    insn.src_reg = BPF_PSEUDO_MAP_FD;
                    insn.imm = FdOf(insn, pc, mapFds);
                    break;
                case BPF_PSEUDO_MAP_IDX_VALUE:
                    insn.src_reg = BPF_PSEUDO_MAP_VALUE;
                    insn.imm = FdOf(insn, pc, mapFds);
                    break;
                case BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE:
                    throw new ArgumentException($"insn {pc}: {insn} names a map by our registry id, which means nothing to the kernel; use map_by_idx", nameof(instructions));
            }
            pc++; // the second slot of lddw
        }
        return output;
    }

    private static int FdOf(bpf_insn insn, int pc, IReadOnlyList<int> mapFds) =>
        (uint)insn.imm < (uint)mapFds.Count
            ? mapFds[insn.imm]
            : throw new ArgumentException($"insn {pc}: map index {insn.imm} is not one of the object's {mapFds.Count} maps");
}
