using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace XdpGate.Linux.Tests;

/// <summary>
/// Compiles a C program against the installed kernel headers that prints offsetof/sizeof of every field of the given
/// structs (C# type name = C struct name, field names = C field names) and the value of every constant of the given
/// classes, and compares them with ours. Fields a newer kernel appended to a struct (absent from the installed
/// headers) are passed in <c>newerThanHeaders</c> and checked only for lying inside the struct; structs that mirror only
/// the leading fields of the header's (<c>prefixesOnly</c>) have their fields checked but not their size.
/// </summary>
public static class HeaderProbe
{
    public const string Gcc = "/usr/bin/gcc";

    /// <summary>Why the probe cannot run here, or null.</summary>
    public static string? WhyUnavailable(params string[] headers)
    {
        if (!File.Exists(Gcc))
            return $"{Gcc} not found (install gcc)";
        foreach (var header in headers)
        {
            if (!File.Exists(Path.Combine("/usr/include", header)))
                return $"/usr/include/{header} not found (install linux-libc-dev)";
        }
        return null;
    }

    /// <summary>Checks every field of <paramref name="structs"/> and every constant of <paramref name="constants"/>; returns how many.</summary>
    public static int Check(string[] headers, Type[] structs, Type[] constants, string[]? newerThanHeaders = null, Type[]? prefixesOnly = null)
    {
        newerThanHeaders ??= [];
        prefixesOnly ??= [];
        var c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n");
        foreach (var header in headers)
            c.AppendLine(CultureInfo.InvariantCulture, $"#include <{header}>");
        c.AppendLine("int main(void) {");
        foreach (var type in structs)
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"{type.Name} %zu\\n\", sizeof(struct {type.Name}));");
            foreach (var field in Fields(type).Where(f => !newerThanHeaders.Contains($"{type.Name}.{f.Name}")))
            {
                c.AppendLine(CultureInfo.InvariantCulture,
                    $"  printf(\"{type.Name}.{field.Name} %zu,%zu\\n\", offsetof(struct {type.Name}, {field.Name}), sizeof(((struct {type.Name} *)0)->{field.Name}));");
            }
        }
        foreach (var constant in constants.SelectMany(Constants))
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"{constant.Name} %lld\\n\", (long long)({constant.Name}));");
        c.AppendLine("  return 0;\n}");
        var facts = CompileAndRun(c.ToString());

        var count = 0;
        foreach (var type in structs)
        {
            var newer = Fields(type).Where(f => newerThanHeaders.Contains($"{type.Name}.{f.Name}")).ToList();
            var headerSize = long.Parse(facts[type.Name], CultureInfo.InvariantCulture);
            if (newer.Count == 0 && !prefixesOnly.Contains(type))
                Assert.True(headerSize == Marshal.SizeOf(type), $"sizeof(struct {type.Name}): header {headerSize}, ours {Marshal.SizeOf(type)}");
            foreach (var field in Fields(type))
            {
                var offset = (long)Marshal.OffsetOf(type, field.Name);
                var size = (long)Marshal.SizeOf(field.FieldType);
                if (newer.Contains(field))
                {
                    Assert.True(offset + size <= Marshal.SizeOf(type), $"{type.Name}.{field.Name} lies outside the struct");
                    continue;
                }
                var parts = facts[$"{type.Name}.{field.Name}"].Split(',');
                Assert.True(long.Parse(parts[0], CultureInfo.InvariantCulture) == offset, $"{type.Name}.{field.Name}: header offset {parts[0]}, ours {offset}");
                Assert.True(long.Parse(parts[1], CultureInfo.InvariantCulture) == size, $"{type.Name}.{field.Name}: header size {parts[1]}, ours {size}");
                count++;
            }
        }
        foreach (var constant in constants.SelectMany(Constants))
        {
            var ours = Convert.ToInt64(constant.GetRawConstantValue(), CultureInfo.InvariantCulture);
            var theirs = long.Parse(facts[constant.Name], CultureInfo.InvariantCulture);
            Assert.True(theirs == ours, $"{constant.Name}: header {theirs}, ours {ours}");
            count++;
        }
        return count;
    }

    private static IEnumerable<FieldInfo> Fields(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Instance);

    private static IEnumerable<FieldInfo> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral);

    private static Dictionary<string, string> CompileAndRun(string source)
    {
        var directory = Directory.CreateTempSubdirectory("xdpgate-header-probe-");
        try
        {
            var cFile = Path.Combine(directory.FullName, "probe.c");
            var binary = Path.Combine(directory.FullName, "probe");
            File.WriteAllText(cFile, source);
            var (_, errors, status) = Run(Gcc, "-std=gnu11", "-o", binary, cFile);
            Assert.True(status == 0, $"gcc could not compile the probe:\n{errors}\n{source}");
            var (stdout, stderr, exit) = Run(binary);
            Assert.True(exit == 0, stderr);
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', 2))
                .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static (string Stdout, string Stderr, int Status) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (stdout.Result, stderr, process.ExitCode);
    }
}
