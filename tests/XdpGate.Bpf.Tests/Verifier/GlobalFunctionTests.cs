using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Elf;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Bpf.Verifier;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Fixtures;
using XdpGate.Testing.Kernel;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// Global functions (tests/data/elf/xdp_global_funcs.c): the kernel verifies each once on its own from its BTF
/// prototype, and a caller learns nothing from it but a scalar in r0, while a static function is verified inline. Each
/// program's verdict must be the one the kernel gave (tests/data/kernel/global-function-verdicts.txt), and our refusal
/// must say what the kernel's says (<see cref="Verdicts"/>).
/// </summary>
public sealed class GlobalFunctionTests
{
    private static readonly string Fixture = ElfFixtures.PathOf(ElfFixtures.GlobalFunctions);

    /// <summary>Each program, and null when the kernel accepts it or a distinctive part of its refusal.</summary>
    public static TheoryData<string, string?> Verdicts => new()
    {
        { "global_parse", null },
        { "global_index", "R1 unbounded memory access" },
        { "static_index", null },
        { "global_deref_unchecked", "invalid mem access 'mem_or_null'" },
        { "global_deref_checked", null },
        { "global_written_index", "math between map_value pointer and register with unbounded min value is not allowed" },
        { "static_written_index", null },
        { "global_void", "doesn't return scalar" },
        { "global_wrong_ctx", "arg#0 expects pointer to ctx" },
        { "global_unchecked_packet_arg", "invalid access to packet, off=0 size=4" },
        { "global_null_arg", null },
        { "global_maybe_null_arg", null },
        { "global_pointer_as_scalar", "R1 is not a scalar" },
        { "global_stack_too_deep", "combined stack size of 2 calls is 576. Too large" },
        { "global_callback", "callback function not static" },
        { "global_void_pointer", "arg#0 reference type('UNKNOWN ') size cannot be determined" },
        { "global_empty_struct_pointer", null },
        { "global_rodata_arg", "write into map forbidden, value_size=8 off=4 size=4" },
        { "global_stale_packet_pointer", "R6 invalid mem access 'scalar'" },
        { "global_adjust_then_reload", null },
        { "socket_global_ctx", null },
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public void Our_verdict_on_a_program_with_global_functions_is_the_kernels(string program, string? refusal)
    {
        AssertVerdict(refusal, OurRefusal(program));
    }

    [SkippableFact]
    public void The_kernel_gives_each_program_with_global_functions_our_verdict()
    {
        var programs = Verdicts.Select(row => (string)row[0]).ToList();
        KernelOracle.Check("kernel/global-function-verdicts.txt", "the kernel verifier's verdict on each program of tests/data/elf/xdp_global_funcs.o, as root",
            [.. programs.Select(p => Verdict(p, OurRefusal(p) is null))], () =>
            {
                var obj = BpfObject.Open(Fixture);
                using var kernel = new KernelObject([.. obj.Maps.Select(m => m.Definition)]);
                ObjectFixture.WriteGlobalData(obj, kernel);
                var facts = new List<string>();
                foreach (var program in programs)
                {
                    try
                    {
                        kernel.Load(obj, obj.Programs.Single(p => p.Name == program));
                        facts.Add(Verdict(program, accepted: true));
                    }
                    catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
                    {
                        facts.Add(Verdict(program, accepted: false));
                        facts.Add($"# {program}: {KernelVerifier.Reason(e.VerifierLog.Length > 0 ? e.VerifierLog : e.Message)}");
                    }
                }
                return facts;
            });
    }

    private static string Verdict(string program, bool accepted) => $"{program}: {(accepted ? "accepted" : "refused")}";

    /// <summary>The XDP programs the kernel accepts (BPF_PROG_TEST_RUN runs them as XDP).</summary>
    internal static IEnumerable<string> AcceptedXdp()
    {
        var xdp = BpfObject.Open(Fixture).Programs.Where(p => p.Type == bpf_prog_type.BPF_PROG_TYPE_XDP).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return Verdicts.Where(row => row[1] is null && xdp.Contains((string)row[0])).Select(row => (string)row[0]);
    }

    public static TheoryData<string> AcceptedPrograms() => [.. AcceptedXdp()];

    [SkippableTheory]
    [MemberData(nameof(AcceptedPrograms))]
    public void A_program_with_global_functions_runs_as_in_the_kernel(string program)
    {
        var obj = BpfObject.Open(Fixture);
        KernelAgreement.Check($"global-function-runs/{program}.txt", $"{program} of tests/data/elf/xdp_global_funcs.o on three UDP packets: runs, then maps", open =>
        {
            using var target = open([.. obj.Maps.Select(m => m.Definition)]);
            ObjectFixture.WriteGlobalData(obj, target);
            target.Load(obj, obj.Programs.Single(p => p.Name == program));
            var facts = new[] { Packets.Udp4(53), Packets.Udp4(80, payload: 100), Packets.Udp4(443, etherType: 0x86dd) }
                .Select(packet => target.Run(program, packet)).Select(run => $"{run.Retval} {Convert.ToHexString(run.Packet)} {run.Fault}").ToList();
            facts.AddRange(Enumerable.Range(0, obj.Maps.Count).Select(i => KernelAgreement.Dump(target, i)));
            return facts;
        });
    }

    [Fact]
    public void Global_functions_get_their_parameters_from_the_BTF_prototype_and_static_ones_are_not_listed()
    {
        var obj = BpfObject.Open(Fixture);
        string Globals(string program) => string.Join("; ", obj.Programs.Single(p => p.Name == program).GlobalFunctions.Select(f => f.ToString()));

        Assert.Equal("parse@10(Context)", Globals("global_parse"));
        Assert.Equal("pick@13(Scalar)", Globals("global_index"));
        Assert.Equal("", Globals("static_index"));
        Assert.Equal("load_checked@12(mem4)", Globals("global_deref_checked"));
        Assert.Equal("touch@3() unsupported: Global function touch() doesn't return scalar. Only those are supported.", Globals("global_void"));
    }

    [Fact]
    public void A_global_function_is_assumed_valid_at_the_call_and_validated_on_its_own()
    {
        using var loaded = BpfObject.Open(Fixture).Load(possibleCpus: 2, verification: VerificationLevel.None);
        var log = BpfVerifier.Verify(loaded.Programs["global_parse"], VerificationLevel.Privileged, verbose: true).Log;

        var assumed = log.IndexOf("Func#1 ('parse') is global and assumed valid.", StringComparison.Ordinal);
        var validating = log.IndexOf("Validating parse() func#1...", StringComparison.Ordinal);
        var safe = log.IndexOf("Func#1 ('parse') is safe for any args that match its prototype", StringComparison.Ordinal);
        Assert.True(assumed >= 0 && validating > assumed && safe > validating, log);
    }

    [Fact]
    public void A_refusal_inside_a_global_function_names_it()
    {
        var e = Assert.Throws<VerifierException>(() => OurLoad("global_deref_unchecked"));

        Assert.Equal(VerifierRule.PossiblyNullPointer, e.Rule);
        Assert.StartsWith("in global function load_unchecked() func#1, verified on its own: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_call_of_a_global_function_that_does_not_return_a_scalar_is_refused_for_its_prototype()
    {
        var e = Assert.Throws<VerifierException>(() => OurLoad("global_void"));

        Assert.Equal(VerifierRule.GlobalFunction, e.Rule);
        Assert.Contains("Caller passes invalid args into func#1 ('touch')", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Accepted when <paramref name="expected"/> is null, else refused saying it; the whole refusal when not.</summary>
    private static void AssertVerdict(string? expected, string? refusal) =>
        Assert.True(expected is null ? refusal is null : refusal?.Contains(expected, StringComparison.Ordinal) == true,
            $"expected {(expected is null ? "acceptance" : $"a refusal saying '{expected}'")}, got {refusal ?? "acceptance"}");

    private static void OurLoad(string program)
    {
        using var loaded = BpfObject.Open(Fixture).Load(possibleCpus: 2, verification: VerificationLevel.None);
        BpfVerifier.Verify(loaded.Programs[program], VerificationLevel.Privileged);
    }

    private static string? OurRefusal(string program)
    {
        try
        {
            OurLoad(program);
            return null;
        }
        catch (VerifierException e)
        {
            return e.Message;
        }
    }
}
