using System.Buffers.Binary;

namespace XdpGate.Bpf.Elf;

/// <summary>A func_info record (<c>struct bpf_func_info</c>): the function starting at an instruction and its BTF FUNC.</summary>
internal readonly record struct BtfFuncRecord(int Instruction, string Name);

/// <summary>A line_info record (<c>struct bpf_line_info</c>) with its strings resolved; the instruction index is section-relative.</summary>
internal readonly record struct BtfLineRecord(int Instruction, string File, string SourceLine, int Line, int Column);

/// <summary>
/// A CO-RE relocation record (<c>struct bpf_core_relo</c>): the instruction to patch (section-relative index), the
/// local BTF type it is about, its access string ("0:1:2") and its kind (<c>enum bpf_core_relo_kind</c>).
/// </summary>
internal readonly record struct BtfCoreRecord(int Instruction, uint TypeId, string Access, uint Kind);

/// <summary>
/// The <c>.BTF.ext</c> section: per program section, func_info, line_info and CO-RE relocation records (each
/// group: a record size, then blocks of {section name, count, records}). Instruction offsets in the file are in
/// bytes from the start of the ELF section; they are turned into instruction indexes here. func_info is read and
/// checked like the rest, but function names come from the ELF symbols, which clang makes agree with it.
/// </summary>
internal sealed class BtfExt
{
    private const int MinHeaderSize = 24;
    private const int FuncInfoSize = 8;
    private const int LineInfoSize = 16;
    private const int CoreReloSize = 16;

    public Dictionary<string, List<BtfFuncRecord>> FuncInfo { get; } = [];
    public Dictionary<string, List<BtfLineRecord>> LineInfo { get; } = [];
    public Dictionary<string, List<BtfCoreRecord>> CoreRelocations { get; } = [];

    public static BtfExt Parse(ReadOnlySpan<byte> section, Btf btf)
    {
        const string name = "'.BTF.ext'";
        var hdrLen = Btf.HeaderLength(section, ".BTF.ext", MinHeaderSize, "btf_ext_header");
        var body = section[(int)hdrLen..];

        var ext = new BtfExt();
        foreach (var (sec, insn, record) in ReadGroup(body, U32(section, 8), U32(section, 12), "func_info", FuncInfoSize, btf))
            Add(ext.FuncInfo, sec, new BtfFuncRecord(insn, btf.NameOf(U32(record, 4))));
        foreach (var (sec, insn, record) in ReadGroup(body, U32(section, 16), U32(section, 20), "line_info", LineInfoSize, btf))
        {
            var where = $"{name} line_info of section '{sec}' at instruction {insn}";
            var lineCol = U32(record, 12);
            Add(ext.LineInfo, sec, new BtfLineRecord(insn, btf.String(U32(record, 4), $"{where}: file name"),
                btf.String(U32(record, 8), $"{where}: source line"), (int)(lineCol >> 10), (int)(lineCol & 0x3ff)));
        }
        // The CO-RE part of the header is optional (older producers wrote a 24-byte header).
        if (hdrLen >= MinHeaderSize + 8)
        {
            foreach (var (sec, insn, record) in ReadGroup(body, U32(section, 24), U32(section, 28), "core_relo", CoreReloSize, btf))
            {
                var where = $"{name} core_relo of section '{sec}' at instruction {insn}";
                var type = btf.Type(U32(record, 4), where);
                Add(ext.CoreRelocations, sec, new BtfCoreRecord(insn, type.Id, btf.String(U32(record, 8), $"{where}: access string"), U32(record, 12)));
            }
        }
        return ext;
    }

    private static void Add<T>(Dictionary<string, List<T>> into, string section, T record)
    {
        if (!into.TryGetValue(section, out var list))
            into[section] = list = [];
        list.Add(record);
    }

    /// <summary>
    /// One group of records: a u32 record size, then {sec_name_off, num_info, records} blocks to its end. Gives each
    /// record with its section name and instruction index (insn_off is in bytes).
    /// </summary>
    private static List<(string Section, int Instruction, byte[] Record)> ReadGroup(ReadOnlySpan<byte> body, uint offset, uint length,
        string group, int minRecordSize, Btf btf)
    {
        var records = new List<(string, int, byte[])>();
        if (length == 0)
            return records;
        var where = $"'.BTF.ext' {group}";
        if (offset > (uint)body.Length || length > (uint)body.Length - offset)
            throw new BpfLoadException($"{where}: offset {offset} + {length} bytes runs past the end of the section ({body.Length} bytes after the header)");
        var data = body.Slice((int)offset, (int)length);
        if (data.Length < 4)
            throw new BpfLoadException($"{where}: {data.Length} bytes, too short for its record size");
        var recordSize = U32(data, 0);
        // libbpf's rule: at least the known record, a multiple of 4 (newer producers may append fields).
        if (recordSize < minRecordSize || recordSize % 4 != 0 || recordSize > (uint)data.Length)
            throw new BpfLoadException($"{where}: record size {recordSize} is not a multiple of 4 between {minRecordSize} and the group's {data.Length} bytes");
        var position = 4;
        while (position < data.Length)
        {
            if (data.Length - position < 8)
                throw new BpfLoadException($"{where}: the section block at byte {position} is cut short");
            var section = btf.String(U32(data, position), $"{where}: section name of the block at byte {position}");
            var count = U32(data, position + 4);
            position += 8;
            if (count == 0 || count > (uint)(data.Length - position) / recordSize)
                throw new BpfLoadException($"{where}: section '{section}' claims {count} records of {recordSize} bytes, {data.Length - position} bytes are left");
            for (var i = 0; i < count; i++, position += (int)recordSize)
            {
                var record = data.Slice(position, (int)recordSize);
                var insnOff = U32(record, 0);
                if (insnOff % 8 != 0)
                    throw new BpfLoadException($"{where}: section '{section}' record {i}: insn_off {insnOff} is not a multiple of 8 (instructions are 8 bytes)");
                records.Add((section, (int)(insnOff / 8), record.ToArray()));
            }
        }
        return records;
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
}
