using System.Diagnostics;
using System.Runtime.InteropServices;

namespace XdpGate.Linux;

/// <summary>clang could not be found or run, or refused the source; the message says which and includes clang's own words.</summary>
public sealed class CompilerException(string message) : Exception(message);

/// <summary>
/// Compiles a C file into a BPF object the way libbpf-based projects build theirs:
/// <c>clang -O2 -g -target bpf -I/usr/include/&lt;multiarch&gt; -c file.c</c>. <c>-g</c> gives the BTF that
/// BTF-defined maps and line info need; the multiarch include directory holds <c>asm/types.h</c>, which
/// <c>linux/bpf.h</c> includes and which the BPF target cannot find on its own.
/// </summary>
public static class ClangCompiler
{
    public const string InstallHint = "install it with apt-get install clang llvm libbpf-dev";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The clang to run: $CLANG if set, else the first <c>clang</c> on PATH; null when there is none.</summary>
    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CLANG") is { Length: > 0 } configured)
            return File.Exists(configured) ? configured : null;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "clang");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The first line of <c>clang --version</c> (e.g. "Debian clang version 14.0.6"), or null without clang.</summary>
    public static string? Version()
    {
        if (Find() is not { } clang)
            return null;
        using var process = Process.Start(new ProcessStartInfo(clang, "--version") { RedirectStandardOutput = true, UseShellExecute = false });
        if (process is null)
            return null;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Split('\n')[0].Trim();
    }

    /// <summary>The Debian/Ubuntu multiarch triple of this machine, whose include directory holds asm/types.h.</summary>
    public static string Multiarch => RuntimeInformation.OSArchitecture switch
    {
        Architecture.Arm64 => "aarch64-linux-gnu",
        Architecture.Arm => "arm-linux-gnueabihf",
        Architecture.RiscV64 => "riscv64-linux-gnu",
        Architecture.S390x => "s390x-linux-gnu",
        Architecture.Ppc64le => "powerpc64le-linux-gnu",
        _ => "x86_64-linux-gnu",
    };

    /// <summary>
    /// Compiles <paramref name="cFile"/> with <paramref name="clang"/> (by default <see cref="Find"/>'s) and returns the
    /// object's bytes with every file clang read for it; throws <see cref="CompilerException"/> on any failure.
    /// </summary>
    public static ClangOutput Compile(string cFile, string? clang = null)
    {
        ArgumentNullException.ThrowIfNull(cFile);
        if (!File.Exists(cFile))
            throw new CompilerException($"{cFile}: no such file");
        clang ??= Find() ?? throw new CompilerException($"clang not found: {InstallHint}");
        var output = Directory.CreateTempSubdirectory("xdpgate-clang-");
        try
        {
            var objectFile = Path.Combine(output.FullName, Path.GetFileNameWithoutExtension(cFile) + ".o");
            var dependencyFile = Path.Combine(output.FullName, "dependencies");
            var start = new ProcessStartInfo(clang)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var argument in Arguments(cFile, objectFile, dependencyFile))
                start.ArgumentList.Add(argument);

            using var process = Process.Start(start) ?? throw new CompilerException($"{clang} could not be started");
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new CompilerException($"{clang} did not finish compiling {cFile} within {Timeout.TotalSeconds} s");
            }
            var messages = (stderr.Result + stdout.Result).TrimEnd();
            if (process.ExitCode != 0 || !File.Exists(objectFile))
                throw new CompilerException($"clang failed on {cFile} (exit status {process.ExitCode}):\n{messages}");
            return new ClangOutput(File.ReadAllBytes(objectFile), ParseDependencies(File.ReadAllText(dependencyFile)));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            throw new CompilerException($"could not run clang on {cFile}: {e.Message}");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>The flags that decide what clang makes of a source: the command line without its files.</summary>
    public static IReadOnlyList<string> Flags()
    {
        var flags = new List<string> { "-O2", "-g", "-target", "bpf" };
        var multiarch = Path.Combine("/usr/include", Multiarch);
        if (Directory.Exists(multiarch))
            flags.Add("-I" + multiarch);
        return flags;
    }

    /// <summary>
    /// The command line, without the program name: <see cref="Flags"/>, then <c>-MD -MF</c>, which has clang write the
    /// files it read (system headers included) to <paramref name="dependencyFile"/> as a make rule for target
    /// "object".
    /// </summary>
    public static IReadOnlyList<string> Arguments(string cFile, string objectFile, string dependencyFile) =>
        [.. Flags(), "-MD", "-MF", dependencyFile, "-MT", DependencyTarget, "-c", cFile, "-o", objectFile];

    private const string DependencyTarget = "object";

    /// <summary>
    /// The prerequisites of the make rule clang writes for <c>-MD</c>: "object: a.c b.h \" lines, where a backslash
    /// before a newline continues the line, one before a space or '#' keeps it in the name, and "$$" is '$'.
    /// </summary>
    public static IReadOnlyList<string> ParseDependencies(string rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var prefix = DependencyTarget + ":";
        if (!rule.StartsWith(prefix, StringComparison.Ordinal))
            throw new CompilerException($"clang's dependency file does not start with '{prefix}': {rule[..Math.Min(rule.Length, 80)]}");
        var files = new List<string>();
        var name = new System.Text.StringBuilder();
        for (var i = prefix.Length; i < rule.Length; i++)
        {
            var c = rule[i];
            if (c == '\\' && i + 1 < rule.Length && rule[i + 1] is ' ' or '#' or '\n')
            {
                if (rule[++i] != '\n')
                    name.Append(rule[i]);
                else
                    Flush();
            }
            else if (c == '$' && i + 1 < rule.Length && rule[i + 1] == '$')
            {
                name.Append('$');
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                Flush();
            }
            else
            {
                name.Append(c);
            }
        }
        Flush();
        return files;

        void Flush()
        {
            if (name.Length > 0)
                files.Add(name.ToString());
            name.Clear();
        }
    }
}

/// <summary>What clang made of a C file: the object and every file it read (the source first, then its headers).</summary>
public sealed record ClangOutput(byte[] Object, IReadOnlyList<string> Dependencies);
