using XdpGate.Bpf.Elf;
using XdpGate.Linux;
using Xunit;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>
/// The committed objects are what clang makes of the committed sources: each is rebuilt with ClangCompiler and
/// must open to the same programs, maps, variables and line info. Reported as skipped where clang is missing.
/// </summary>
public sealed class RebuildTests
{
    private static string? SkipReason =>
        ClangCompiler.Find() is null ? $"clang not found ({ClangCompiler.InstallHint}); the committed objects were not compared with their sources"
        : !File.Exists("/usr/include/bpf/bpf_helpers.h") ? "libbpf headers (/usr/include/bpf) not found (apt-get install libbpf-dev); the fixtures cannot be rebuilt"
        : ClangCompiler.Version() is var version && version != BuiltBy ? $"the fixtures were built by '{BuiltBy}', this machine has '{version}', whose code may differ"
        : null;

    private static string BuiltBy => File.ReadAllText(ElfFixtures.PathOf("clang-version.txt")).Trim();

    public static TheoryData<string> Fixtures => new([.. ElfFixtures.Good, ElfFixtures.GlobalFunctions]);

    [SkippableTheory]
    [MemberData(nameof(Fixtures))]
    public void The_committed_object_is_what_clang_makes_of_its_source(string file)
    {
        Skip.If(SkipReason is not null, SkipReason);
        var rebuilt = BpfObject.Open(ClangCompiler.Compile(ElfFixtures.PathOf(Path.ChangeExtension(file, ".c"))).Object);
        var committed = ElfFixtures.Open(file);

        Assert.Equal(committed.License, rebuilt.License);
        Assert.Equal(committed.Maps.Select(m => (m.Definition, m.Kind, m.InitialData.ToArray().Length, string.Join(",", m.ProgramSlots))),
            rebuilt.Maps.Select(m => (m.Definition, m.Kind, m.InitialData.ToArray().Length, string.Join(",", m.ProgramSlots))));
        Assert.Equal(committed.Variables, rebuilt.Variables);
        Assert.Equal(committed.Programs.Count, rebuilt.Programs.Count);
        foreach (var (old, fresh) in committed.Programs.Zip(rebuilt.Programs))
        {
            Assert.Equal((old.Name, old.Section, old.Type), (fresh.Name, fresh.Section, fresh.Type));
            Assert.Equal(old.Instructions, fresh.Instructions);
            Assert.Equal(old.Functions, fresh.Functions);
            Assert.Equal(old.GlobalFunctions.Select(f => f.ToString()), fresh.GlobalFunctions.Select(f => f.ToString()));
            // The build directory differs (build.sh maps it away); what a listing shows must not.
            Assert.Equal(old.LineInfo.Select(l => (l.InstructionIndex, l.Location, l.SourceLine)), fresh.LineInfo.Select(l => (l.InstructionIndex, l.Location, l.SourceLine)));
        }
    }

    /// <summary>The kernel-agreement corpus (tests/data/programs): build.sh --check rebuilds every object and compares bytes.</summary>
    [SkippableFact]
    public void The_corpus_objects_are_byte_for_byte_what_build_sh_makes_of_their_sources()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var script = Path.Combine(AppContext.BaseDirectory, "data", "programs", "build.sh");
        var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--check");
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"build.sh --check: exit {process.ExitCode}\n{output.Result}\n{error}");
    }

    /// <summary>The built-in CO-RE target (src/XdpGate.Bpf/Elf/CoRe): its embedded object's BTF is what clang makes of builtin_btf.c.</summary>
    [SkippableFact]
    public void The_built_in_CO_RE_BTF_is_what_clang_makes_of_its_source()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var rebuilt = ElfFile.Parse(ClangCompiler.Compile(TestPrograms.DataFile("core", "builtin_btf.c")).Object);
        var fresh = Btf.Parse(rebuilt.FindSection(".BTF")!.Data.Span);
        var embedded = XdpGate.Bpf.Elf.CoRe.CoreTarget.Builtin.Btf;
        Assert.Equal(embedded.Types.Select(t => t.ToString()), fresh.Types.Select(t => t.ToString()));
        Assert.Equal(embedded.Types.Select(t => string.Join(",", t.Members)), fresh.Types.Select(t => string.Join(",", t.Members)));
    }
}
