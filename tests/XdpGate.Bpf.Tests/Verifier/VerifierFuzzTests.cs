using System.Globalization;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Elf;
using XdpGate.Bpf.Tests.Isa;
using XdpGate.Bpf.Tests.Jit;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using Xunit;
using Xunit.Abstractions;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The verifier against the engine's run-time checks: random programs and mutated copies of the fixture programs and
/// accepted cases go through verify-then-run in the interpreter, on random packets. A program the verifier accepted
/// that still hits a run-time bounds check (a read or write outside what it may touch, a bad helper argument) means
/// the verifier was wrong. XDPGATE_VERIFIER_FUZZ=N sets the number of programs (default 3000) for a longer run.
/// </summary>
public sealed class VerifierFuzzTests(ITestOutputHelper output)
{
    private static readonly FaultReason[] Allowed = [FaultReason.None, FaultReason.InstructionLimit];

    [Fact]
    public void Programs_the_verifier_accepts_never_fail_a_run_time_bounds_check()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_VERIFIER_FUZZ"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 3000;
        var random = new Random(20261125);
        var seeds = Seeds();
        var rows = IsaData.Opcodes.Where(r => Class(r.Code) != BPF_LD || r.Code == (BPF_LD | BPF_IMM | BPF_DW)).ToArray();
        using var vm = new BpfVm { BackwardJumpLimit = 100_000 };
        using var frame = new PacketBuffer();
        int accepted = 0, refused = 0, runs = 0;
        var failures = new List<string>();
        try
        {
            for (var i = 0; i < count && failures.Count < 5; i++)
            {
                var (name, insns, maps, type, globals) = random.Next(4) == 0
                    ? ("random", DifferentialFuzzTests.RandomProgram(random, rows, DifferentialFuzzTests.XdpHelpers, true, random.Next(4, 40)),
                        seeds[0].Maps, bpf_prog_type.BPF_PROG_TYPE_XDP, [])
                    : Mutant(random, seeds[random.Next(seeds.Count)]);
                BpfProgram program;
                try
                {
                    program = BpfProgram.Load(insns, new ProgramOptions { Name = name, Type = type, Maps = maps, GlobalFunctions = globals });
                }
                catch (BpfLoadException)
                {
                    refused++;
                    continue;
                }
                accepted++;
                if (type != bpf_prog_type.BPF_PROG_TYPE_XDP)
                    continue;
                for (var packet = 0; packet < 4; packet++)
                {
                    frame.Reset(DifferentialFuzzTests.RandomPacket(random));
                    vm.RunXdp(program, ref frame.Context);
                    runs++;
                    if (!Allowed.Contains(vm.LastFault.Reason))
                        failures.Add($"{name}: accepted, then {vm.LastFault}\n{Disassembler.FormatProgram(insns)}");
                }
            }
        }
        finally
        {
            foreach (var map in seeds.SelectMany(s => s.Maps).Distinct())
                map.Dispose();
        }
        output.WriteLine($"{accepted} accepted, {refused} refused, {runs} runs");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        Assert.True(accepted > count / 10, $"only {accepted} of {count} programs were accepted: the generator no longer exercises accepted programs");
    }

    private sealed record Seed(string Name, bpf_insn[] Program, BpfMap[] Maps, bpf_prog_type Type, IReadOnlyList<GlobalFunction> Globals);

    /// <summary>
    /// Programs the verifier accepts: every fixture program, the XDP programs of the global-function fixture the kernel
    /// accepts (with their global functions, verified on their own), and every accepted case.
    /// </summary>
    private static List<Seed> Seeds()
    {
        var seeds = new List<Seed>();
        var accepted = GlobalFunctionTests.AcceptedXdp().ToHashSet(StringComparer.Ordinal);
        var objects = Directory.GetFiles(TestPrograms.DataFile("programs"), "*.o").Order(StringComparer.Ordinal)
            .Append(ElfFixtures.PathOf(ElfFixtures.GlobalFunctions));
        foreach (var file in objects)
        {
            var obj = BpfObject.Open(file);
            var maps = obj.Maps.Select(m => MapFactory.Create(m.Definition, possibleCpus: 1)).ToArray();
            var globalFixture = Path.GetFileName(file) == ElfFixtures.GlobalFunctions;
            foreach (var program in obj.Programs.Where(p => !globalFixture || accepted.Contains(p.Name)))
                seeds.Add(new Seed(program.Name, [.. program.Instructions], maps, program.Type, program.GlobalFunctions));
        }
        foreach (var name in VerifierCase.All().Where(n => n.StartsWith("accepted/", StringComparison.Ordinal)))
        {
            var testCase = VerifierCase.Load(name);
            var maps = testCase.CreateMaps(possibleCpus: 1);
            seeds.Add(new Seed(name, testCase.Program, maps, testCase.Type, []));
        }
        return seeds;
    }

    /// <summary>A seed with one to three instructions changed: an offset, an immediate, a register, a jump, a width.</summary>
    private static (string, bpf_insn[], BpfMap[], bpf_prog_type, IReadOnlyList<GlobalFunction>) Mutant(Random random, Seed seed)
    {
        var insns = (bpf_insn[])seed.Program.Clone();
        var changes = random.Next(1, 4);
        for (var c = 0; c < changes; c++)
        {
            var at = random.Next(insns.Length);
            var insn = insns[at];
            if (insn.code == 0 || InstructionValidator.IsWide(insn))
                continue;
            insns[at] = random.Next(5) switch
            {
                0 => insn with { off = (short)(insn.off + random.Next(-9, 10)) },
                1 => insn with { imm = insn.imm + random.Next(-9, 10) },
                2 => new bpf_insn(insn.code, random.Next(10), insn.src_reg, insn.off, insn.imm),
                3 => new bpf_insn(insn.code, insn.dst_reg, random.Next(11), insn.off, insn.imm),
                _ => insn with { code = (byte)((insn.code & ~0x18) | (random.Next(4) << 3)) },
            };
        }
        return (seed.Name + " (mutated)", insns, seed.Maps, seed.Type, seed.Globals);
    }
}
