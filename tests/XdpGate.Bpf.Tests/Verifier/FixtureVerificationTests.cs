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
/// The fixture objects: every program of the C corpus (tests/data/programs) is accepted by our verifier; and, as root,
/// every program of every fixture (the corpus and the ELF loader fixtures, some deliberately unsafe) gets the same
/// verdict from the kernel's verifier as from ours.
/// </summary>
public sealed class FixtureVerificationTests
{
    public static TheoryData<string> CorpusObjects()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPrograms.DataFile("programs"), "*.o").Order(StringComparer.Ordinal))
            data.Add(Path.Combine("programs", Path.GetFileName(file)));
        return data;
    }

    public static TheoryData<string> AllObjects()
    {
        var data = CorpusObjects();
        foreach (var file in ElfFixtures.Good)
            data.Add(Path.Combine("elf", file));
        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusObjects))]
    public void Every_corpus_program_is_accepted(string file)
    {
        using var loaded = BpfObject.Open(TestPrograms.DataFile(file)).Load(possibleCpus: 2);
        foreach (var program in loaded.Programs.Values)
            Assert.Equal(VerificationLevel.Privileged, program.Verification.Level);
    }

    [SkippableTheory]
    [MemberData(nameof(AllObjects))]
    public void The_kernel_gives_every_fixture_program_our_verdict(string file)
    {
        var obj = BpfObject.Open(TestPrograms.DataFile(file));
        using var unverified = obj.Load(possibleCpus: 2, verification: VerificationLevel.None);
        // The programs XdpGate loads: a tp_btf or tc sibling is not ours to verify.
        var programs = obj.Programs.Where(p => p.NotLoadable is null).ToList();
        var ours = programs.Select(p => Verdict(p.Name, Refusal(unverified.Programs[p.Name]) is null)).ToList();
        KernelOracle.Check(Path.Combine("kernel", "fixture-verdicts", file.Replace('/', '-') + ".txt"),
            $"the kernel verifier's verdict on each program of tests/data/{file}, as root", ours, () =>
            {
                using var kernel = new KernelObject([.. obj.Maps.Select(m => m.Definition)]);
                ObjectFixture.WriteGlobalData(obj, kernel);
                var facts = new List<string>();
                foreach (var program in programs)
                {
                    var refusal = KernelRefusal(kernel, obj, program);
                    facts.Add(Verdict(program.Name, refusal is null));
                    if (refusal is not null)
                        facts.Add($"# {program.Name}: {refusal}");
                }
                return facts;
            });
    }

    private static string Verdict(string program, bool accepted) => $"{program}: {(accepted ? "accepted" : "refused")}";

    private static string? Refusal(BpfProgram program)
    {
        try
        {
            BpfVerifier.Verify(program, VerificationLevel.Privileged);
            return null;
        }
        catch (VerifierException e)
        {
            return e.Message;
        }
    }

    private static string? KernelRefusal(KernelObject kernel, BpfObject obj, ObjectProgram program)
    {
        try
        {
            try
            {
                kernel.Load(obj, program);
            }
            catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_BTF_LOAD)
            {
                // Some fixture BTF is more than this kernel takes; libbpf then loads the program without it, and so do we.
                kernel.Load(program.Name, [.. program.Instructions], program.Type);
            }
            return null;
        }
        catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
        {
            return KernelVerifier.Reason(e.VerifierLog.Length > 0 ? e.VerifierLog : e.Message);
        }
    }
}
