using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// Maps of the legacy <c>maps</c> section: one <c>struct bpf_map_def</c> (type, key_size, value_size, max_entries,
/// map_flags) per symbol, all of the same size (the section's size over the symbol count). Like libbpf 0.x, a
/// shorter definition reads as zeros and a longer one is accepted only if its extra bytes are zero.
/// </summary>
internal static class LegacyMaps
{
    public const string SectionName = "maps";
    private const int BpfMapDefSize = 20;

    public static void Read(ElfFile elf, MapTable table)
    {
        var section = elf.FindSection(SectionName);
        if (section is null)
            return;
        table.AddDefinitionSection(section.Index);
        var symbols = elf.Symbols
            .Where(s => s.SectionIndex == section.Index && s.Type != STT_SECTION && s.Type != STT_FILE)
            .OrderBy(s => s.Value)
            .ToList();
        if (symbols.Count == 0)
            return;
        var data = section.Data.Span;
        if (data.Length == 0 || data.Length % symbols.Count != 0)
            throw new BpfLoadException($"section '{SectionName}': {symbols.Count} map definitions cannot share its {data.Length} bytes equally");
        var definitionSize = data.Length / symbols.Count;
        Span<byte> def = stackalloc byte[BpfMapDefSize];

        foreach (var symbol in symbols)
        {
            var where = $"map '{symbol.Name}' (section '{SectionName}')";
            if (symbol.Value > (ulong)(data.Length - definitionSize))
                throw new BpfLoadException($"{where}: offset {symbol.Value} + {definitionSize} bytes runs past the section's {data.Length} bytes");
            var raw = data.Slice((int)symbol.Value, definitionSize);
            if (definitionSize > BpfMapDefSize && raw[BpfMapDefSize..].ContainsAnyExcept((byte)0))
                throw new BpfLoadException($"{where}: its {definitionSize}-byte definition has non-zero fields beyond struct bpf_map_def ({BpfMapDefSize} bytes) that XdpGate does not know");
            def.Clear();
            raw[..Math.Min(definitionSize, BpfMapDefSize)].CopyTo(def);
            var definition = new MapDefinition(symbol.Name,
                (bpf_map_type)Field(def, 0), Field(def, 1), Field(def, 2), Field(def, 3), Field(def, 4));
            if (definition.Type == bpf_map_type.BPF_MAP_TYPE_UNSPEC)
                throw new BpfLoadException($"{where}: no map type (type is 0)");
            table.AddDefined(new ObjectMap(definition, ObjectMapKind.Legacy, SectionName), section.Index, symbol.Value);
        }
    }

    private static uint Field(ReadOnlySpan<byte> def, int index) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(def[(index * 4)..]);
}
