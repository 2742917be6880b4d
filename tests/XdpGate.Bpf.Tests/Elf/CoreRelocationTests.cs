using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Elf.CoRe;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using Xunit;
using static XdpGate.Bpf.Elf.BtfKinds;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>
/// CO-RE relocation as libbpf does it. The corpus fixture xdp_core_parse (tests/data/programs) holds relocations of
/// every kind clang 14 emits; NAME.core.txt is what libbpf patched into each instruction against the recording
/// kernel's BTF, so each of ours is compared with libbpf's, and the built-in BTF must give the same.
/// </summary>
public sealed class CoreRelocationTests
{
    private const string Fixture = "xdp_core_parse";
    private static readonly string ObjectPath = TestPrograms.DataFile("programs", Fixture + ".o");
    private static readonly string RecordingPath = TestPrograms.DataFile("programs", Fixture + ".core.txt");
    private static readonly string BuiltinName = CoreTarget.Builtin.Description;

    /// <summary>One line of NAME.core.txt: "PROG relo N KIND insn I FIELD OLD -> NEW" or "... insn I poison".</summary>
    public sealed record LibbpfRelocation(string Program, string Kind, int Instruction, string Field, ulong Value)
    {
        public static LibbpfRelocation Parse(string line)
        {
            var words = line.Split(' ');
            return words[6] == "poison"
                ? new LibbpfRelocation(words[0], words[3], int.Parse(words[5], CultureInfo.InvariantCulture), "poison", 0)
                : new LibbpfRelocation(words[0], words[3], int.Parse(words[5], CultureInfo.InvariantCulture), words[6], ulong.Parse(words[9], CultureInfo.InvariantCulture));
        }

        public override string ToString() => $"{Kind} at insn {Instruction}";
    }

    private static IEnumerable<string> RecordingLines() => File.ReadLines(RecordingPath).Where(l => !l.StartsWith('#'));

    private static string RecordedRelease() => File.ReadLines(RecordingPath).First(l => l.StartsWith("# kernel ", StringComparison.Ordinal)).Split(' ')[2];

    public static TheoryData<string> LibbpfRelocations()
    {
        var data = new TheoryData<string>();
        foreach (var line in RecordingLines())
            data.Add(line);
        return data;
    }

    [Fact]
    public void The_fixture_covers_every_relocation_kind_clang_emits()
    {
        var kinds = RecordingLines().Select(l => LibbpfRelocation.Parse(l).Kind).ToHashSet();
        Assert.Equal(["byte_off", "byte_sz", "enumval_exists", "enumval_value", "field_exists", "local_type_id", "lshift_u64",
            "rshift_u64", "signed", "target_type_id", "type_exists", "type_size"], kinds.Order());
        Assert.Contains(RecordingLines(), l => l.EndsWith(" poison", StringComparison.Ordinal));
    }

    /// <summary>Against the kernel that recorded libbpf's answers, every instruction must hold what libbpf patched into it.</summary>
    [SkippableTheory]
    [MemberData(nameof(LibbpfRelocations))]
    public void Each_relocation_against_the_kernel_BTF_gives_what_libbpf_gave(string line)
    {
        Skip.IfNot(File.Exists(CoreTarget.VmlinuxPath), $"no {CoreTarget.VmlinuxPath}");
        Skip.IfNot(RecordedRelease() == KernelRelease(),
            $"recorded on Linux {RecordedRelease()}, this is {KernelRelease()}: type ids and layouts may differ");
        AssertPatched(BpfObject.Open(File.ReadAllBytes(ObjectPath), () => CoreTarget.Host), LibbpfRelocation.Parse(line));
    }

    /// <summary>The built-in BTF has the kernel's layouts, so it gives libbpf's answers too, but for the kernel's own type ids.</summary>
    [Theory]
    [MemberData(nameof(LibbpfRelocations))]
    public void Each_relocation_against_the_built_in_BTF_gives_what_libbpf_gave_against_the_kernel(string line)
    {
        var relocation = LibbpfRelocation.Parse(line);
        var program = Assert.Single(BpfObject.Open(File.ReadAllBytes(ObjectPath), () => CoreTarget.Builtin).Programs);
        if (relocation.Kind == "target_type_id")
            Assert.Equal(CoreTarget.Builtin.Btf.Types.Single(t => t.Kind == BTF_KIND_STRUCT && t.Name == "ethhdr").Id, Imm64(program, relocation.Instruction));
        else
            AssertPatched(BpfObject.Open(File.ReadAllBytes(ObjectPath), () => CoreTarget.Builtin), relocation);
    }

    private static void AssertPatched(BpfObject obj, LibbpfRelocation relocation)
    {
        var program = Assert.Single(obj.Programs);
        var insn = program.Instructions[relocation.Instruction];
        switch (relocation.Field)
        {
            case "poison":
                Assert.Equal((BPF_JMP | BPF_CALL, ProgramOptions.CorePoisonHelper), (insn.code, insn.imm));
                Assert.Contains(relocation.Instruction, program.CorePoisons.Keys);
                break;
            case "off":
                Assert.Equal(relocation.Value, (ulong)insn.off);
                break;
            case "imm":
                Assert.Equal(relocation.Value, (ulong)(uint)insn.imm);
                break;
            default:
                Assert.Equal(relocation.Value, Imm64(program, relocation.Instruction));
                break;
        }
    }

    private static ulong Imm64(ObjectProgram program, int pc) =>
        (uint)program.Instructions[pc].imm | ((ulong)(uint)program.Instructions[pc + 1].imm << 32);

    private static string KernelRelease() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    /// <summary>
    /// The built-in BTF against the host's: every member of every struct it describes, anonymous members flattened, at
    /// the same bit offset with the same size, and no member the kernel has missing.
    /// </summary>
    [SkippableFact]
    public void The_built_in_BTF_has_the_kernel_layout_of_each_struct_it_describes()
    {
        Skip.IfNot(File.Exists(CoreTarget.VmlinuxPath), $"no {CoreTarget.VmlinuxPath} to compare with");
        var builtin = CoreTarget.Builtin.Btf;
        var kernel = CoreTarget.Host.Btf;
        var structs = new[] { "xdp_md", "ethhdr", "vlan_hdr", "iphdr", "ipv6hdr", "tcphdr", "udphdr", "icmphdr", "icmp6hdr" };
        foreach (var name in structs)
        {
            var ours = builtin.Types.Single(t => t.Kind == BTF_KIND_STRUCT && t.Name == name);
            var theirs = kernel.Types.First(t => t.Kind == BTF_KIND_STRUCT && t.Name == name);
            Assert.Equal((name, theirs.SizeOrType), (name, ours.SizeOrType));
            Assert.Equal(Layout(kernel, theirs), Layout(builtin, ours));
        }
        var action = builtin.Types.Single(t => t.Kind == BTF_KIND_ENUM && t.Name == "xdp_action");
        Assert.Equal(kernel.Types.First(t => t.Kind == BTF_KIND_ENUM && t.Name == "xdp_action").Enumerators, action.Enumerators);
    }

    /// <summary>"name@bit:size" for every named member, through anonymous structs and unions, sorted.</summary>
    private static List<string> Layout(Btf btf, BtfType type, string prefix = "", long bitBase = 0)
    {
        var members = new List<string>();
        foreach (var member in type.Members)
        {
            var memberType = btf.SkipModsAndTypedefs(member.Type, "layout");
            var at = bitBase + member.BitOffset;
            if (member.Name.Length == 0 && memberType.Kind is BTF_KIND_STRUCT or BTF_KIND_UNION)
            {
                members.AddRange(Layout(btf, memberType, prefix, at));
                continue;
            }
            var size = member.BitfieldSize > 0 ? $"{member.BitfieldSize}b" : btf.ResolveSize(member.Type, "layout").ToString(CultureInfo.InvariantCulture);
            members.Add($"{prefix}{member.Name}@{at}:{size}");
            if (memberType.Kind is BTF_KIND_STRUCT or BTF_KIND_UNION)
                members.AddRange(Layout(btf, memberType, $"{prefix}{member.Name}.", at));
        }
        members.Sort(StringComparer.Ordinal);
        return members;
    }

    [Fact]
    public void Without_kernel_BTF_the_built_in_BTF_is_the_target_and_damaged_kernel_BTF_is_refused_naming_the_file()
    {
        Assert.Same(CoreTarget.Builtin, CoreTarget.FromKernelBtf("/sys/kernel/btf/xdpgate-no-such-file"));
        var damaged = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(damaged, [0x9f, 0xeb, 1, 0]);
            var e = Assert.Throws<BpfLoadException>(() => CoreTarget.FromKernelBtf(damaged));
            Assert.StartsWith($"'{damaged}': 4 bytes, shorter than the 24-byte btf_header", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(damaged);
        }
    }

    [Theory]
    [InlineData("iphdr___local", "iphdr")]
    [InlineData("sk_buff", "sk_buff")]
    [InlineData("a___b___c", "a___b")]
    [InlineData("net_device___2", "net_device")]
    [InlineData("x____y", "x____y")]
    [InlineData("___x", "___x")]
    [InlineData("x___", "x___")]
    [InlineData("x___y_", "x")]
    public void Essential_names_drop_the_last_flavor_suffix_as_libbpf_does(string name, string essential) =>
        Assert.Equal(essential, CoreTypes.EssentialName(name).ToString());

    /// <summary>TYPE_MATCHES (clang 14 cannot emit it, so the relation is checked directly): the fixture's local types against the built-in BTF.</summary>
    [Theory]
    [InlineData(BTF_KIND_STRUCT, "udphdr", true)]
    [InlineData(BTF_KIND_STRUCT, "tcphdr", true)]
    [InlineData(BTF_KIND_STRUCT, "ethhdr", true)]
    [InlineData(BTF_KIND_STRUCT, "iphdr___local", false)]
    [InlineData(BTF_KIND_STRUCT, "vlan_hdr___local", true)]
    [InlineData(BTF_KIND_ENUM, "xdp_action___local", false)]
    public void Type_matches_holds_when_every_local_member_is_in_the_target_with_the_same_kind_size_and_sign(int kind, string local, bool matches)
    {
        var elf = ElfFile.Parse(File.ReadAllBytes(ObjectPath));
        var btf = Btf.Parse(elf.FindSection(".BTF")!.Data.Span);
        var type = btf.Types.Single(t => t.Kind == kind && t.Name == local);
        var candidate = Assert.Single(CoreTarget.Builtin.Candidates(type));
        Assert.Equal(matches, CoreTypes.Match(btf, type.Id, CoreTarget.Builtin.Btf, candidate, behindPointer: false, level: 32));
    }

    [Theory]
    [MemberData(nameof(EngineNames))]
    public void The_fixture_relocated_against_the_built_in_BTF_is_verified_and_parses_frames(string engine)
    {
        var obj = BpfObject.Open(File.ReadAllBytes(ObjectPath), () => CoreTarget.Builtin);
        using var loaded = obj.Load(verification: VerificationLevel.Privileged);
        var vm = new BpfVm();
        using var frame = new PacketBuffer();
        frame.Reset(Packets.Udp4(53));
        Assert.Equal(xdp_action.XDP_PASS, Engines.RunXdp(engine, vm, loaded.Programs[Fixture], ref frame.Context));
        var facts = new byte[104];
        Assert.Equal(0, loaded.Maps["last"].Lookup(new byte[4], facts));
        Assert.Equal(53UL, BinaryPrimitives.ReadUInt64LittleEndian(facts.AsSpan(64)));
        Assert.Equal((4UL, 5UL), (BinaryPrimitives.ReadUInt64LittleEndian(facts), BinaryPrimitives.ReadUInt64LittleEndian(facts.AsSpan(8))));
    }

    public static TheoryData<string> EngineNames() => [.. Engines.Names];

    /// <summary>What libbpf poisons and the kernel refuses where it is reached: the refusal names the relocation, the type and the field.</summary>
    [Theory]
    [InlineData("bad_core.o", "core_read", "CO-RE relocation field_byte_offset of struct packet_header.second: no struct packet_header in ")]
    [InlineData("core_missing_field.o", "unguarded", "CO-RE relocation field_byte_offset of struct iphdr___x.xdpgate_no_such_field: no such field in ")]
    public void A_reachable_unresolved_relocation_is_refused_naming_the_relocation_type_and_field(string file, string program, string message)
    {
        foreach (var target in new[] { CoreTarget.Builtin, CoreTarget.Host })
        {
            var obj = BpfObject.Open(ElfFixtures.Bytes(file), () => target);
            // The program alone is refused; an object with nothing else to load is refused as a whole.
            string refusal;
            if (obj.Programs.Count == 1)
                refusal = Assert.ThrowsAny<BpfLoadException>(() => obj.Load()).Message;
            else
            {
                using var loaded = obj.Load();
                refusal = loaded.Refused[program];
            }
            Assert.Contains($"program '{program}'", refusal, StringComparison.Ordinal);
            Assert.Contains(message + target.Description + " (the instruction was poisoned as libbpf does: invalid func unknown#195896080)", refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(EngineNames))]
    public void A_guarded_unresolved_relocation_is_dead_code_the_verifier_prunes(string engine)
    {
        var obj = BpfObject.Open(ElfFixtures.Bytes("core_missing_field.o"), () => CoreTarget.Builtin);
        var guarded = obj.Programs.Single(p => p.Name == "guarded");
        Assert.NotEmpty(guarded.CorePoisons);
        var program = BpfProgram.Load([.. guarded.Instructions], new ProgramOptions { Name = guarded.Name, Type = guarded.Type, CorePoisons = guarded.CorePoisons });
        using var frame = new PacketBuffer();
        frame.Reset(Packets.Udp4(53));
        Assert.Equal(xdp_action.XDP_DROP, Engines.RunXdp(engine, new BpfVm(), program, ref frame.Context));
    }

    /// <summary>Relocations libbpf refuses outright (not poisons): a malformed access, an instruction the local BTF disagrees with.</summary>
    [Fact]
    public void An_access_string_past_the_type_is_refused_naming_the_relocation()
    {
        var bytes = File.ReadAllBytes(ObjectPath);
        var at = bytes.AsSpan().IndexOf("0:3:0:0:15\0"u8);
        Encoding.ASCII.GetBytes("0:9").CopyTo(bytes, at);
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Open(bytes, () => CoreTarget.Builtin));
        Assert.Matches(@"^section 'xdp': instruction \d+ \(function 'xdp_core_parse'\): CO-RE relocation #\d+: field_byte_offset of struct ipv6hdr: access string ""0:9:0:0:15"": \[\d+\] STRUCT 'ipv6hdr' has no member 9$", e.Message);
    }

    [Fact]
    public void An_instruction_that_disagrees_with_the_local_BTF_is_refused_as_libbpf_refuses_it()
    {
        var ttl = LibbpfRelocation.Parse(RecordingLines().First(l => l.Contains(" byte_off insn 210 off 9 ", StringComparison.Ordinal)));
        var patch = new ElfPatchBytes(File.ReadAllBytes(ObjectPath));
        patch.SetOffset(ttl.Instruction, 5);
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Open(patch.Bytes, () => CoreTarget.Builtin));
        Assert.Matches(@"^section 'xdp': instruction 210 \(function 'xdp_core_parse'\): CO-RE relocation #\d+: field_byte_offset of struct iphdr___local\.ttl: the instruction's offset is 5, the local BTF says 9$", e.Message);
    }

    /// <summary>The object's bytes with one instruction of section 'xdp' changed.</summary>
    private sealed class ElfPatchBytes(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public void SetOffset(int instruction, short offset)
        {
            var section = ElfFile.Parse(Bytes.ToArray()).FindSection("xdp")!;
            BinaryPrimitives.WriteInt16LittleEndian(Bytes.AsSpan((int)section.Header.sh_offset + 8 * instruction + 2), offset);
        }
    }
}
