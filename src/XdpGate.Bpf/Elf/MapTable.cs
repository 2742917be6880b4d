namespace XdpGate.Bpf.Elf;

/// <summary>The object's maps in load order, with the lookups relocations need: by (section, offset) and by data section.</summary>
internal sealed class MapTable
{
    private readonly Dictionary<(int Section, ulong Offset), int> bySymbol = [];
    private readonly Dictionary<int, int> bySection = [];
    private readonly HashSet<int> definitionSections = [];

    public List<ObjectMap> Maps { get; } = [];

    /// <summary>For BTF maps: where each definition lies in .maps, and the offset of its <c>values</c> member if any.</summary>
    public List<(int Index, ulong Offset, ulong Size, uint? ValuesOffset)> BtfLayouts { get; } = [];

    public void AddDefined(ObjectMap map, int section, ulong offset)
    {
        CheckUnique(map);
        bySymbol[(section, offset)] = Maps.Count;
        Maps.Add(map);
    }

    public void AddData(ObjectMap map, int section)
    {
        CheckUnique(map);
        bySection[section] = Maps.Count;
        Maps.Add(map);
    }

    private void CheckUnique(ObjectMap map)
    {
        if (Maps.Exists(m => m.Name == map.Name))
            throw new BpfLoadException($"map '{map.Name}' (section '{map.Section}') is declared twice");
    }

    public int? FindDefined(int section, ulong offset) => bySymbol.TryGetValue((section, offset), out var index) ? index : null;

    public int? FindData(int section) => bySection.TryGetValue(section, out var index) ? index : null;

    /// <summary>Marks <paramref name="section"/> as one that holds map definitions (<c>maps</c> or <c>.maps</c>).</summary>
    public void AddDefinitionSection(int section) => definitionSections.Add(section);

    public bool IsDefinitionSection(int section) => definitionSections.Contains(section);
}
