using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using static XdpGate.Bpf.Elf.BtfKinds;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// BTF-defined maps: each variable of the <c>.maps</c> DATASEC is a map named after it, whose type is a struct of
/// attribute members. <c>__uint(name, N)</c> is a pointer to an array of N ints, <c>__type(name, T)</c> a pointer
/// to T (whose size is the key or value size), <c>__array(values, T)</c> a zero-length array of pointers that a
/// program array fills through relocations. Unknown attributes are refused, as libbpf refuses them.
/// </summary>
internal static class BtfMaps
{
    public const string SectionName = ".maps";

    private const uint LIBBPF_PIN_NONE = 0;
    private const uint LIBBPF_PIN_BY_NAME = 1;

    public static void Read(ElfFile elf, Btf? btf, MapTable table)
    {
        var section = elf.FindSection(SectionName);
        if (section is null)
            return;
        table.AddDefinitionSection(section.Index);
        if (btf is null)
            throw new BpfLoadException($"section '{SectionName}': BTF-defined maps need the object's BTF and there is no .BTF section (compile with -g)");
        var datasec = btf.FindDatasec(SectionName)
            ?? throw new BpfLoadException($"section '{SectionName}': the BTF has no DATASEC '{SectionName}' describing the maps");

        foreach (var info in datasec.Vars.OrderBy(v => (ulong)v.Offset))
        {
            var variable = btf.Type(info.Type, $"DATASEC '{SectionName}'");
            if (variable.Kind != BTF_KIND_VAR)
                throw new BpfLoadException($"DATASEC '{SectionName}': member {variable} is not a VAR");
            var name = variable.Name;
            if (variable.Linkage is not (BTF_VAR_GLOBAL_ALLOCATED or BTF_VAR_STATIC))
                throw new BpfLoadException($"map '{name}': linkage {variable.Linkage} is not supported (extern maps need a linker)");
            // clang leaves DATASEC offsets 0; like libbpf, take a global map's offset from its ELF symbol.
            var offset = variable.Linkage == BTF_VAR_STATIC ? info.Offset : VariableOffset(elf, section, name, $"map '{name}'");
            if (offset > section.Size || info.Size > section.Size - offset)
                throw new BpfLoadException($"map '{name}': offset {offset} + size {info.Size} is beyond section '{SectionName}' ({section.Size} bytes)");
            var definition = btf.SkipModsAndTypedefs(variable.SizeOrType, $"map '{name}'");
            if (definition.Kind != BTF_KIND_STRUCT)
                throw new BpfLoadException($"map '{name}': its type {definition} is not a struct of map attributes");
            if (definition.SizeOrType > info.Size)
                throw new BpfLoadException($"map '{name}': definition struct of {definition.SizeOrType} bytes is larger than the variable's {info.Size}");

            var (map, valuesOffset) = ParseDefinition(btf, name, definition);
            table.AddDefined(map, section.Index, offset);
            table.BtfLayouts.Add((table.Maps.Count - 1, offset, info.Size, valuesOffset));
        }
    }

    /// <summary>The value of the global STT_OBJECT symbol <paramref name="name"/> in <paramref name="section"/> (libbpf's find_elf_var_sym).</summary>
    internal static ulong VariableOffset(ElfFile elf, ElfSection section, string name, string user)
    {
        foreach (var symbol in elf.Symbols)
        {
            if (symbol.Type == STT_OBJECT && symbol.Bind is STB_GLOBAL or STB_WEAK && symbol.SectionIndex == section.Index && symbol.Name == name)
                return symbol.Value;
        }
        throw new BpfLoadException($"{user}: no ELF symbol '{name}' in section '{section.Name}' gives its offset");
    }

    private static (ObjectMap Map, uint? ValuesOffset) ParseDefinition(Btf btf, string name, BtfType definition)
    {
        var where = $"map '{name}'";
        uint type = 0, keySize = 0, valueSize = 0, maxEntries = 0, flags = 0, pinning = LIBBPF_PIN_NONE;
        uint? valuesOffset = null;
        foreach (var member in definition.Members)
        {
            var attribute = $"{where}: attribute '{member.Name}'";
            switch (member.Name)
            {
                case "type":
                    type = IntAttribute(btf, member, attribute);
                    break;
                case "max_entries":
                    maxEntries = IntAttribute(btf, member, attribute);
                    break;
                case "map_flags":
                    flags = IntAttribute(btf, member, attribute);
                    break;
                case "numa_node":
                case "map_extra":
                    // NUMA placement and bloom-filter/arena extras mean nothing to maps in this process; read to validate.
                    IntAttribute(btf, member, attribute);
                    break;
                case "key_size":
                    keySize = Agree(keySize, IntAttribute(btf, member, attribute), where, "key size");
                    break;
                case "value_size":
                    valueSize = Agree(valueSize, IntAttribute(btf, member, attribute), where, "value size");
                    break;
                case "key":
                    keySize = Agree(keySize, PointeeSize(btf, member, attribute), where, "key size");
                    break;
                case "value":
                    valueSize = Agree(valueSize, PointeeSize(btf, member, attribute), where, "value size");
                    break;
                case "values":
                    CheckValues(btf, member, (bpf_map_type)type, attribute);
                    // A program array's values are program fds (ids here): 4 bytes.
                    valueSize = Agree(valueSize, 4, where, "value size");
                    valuesOffset = member.BitOffset / 8;
                    break;
                case "pinning":
                    pinning = IntAttribute(btf, member, attribute);
                    if (pinning is not (LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME))
                        throw new BpfLoadException($"{attribute}: {pinning} is neither LIBBPF_PIN_NONE (0) nor LIBBPF_PIN_BY_NAME (1)");
                    break;
                default:
                    throw new BpfLoadException($"{attribute} is unknown (libbpf knows type, key, value, key_size, value_size, max_entries, map_flags, numa_node, map_extra, pinning, values)");
            }
        }
        if (type == 0)
            throw new BpfLoadException($"{where}: no map type (__uint(type, BPF_MAP_TYPE_...))");
        if (valuesOffset is not null && definition.Members[^1].Name != "values")
            throw new BpfLoadException($"{where}: 'values' must be the last attribute, as its slots follow the struct");
        if (valuesOffset is not null && (bpf_map_type)type != bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY)
            throw new BpfLoadException($"{where}: 'values' are for program arrays, and a later 'type' made this map {(bpf_map_type)type}");
        var map = new ObjectMap(new MapDefinition(name, (bpf_map_type)type, keySize, valueSize, maxEntries, flags),
            ObjectMapKind.Btf, SectionName, pinning: pinning);
        return (map, valuesOffset);
    }

    /// <summary><c>__uint(name, N)</c>: <c>int (*name)[N]</c>, a pointer to an array whose length is the value.</summary>
    private static uint IntAttribute(Btf btf, BtfMember member, string attribute)
    {
        var pointer = btf.SkipModsAndTypedefs(member.Type, attribute);
        if (pointer.Kind != BTF_KIND_PTR)
            throw new BpfLoadException($"{attribute}: expected a pointer to an array (__uint), got {pointer}");
        var array = btf.Type(pointer.SizeOrType, attribute);
        if (array.Kind != BTF_KIND_ARRAY)
            throw new BpfLoadException($"{attribute}: expected a pointer to an array (__uint), got a pointer to {array}");
        return array.Array.Nelems;
    }

    /// <summary><c>__type(name, T)</c>: <c>T *name</c>; the attribute is the size of T.</summary>
    private static uint PointeeSize(Btf btf, BtfMember member, string attribute)
    {
        var pointer = btf.Type(member.Type, attribute);
        if (pointer.Kind != BTF_KIND_PTR)
            throw new BpfLoadException($"{attribute}: expected a pointer (__type), got {pointer}");
        return btf.ResolveSize(pointer.SizeOrType, attribute);
    }

    /// <summary><c>__array(values, T)</c> of a program array: a zero-length array of pointers to function prototypes.</summary>
    private static void CheckValues(Btf btf, BtfMember member, bpf_map_type type, string attribute)
    {
        if (type is bpf_map_type.BPF_MAP_TYPE_ARRAY_OF_MAPS or bpf_map_type.BPF_MAP_TYPE_HASH_OF_MAPS)
            throw new BpfLoadException($"{attribute}: maps of maps ({type}) are not supported");
        if (type != bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY)
            throw new BpfLoadException($"{attribute}: only program arrays (declared with their type first) may have initial values, this map is {type}");
        var array = btf.Type(member.Type, attribute);
        if (array.Kind != BTF_KIND_ARRAY || array.Array.Nelems != 0)
            throw new BpfLoadException($"{attribute}: expected a zero-length array (__array), got {array}");
        var pointer = btf.SkipModsAndTypedefs(array.Array.Type, attribute);
        if (pointer.Kind != BTF_KIND_PTR)
            throw new BpfLoadException($"{attribute}: expected an array of pointers, got an array of {pointer}");
        var target = btf.SkipModsAndTypedefs(pointer.SizeOrType, attribute);
        if (target.Kind != BTF_KIND_FUNC_PROTO)
            throw new BpfLoadException($"{attribute}: a program array's values must point to function prototypes, not {target}");
    }

    private static uint Agree(uint existing, uint value, string where, string what) =>
        existing == 0 || existing == value
            ? value
            : throw new BpfLoadException($"{where}: conflicting {what} {existing} != {value}");
}
