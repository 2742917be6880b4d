using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>
/// The spellings of LLVM's BPF assembly syntax, in one place so that <see cref="Assembler"/> and
/// <see cref="Disassembler"/> cannot drift apart. Each table is read in both directions:
/// the disassembler looks an encoding up to find its text, the assembler looks text up to find its encoding.
/// </summary>
internal static class Syntax
{
    public const int MaxRegister = BPF_REG_FP;

    public const string Exit = "exit";
    public const string Goto = "goto";
    public const string GotoLong = "gotol";
    public const string Call = "call";
    public const string If = "if";
    public const string Lock = "lock";
    public const string Wide = "ll";
    public const string Packet = "skb";
    public const string ProgramCounter = "pc";
    public const string Kfunc = "kfunc";
    public const string Raw = ".insn";
    public const string FetchPrefix = "atomic_fetch_";
    public const string Xchg64 = "xchg_64";
    public const string Xchg32 = "xchg32_32";
    public const string CmpXchg64 = "cmpxchg_64";
    public const string CmpXchg32 = "cmpxchg32_32";

    /// <summary>ALU operators written <c>dst OP src</c>; signed division and modulo differ from the unsigned ones only in 'off'.</summary>
    private static readonly (string Text, byte Op, short Off)[] AluOperators =
    [
        ("=", BPF_MOV, 0),
        ("+=", BPF_ADD, 0),
        ("-=", BPF_SUB, 0),
        ("*=", BPF_MUL, 0),
        ("/=", BPF_DIV, 0),
        ("s/=", BPF_DIV, 1),
        ("%=", BPF_MOD, 0),
        ("s%=", BPF_MOD, 1),
        ("|=", BPF_OR, 0),
        ("&=", BPF_AND, 0),
        ("^=", BPF_XOR, 0),
        ("<<=", BPF_LSH, 0),
        (">>=", BPF_RSH, 0),
        ("s>>=", BPF_ARSH, 0),
    ];

    /// <summary>Comparison operators of <c>if dst OP src goto +off</c>.</summary>
    private static readonly (string Text, byte Op)[] JumpOperators =
    [
        ("==", BPF_JEQ),
        ("!=", BPF_JNE),
        (">", BPF_JGT),
        (">=", BPF_JGE),
        ("<", BPF_JLT),
        ("<=", BPF_JLE),
        ("s>", BPF_JSGT),
        ("s>=", BPF_JSGE),
        ("s<", BPF_JSLT),
        ("s<=", BPF_JSLE),
        ("&", BPF_JSET),
    ];

    /// <summary>Atomic operations without the fetch bit: <c>lock *(u64 *)(dst + off) OP src</c>; with it: <c>src = atomic_fetch_NAME(...)</c>.</summary>
    private static readonly (string Operator, string Name, int Op)[] AtomicOperators =
    [
        ("+=", "add", BPF_ADD),
        ("|=", "or", BPF_OR),
        ("&=", "and", BPF_AND),
        ("^=", "xor", BPF_XOR),
    ];

    private static readonly (string Text, byte Size)[] UnsignedSizes = [("u8", BPF_B), ("u16", BPF_H), ("u32", BPF_W), ("u64", BPF_DW)];
    private static readonly (string Text, byte Size)[] SignedSizes = [("s8", BPF_B), ("s16", BPF_H), ("s32", BPF_W)];

    /// <summary>Byte swaps: the ALU class picks the target order with the source bit, the ALU64 class swaps unconditionally.</summary>
    private static readonly (string Text, byte Class, byte Order)[] ByteSwaps =
    [
        ("be", BPF_ALU, BPF_TO_BE),
        ("le", BPF_ALU, BPF_TO_LE),
        ("bswap", BPF_ALU64, BPF_TO_LE),
    ];

    /// <summary>
    /// Names of the lddw pseudo forms, indexed by src_reg; LLVM has no syntax for them.
    /// <c>func</c> takes a pc-relative target; the others take imm and, for map values and BTF ids, the second slot's imm.
    /// </summary>
    private static readonly string[] PseudoLoads =
    [
        "",
        "map_by_fd",        // BPF_PSEUDO_MAP_FD
        "map_value_by_fd",  // BPF_PSEUDO_MAP_VALUE
        "btf_id",           // BPF_PSEUDO_BTF_ID
        "func",             // BPF_PSEUDO_FUNC
        "map_by_idx",       // BPF_PSEUDO_MAP_IDX
        "map_value_by_idx", // BPF_PSEUDO_MAP_IDX_VALUE
    ];

    public static string Register(int number, bool wide) => (wide ? "r" : "w") + number.ToString(null, null);

    /// <summary>A register name <c>rN</c> or <c>wN</c>; N may be out of range (the caller reports it), but must be plain decimal.</summary>
    public static bool TryParseRegister(string text, out int number, out bool wide)
    {
        number = 0;
        wide = text.Length > 0 && text[0] == 'r';
        if (text.Length < 2 || text.Length > 10 || (text[0] != 'r' && text[0] != 'w') || (text[1] == '0' && text.Length > 2))
            return false;
        for (var i = 1; i < text.Length; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
                return false;
            number = number * 10 + (text[i] - '0');
        }
        return true;
    }

    // Each table is read both ways, spelling to code and code to spelling; Array.Find gives the all-default row
    // (a null spelling, zero codes) when nothing matches, which is what the callers report as not found.

    public static string? AluOperator(byte op, short off) => Array.Find(AluOperators, row => row.Op == op && row.Off == off).Text;

    public static bool TryParseAluOperator(string text, out byte op, out short off)
    {
        var row = Array.Find(AluOperators, row => row.Text == text);
        (op, off) = (row.Op, row.Off);
        return row.Text != null;
    }

    public static string? JumpOperator(byte op) => Array.Find(JumpOperators, row => row.Op == op).Text;

    public static bool TryParseJumpOperator(string text, out byte op)
    {
        var row = Array.Find(JumpOperators, row => row.Text == text);
        op = row.Op;
        return row.Text != null;
    }

    /// <summary>The lock operator and fetch name of a simple atomic operation (imm without the fetch bit).</summary>
    public static bool TryAtomicOperator(int op, out string lockOperator, out string fetchName)
    {
        var row = Array.Find(AtomicOperators, row => row.Op == op);
        (lockOperator, fetchName) = (row.Operator ?? "", row.Name ?? "");
        return row.Operator != null;
    }

    public static bool TryParseAtomicLockOperator(string text, out int op)
    {
        var row = Array.Find(AtomicOperators, row => row.Operator == text);
        op = row.Op;
        return row.Operator != null;
    }

    public static bool TryParseAtomicFetchName(string name, out int op)
    {
        var row = Array.Find(AtomicOperators, row => row.Name == name);
        op = row.Op;
        return row.Name != null;
    }

    public static string SizeName(byte size, bool signed) =>
        Array.Find(signed ? SignedSizes : UnsignedSizes, row => row.Size == size).Text
        ?? throw new ArgumentOutOfRangeException(nameof(size), size, signed ? "no signed spelling for this size" : "not a size");

    public static bool TryParseSize(string text, out byte size, out bool signed)
    {
        var row = Array.Find(UnsignedSizes, row => row.Text == text);
        signed = row.Text == null;
        if (signed)
            row = Array.Find(SignedSizes, row => row.Text == text);
        size = row.Size;
        return row.Text != null;
    }

    /// <summary>Bits of a size, as movsx writes them in 'off' and casts write them in <c>(s8)</c>.</summary>
    public static int Bits(byte size) => SizeInBytes(size) * 8;

    public static string? ByteSwapName(byte cls, byte order) => Array.Find(ByteSwaps, row => row.Class == cls && row.Order == order).Text;

    /// <summary>Splits <c>be16</c>, <c>le32</c>, <c>bswap64</c> into class, order and width.</summary>
    public static bool TryParseByteSwap(string text, out byte cls, out byte order, out int width)
    {
        foreach (var (t, c, o) in ByteSwaps)
        {
            if (text.Length == t.Length + 2 && text.StartsWith(t, StringComparison.Ordinal))
            {
                width = text.AsSpan(t.Length) switch { "16" => 16, "32" => 32, "64" => 64, _ => 0 };
                if (width != 0)
                {
                    (cls, order) = (c, o);
                    return true;
                }
            }
        }
        (cls, order, width) = (0, 0, 0);
        return false;
    }

    public static bool IsByteSwapWidth(int imm) => imm is 16 or 32 or 64;

    public static string? PseudoLoadName(int src) => src is > 0 and <= BPF_PSEUDO_MAP_IDX_VALUE ? PseudoLoads[src] : null;

    public static int ParsePseudoLoad(string name) => name.Length == 0 ? -1 : Array.IndexOf(PseudoLoads, name);

    /// <summary>
    /// Whether the second slot's imm has a spelling (printed always for map values, for BTF ids only when non-zero;
    /// optional when read, meaning 0) or must be zero.
    /// </summary>
    public static bool PseudoLoadHasSecondImm(int src) => src is BPF_PSEUDO_MAP_VALUE or BPF_PSEUDO_MAP_IDX_VALUE or BPF_PSEUDO_BTF_ID;

    public static string Signed(long value) => value >= 0 ? "+" + value.ToString(null, null) : value.ToString(null, null);

    /// <summary><c>r1 + 8</c> or <c>r10 - 4</c>, the address operand of loads, stores and atomics.</summary>
    public static string Address(int reg, short off) =>
        off >= 0 ? $"r{reg} + {off}" : $"r{reg} - {-(int)off}";
}
