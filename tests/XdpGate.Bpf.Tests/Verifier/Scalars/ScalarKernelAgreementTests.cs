using System.Globalization;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Bpf.Verifier.Scalars;
using XdpGate.Linux.Bpf;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// Precision against the real thing: random straight-line ALU programs ending in one conditional jump are loaded
/// into the running kernel with log_level 2, and every scalar the kernel's verifier prints must read exactly as
/// ours does after the same instructions, including both sides of the jump and which sides it walks at all.
/// XDPGATE_SCALAR_KERNEL_PROGRAMS sets how many programs (default 200); the seed is <see cref="ScalarSamples.Seed"/>.
/// </summary>
public sealed class ScalarKernelAgreementTests(ITestOutputHelper output)
{
    private const int EAGAIN = 11;

    private static readonly int[] Registers = [6, 7, 8, 9];

    private static readonly (byte Op, int Weight)[] AluOps =
    [
        (BPF_ADD, 4), (BPF_SUB, 3), (BPF_MUL, 2), (BPF_DIV, 1), (BPF_OR, 3), (BPF_AND, 5), (BPF_LSH, 3), (BPF_RSH, 3),
        (BPF_NEG, 1), (BPF_MOD, 1), (BPF_XOR, 2), (BPF_MOV, 3), (BPF_ARSH, 2), (BPF_END, 1),
    ];

    private static readonly byte[] JumpOps = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE];

    [SkippableFact]
    public void Random_alu_programs_leave_every_scalar_as_the_kernel_verifier_prints_it()
    {
        KernelObject.Require();
        var count = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_SCALAR_KERNEL_PROGRAMS"), CultureInfo.InvariantCulture, out var n) ? n : 200;
        var random = new Random(ScalarSamples.Seed);
        int compared = 0, branchesOpen = 0, forked = 0;
        for (var p = 0; p < count; p++)
        {
            var program = new Simulation(random);
            var log = program.Load();
            // The kernel forks a [-1, 0] scalar into two constants before AND/OR with a constant (maybe_fork_scalars):
            // exploring states is the verifier core's business, not the domain's, so such programs are left out.
            if (log.BranchSources.Any(from => from != program.JumpIndex))
            {
                forked++;
                continue;
            }
            foreach (var (index, registers) in program.Expected)
            {
                foreach (var (register, ours) in registers)
                {
                    if (!log.After(index).TryGetValue(register, out var kernels))
                        continue;
                    compared++;
                    if (kernels != ours)
                        Assert.Fail($"seed {ScalarSamples.Seed}, program {p}: after insn {index}, r{register} is {kernels} in the kernel but {ours} here\n{Disassembler.Disassemble(program.Insns)}\n{log.Text}");
                }
            }
            if (program.CheckJump(log, output) is { } problem)
                Assert.Fail($"seed {ScalarSamples.Seed}, program {p}: {problem}\n{Disassembler.Disassemble(program.Insns)}\n{log.Text}");
            if (program.Predicted is null)
                branchesOpen++;
        }
        output.WriteLine($"{count} programs ({forked} left out as forked), {compared} register states compared, {branchesOpen} jumps open to both sides");
        Assert.True(forked < count / 10, $"{forked} of {count} programs forked: too few are compared");
        Assert.True(compared > count * 5, $"only {compared} states compared: the log parser finds too little");
    }

    /// <summary>A random program, built instruction by instruction while our domain follows it.</summary>
    private sealed class Simulation
    {
        private readonly List<bpf_insn> insns = [];
        private readonly Scalar[] regs = new Scalar[11];
        private byte jumpOp;
        private int jumpDst, jumpSrc;
        private bool jump32;
        private Scalar takenDst, takenSrc, fallDst, fallSrc;

        public Simulation(Random random)
        {
            // Three unknowns and a constant to start from.
            Call();
            Emit(Mov64(6, 0), 6, () => regs[6] = regs[0], 0);
            Call();
            Emit(Mov64(7, 0), 7, () => regs[7] = regs[0], 0);
            Call();
            Emit(Mov64(9, 0), 9, () => regs[9] = regs[0], 0);
            var constant = Immediate(random);
            Emit(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, constant), 8, () => regs[8] = Scalar.Const((ulong)(long)constant));
            var length = random.Next(4, 16);
            for (var i = 0; i < length; i++)
                RandomAlu(random);
            RandomJump(random);
        }

        public bpf_insn[] Insns => [.. insns];

        /// <summary>Per instruction, our string for each register it writes (and, for a move, reads).</summary>
        public List<(int Index, List<(int Register, string State)> Registers)> Expected { get; } = [];

        public bool? Predicted { get; private set; }

        public int JumpIndex { get; private set; }

        public VerifierLog Load()
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var fd = BpfSyscall.ProgLoad((uint)bpf_prog_type.BPF_PROG_TYPE_XDP, bpf_insn.ToBytes(Insns), "GPL", "scalar", logLevel: 2, logSize: 1 << 22);
                    return new VerifierLog(fd.VerifierLog);
                }
                // The verifier gives up with EAGAIN when a signal arrives mid-way (the runtime sends some); libbpf retries too.
                catch (BpfSyscallException e) when (e.Errno == EAGAIN && attempt < 5)
                {
                }
            }
        }

        /// <summary>Which sides of the final jump the kernel walked and what it knew on each; null when it agrees.</summary>
        public string? CheckJump(VerifierLog log, ITestOutputHelper output)
        {
            // Registers tied by an id (one copied from the other) compare as one value in the kernel; we track no ids.
            if (jumpDst == jumpSrc || Tied(log))
                return null;
            var fallWalked = log.Processed(JumpIndex + 1);
            var takenWalked = log.Processed(JumpIndex + 3);
            var expectFall = Predicted != true;
            var expectTaken = Predicted != false;
            if (fallWalked != expectFall || takenWalked != expectTaken)
                return $"the kernel walks fall-through {fallWalked}, taken {takenWalked}; we predicted {Predicted?.ToString() ?? "either"}";
            if (expectFall && Predicted is null && Compare(log.After(JumpIndex), fallDst, fallSrc, "fall-through") is { } fall)
                return fall;
            return expectTaken && Predicted is null ? Compare(log.Branch(JumpIndex, JumpIndex + 3), takenDst, takenSrc, "taken") : null;
        }

        private bool Tied(VerifierLog log) => jumpSrc >= 0 && log.IdBefore(JumpIndex, jumpDst) is var id && id != 0 && id == log.IdBefore(JumpIndex, jumpSrc);

        private string? Compare(IReadOnlyDictionary<int, string> kernel, Scalar dst, Scalar src, string side)
        {
            if (kernel.TryGetValue(jumpDst, out var d) && d != dst.ToString())
                return $"{side}: r{jumpDst} is {d} in the kernel but {dst} here";
            if (jumpSrc >= 0 && kernel.TryGetValue(jumpSrc, out var s) && s != src.ToString())
                return $"{side}: r{jumpSrc} is {s} in the kernel but {src} here";
            return null;
        }

        private void Call()
        {
            insns.Add(new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, 7)); // bpf_get_prandom_u32
            regs[0] = Scalar.Unknown;
            Expected.Add((insns.Count - 1, [(0, regs[0].ToString())]));
        }

        private void Emit(bpf_insn insn, int written, Action apply, int read = -1)
        {
            insns.Add(insn);
            apply();
            var states = new List<(int, string)> { (written, regs[written].ToString()) };
            if (read >= 0 && read != written)
                states.Add((read, regs[read].ToString()));
            Expected.Add((insns.Count - 1, states));
        }

        private static bpf_insn Mov64(int dst, int src) => new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);

        private void RandomAlu(Random random)
        {
            var op = Pick(random);
            var is64 = random.Next(3) != 0;
            var dst = Registers[random.Next(Registers.Length)];
            var cls = is64 ? BPF_ALU64 : BPF_ALU;
            switch (op)
            {
                case BPF_NEG:
                    Emit(new bpf_insn((byte)(cls | BPF_NEG), dst, 0, 0, 0), dst, () => regs[dst] = ScalarAlu.Apply(BPF_NEG, regs[dst], regs[dst], is64));
                    return;
                case BPF_END:
                    var bits = 16 << random.Next(3);
                    var toBe = random.Next(2) == 0;
                    Emit(new bpf_insn((byte)(cls | BPF_END | (toBe && !is64 ? BPF_TO_BE : BPF_TO_LE)), dst, 0, 0, bits), dst,
                        () => regs[dst] = ScalarAlu.Endian(regs[dst], bits, swap: is64 || toBe));
                    return;
            }
            short offset = op switch
            {
                BPF_DIV or BPF_MOD => (short)random.Next(2),
                BPF_MOV when random.Next(3) == 0 => (short)(8 << random.Next(is64 ? 3 : 2)),
                _ => 0,
            };
            if (op == BPF_MOV && offset == 0 && random.Next(2) == 0 || random.Next(3) == 0 && offset == 0 || op == BPF_MOV && offset != 0)
            {
                var src = Registers[random.Next(Registers.Length)];
                Emit(new bpf_insn((byte)(cls | op | BPF_X), dst, src, offset, 0), dst, () => regs[dst] = ScalarAlu.Apply(op, regs[dst], regs[src], is64, offset), src);
                return;
            }
            var imm = op switch
            {
                BPF_LSH or BPF_RSH or BPF_ARSH => random.Next(is64 ? 64 : 32),
                BPF_DIV or BPF_MOD => Immediate(random) is var d && d != 0 ? d : 3,
                _ => Immediate(random),
            };
            Emit(new bpf_insn((byte)(cls | op | BPF_K), dst, 0, offset, imm), dst,
                () => regs[dst] = ScalarAlu.Apply(op, regs[dst], Scalar.Const((ulong)(long)imm), is64, offset));
        }

        private void RandomJump(Random random)
        {
            jumpOp = JumpOps[random.Next(JumpOps.Length)];
            jump32 = random.Next(3) == 0;
            jumpDst = Registers[random.Next(Registers.Length)];
            var useReg = random.Next(3) == 0;
            jumpSrc = useReg ? Registers[random.Next(Registers.Length)] : -1;
            var imm = Immediate(random);
            // Most comparisons in real programs are against a value the register may well hold.
            if (!useReg && random.Next(2) == 0)
                imm = (int)(regs[jumpDst].UMin + (ulong)random.Next(0, 3));
            var src = useReg ? regs[jumpSrc] : Scalar.Const((ulong)(long)imm);
            JumpIndex = insns.Count;
            insns.Add(new bpf_insn((byte)((jump32 ? BPF_JMP32 : BPF_JMP) | jumpOp | (useReg ? BPF_X : BPF_K)), jumpDst, useReg ? jumpSrc : 0, 2, useReg ? 0 : imm));
            insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
            insns.Add(new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
            insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
            insns.Add(new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
            Predicted = ScalarBranch.IsTaken(jumpOp, regs[jumpDst], src, jump32);
            (takenDst, takenSrc, fallDst, fallSrc) = (regs[jumpDst], src, regs[jumpDst], src);
            ScalarBranch.Refine(jumpOp, ref takenDst, ref takenSrc, jump32, taken: true);
            ScalarBranch.Refine(jumpOp, ref fallDst, ref fallSrc, jump32, taken: false);
        }

        private static byte Pick(Random random)
        {
            var total = AluOps.Sum(o => o.Weight);
            var roll = random.Next(total);
            foreach (var (op, weight) in AluOps)
            {
                if ((roll -= weight) < 0)
                    return op;
            }
            return BPF_ADD;
        }

        private static int Immediate(Random random) => random.Next(8) switch
        {
            0 => random.Next(-4, 17),
            1 => (1 << random.Next(31)) - 1,
            2 => 0xff << (8 * random.Next(3)),
            3 => -(1 << random.Next(31)),
            4 => random.Next(1000),
            5 => random.Next(int.MinValue, int.MaxValue),
            6 => 0x7fffffff - random.Next(3),
            _ => random.Next(0x10000),
        };
    }
}
