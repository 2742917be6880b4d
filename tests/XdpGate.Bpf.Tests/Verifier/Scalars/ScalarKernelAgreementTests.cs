using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Bpf.Verifier.Scalars;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Kernel;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// Precision against the real thing: random straight-line ALU programs ending in one conditional jump are loaded
/// into the running kernel with log_level 2, and every scalar the kernel's verifier prints must read exactly as
/// ours does after the same instructions, including both sides of the jump and which sides it walks at all.
/// XDPGATE_SCALAR_KERNEL_PROGRAMS sets how many programs (default 200); the seed is <see cref="ScalarSamples.Seed"/>.
/// </summary>
public sealed partial class ScalarKernelAgreementTests(ITestOutputHelper output)
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
        var count = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_SCALAR_KERNEL_PROGRAMS"), CultureInfo.InvariantCulture, out var n) ? n : 200;
        var random = new Random(ScalarSamples.Seed);
        var programs = Enumerable.Range(0, count).Select(_ => new Simulation(random)).ToList();
        // Another seed or count has no recording: the live kernel is then the only oracle.
        var record = $"kernel/scalars-seed{ScalarSamples.Seed}-{count}.txt";
        var asked = new Lazy<KernelOracle.LiveAnswer>(() => KernelOracle.Ask(() => KernelFacts(programs)));
        if (KernelOracle.Recording)
            KernelOracle.RecordIfAnswered($"tests/data/{record}", asked.Value, facts => KernelRecord.Write(record,
                $"the kernel verifier's scalars in {count} random ALU programs (seed {ScalarSamples.Seed}): after each instruction, and on each side of the final jump", facts));
        if (!KernelRecord.Exists(record))
        {
            var live = asked.Value;
            KernelOracle.CheckUnrecorded(record, live.Facts is null ? [] : OurFacts(programs, KernelOracle.Comparable(live.Facts)), live);
            return;
        }
        var recorded = KernelRecord.Load(record);
        KernelOracle.AssertEngineAgrees(recorded, OurFacts(programs, recorded.Facts));
        var forked = recorded.Facts.Count(f => f.EndsWith(": forked", StringComparison.Ordinal));
        var compared = recorded.Facts.Count(f => f.Contains(" insn ", StringComparison.Ordinal));
        output.WriteLine($"{count} programs ({forked} left out as forked), {compared} register states compared");
        Assert.True(forked < count / 10, $"{forked} of {count} programs forked: too few are compared");
        Assert.True(compared > count * 5, $"only {compared} states compared: the log parser finds too little");
        KernelOracle.CheckLive(recorded, asked.Value);
    }

    /// <summary>
    /// What the kernel's log shows, as facts: per program a digest of its instructions, then every scalar it printed
    /// for a register our simulation follows, then which sides of the final jump it walked and the jump's registers
    /// on each side it was unsure of. A program the kernel forked into constants (maybe_fork_scalars: state
    /// exploration, not the domain) is only "forked"; a jump on registers the kernel ties by an id is "tied".
    /// </summary>
    private static List<string> KernelFacts(List<Simulation> programs)
    {
        var facts = new List<string>();
        for (var p = 0; p < programs.Count; p++)
        {
            var program = programs[p];
            var log = program.Load();
            facts.Add($"p{p}: program {program.Digest}");
            if (log.BranchSources.Any(from => from != program.JumpIndex))
            {
                facts.Add($"p{p}: forked");
                continue;
            }
            foreach (var (index, registers) in program.Expected)
            {
                foreach (var (register, _) in registers)
                {
                    if (log.After(index).TryGetValue(register, out var state))
                        facts.Add($"p{p} insn {index} r{register}: {state}");
                }
            }
            facts.AddRange(program.JumpFacts(p, log));
        }
        return facts;
    }

    /// <summary>Our domain's answer to each fact the kernel stated (the same keys, our values).</summary>
    private static List<string> OurFacts(List<Simulation> programs, IReadOnlyList<string> kernelFacts)
    {
        var ours = new List<string>();
        foreach (var fact in kernelFacts)
        {
            var match = FactKey().Match(fact);
            if (!match.Success)
            {
                ours.Add($"unreadable fact: {fact}");
                continue;
            }
            var p = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            if (p >= programs.Count)
            {
                ours.Add($"p{p}: no such program here");
                continue;
            }
            var program = programs[p];
            var key = match.Groups[2].Value;
            ours.Add(key switch
            {
                ": program" => $"p{p}: program {program.Digest}",
                ": forked" or " jump: tied" => fact,
                " jump:" => $"p{p} jump: {program.Walks}",
                _ when key.StartsWith(" insn ", StringComparison.Ordinal) => $"p{p}{key} {program.After(key)}",
                _ => $"p{p}{key} {program.Side(key)}",
            });
        }
        return ours;
    }

    [GeneratedRegex(@"^p(\d+)(: program|: forked| jump: tied| jump:| insn \d+ r\d+:| (?:fall|taken) r\d+:)")]
    private static partial Regex FactKey();

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

        /// <summary>A short digest of the instructions, so a recording made from another generator is not compared.</summary>
        public string Digest => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bpf_insn.ToBytes(Insns)))[..16];

        /// <summary>Which sides of the final jump our domain says are walked.</summary>
        public string Walks => $"fall-through {Predicted != true}, taken {Predicted != false}";

        /// <summary>The kernel's facts about the final jump: the sides it walked, and the registers on each side when both are.</summary>
        public IEnumerable<string> JumpFacts(int p, VerifierLog log)
        {
            // Registers tied by an id (one copied from the other) compare as one value in the kernel; we track no ids.
            if (jumpDst == jumpSrc || Tied(log))
            {
                yield return $"p{p} jump: tied";
                yield break;
            }
            var fallWalked = log.Processed(JumpIndex + 1);
            var takenWalked = log.Processed(JumpIndex + 3);
            yield return $"p{p} jump: fall-through {fallWalked}, taken {takenWalked}";
            if (!fallWalked || !takenWalked)
                yield break;
            foreach (var (side, registers) in new[] { ("fall", log.After(JumpIndex)), ("taken", log.Branch(JumpIndex, JumpIndex + 3)) })
            {
                foreach (var register in new[] { jumpDst, jumpSrc }.Where(r => r >= 0))
                {
                    if (registers.TryGetValue(register, out var state))
                        yield return $"p{p} {side} r{register}: {state}";
                }
            }
        }

        /// <summary>Our state for a " insn I rR:" key.</summary>
        public string After(string key)
        {
            var words = key.Trim().TrimEnd(':').Split(' ');
            var index = int.Parse(words[1], CultureInfo.InvariantCulture);
            var register = int.Parse(words[2][1..], CultureInfo.InvariantCulture);
            return Expected.Where(e => e.Index == index).SelectMany(e => e.Registers).Where(r => r.Register == register).Select(r => r.State).LastOrDefault() ?? "(not followed)";
        }

        /// <summary>Our state for a " fall rR:" or " taken rR:" key.</summary>
        public string Side(string key)
        {
            var words = key.Trim().TrimEnd(':').Split(' ');
            var register = int.Parse(words[1][1..], CultureInfo.InvariantCulture);
            var (dst, src) = words[0] == "fall" ? (fallDst, fallSrc) : (takenDst, takenSrc);
            return (register == jumpDst ? dst : src).ToString();
        }

        private bool Tied(VerifierLog log) => jumpSrc >= 0 && log.IdBefore(JumpIndex, jumpDst) is var id && id != 0 && id == log.IdBefore(JumpIndex, jumpSrc);

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
