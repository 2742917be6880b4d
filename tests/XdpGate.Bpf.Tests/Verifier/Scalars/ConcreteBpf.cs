using System.Buffers.Binary;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// The concrete truth the abstract domain must cover: each operation run by the interpreter on real values, as a
/// tiny program that loads dst and src from memory, applies the one instruction and returns the result in r0.
/// </summary>
internal sealed class ConcreteBpf : IDisposable
{
    private readonly BpfVm vm = new();
    private readonly Dictionary<(byte Code, short Off, int Imm), BpfProgram> programs = [];
    private readonly byte[] memory = new byte[16];

    /// <summary>dst op src for an ALU/ALU64 instruction (BPF_X form; NEG and END ignore src).</summary>
    public ulong Alu(byte code, short off, int imm, ulong dst, ulong src)
    {
        var program = Program(code, off, imm, () =>
        [
            LoadOperand(0, 0), LoadOperand(2, 8),
            new bpf_insn(code, 0, Op(code) is BPF_NEG or BPF_END ? 0 : 2, off, imm),
            new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        ]);
        return Run(program, dst, src);
    }

    /// <summary>Whether the JMP/JMP32 <paramref name="code"/> (BPF_X form) jumps for these values.</summary>
    public bool Jumps(byte code, ulong dst, ulong src)
    {
        var program = Program(code, 0, 0, () =>
        [
            LoadOperand(0, 0), LoadOperand(2, 8),
            new bpf_insn(code, 0, 2, 2, 0),
            new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
            new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
            new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        ]);
        return Run(program, dst, src) == 1;
    }

    /// <summary>What a BPF_LDX (BPF_MEM or BPF_MEMSX) load of <paramref name="code"/>'s size reads from memory holding <paramref name="bytes"/>.</summary>
    public ulong Load(byte code, ulong bytes)
    {
        var program = Program(code, 0, 0, () =>
        [
            new bpf_insn(code, 0, 1, 0, 0),
            new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        ]);
        return Run(program, bytes, 0);
    }

    public void Dispose()
    {
        vm.Dispose();
    }

    private static bpf_insn LoadOperand(int register, short offset) => new(BPF_LDX | BPF_MEM | BPF_DW, register, 1, offset, 0);

    private BpfProgram Program(byte code, short off, int imm, Func<bpf_insn[]> build)
    {
        if (!programs.TryGetValue((code, off, imm), out var program))
        {
            program = BpfProgram.Load(build(), new ProgramOptions { Name = "scalar" });
            programs.Add((code, off, imm), program);
        }
        return program;
    }

    private ulong Run(BpfProgram program, ulong a, ulong b)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(memory, a);
        BinaryPrimitives.WriteUInt64LittleEndian(memory.AsSpan(8), b);
        return vm.Run(program, memory);
    }
}
