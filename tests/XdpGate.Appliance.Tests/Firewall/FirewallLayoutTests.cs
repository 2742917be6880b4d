using System.Buffers.Binary;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Elf;
using Xunit;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>
/// firewall.h and FirewallLayout.cs are one definition: every #define has the same value in both, and every struct and
/// enum of the header has a C# mirror with the size, members, offsets, names and values the compiler gave firewall.o
/// (its BTF, read by the engine's reader), as Katran's control plane and program share one header.
/// </summary>
public sealed partial class FirewallLayoutTests
{
    private static readonly string Builtin = Path.Combine(AppContext.BaseDirectory, "builtin");
    private static readonly string Header = File.ReadAllText(Path.Combine(Builtin, "firewall.h"));
    private static readonly byte[] BtfSection = ElfFile.Parse(File.ReadAllBytes(Path.Combine(Builtin, "firewall.o"))).FindSection(".BTF")!.Data.ToArray();
    private static readonly Btf Types = Btf.Parse(BtfSection);

    public static TheoryData<string> Structs() => [.. StructLine().Matches(Header).Select(m => m.Groups[1].Value)];

    public static TheoryData<string> Enums() => [.. EnumLine().Matches(Header).Select(m => m.Groups[1].Value)];

    /// <summary>Every numeric #define of firewall.h has the same value in FirewallLayout (the program and the compiler share them).</summary>
    [Fact]
    public void The_layout_constants_are_those_of_firewall_h()
    {
        var defines = DefineLine().Matches(Header).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());
        var compared = 0;
        foreach (var (name, text) in defines)
        {
            var value = text.StartsWith("0x", StringComparison.Ordinal)
                ? long.Parse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.TryParse(text, CultureInfo.InvariantCulture, out var number) ? number : (long?)null;
            var field = typeof(FirewallLayout).GetField(name, BindingFlags.Public | BindingFlags.Static);
            Assert.True(field is not null, $"FirewallLayout lacks {name}");
            if (value is null)
                continue;
            Assert.Equal((name, value.Value), (name, Convert.ToInt64(field.GetValue(null), CultureInfo.InvariantCulture)));
            compared++;
        }
        Assert.True(compared >= 8);
        Assert.Equal(1L << 18, FirewallLayout.FW_MAX_BITMAP_BLOCKS);
        Assert.Equal(FirewallLayout.FW_MAX_RULES / FirewallLayout.FW_BLOCK_RULES, FirewallLayout.FW_MAX_BLOCKS);
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void Each_struct_of_firewall_h_has_a_mirror_with_the_size_members_and_offsets_of_the_objects_BTF(string name)
    {
        var mirror = Mirror(name);
        var btf = Single(BTF_KIND_STRUCT, name);

        Assert.Equal((name, (int)btf.SizeOrType), (name, Marshal.SizeOf(mirror)));
        var fields = mirror.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .OrderBy(f => Marshal.OffsetOf(mirror, f.Name)).ToList();
        Assert.Equal(btf.Members.Select(m => m.Name), fields.Select(f => f.Name));
        foreach (var (member, field) in btf.Members.Zip(fields))
        {
            var where = $"{name}.{member.Name}";
            Assert.Equal((where, (int)member.BitOffset / 8), (where, (int)Marshal.OffsetOf(mirror, field.Name)));
            Assert.Equal((where, (int)Types.ResolveSize(member.Type, where)), (where, Marshal.SizeOf(field.FieldType)));
        }
    }

    [Theory]
    [MemberData(nameof(Enums))]
    public void Each_enum_of_firewall_h_has_a_mirror_with_the_names_and_values_of_the_objects_BTF(string name)
    {
        var mirror = Mirror(name);
        var btf = Single(BTF_KIND_ENUM, name);

        // struct btf_enum { __u32 name_off; __s32 val; }, vlen of them after the struct btf_type.
        var enumerators = Enumerable.Range(0, btf.Vlen).Select(i =>
        {
            var entry = BtfSection.AsSpan(Types.TypeStart(btf.Id) + 12 + 8 * i);
            return (Types.String(BinaryPrimitives.ReadUInt32LittleEndian(entry), name), (long)BinaryPrimitives.ReadInt32LittleEndian(entry[4..]));
        });
        Assert.Equal(enumerators, Enum.GetValues(mirror).Cast<object>().Select(v => (Enum.GetName(mirror, v)!, Convert.ToInt64(v, CultureInfo.InvariantCulture))));
    }

    /// <summary>The maps hold the mirrored structs: their key and value sizes are the mirrors'.</summary>
    [Theory]
    [InlineData(FirewallMaps.Config, null, typeof(fw_config))]
    [InlineData(FirewallMaps.Summaries, null, typeof(fw_summary))]
    [InlineData(FirewallMaps.Bitmaps, null, typeof(fw_block))]
    [InlineData(FirewallMaps.RuleCounts, null, typeof(fw_counter))]
    [InlineData(FirewallMaps.Stats, null, typeof(fw_counter))]
    [InlineData(FirewallMaps.Src4, typeof(fw_lpm4_key), null)]
    [InlineData(FirewallMaps.Dst6, typeof(fw_lpm6_key), null)]
    public void The_maps_hold_the_mirrored_structs(string map, Type? key, Type? value)
    {
        var definition = FirewallBuiltin.Open().Maps.Single(m => m.Name == map).Definition;

        if (key is not null)
            Assert.Equal(Marshal.SizeOf(key), (int)definition.KeySize);
        if (value is not null)
            Assert.Equal(Marshal.SizeOf(value), (int)definition.ValueSize);
    }

    private static Type Mirror(string name) =>
        typeof(FirewallLayout).Assembly.GetType($"{typeof(FirewallLayout).Namespace}.{name}")
            ?? throw new Xunit.Sdk.XunitException($"FirewallLayout.cs has no mirror of {name} (firewall.h declares it)");

    private static BtfType Single(int kind, string name)
    {
        var found = Types.Types.Where(t => t.Kind == kind && t.Name == name).ToList();
        Assert.True(found.Count == 1, $"firewall.o's BTF has {found.Count} {KindName(kind)} '{name}' (clang emits only the types something uses)");
        return found[0];
    }

    [GeneratedRegex(@"^#define (FW_\w+) ([^/\n]+)", RegexOptions.Multiline)]
    private static partial Regex DefineLine();

    [GeneratedRegex(@"^struct (fw_\w+) \{", RegexOptions.Multiline)]
    private static partial Regex StructLine();

    [GeneratedRegex(@"^enum (fw_\w+) \{", RegexOptions.Multiline)]
    private static partial Regex EnumLine();
}
