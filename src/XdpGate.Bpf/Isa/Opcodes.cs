namespace XdpGate.Bpf.Isa;

/// <summary>
/// Opcode building blocks with the names and values of the kernel's uapi/linux/bpf_common.h and bpf.h,
/// as RFC 9669 defines them. An opcode byte is class | op | source (ALU, JMP) or class | size | mode (loads, stores).
/// </summary>
#pragma warning disable CA1707 // kernel names kept exactly
public static class Opcodes
{
    // Instruction classes (low 3 bits).
    public const byte BPF_LD = 0x00;
    public const byte BPF_LDX = 0x01;
    public const byte BPF_ST = 0x02;
    public const byte BPF_STX = 0x03;
    public const byte BPF_ALU = 0x04;
    public const byte BPF_JMP = 0x05;
    public const byte BPF_JMP32 = 0x06;
    public const byte BPF_ALU64 = 0x07;

    // Source operand (bit 3) for ALU and JMP.
    public const byte BPF_K = 0x00;
    public const byte BPF_X = 0x08;

    // Byte-swap direction for BPF_END shares bit 3.
    public const byte BPF_TO_LE = 0x00;
    public const byte BPF_TO_BE = 0x08;

    // ALU operations (high 4 bits).
    public const byte BPF_ADD = 0x00;
    public const byte BPF_SUB = 0x10;
    public const byte BPF_MUL = 0x20;
    public const byte BPF_DIV = 0x30;
    public const byte BPF_OR = 0x40;
    public const byte BPF_AND = 0x50;
    public const byte BPF_LSH = 0x60;
    public const byte BPF_RSH = 0x70;
    public const byte BPF_NEG = 0x80;
    public const byte BPF_MOD = 0x90;
    public const byte BPF_XOR = 0xa0;
    public const byte BPF_MOV = 0xb0;
    public const byte BPF_ARSH = 0xc0;
    public const byte BPF_END = 0xd0;

    // Jump operations (high 4 bits).
    public const byte BPF_JA = 0x00;
    public const byte BPF_JEQ = 0x10;
    public const byte BPF_JGT = 0x20;
    public const byte BPF_JGE = 0x30;
    public const byte BPF_JSET = 0x40;
    public const byte BPF_JNE = 0x50;
    public const byte BPF_JSGT = 0x60;
    public const byte BPF_JSGE = 0x70;
    public const byte BPF_CALL = 0x80;
    public const byte BPF_EXIT = 0x90;
    public const byte BPF_JLT = 0xa0;
    public const byte BPF_JLE = 0xb0;
    public const byte BPF_JSLT = 0xc0;
    public const byte BPF_JSLE = 0xd0;

    // Load/store sizes (bits 3-4).
    public const byte BPF_W = 0x00;
    public const byte BPF_H = 0x08;
    public const byte BPF_B = 0x10;
    public const byte BPF_DW = 0x18;

    // Load/store modes (high 3 bits).
    public const byte BPF_IMM = 0x00;
    public const byte BPF_ABS = 0x20;
    public const byte BPF_IND = 0x40;
    public const byte BPF_MEM = 0x60;
    public const byte BPF_MEMSX = 0x80;
    public const byte BPF_ATOMIC = 0xc0;

    // Atomic operations, carried in imm of BPF_STX | BPF_ATOMIC.
    public const int BPF_FETCH = 0x01;
    public const int BPF_XCHG = 0xe0 | BPF_FETCH;
    public const int BPF_CMPXCHG = 0xf0 | BPF_FETCH;

    // src_reg values of BPF_LD | BPF_IMM | BPF_DW (lddw) pseudo forms.
    public const byte BPF_PSEUDO_MAP_FD = 1;
    public const byte BPF_PSEUDO_MAP_VALUE = 2;
    public const byte BPF_PSEUDO_BTF_ID = 3;
    public const byte BPF_PSEUDO_FUNC = 4;
    public const byte BPF_PSEUDO_MAP_IDX = 5;
    public const byte BPF_PSEUDO_MAP_IDX_VALUE = 6;

    // src_reg values of BPF_JMP | BPF_CALL.
    public const byte BPF_PSEUDO_CALL = 1;
    public const byte BPF_PSEUDO_KFUNC_CALL = 2;

    public const int MAX_BPF_STACK = 512;
    public const int MAX_BPF_REG = 11;
    public const int BPF_REG_FP = 10;
    /// <summary>Kernel MAX_CALL_FRAMES: the main program plus seven nested calls.</summary>
    public const int MAX_CALL_FRAMES = 8;
    /// <summary>Kernel MAX_TAIL_CALL_CNT.</summary>
    public const int MAX_TAIL_CALL_CNT = 33;
    /// <summary>Kernel BPF_COMPLEXITY_LIMIT_INSNS, also the largest privileged program.</summary>
    public const int BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;

    public static byte Class(byte code) => (byte)(code & 0x07);
    public static byte Op(byte code) => (byte)(code & 0xf0);
    public static byte Source(byte code) => (byte)(code & 0x08);
    public static byte Size(byte code) => (byte)(code & 0x18);
    public static byte Mode(byte code) => (byte)(code & 0xe0);

    public static int SizeInBytes(byte size) => size switch
    {
        BPF_B => 1,
        BPF_H => 2,
        BPF_W => 4,
        _ => 8,
    };
}
