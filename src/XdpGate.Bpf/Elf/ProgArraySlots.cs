using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// The initial contents of program arrays: <c>.values = { [i] = &amp;prog }</c> leaves zeros in .maps and one
/// relocation per slot against the program's symbol, at the slot's 8-byte pointer after the definition struct.
/// </summary>
internal static class ProgArraySlots
{
    public static void Read(ElfFile elf, CodeSections code, MapTable table)
    {
        var maps = elf.FindSection(BtfMaps.SectionName);
        if (maps is null)
            return;
        var slots = new Dictionary<int, SortedDictionary<uint, string>>();
        foreach (var relocations in elf.Relocations.Where(r => r.Target == maps))
        {
            for (var i = 0; i < relocations.Entries.Count; i++)
            {
                var entry = relocations.Entries[i];
                var type = ELF64_R_TYPE(entry.r_info);
                var symbol = elf.Symbol(ELF64_R_SYM(entry.r_info), $"relocation #{i} of '{relocations.Section.Name}'");
                var where = $"section '{maps.Name}': relocation #{i} at offset {entry.r_offset} against {symbol}";
                if (type is not (R_BPF_64_ABS64 or R_BPF_64_64))
                    throw new BpfLoadException($"{where}: {RelocationName(type)} cannot fill a program array slot (expected R_BPF_64_ABS64)");

                var found = table.BtfLayouts.FindIndex(l => entry.r_offset >= l.Offset && entry.r_offset - l.Offset < l.Size);
                if (found < 0)
                    throw new BpfLoadException($"{where}: the offset is inside no map definition");
                var layout = table.BtfLayouts[found];
                var map = table.Maps[layout.Index];
                if (layout.ValuesOffset is not { } valuesOffset)
                    throw new BpfLoadException($"{where}: map '{map.Name}' has no 'values' attribute to fill");
                var inValues = entry.r_offset - layout.Offset;
                if (inValues < valuesOffset || (inValues - valuesOffset) % 8 != 0)
                    throw new BpfLoadException($"{where}: offset {inValues} in map '{map.Name}' is not a slot of its 'values' (which start at {valuesOffset}, 8 bytes each)");
                var slot = (inValues - valuesOffset) / 8;
                if (slot >= map.Definition.MaxEntries)
                    throw new BpfLoadException($"{where}: slot {slot} of map '{map.Name}' is beyond its max_entries {map.Definition.MaxEntries}");

                var program = symbol.Type == STT_FUNC && symbol.Value % 8 == 0 && symbol.Value / 8 < int.MaxValue
                    ? code.FindStartingAt(symbol.SectionIndex, (int)(symbol.Value / 8))
                    : null;
                if (program is null || program.IsSubprogram)
                    throw new BpfLoadException($"{where}: slot {slot} of map '{map.Name}' must point at a program, and {symbol} is not one");
                if (!slots.TryGetValue(layout.Index, out var filled))
                    slots[layout.Index] = filled = [];
                filled[(uint)slot] = program.Name;
            }
        }
        foreach (var (index, filled) in slots)
            table.Maps[index].ProgramSlots = [.. filled.Select(s => new ProgramSlot(s.Key, s.Value))];
    }
}
