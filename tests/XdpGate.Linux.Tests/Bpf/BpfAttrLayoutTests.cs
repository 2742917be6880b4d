using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;
using Xunit.Abstractions;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Linux.Tests.Bpf;

/// <summary>
/// The bpf_attr variants, enum bpf_cmd and the #defines keep uapi/linux/bpf.h's layout and numbers: against values
/// written down here always, and against the installed header compiled by gcc when both are present.
/// </summary>
public sealed class BpfAttrLayoutTests(ITestOutputHelper output)
{
    private const string Header = "/usr/include/linux/bpf.h";
    private const string Gcc = "/usr/bin/gcc";

    /// <summary>Each variant and the member of union bpf_attr that holds it ("" for the anonymous ones).</summary>
    private static readonly (Type Type, string Member)[] Variants =
    [
        (typeof(bpf_attr_map_create), ""),
        (typeof(bpf_attr_map_elem), ""),
        (typeof(bpf_attr_prog_load), ""),
        (typeof(bpf_attr_test), "test."),
        (typeof(bpf_attr_btf_load), ""),
        (typeof(bpf_attr_info), "info."),
        (typeof(bpf_attr_get_id), ""),
        (typeof(bpf_attr_link_create), "link_create."),
    ];

    // (variant, field, offset, size) as in the 6.1 header (the layout is ABI: later kernels only append).
    public static TheoryData<string, string, int, int> Fields => new()
    {
        { nameof(bpf_attr_map_create), "map_type", 0, 4 },
        { nameof(bpf_attr_map_create), "key_size", 4, 4 },
        { nameof(bpf_attr_map_create), "value_size", 8, 4 },
        { nameof(bpf_attr_map_create), "max_entries", 12, 4 },
        { nameof(bpf_attr_map_create), "map_flags", 16, 4 },
        { nameof(bpf_attr_map_create), "inner_map_fd", 20, 4 },
        { nameof(bpf_attr_map_create), "numa_node", 24, 4 },
        { nameof(bpf_attr_map_create), "map_name", 28, 16 },
        { nameof(bpf_attr_map_create), "map_ifindex", 44, 4 },
        { nameof(bpf_attr_map_create), "btf_fd", 48, 4 },
        { nameof(bpf_attr_map_create), "btf_key_type_id", 52, 4 },
        { nameof(bpf_attr_map_create), "btf_value_type_id", 56, 4 },
        { nameof(bpf_attr_map_create), "btf_vmlinux_value_type_id", 60, 4 },
        { nameof(bpf_attr_map_create), "map_extra", 64, 8 },
        { nameof(bpf_attr_map_elem), "map_fd", 0, 4 },
        { nameof(bpf_attr_map_elem), "key", 8, 8 },
        { nameof(bpf_attr_map_elem), "value", 16, 8 },
        { nameof(bpf_attr_map_elem), "next_key", 16, 8 },
        { nameof(bpf_attr_map_elem), "flags", 24, 8 },
        { nameof(bpf_attr_prog_load), "prog_type", 0, 4 },
        { nameof(bpf_attr_prog_load), "insn_cnt", 4, 4 },
        { nameof(bpf_attr_prog_load), "insns", 8, 8 },
        { nameof(bpf_attr_prog_load), "license", 16, 8 },
        { nameof(bpf_attr_prog_load), "log_level", 24, 4 },
        { nameof(bpf_attr_prog_load), "log_size", 28, 4 },
        { nameof(bpf_attr_prog_load), "log_buf", 32, 8 },
        { nameof(bpf_attr_prog_load), "kern_version", 40, 4 },
        { nameof(bpf_attr_prog_load), "prog_flags", 44, 4 },
        { nameof(bpf_attr_prog_load), "prog_name", 48, 16 },
        { nameof(bpf_attr_prog_load), "prog_ifindex", 64, 4 },
        { nameof(bpf_attr_prog_load), "expected_attach_type", 68, 4 },
        { nameof(bpf_attr_prog_load), "prog_btf_fd", 72, 4 },
        { nameof(bpf_attr_prog_load), "func_info_rec_size", 76, 4 },
        { nameof(bpf_attr_prog_load), "func_info", 80, 8 },
        { nameof(bpf_attr_prog_load), "func_info_cnt", 88, 4 },
        { nameof(bpf_attr_prog_load), "line_info_rec_size", 92, 4 },
        { nameof(bpf_attr_prog_load), "line_info", 96, 8 },
        { nameof(bpf_attr_prog_load), "line_info_cnt", 104, 4 },
        { nameof(bpf_attr_prog_load), "attach_btf_id", 108, 4 },
        { nameof(bpf_attr_prog_load), "attach_prog_fd", 112, 4 },
        { nameof(bpf_attr_prog_load), "attach_btf_obj_fd", 112, 4 },
        { nameof(bpf_attr_prog_load), "core_relo_cnt", 116, 4 },
        { nameof(bpf_attr_prog_load), "fd_array", 120, 8 },
        { nameof(bpf_attr_prog_load), "core_relos", 128, 8 },
        { nameof(bpf_attr_prog_load), "core_relo_rec_size", 136, 4 },
        { nameof(bpf_attr_test), "prog_fd", 0, 4 },
        { nameof(bpf_attr_test), "retval", 4, 4 },
        { nameof(bpf_attr_test), "data_size_in", 8, 4 },
        { nameof(bpf_attr_test), "data_size_out", 12, 4 },
        { nameof(bpf_attr_test), "data_in", 16, 8 },
        { nameof(bpf_attr_test), "data_out", 24, 8 },
        { nameof(bpf_attr_test), "repeat", 32, 4 },
        { nameof(bpf_attr_test), "duration", 36, 4 },
        { nameof(bpf_attr_test), "ctx_size_in", 40, 4 },
        { nameof(bpf_attr_test), "ctx_size_out", 44, 4 },
        { nameof(bpf_attr_test), "ctx_in", 48, 8 },
        { nameof(bpf_attr_test), "ctx_out", 56, 8 },
        { nameof(bpf_attr_test), "flags", 64, 4 },
        { nameof(bpf_attr_test), "cpu", 68, 4 },
        { nameof(bpf_attr_test), "batch_size", 72, 4 },
        { nameof(bpf_attr_btf_load), "btf", 0, 8 },
        { nameof(bpf_attr_btf_load), "btf_log_buf", 8, 8 },
        { nameof(bpf_attr_btf_load), "btf_size", 16, 4 },
        { nameof(bpf_attr_btf_load), "btf_log_size", 20, 4 },
        { nameof(bpf_attr_btf_load), "btf_log_level", 24, 4 },
        { nameof(bpf_attr_info), "bpf_fd", 0, 4 },
        { nameof(bpf_attr_info), "info_len", 4, 4 },
        { nameof(bpf_attr_info), "info", 8, 8 },
        { nameof(bpf_attr_get_id), "start_id", 0, 4 },
        { nameof(bpf_attr_get_id), "prog_id", 0, 4 },
        { nameof(bpf_attr_get_id), "next_id", 4, 4 },
        { nameof(bpf_attr_get_id), "open_flags", 8, 4 },
        { nameof(bpf_attr_link_create), "prog_fd", 0, 4 },
        { nameof(bpf_attr_link_create), "target_ifindex", 4, 4 },
        { nameof(bpf_attr_link_create), "attach_type", 8, 4 },
        { nameof(bpf_attr_link_create), "flags", 12, 4 },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void Field_sits_at_the_header_offset_with_the_header_size(string variant, string field, int offset, int size)
    {
        var type = Variants.Single(v => v.Type.Name == variant).Type;
        Assert.Equal(offset, OffsetOf(type, field));
        Assert.Equal(size, SizeOf(type, field));
    }

    [Fact]
    public void Every_field_is_in_the_written_down_table()
    {
        var listed = Fields.Select(row => $"{row[0]}.{row[1]}").ToHashSet();
        foreach (var (type, _) in Variants)
        {
            foreach (var field in InstanceFields(type))
                Assert.Contains($"{type.Name}.{field.Name}", listed);
        }
    }

    [Theory]
    [InlineData(typeof(bpf_attr_map_create), 72)]
    [InlineData(typeof(bpf_attr_map_elem), 32)]
    [InlineData(typeof(bpf_attr_prog_load), 144)]
    [InlineData(typeof(bpf_attr_test), 80)]
    [InlineData(typeof(bpf_attr_btf_load), 32)]
    [InlineData(typeof(bpf_attr_info), 16)]
    [InlineData(typeof(bpf_attr_get_id), 12)]
    public void Variant_has_the_header_size(Type type, int size)
    {
        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.Equal(size, EndOfFields(type));
    }

    [SkippableFact]
    public void The_leading_fields_of_bpf_prog_info_agree_with_the_installed_header()
    {
        var why = HeaderProbe.WhyUnavailable("linux/bpf.h");
        Skip.If(why is not null, why);
        var count = HeaderProbe.Check(["linux/bpf.h"], [typeof(bpf_prog_info)], [], prefixesOnly: [typeof(bpf_prog_info)]);
        output.WriteLine($"{count} fields of bpf_prog_info agree");
    }

    [Theory]
    [InlineData(bpf_cmd.BPF_MAP_CREATE, 0)]
    [InlineData(bpf_cmd.BPF_MAP_LOOKUP_ELEM, 1)]
    [InlineData(bpf_cmd.BPF_MAP_UPDATE_ELEM, 2)]
    [InlineData(bpf_cmd.BPF_MAP_DELETE_ELEM, 3)]
    [InlineData(bpf_cmd.BPF_MAP_GET_NEXT_KEY, 4)]
    [InlineData(bpf_cmd.BPF_PROG_LOAD, 5)]
    [InlineData(bpf_cmd.BPF_PROG_TEST_RUN, 10)]
    [InlineData(bpf_cmd.BPF_OBJ_GET_INFO_BY_FD, 15)]
    [InlineData(bpf_cmd.BPF_BTF_LOAD, 18)]
    [InlineData(bpf_cmd.BPF_LINK_CREATE, 28)]
    [InlineData(bpf_cmd.BPF_PROG_BIND_MAP, 35)]
    public void Commands_have_the_header_numbers(bpf_cmd command, int number) => Assert.Equal(number, (int)command);

    [SkippableFact]
    public void Layouts_and_numbers_agree_with_the_installed_header_compiled_by_gcc()
    {
        Skip.IfNot(File.Exists(Gcc), $"{Gcc} not found (install gcc); only the written-down layouts were checked");
        Skip.IfNot(File.Exists(Header), $"{Header} not found (install linux-libc-dev); only the written-down layouts were checked");

        var facts = CompileAndRun(CProgram());
        var checkedCount = 0;
        foreach (var (type, member) in Variants)
        {
            foreach (var field in InstanceFields(type))
            {
                var (offset, size) = Pair(facts[$"{type.Name}.{field.Name}"]);
                Assert.True(offset == OffsetOf(type, field.Name), $"{type.Name}.{field.Name}: header offset {offset}, ours {OffsetOf(type, field.Name)}");
                Assert.True(size == SizeOf(type, field.Name), $"{type.Name}.{field.Name}: header size {size}, ours {SizeOf(type, field.Name)}");
                checkedCount++;
            }
            if (member.Length > 0)
                Assert.Equal(long.Parse(facts[$"{type.Name}"], CultureInfo.InvariantCulture), Marshal.SizeOf(type));
        }
        foreach (var command in Enum.GetNames<bpf_cmd>())
        {
            Assert.True(long.Parse(facts[command], CultureInfo.InvariantCulture) == (int)Enum.Parse<bpf_cmd>(command), $"{command}: header says {facts[command]}");
            checkedCount++;
        }
        foreach (var constant in Defines())
        {
            var ours = Convert.ToUInt64(constant.GetRawConstantValue(), CultureInfo.InvariantCulture);
            Assert.True(ulong.Parse(facts[constant.Name], CultureInfo.InvariantCulture) == ours, $"{constant.Name}: header says {facts[constant.Name]}, ours {ours}");
            checkedCount++;
        }
        output.WriteLine($"{checkedCount} fields and numbers agree with {Header}");
    }

    private static string CProgram()
    {
        var c = new StringBuilder();
        c.AppendLine("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\nint main(void) {");
        foreach (var (type, member) in Variants)
        {
            foreach (var field in InstanceFields(type))
            {
                var designator = member + field.Name;
                c.AppendLine(CultureInfo.InvariantCulture,
                    $"  printf(\"{type.Name}.{field.Name} %zu,%zu\\n\", offsetof(union bpf_attr, {designator}), sizeof(((union bpf_attr *)0)->{designator}));");
            }
            if (member.Length > 0)
                c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"{type.Name} %zu\\n\", sizeof(((union bpf_attr *)0)->{member.TrimEnd('.')}));");
        }
        foreach (var command in Enum.GetNames<bpf_cmd>())
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"{command} %d\\n\", (int){command});");
        foreach (var constant in Defines())
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"{constant.Name} %llu\\n\", (unsigned long long)({constant.Name}));");
        c.AppendLine("  return 0;\n}");
        return c.ToString();
    }

    private static Dictionary<string, string> CompileAndRun(string source)
    {
        var directory = Directory.CreateTempSubdirectory("xdpgate-bpf-h-");
        try
        {
            var cFile = Path.Combine(directory.FullName, "layout.c");
            var binary = Path.Combine(directory.FullName, "layout");
            File.WriteAllText(cFile, source);
            var (_, compileErrors, compileStatus) = Run(Gcc, ["-std=gnu11", "-o", binary, cFile]);
            Assert.True(compileStatus == 0, $"gcc could not compile the layout probe against {Header}:\n{compileErrors}\n{source}");
            var (stdout, stderr, status) = Run(binary, []);
            Assert.True(status == 0, stderr);
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', 2))
                .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static (string Stdout, string Stderr, int Status) Run(string program, string[] arguments)
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

    private static (long Offset, long Size) Pair(string text)
    {
        var parts = text.Split(',');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static IEnumerable<FieldInfo> InstanceFields(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Instance);

    private static IEnumerable<FieldInfo> Defines() =>
        typeof(bpf_defines).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral);

    private static int OffsetOf(Type type, string field) => (int)Marshal.OffsetOf(type, field);

    private static int SizeOf(Type type, string field) => Marshal.SizeOf(type.GetField(field)!.FieldType);

    /// <summary>The end of the last field rounded up to the variant's alignment (8 when it has a u64, 4 otherwise).</summary>
    private static int EndOfFields(Type type)
    {
        var alignment = InstanceFields(type).Any(f => SizeOf(type, f.Name) == 8) ? 8 : 4;
        return (InstanceFields(type).Max(f => OffsetOf(type, f.Name) + SizeOf(type, f.Name)) + alignment - 1) & ~(alignment - 1);
    }
}
