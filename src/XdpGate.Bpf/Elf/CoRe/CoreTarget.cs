namespace XdpGate.Bpf.Elf.CoRe;

/// <summary>
/// The BTF CO-RE relocations are resolved against, with its named types indexed by essential name and kind family
/// (libbpf scans the whole target for each local type; an index gives the same candidates in the same id order).
/// The host kernel's <c>/sys/kernel/btf/vmlinux</c> when there is one, read once per process; otherwise the built-in
/// BTF of <c>xdp_md</c> and the packet headers (CoRe/builtin_btf.c), so that a program built against vmlinux.h loads anywhere.
/// </summary>
internal sealed class CoreTarget
{
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<CoreTarget> HostTarget = new(() => FromKernelBtf(VmlinuxPath));
    private static readonly Lazy<CoreTarget> BuiltinTarget = new(LoadBuiltin);
    private readonly Dictionary<string, List<uint>> byName = [];

    public CoreTarget(Btf btf, string description)
    {
        Btf = btf;
        Description = description;
        foreach (var type in btf.Types)
        {
            if (type.Name.Length == 0 || type.Id == 0)
                continue;
            var key = Key(type.Kind, CoreTypes.EssentialName(type.Name));
            if (!byName.TryGetValue(key, out var ids))
                byName[key] = ids = [];
            ids.Add(type.Id);
        }
    }

    public Btf Btf { get; }

    /// <summary>"the kernel's BTF (/sys/kernel/btf/vmlinux)" or "XdpGate's built-in BTF", for messages.</summary>
    public string Description { get; }

    /// <summary>The host kernel's BTF, or the built-in one when the host has none.</summary>
    public static CoreTarget Host => HostTarget.Value;

    public static CoreTarget Builtin => BuiltinTarget.Value;

    /// <summary>Candidate types for a local type (libbpf's bpf_core_add_cands): the same essential name, a compatible kind.</summary>
    public IReadOnlyList<uint> Candidates(BtfType local) =>
        byName.TryGetValue(Key(local.Kind, CoreTypes.EssentialName(local.Name)), out var ids) ? ids : [];

    // ENUM and ENUM64 are candidates for each other, so they share a key.
    private static string Key(int kind, ReadOnlySpan<char> essentialName) =>
        $"{(kind == BtfKinds.BTF_KIND_ENUM64 ? BtfKinds.BTF_KIND_ENUM : kind)}:{essentialName}";

    /// <summary>The kernel BTF in file <paramref name="path"/>, or the built-in BTF when the file cannot be read (a kernel without CONFIG_DEBUG_INFO_BTF).</summary>
    internal static CoreTarget FromKernelBtf(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Builtin;
        }
        return new CoreTarget(Btf.Parse(bytes, path), $"the kernel's BTF ({path})");
    }

    private static CoreTarget LoadBuiltin()
    {
        using var stream = typeof(CoreTarget).Assembly.GetManifestResourceStream("XdpGate.Bpf.builtin_btf.o")
            ?? throw new InvalidOperationException("the built-in BTF resource is missing from XdpGate.Bpf");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var section = ElfFile.Parse(bytes).FindSection(".BTF") ?? throw new InvalidOperationException("the built-in BTF object has no .BTF section");
        return new CoreTarget(Btf.Parse(section.Data.Span), "XdpGate's built-in BTF");
    }
}
