using Xunit;

namespace XdpGate.Linux.Tests;

/// <summary>
/// Compiling C into BPF objects with clang: the command line, its messages, and the files it reports having read.
/// (One class, so its tests never run concurrently: one of them changes $CLANG.)
/// </summary>
public sealed class ClangCompilerTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-clang-tests-");

    public void Dispose() => temp.Delete(recursive: true);

    [Fact]
    public void The_command_line_is_the_one_libbpf_projects_use_and_asks_for_the_files_read()
    {
        var arguments = ClangCompiler.Arguments("x.c", "x.o", "x.d");
        Assert.Equal(["-O2", "-g", "-target", "bpf"], arguments.Take(4));
        Assert.Equal(ClangCompiler.Flags(), arguments.Take(ClangCompiler.Flags().Count));
        Assert.Equal(["-MD", "-MF", "x.d", "-MT", "object", "-c", "x.c", "-o", "x.o"], arguments.TakeLast(9));
    }

    [SkippableFact]
    public void Compiler_errors_are_reported_with_clangs_messages()
    {
        Skip.If(ClangCompiler.Find() is null, $"clang not found ({ClangCompiler.InstallHint})");
        var source = Path.Combine(temp.FullName, "broken.c");
        File.WriteAllText(source, "int broken(void) { return undeclared_thing; }\n");

        var e = Assert.Throws<CompilerException>(() => ClangCompiler.Compile(source));

        Assert.StartsWith($"clang failed on {source} (exit status 1):", e.Message, StringComparison.Ordinal);
        Assert.Contains("error: use of undeclared identifier 'undeclared_thing'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_clang_is_reported_with_how_to_install_it()
    {
        var source = Path.Combine(temp.FullName, "any.c");
        File.WriteAllText(source, "int x;\n");
        var saved = Environment.GetEnvironmentVariable("CLANG");
        Environment.SetEnvironmentVariable("CLANG", "/nonexistent/clang");
        try
        {
            var e = Assert.Throws<CompilerException>(() => ClangCompiler.Compile(source));
            Assert.Equal("clang not found: install it with apt-get install clang llvm libbpf-dev", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CLANG", saved);
        }
    }

    [SkippableFact]
    public void The_files_read_are_the_source_then_every_header_it_includes_local_and_system()
    {
        Skip.If(ClangCompiler.Find() is null, $"clang not found ({ClangCompiler.InstallHint})");
        var directory = Directory.CreateDirectory(Path.Combine(temp.FullName, "a dir#1"));
        File.WriteAllText(Path.Combine(directory.FullName, "verdict.h"), "#include <linux/types.h>\n#define VERDICT 2\n");
        var source = Path.Combine(directory.FullName, "prog.c");
        File.WriteAllText(source, "#include \"verdict.h\"\nint prog(void *ctx) { return VERDICT; }\n");

        var output = ClangCompiler.Compile(source);

        Assert.Equal(source, output.Dependencies[0]);
        Assert.Contains(Path.Combine(directory.FullName, "verdict.h"), output.Dependencies);
        Assert.Contains(output.Dependencies, d => d.EndsWith("/linux/types.h", StringComparison.Ordinal));
        Assert.All(output.Dependencies, d => Assert.True(File.Exists(d), $"{d} does not exist"));
        Assert.Equal("\x7f" + "ELF", System.Text.Encoding.ASCII.GetString(output.Object, 0, 4));
    }

    [Theory]
    [InlineData("object: a.c b.h\n", new[] { "a.c", "b.h" })]
    [InlineData("object: a.c \\\n  /usr/include/linux/bpf.h \\\n  c.h\n", new[] { "a.c", "/usr/include/linux/bpf.h", "c.h" })]
    [InlineData("object: my\\ dir/a.c x\\#1.h cost$$.h\n", new[] { "my dir/a.c", "x#1.h", "cost$.h" })]
    [InlineData("object:\n", new string[0])]
    public void A_dependency_rule_is_read_as_make_reads_it(string rule, string[] files) =>
        Assert.Equal(files, ClangCompiler.ParseDependencies(rule));

    [Fact]
    public void A_dependency_rule_for_another_target_is_refused() =>
        Assert.Throws<CompilerException>(() => ClangCompiler.ParseDependencies("prog.o: prog.c\n"));
}
