using XdpGate.Bpf.Maps;
using XdpGate.Uapi;
using static XdpGate.Bpf.Elf.BtfKinds;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// Global variables, as libbpf maps them: each non-empty <c>.data</c>, <c>.rodata</c> and <c>.bss</c> section (and
/// each <c>.data.NAME</c>, <c>.rodata.NAME</c>, <c>.bss.NAME</c>) becomes a BPF_MAP_TYPE_ARRAY of one element whose
/// value is the section, named after the section. Programs reach it through <c>lddw map_value_by_idx</c>;
/// <c>.rodata</c> maps are BPF_F_RDONLY_PROG, so programs cannot write constants the verifier would have trusted.
/// </summary>
internal static class GlobalData
{
    public static void Read(ElfFile elf, MapTable table)
    {
        foreach (var section in elf.Sections)
        {
            if (Classify(section) is not { } kind || section.Size == 0)
                continue;
            if (section.Size > MapChecks.MaxValueSize)
                throw new BpfLoadException($"section '{section.Name}': {section.Size} bytes of global data exceed the largest map value ({MapChecks.MaxValueSize} bytes)");
            var initial = kind == Kind.Bss ? new byte[section.Size] : section.Data.ToArray();
            var flags = kind == Kind.ReadOnly ? MapFlags.BPF_F_RDONLY_PROG : 0u;
            var definition = new MapDefinition(section.Name, bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, (uint)section.Size, 1, flags);
            table.AddData(new ObjectMap(definition, ObjectMapKind.GlobalData, section.Name, initial), section.Index);
        }
    }

    private enum Kind { ReadOnly, Writable, Bss }

    private static Kind? Classify(ElfSection section)
    {
        if (section.IsExecutable)
            return null;
        if (section.Type == SHT_PROGBITS && IsNamed(section.Name, ".rodata"))
            return Kind.ReadOnly;
        if (section.Type == SHT_PROGBITS && IsNamed(section.Name, ".data"))
            return Kind.Writable;
        if (section.Type == SHT_NOBITS && IsNamed(section.Name, ".bss"))
            return Kind.Bss;
        return null;
    }

    private static bool IsNamed(string name, string family) =>
        name == family || (name.Length > family.Length + 1 && name.StartsWith(family + ".", StringComparison.Ordinal));

    /// <summary>
    /// The global variables of every data map with a BTF DATASEC: offset from the variable's ELF symbol (clang leaves
    /// DATASEC offsets 0), size from the DATASEC. Static variables are skipped, as libbpf's skeleton skips them.
    /// </summary>
    public static List<ObjectVariable> Variables(ElfFile elf, Btf? btf, MapTable table)
    {
        var variables = new List<ObjectVariable>();
        if (btf is null)
            return variables;
        foreach (var section in elf.Sections)
        {
            if (table.FindData(section.Index) is not { } index || btf.FindDatasec(section.Name) is not { } datasec)
                continue;
            var map = table.Maps[index];
            foreach (var info in datasec.Vars)
            {
                var variable = btf.Type(info.Type, $"DATASEC '{map.Section}'");
                if (variable.Kind != BTF_KIND_VAR)
                    throw new BpfLoadException($"DATASEC '{map.Section}': member {variable} is not a VAR");
                if (variable.Linkage != BTF_VAR_GLOBAL_ALLOCATED)
                    continue;
                var where = $"variable '{variable.Name}' (section '{map.Section}')";
                var offset = BtfMaps.VariableOffset(elf, section, variable.Name, where);
                if (offset > section.Size || info.Size > section.Size - offset)
                    throw new BpfLoadException($"{where}: offset {offset} + size {info.Size} is beyond the section's {section.Size} bytes");
                variables.Add(new ObjectVariable(variable.Name, map.Section, (int)offset, (int)info.Size));
            }
        }
        return variables;
    }
}
