using System.Runtime.Versioning;
using XdpGate.Appliance.Objects;
using XdpGate.Bpf;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.Clang;
using Xunit;

namespace XdpGate.Appliance.Tests.Objects;

/// <summary>
/// C compiled once: each test runs clang through a script that counts its runs (<see cref="CountingClang"/>), over a
/// source that includes a header of its own (<see cref="VerdictProgram"/>), with the cache in the test's directory.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CompileCacheTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-compile-cache-");

    public void Dispose() => temp.Delete(recursive: true);

    private string CacheDirectory => Path.Combine(temp.FullName, "cache");

    private static xdp_action Verdict(byte[] elf)
    {
        using var loaded = BpfObject.Open(elf).Load(possibleCpus: 1);
        using var frame = new PacketBuffer();
        frame.Reset(new byte[64]);
        return new BpfVm().RunXdp(ObjectFiles.Select(loaded, null), ref frame.Context);
    }

    [SkippableFact]
    public void A_source_is_compiled_once_and_again_only_when_a_header_it_includes_changes()
    {
        var clang = new CountingClang(temp.FullName);
        var cache = new CompileCache(CacheDirectory, clang.Path);
        var program = new VerdictProgram(temp.FullName);

        var first = cache.Compile(program.Source);
        Assert.Equal(1, clang.Runs);
        Assert.Equal(first, cache.Compile(program.Source));
        Assert.Equal(1, clang.Runs);
        Assert.Equal(xdp_action.XDP_PASS, Verdict(first));

        program.SetVerdict((int)xdp_action.XDP_DROP);
        var edited = cache.Compile(program.Source);
        Assert.Equal(2, clang.Runs);
        Assert.Equal(xdp_action.XDP_DROP, Verdict(edited));
        Assert.Equal(edited, cache.Compile(program.Source));
        Assert.Equal(2, clang.Runs);

        // The first build is still kept under the hash of what it was made from.
        program.SetVerdict((int)xdp_action.XDP_PASS);
        Assert.Equal(first, cache.Compile(program.Source));
        Assert.Equal(2, clang.Runs);
    }

    [SkippableFact]
    public void An_edit_of_the_source_itself_compiles_again()
    {
        var clang = new CountingClang(temp.FullName);
        var cache = new CompileCache(CacheDirectory, clang.Path);
        var program = new VerdictProgram(temp.FullName);
        cache.Compile(program.Source);

        File.WriteAllText(program.Source, File.ReadAllText(program.Source).Replace("return VERDICT;", "return VERDICT - 1;", StringComparison.Ordinal));

        Assert.Equal(xdp_action.XDP_DROP, Verdict(cache.Compile(program.Source)));
        Assert.Equal(2, clang.Runs);
    }

    [SkippableFact]
    public void A_refused_source_is_reported_with_clangs_messages_and_nothing_is_kept()
    {
        var clang = new CountingClang(temp.FullName);
        var cache = new CompileCache(CacheDirectory, clang.Path);
        var source = Path.Combine(temp.FullName, "broken.c");
        File.WriteAllText(source, "int broken(void) { return undeclared_thing; }\n");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var e = Assert.Throws<BpfLoadException>(() => cache.Compile(source));
            Assert.StartsWith($"clang failed on {source} (exit status 1):", e.Message, StringComparison.Ordinal);
            Assert.Contains("error: use of undeclared identifier 'undeclared_thing'", e.Message, StringComparison.Ordinal);
            Assert.Equal(attempt, clang.Runs);
        }
        Assert.False(Directory.Exists(CacheDirectory) && Directory.EnumerateFiles(CacheDirectory).Any());
    }

    [SkippableFact]
    public void Without_a_usable_directory_every_open_compiles_and_none_fails()
    {
        var clang = new CountingClang(temp.FullName);
        var source = new VerdictProgram(temp.FullName).Source;
        var notADirectory = Path.Combine(temp.FullName, "file");
        File.WriteAllText(notADirectory, "");

        foreach (var cache in new[] { new CompileCache(null, clang.Path), new CompileCache(Path.Combine(notADirectory, "cache"), clang.Path) })
        {
            Assert.Equal(xdp_action.XDP_PASS, Verdict(cache.Compile(source)));
            Assert.Equal(xdp_action.XDP_PASS, Verdict(cache.Compile(source)));
        }
        Assert.Equal(4, clang.Runs);
    }

    [Fact]
    public void A_missing_clang_is_reported_with_how_to_install_it()
    {
        var e = Assert.Throws<BpfLoadException>(() => new CompileCache(CacheDirectory, "/nonexistent/clang").Compile(Path.Combine(temp.FullName, "any.c")));
        Assert.Equal("clang not found: install it with apt-get install clang llvm libbpf-dev", e.Message);
    }

    [SkippableFact]
    public void Entries_unused_for_30_days_go_when_a_new_one_is_stored_and_other_files_stay()
    {
        var cache = new CompileCache(CacheDirectory, new CountingClang(temp.FullName).Path);
        Directory.CreateDirectory(CacheDirectory);
        var stale = Path.Combine(CacheDirectory, new string('a', 64) + ".o");
        var recent = Path.Combine(CacheDirectory, new string('b', 64) + ".deps");
        var foreign = Path.Combine(CacheDirectory, "notes.o");
        foreach (var file in new[] { stale, recent, foreign })
            File.WriteAllText(file, "");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - CompileCache.Unused - TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(recent, DateTime.UtcNow - CompileCache.Unused + TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(foreign, DateTime.UtcNow - CompileCache.Unused - TimeSpan.FromHours(1));

        cache.Compile(new VerdictProgram(temp.FullName).Source);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(recent));
        Assert.True(File.Exists(foreign));
        Assert.Single(Directory.GetFiles(CacheDirectory, "*.deps"), f => f != recent);
    }

    [Fact]
    public void The_directory_is_XDPGATE_CACHE_DIR_else_the_XDG_cache_directory()
    {
        var saved = (Environment.GetEnvironmentVariable(CompileCache.DirectoryVariable), Environment.GetEnvironmentVariable("XDG_CACHE_HOME"));
        try
        {
            // Paths of this test's own, should a test elsewhere compile meanwhile.
            Environment.SetEnvironmentVariable(CompileCache.DirectoryVariable, CacheDirectory);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", temp.FullName);
            Assert.Equal(CacheDirectory, CompileCache.DefaultDirectory());

            Environment.SetEnvironmentVariable(CompileCache.DirectoryVariable, null);
            Assert.Equal(Path.Combine(temp.FullName, "xdpgate", "objects"), CompileCache.DefaultDirectory());

            // The XDG specification ignores a relative XDG_CACHE_HOME.
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "relative");
            Assert.Equal(Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".cache", "xdpgate", "objects"), CompileCache.DefaultDirectory());
        }
        finally
        {
            Environment.SetEnvironmentVariable(CompileCache.DirectoryVariable, saved.Item1);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved.Item2);
        }
    }
}
