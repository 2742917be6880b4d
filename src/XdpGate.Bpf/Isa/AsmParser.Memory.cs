using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

/// <summary>Loads, stores, atomics and lddw: the forms built around an address or a 64-bit value.</summary>
internal sealed partial class AsmParser
{
    private void EmitLddw(int dst, int src, int imm, int nextImm)
    {
        Emit(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, imm);
        Emit(0, 0, 0, 0, nextImm);
    }

    private void ParseLddwValue(int dst, bool wide, Int128 value)
    {
        if (!wide)
            throw Error($"a 64-bit load ('{Syntax.Wide}') needs an r register");
        if (value < long.MinValue || value > ulong.MaxValue)
            throw Error($"immediate {value} does not fit in 64 bits");
        var bits = value < 0 ? unchecked((ulong)(long)value) : (ulong)value;
        EmitLddw(dst, 0, unchecked((int)(uint)bits), unchecked((int)(uint)(bits >> 32)));
    }

    private void ParsePseudoLoad(int dst, bool wide, int src, string name)
    {
        if (!wide)
            throw Error($"a 64-bit load ('{Syntax.Wide}') needs an r register");
        Expect("(");
        int imm, nextImm = 0;
        if (src == BPF_PSEUDO_FUNC)
        {
            if (Peek().IsWord(Syntax.ProgramCounter) && (Peek(1).Is("+") || Peek(1).Is("-")))
            {
                Next();
                imm = Signed32(ParseInteger(), "function offset");
            }
            else if (IsLabelAhead())
            {
                imm = ParseTarget(FixupKind.Immediate, "function offset");
            }
            else
            {
                throw Error($"expected pc+N or a label in {name}() but found {Describe(Peek())}");
            }
        }
        else
        {
            imm = Imm32(ParseInteger(), "immediate");
            if (Syntax.PseudoLoadHasSecondImm(src) && Accept(","))
                nextImm = Imm32(ParseInteger(), "second immediate");
        }
        Expect(")");
        if (!AcceptWord(Syntax.Wide))
            throw Error($"expected '{Syntax.Wide}' but found {Describe(Peek())}");
        EmitLddw(dst, src, imm, nextImm);
    }

    private void ParseLoad(int dst, bool wide)
    {
        Expect("*");
        var size = ParseSizeCast(out var signed);
        if (AcceptWord(Syntax.Packet))
        {
            if (signed || size == BPF_DW)
                throw Error("packet loads are u8, u16 or u32");
            if (dst != 0 || !wide)
                throw Error("packet loads always write r0");
            Expect("[");
            if (IsRegisterAhead())
            {
                var src = ParseRegister(wide: true);
                Emit((byte)(BPF_LD | BPF_IND | size), 0, src, 0, Imm32(ParseOffset(), "packet offset"));
            }
            else
            {
                Emit((byte)(BPF_LD | BPF_ABS | size), 0, 0, 0, Imm32(ParseInteger(), "packet offset"));
            }
            Expect("]");
            return;
        }
        var address = ParseParenthesizedAddress(out var off);
        if (!wide && (signed || size == BPF_DW))
            throw Error($"a {(signed ? "sign-extending" : "64-bit")} load needs an r register");
        Emit((byte)(BPF_LDX | (signed ? BPF_MEMSX : BPF_MEM) | size), dst, address, off, 0);
    }

    private void ParseStore()
    {
        Expect("*");
        var size = ParseUnsignedSizeCast();
        var dst = ParseParenthesizedAddress(out var off);
        Expect("=");
        if (IsRegisterAhead())
            Emit((byte)(BPF_STX | BPF_MEM | size), dst, ParseDataRegister(size, out _), off, 0);
        else if (IsNumberAhead())
            Emit((byte)(BPF_ST | BPF_MEM | size), dst, 0, off, Imm32(ParseInteger(), "immediate"));
        else
            throw Error($"expected a register or a number after '=' but found {Describe(Peek())}");
    }

    private void ParseLock()
    {
        Expect("*");
        var size = ParseUnsignedSizeCast();
        RequireAtomicSize(size);
        var dst = ParseParenthesizedAddress(out var off);
        var op = Next();
        if (op.Kind != TokenKind.Punctuation || !Syntax.TryParseAtomicLockOperator(op.Text, out var atomic))
            throw Error($"expected an atomic operator (+=, |=, &=, ^=) but found {Describe(op)}");
        var src = ParseDataRegister(size, out _);
        Emit((byte)(BPF_STX | BPF_ATOMIC | size), dst, src, off, atomic);
    }

    /// <summary>The atomics written as an assignment: fetch operations, xchg and cmpxchg; false when <paramref name="name"/> is none of them.</summary>
    private bool TryParseAtomicAssignment(int dst, bool wide, string name)
    {
        if (name.StartsWith(Syntax.FetchPrefix, StringComparison.Ordinal) && Syntax.TryParseAtomicFetchName(name[Syntax.FetchPrefix.Length..], out var atomic))
        {
            Next();
            Expect("(");
            var size = ParseUnsignedSizeCast();
            RequireAtomicSize(size);
            var address = ParseParenthesizedAddress(out var off);
            Expect(",");
            RequireSameRegister(dst, wide, size, name);
            Expect(")");
            Emit((byte)(BPF_STX | BPF_ATOMIC | size), address, dst, off, atomic | BPF_FETCH);
        }
        else if (name is Syntax.Xchg64 or Syntax.Xchg32)
        {
            Next();
            var size = name == Syntax.Xchg64 ? BPF_DW : BPF_W;
            Expect("(");
            var address = ParseAddress(out var off);
            Expect(",");
            RequireSameRegister(dst, wide, size, name);
            Expect(")");
            Emit((byte)(BPF_STX | BPF_ATOMIC | size), address, dst, off, BPF_XCHG);
        }
        else if (name is Syntax.CmpXchg64 or Syntax.CmpXchg32)
        {
            Next();
            var size = name == Syntax.CmpXchg64 ? BPF_DW : BPF_W;
            if (dst != 0)
                throw Error($"{name} always writes r0");
            Expect("(");
            var address = ParseAddress(out var off);
            Expect(",");
            RequireSameRegister(0, wide, size, name);
            Expect(",");
            var src = ParseDataRegister(size, out var srcWide);
            if (srcWide != wide)
                throw Error($"the registers of {name} must all be r or all be w");
            Expect(")");
            Emit((byte)(BPF_STX | BPF_ATOMIC | size), address, src, off, BPF_CMPXCHG);
        }
        else
        {
            return false;
        }
        return true;
    }

    /// <summary>A fetching atomic writes the old value back into its source, so the two must be one register.</summary>
    private void RequireSameRegister(int dst, bool wide, byte size, string name)
    {
        if (size == BPF_DW && !wide)
            throw Error($"{name} on u64 needs r registers");
        var token = Peek();
        var reg = ParseRegister(out var regWide);
        if (reg != dst || regWide != wide)
            throw Error($"{name} needs '{Syntax.Register(dst, wide)}' here, not '{token.Text}'");
    }

    private void RequireAtomicSize(byte size)
    {
        if (size != BPF_W && size != BPF_DW)
            throw Error($"atomic operations are u32 or u64, not u{Syntax.Bits(size)}");
    }

    /// <summary>The data register of a store or atomic: w is accepted for sizes below 64 bits, as LLVM does.</summary>
    private int ParseDataRegister(byte size, out bool wide)
    {
        var token = Peek();
        var reg = ParseRegister(out wide);
        if (size == BPF_DW && !wide)
            throw Error($"'{token.Text}' where a 64-bit r register is needed");
        return reg;
    }

    /// <summary><c>(u32 *)</c>: the size and whether it is a signed (s8, s16, s32) spelling.</summary>
    private byte ParseSizeCast(out bool signed)
    {
        Expect("(");
        var token = Next();
        if (token.Kind != TokenKind.Identifier || !Syntax.TryParseSize(token.Text, out var size, out signed))
            throw Error($"expected a size (u8, u16, u32, u64, s8, s16, s32) but found {Describe(token)}");
        Expect("*");
        Expect(")");
        return size;
    }

    private byte ParseUnsignedSizeCast()
    {
        var size = ParseSizeCast(out var signed);
        if (signed)
            throw Error($"a store or atomic operation takes an unsigned size, not s{Syntax.Bits(size)}");
        return size;
    }

    /// <summary><c>r1 + 8</c>, <c>r10 - 4</c> or <c>r1</c>; the base is always a 64-bit register.</summary>
    private int ParseAddress(out short off)
    {
        var reg = ParseRegister(wide: true);
        off = Off16(ParseOffset(), "memory offset");
        return reg;
    }

    /// <summary>What follows a base register: <c>+ N</c>, <c>- N</c>, or nothing (0).</summary>
    private Int128 ParseOffset() => Accept("+") ? ParseInteger() : Accept("-") ? -ParseInteger() : 0;

    private int ParseParenthesizedAddress(out short off)
    {
        Expect("(");
        var reg = ParseAddress(out off);
        Expect(")");
        return reg;
    }
}
