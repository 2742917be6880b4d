using System.Buffers.Binary;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// The type information of an object's <c>.BTF</c> section (Documentation/bpf/btf.rst): a header, the types
/// (ids from 1; 0 is void) and the string section that names them. Every length, id and string offset is checked;
/// a bad one is a <see cref="BpfLoadException"/> that says which type or field is wrong.
/// </summary>
internal sealed class Btf
{
    private const int HeaderSize = 24;
    private const int TypeHeaderSize = 12;

    private readonly byte[] strings;
    private BtfType[] types = [];
    private int[] typeStarts = [];

    private Btf(byte[] strings) => this.strings = strings;

    /// <summary>Where the type section starts in the blob (hdr_len + type_off).</summary>
    public int TypeSectionStart { get; private init; }

    /// <summary>Where type <paramref name="id"/>'s struct btf_type starts in the blob (not for id 0, void).</summary>
    public int TypeStart(uint id) => TypeSectionStart + typeStarts[id];

    /// <summary>Types by id; entry 0 stands for void.</summary>
    public IReadOnlyList<BtfType> Types => types;

    public static Btf Parse(ReadOnlySpan<byte> section, string sectionName = ".BTF")
    {
        var hdrLen = HeaderLength(section, sectionName, HeaderSize, "btf_header");
        var typeOff = BinaryPrimitives.ReadUInt32LittleEndian(section[8..]);
        var typeLen = BinaryPrimitives.ReadUInt32LittleEndian(section[12..]);
        var strOff = BinaryPrimitives.ReadUInt32LittleEndian(section[16..]);
        var strLen = BinaryPrimitives.ReadUInt32LittleEndian(section[20..]);

        var body = section[(int)hdrLen..];
        var typeBytes = Region(body, typeOff, typeLen, sectionName, "type section");
        var stringBytes = Region(body, strOff, strLen, sectionName, "string section");
        if (stringBytes.Length == 0 || stringBytes[0] != 0 || stringBytes[^1] != 0)
            throw new BpfLoadException($"'{sectionName}': the string section must start and end with a NUL byte");

        var btf = new Btf(stringBytes.ToArray()) { TypeSectionStart = (int)(hdrLen + typeOff) };
        btf.types = btf.ParseTypes(typeBytes, sectionName, out btf.typeStarts);
        return btf;
    }

    /// <summary>
    /// Checks what btf_header and btf_ext_header begin alike with (magic, version, hdr_len, the header's own size
    /// at least <paramref name="minSize"/>) and returns hdr_len, where the rest of the section starts.
    /// </summary>
    internal static uint HeaderLength(ReadOnlySpan<byte> section, string sectionName, int minSize, string header)
    {
        if (section.Length < minSize)
            throw new BpfLoadException($"'{sectionName}': {section.Length} bytes, shorter than the {minSize}-byte {header}");
        var magic = BinaryPrimitives.ReadUInt16LittleEndian(section);
        if (magic != BTF_MAGIC)
            throw new BpfLoadException($"'{sectionName}': bad magic 0x{magic:x4} (expected 0x{BTF_MAGIC:x4}, little-endian BTF)");
        if (section[2] != BTF_VERSION)
            throw new BpfLoadException($"'{sectionName}': version {section[2]} is not {BTF_VERSION}");
        var hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(section[4..]);
        if (hdrLen < minSize || hdrLen > (uint)section.Length)
            throw new BpfLoadException($"'{sectionName}': hdr_len {hdrLen} is outside [{minSize}, {section.Length}]");
        return hdrLen;
    }

    private static ReadOnlySpan<byte> Region(ReadOnlySpan<byte> body, uint offset, uint length, string sectionName, string what)
    {
        if (offset > (uint)body.Length || length > (uint)body.Length - offset)
            throw new BpfLoadException($"'{sectionName}': {what} at offset {offset} + {length} bytes runs past the end of the section ({body.Length} bytes after the header)");
        return body.Slice((int)offset, (int)length);
    }

    private BtfType[] ParseTypes(ReadOnlySpan<byte> data, string sectionName, out int[] starts)
    {
        var list = new List<BtfType> { new() { Id = 0, Kind = BTF_KIND_UNKN, Name = "void", Vlen = 0, KindFlag = false, SizeOrType = 0 } };
        var startList = new List<int> { -1 };
        var position = 0;
        while (position < data.Length)
        {
            var id = (uint)list.Count;
            startList.Add(position);
            if (data.Length - position < TypeHeaderSize)
                throw new BpfLoadException($"'{sectionName}': type [{id}] at byte {position} of the type section is cut short ({data.Length - position} of {TypeHeaderSize} bytes)");
            var nameOff = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
            var info = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 4)..]);
            var sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 8)..]);
            position += TypeHeaderSize;
            var kind = (int)((info >> 24) & 0x1f);
            var vlen = (int)(info & 0xffff);
            var name = String(nameOff, $"type [{id}]");

            var extra = kind switch
            {
                BTF_KIND_INT or BTF_KIND_VAR or BTF_KIND_DECL_TAG => 4,
                BTF_KIND_ARRAY => 12,
                BTF_KIND_STRUCT or BTF_KIND_UNION or BTF_KIND_DATASEC or BTF_KIND_ENUM64 => 12 * vlen,
                BTF_KIND_ENUM or BTF_KIND_FUNC_PROTO => 8 * vlen,
                BTF_KIND_PTR or BTF_KIND_FWD or BTF_KIND_TYPEDEF or BTF_KIND_VOLATILE or BTF_KIND_CONST or BTF_KIND_RESTRICT
                    or BTF_KIND_FUNC or BTF_KIND_FLOAT or BTF_KIND_TYPE_TAG => 0,
                _ => throw new BpfLoadException($"'{sectionName}': type [{id}] '{name}' has unknown kind {kind}"),
            };
            if (data.Length - position < extra)
                throw new BpfLoadException($"'{sectionName}': type [{id}] {KindName(kind)} '{name}' needs {extra} more bytes, the type section has {data.Length - position} left");
            var rest = data.Slice(position, extra);
            position += extra;

            var type = kind switch
            {
                BTF_KIND_ARRAY => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Array = new BtfArray(U32(rest, 0), U32(rest, 4), U32(rest, 8)),
                },
                BTF_KIND_STRUCT or BTF_KIND_UNION => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Members = ReadMembers(rest, vlen, id, (info >> 31) != 0),
                },
                BTF_KIND_INT => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    IntData = U32(rest, 0),
                },
                BTF_KIND_ENUM or BTF_KIND_ENUM64 => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Enumerators = ReadEnumerators(rest, vlen, id, kind == BTF_KIND_ENUM64),
                },
                BTF_KIND_VAR => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Linkage = U32(rest, 0),
                },
                BTF_KIND_FUNC_PROTO => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Params = ReadParams(rest, vlen, id),
                },
                BTF_KIND_DATASEC => new BtfType
                {
                    Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType,
                    Vars = ReadVars(rest, vlen),
                },
                _ => new BtfType { Id = id, Kind = kind, Name = name, Vlen = vlen, KindFlag = (info >> 31) != 0, SizeOrType = sizeOrType },
            };
            list.Add(type);
        }
        starts = [.. startList];
        return [.. list];
    }

    private BtfMember[] ReadMembers(ReadOnlySpan<byte> data, int vlen, uint id, bool kindFlag)
    {
        var members = new BtfMember[vlen];
        for (var i = 0; i < vlen; i++)
        {
            var offset = U32(data, 12 * i + 8);
            // With kind_flag set, the offset word packs a bitfield size in its top 8 bits.
            members[i] = new BtfMember(String(U32(data, 12 * i), $"member {i} of type [{id}]"), U32(data, 12 * i + 4),
                kindFlag ? offset & 0xffffff : offset, kindFlag ? offset >> 24 : 0);
        }
        return members;
    }

    private BtfEnumerator[] ReadEnumerators(ReadOnlySpan<byte> data, int vlen, uint id, bool is64)
    {
        var size = is64 ? 12 : 8;
        var enumerators = new BtfEnumerator[vlen];
        for (var i = 0; i < vlen; i++)
        {
            var name = String(U32(data, size * i), $"enumerator {i} of type [{id}]");
            var value = is64 ? (long)((ulong)U32(data, size * i + 8) << 32 | U32(data, size * i + 4)) : (int)U32(data, size * i + 4);
            enumerators[i] = new BtfEnumerator(name, value);
        }
        return enumerators;
    }

    private BtfParam[] ReadParams(ReadOnlySpan<byte> data, int vlen, uint id)
    {
        var parameters = new BtfParam[vlen];
        for (var i = 0; i < vlen; i++)
            parameters[i] = new BtfParam(String(U32(data, 8 * i), $"parameter {i} of type [{id}]"), U32(data, 8 * i + 4));
        return parameters;
    }

    private static BtfVarSecinfo[] ReadVars(ReadOnlySpan<byte> data, int vlen)
    {
        var vars = new BtfVarSecinfo[vlen];
        for (var i = 0; i < vlen; i++)
            vars[i] = new BtfVarSecinfo(U32(data, 12 * i), U32(data, 12 * i + 4), U32(data, 12 * i + 8));
        return vars;
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);

    /// <summary>The string at <paramref name="offset"/> of the string section; throws naming <paramref name="user"/>.</summary>
    public string String(uint offset, string user) => ElfFile.ReadString(strings, offset, user, "the BTF string section");

    /// <summary>Type <paramref name="id"/>; throws naming <paramref name="user"/> when there is none.</summary>
    public BtfType Type(uint id, string user) =>
        id < (uint)types.Length
            ? types[id]
            : throw new BpfLoadException($"{user}: BTF type id {id} does not exist (the object has {types.Length - 1} types)");

    /// <summary>The type behind typedefs and const/volatile/restrict/type-tag modifiers, as libbpf's skip_mods_and_typedefs.</summary>
    public BtfType SkipModsAndTypedefs(uint id, string user)
    {
        var type = Type(id, user);
        for (var depth = 0; type.IsModifierOrTypedef; depth++)
        {
            if (depth == MAX_RESOLVE_DEPTH)
                throw new BpfLoadException($"{user}: BTF type {type} starts a chain of more than {MAX_RESOLVE_DEPTH} typedefs or modifiers (a loop?)");
            type = Type(type.SizeOrType, user);
        }
        return type;
    }

    /// <summary>The size in bytes of type <paramref name="id"/>, as libbpf's btf__resolve_size; throws when it has none.</summary>
    public uint ResolveSize(uint id, string user)
    {
        ulong multiplier = 1;
        var type = Type(id, user);
        for (var depth = 0; ; depth++)
        {
            if (depth == MAX_RESOLVE_DEPTH)
                throw new BpfLoadException($"{user}: BTF type [{id}] nests more than {MAX_RESOLVE_DEPTH} levels (a loop?)");
            switch (type.Kind)
            {
                case BTF_KIND_INT or BTF_KIND_STRUCT or BTF_KIND_UNION or BTF_KIND_ENUM or BTF_KIND_ENUM64
                    or BTF_KIND_DATASEC or BTF_KIND_FLOAT:
                    return Multiply(multiplier, type.SizeOrType, id, user);
                case BTF_KIND_PTR:
                    return Multiply(multiplier, 8, id, user);
                case BTF_KIND_TYPEDEF or BTF_KIND_VOLATILE or BTF_KIND_CONST or BTF_KIND_RESTRICT or BTF_KIND_TYPE_TAG or BTF_KIND_VAR or BTF_KIND_DECL_TAG:
                    type = Type(type.SizeOrType, user);
                    break;
                case BTF_KIND_ARRAY:
                    multiplier *= type.Array.Nelems;
                    if (multiplier > uint.MaxValue)
                        throw new BpfLoadException($"{user}: BTF type [{id}] is larger than 4 GiB");
                    type = Type(type.Array.Type, user);
                    break;
                default:
                    throw new BpfLoadException($"{user}: BTF type {type} has no size");
            }
        }
    }

    private static uint Multiply(ulong multiplier, uint size, uint id, string user)
    {
        var total = multiplier * size;
        return total <= uint.MaxValue ? (uint)total : throw new BpfLoadException($"{user}: BTF type [{id}] is larger than 4 GiB");
    }

    /// <summary>The DATASEC named <paramref name="name"/> (a section name such as ".maps" or ".rodata"), or null.</summary>
    public BtfType? FindDatasec(string name) => Array.Find(types, t => t.Kind == BTF_KIND_DATASEC && t.Name == name);

    /// <summary>The name of a VAR, FUNC or other named type, or "" when the id is not valid.</summary>
    public string NameOf(uint id) => id < (uint)types.Length ? types[id].Name : "";
}
