using XdpGate.Bpf.Maps;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Elf;

/// <summary>Where a map of an object was declared.</summary>
public enum ObjectMapKind
{
    /// <summary>A BTF-defined map in the <c>.maps</c> section (<c>__uint</c>, <c>__type</c>, <c>__array</c> members).</summary>
    Btf,
    /// <summary>A <c>struct bpf_map_def</c> in the legacy <c>maps</c> section.</summary>
    Legacy,
    /// <summary>A global data section (<c>.rodata</c>, <c>.data</c>, <c>.bss</c> and their <c>.NAME</c> variants) as a one-element array.</summary>
    GlobalData,
}

/// <summary>A slot of a program array that the object fills at load: <c>.values = { [Index] = &amp;Program }</c>.</summary>
public readonly record struct ProgramSlot(uint Index, string Program);

/// <summary>
/// A map as the object declares it: its definition (named by its C name, or by its section for global data), where it
/// came from, the initial value of a global data map, and the initial slots of a program array.
/// </summary>
public sealed class ObjectMap
{
    private readonly byte[] initialData;

    internal ObjectMap(MapDefinition definition, ObjectMapKind kind, string section, byte[]? initialData = null,
        IReadOnlyList<ProgramSlot>? programSlots = null, uint pinning = 0)
    {
        Definition = definition;
        Kind = kind;
        Section = section;
        this.initialData = initialData ?? [];
        ProgramSlots = programSlots ?? [];
        Pinning = pinning;
    }

    public MapDefinition Definition { get; }
    public string Name => Definition.Name;
    public ObjectMapKind Kind { get; }

    /// <summary>The ELF section the map was declared in.</summary>
    public string Section { get; }

    /// <summary>For global data: the value of the map's single element (zeros for .bss); empty for other maps.</summary>
    public ReadOnlyMemory<byte> InitialData => initialData;

    /// <summary>For program arrays declared with <c>__array(values, ...)</c>: the slots filled at load.</summary>
    public IReadOnlyList<ProgramSlot> ProgramSlots { get; internal set; }

    /// <summary>
    /// The <c>pinning</c> attribute (0 LIBBPF_PIN_NONE, 1 LIBBPF_PIN_BY_NAME). Recorded only: maps live in this
    /// process, there is no bpffs to pin them in.
    /// </summary>
    public uint Pinning { get; }

    /// <summary>
    /// Whether a load freezes the map once its initial value is written, as libbpf does for read-only global data
    /// (.rodata, BPF_F_RDONLY_PROG): the verifier may then read its values as constants.
    /// </summary>
    public bool FrozenOnLoad => Kind == ObjectMapKind.GlobalData && (Definition.Flags & MapFlags.BPF_F_RDONLY_PROG) != 0;

    /// <summary>The bytes <see cref="BpfObject.SetRodata(string, ReadOnlySpan{byte})"/> writes into.</summary>
    internal byte[] MutableInitialData => initialData;

    public override string ToString() => $"{Definition} ({Kind}, section '{Section}')";
}

/// <summary>A global variable of a data section, located as libbpf's skeleton locates it (BTF DATASEC VAR + ELF symbol).</summary>
public sealed record ObjectVariable(string Name, string Section, int Offset, int Size);
