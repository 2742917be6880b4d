namespace XdpGate.Bpf.Elf;

/// <summary>The numbers of <c>elf.h</c> a BPF object uses, with their C names.</summary>
#pragma warning disable CA1707, IDE1006 // C names kept exactly
internal static class ElfConstants
{
    // e_ident
    public const int EI_NIDENT = 16;
    public const int EI_CLASS = 4;
    public const int EI_DATA = 5;
    public const byte ELFCLASS64 = 2;
    public const byte ELFDATA2LSB = 1;

    // e_type, e_machine
    public const ushort ET_REL = 1;
    public const ushort EM_NONE = 0;
    public const ushort EM_BPF = 247;

    // Special section indexes
    public const ushort SHN_UNDEF = 0;
    public const ushort SHN_LORESERVE = 0xff00;
    public const ushort SHN_ABS = 0xfff1;
    public const ushort SHN_COMMON = 0xfff2;
    public const ushort SHN_XINDEX = 0xffff;

    // sh_type
    public const uint SHT_NULL = 0;
    public const uint SHT_PROGBITS = 1;
    public const uint SHT_SYMTAB = 2;
    public const uint SHT_STRTAB = 3;
    public const uint SHT_RELA = 4;
    public const uint SHT_NOBITS = 8;
    public const uint SHT_REL = 9;

    // sh_flags
    public const ulong SHF_WRITE = 0x1;
    public const ulong SHF_ALLOC = 0x2;
    public const ulong SHF_EXECINSTR = 0x4;

    // st_info: binding in the high nibble, type in the low one
    public const byte STB_LOCAL = 0;
    public const byte STB_GLOBAL = 1;
    public const byte STB_WEAK = 2;
    public const byte STT_NOTYPE = 0;
    public const byte STT_OBJECT = 1;
    public const byte STT_FUNC = 2;
    public const byte STT_SECTION = 3;
    public const byte STT_FILE = 4;

    // st_other: visibility in the low two bits
    public const byte STV_DEFAULT = 0;
    public const byte STV_INTERNAL = 1;
    public const byte STV_HIDDEN = 2;

    // BPF relocation types (LLVM's BPF backend; Documentation/bpf/llvm_reloc.rst)
    public const uint R_BPF_NONE = 0;
    public const uint R_BPF_64_64 = 1;
    public const uint R_BPF_64_ABS64 = 2;
    public const uint R_BPF_64_ABS32 = 3;
    public const uint R_BPF_64_NODYLD32 = 4;
    public const uint R_BPF_64_32 = 10;

    public static byte ELF64_ST_BIND(byte info) => (byte)(info >> 4);
    public static byte ELF64_ST_TYPE(byte info) => (byte)(info & 0xf);
    public static byte ELF64_ST_VISIBILITY(byte other) => (byte)(other & 0x3);
    public static uint ELF64_R_SYM(ulong info) => (uint)(info >> 32);
    public static uint ELF64_R_TYPE(ulong info) => (uint)info;

    /// <summary>The name of a relocation type, for messages.</summary>
    public static string RelocationName(uint type) => type switch
    {
        R_BPF_NONE => "R_BPF_NONE",
        R_BPF_64_64 => "R_BPF_64_64",
        R_BPF_64_ABS64 => "R_BPF_64_ABS64",
        R_BPF_64_ABS32 => "R_BPF_64_ABS32",
        R_BPF_64_NODYLD32 => "R_BPF_64_NODYLD32",
        R_BPF_64_32 => "R_BPF_64_32",
        _ => $"relocation type {type}",
    };
}
#pragma warning restore CA1707, IDE1006
