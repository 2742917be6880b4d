using System.Buffers.Binary;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// The object's .BTF as the kernel's BTF verifier accepts it. clang writes DATASECs before the object is laid out:
/// their size is 0 and their global variables' offsets are 0, which the kernel refuses (a DATASEC of size 0,
/// variables overlapping). A loader fills them in from the ELF file, as libbpf does when it opens an object: the
/// section's size, each global's offset from its symbol, the variables sorted by offset (the kernel wants them in order).
/// </summary>
internal static class KernelBtf
{
    private const int SecinfoSize = 12;

    public static byte[] Fix(ReadOnlySpan<byte> raw, Btf btf, ElfFile elf)
    {
        var blob = raw.ToArray();
        foreach (var datasec in btf.Types)
        {
            if (datasec.Kind != BTF_KIND_DATASEC || elf.FindSection(datasec.Name) is not { } section)
                continue;
            var start = btf.TypeStart(datasec.Id);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(start + 8), (uint)section.Size);
            var where = $"DATASEC '{datasec.Name}'";
            var vars = datasec.Vars.Select(info =>
            {
                var variable = btf.Type(info.Type, where);
                // Static variables keep clang's offsets; externs are not in the section.
                if (variable.Kind != BTF_KIND_VAR || variable.Linkage != BTF_VAR_GLOBAL_ALLOCATED)
                    return info;
                var symbol = elf.Symbols.FirstOrDefault(s => s.SectionIndex == section.Index && s.Name == variable.Name);
                return symbol is null ? info : info with { Offset = (uint)symbol.Value };
            }).OrderBy(info => info.Offset).ToArray();
            for (var i = 0; i < vars.Length; i++)
            {
                var at = blob.AsSpan(start + 12 + SecinfoSize * i);
                BinaryPrimitives.WriteUInt32LittleEndian(at, vars[i].Type);
                BinaryPrimitives.WriteUInt32LittleEndian(at[4..], vars[i].Offset);
                BinaryPrimitives.WriteUInt32LittleEndian(at[8..], vars[i].Size);
            }
        }
        return blob;
    }

    /// <summary>
    /// func_info for a linked program: each function's start and its BTF FUNC, by name. The kernel wants one record
    /// per function, in instruction order, and verifies global functions on their own from their FUNC_PROTO.
    /// Empty when a function has no FUNC (hand-written objects), since the kernel takes all or none.
    /// </summary>
    public static ObjectFuncInfo[] FuncInfo(Btf btf, IReadOnlyList<ObjectFunction> functions)
    {
        var funcs = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var type in btf.Types)
        {
            if (type.Kind == BTF_KIND_FUNC)
                funcs.TryAdd(type.Name, type.Id);
        }
        var records = new ObjectFuncInfo[functions.Count];
        for (var i = 0; i < records.Length; i++)
        {
            if (!funcs.TryGetValue(functions[i].Name, out var id))
                return [];
            records[i] = new ObjectFuncInfo(functions[i].InstructionIndex, id);
        }
        return records;
    }
}
