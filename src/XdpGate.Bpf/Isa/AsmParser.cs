using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Isa;

internal enum FixupKind
{
    /// <summary>A 16-bit jump offset in 'off' (goto, if).</summary>
    Offset,
    /// <summary>A 32-bit pc-relative target in 'imm' (gotol, call, func).</summary>
    Immediate,
}

/// <summary>A label use waiting for the label's slot; <c>Slot</c> is the instruction whose field gets the relative target.</summary>
internal readonly record struct Fixup(int Slot, FixupKind Kind, string Label, int Line, string Text);

/// <summary>
/// Reads one line at a time into instructions, appending to the shared output; label uses become <see cref="Fixup"/>s.
/// The grammar is documented on <see cref="Assembler"/>; AsmParser.Memory.cs holds the forms built around an address.
/// </summary>
internal sealed partial class AsmParser(List<bpf_insn> output, List<Fixup> fixups, Dictionary<string, int> labels)
{
    private List<Token> tokens = [];
    private int pos;
    private int lineNumber;
    private string text = "";

    public void ParseLine(string line, int number)
    {
        lineNumber = number;
        text = line.Trim();
        tokens = AsmLexer.Tokenize(line, out var error) ?? throw Error(error);
        pos = 0;
        while (Peek().Kind == TokenKind.Identifier && Peek(1).Is(":"))
        {
            var label = Next().Text;
            Next();
            if (Syntax.TryParseRegister(label, out _, out _))
                throw Error($"register name '{label}' used as a label");
            if (!labels.TryAdd(label, output.Count))
                throw Error($"label '{label}' defined twice");
        }
        if (Peek().Kind == TokenKind.End)
            return;
        ParseInstruction();
        if (Peek().Kind != TokenKind.End)
            throw Error($"unexpected {Describe(Peek())} after the instruction");
    }

    private BpfLoadException Error(string message) => new($"line {lineNumber}: {message} in '{text}'");

    private Token Peek(int ahead = 0) => tokens[Math.Min(pos + ahead, tokens.Count - 1)];

    private Token Next()
    {
        var token = Peek();
        if (pos < tokens.Count - 1)
            pos++;
        return token;
    }

    private bool Accept(string punctuation)
    {
        if (!Peek().Is(punctuation))
            return false;
        pos++;
        return true;
    }

    private void Expect(string punctuation)
    {
        if (!Accept(punctuation))
            throw Error($"expected '{punctuation}' but found {Describe(Peek())}");
    }

    private bool AcceptWord(string word)
    {
        if (!Peek().IsWord(word))
            return false;
        pos++;
        return true;
    }

    private static string Describe(Token token) => token.Kind == TokenKind.End ? "end of line" : $"'{token.Text}'";

    private bool IsRegisterAhead(int ahead = 0) =>
        Peek(ahead).Kind == TokenKind.Identifier && Syntax.TryParseRegister(Peek(ahead).Text, out _, out _);

    private bool IsNumberAhead() =>
        Peek().Kind == TokenKind.Number || ((Peek().Is("+") || Peek().Is("-")) && Peek(1).Kind == TokenKind.Number);

    private bool IsLabelAhead() => Peek().Kind == TokenKind.Identifier && !IsRegisterAhead();

    private int ParseRegister(out bool wide)
    {
        var token = Next();
        if (token.Kind != TokenKind.Identifier || !Syntax.TryParseRegister(token.Text, out var number, out wide))
            throw Error($"expected a register but found {Describe(token)}");
        if (number > Syntax.MaxRegister)
            throw Error($"bad register '{token.Text}' (registers are r0 to r{Syntax.MaxRegister})");
        return number;
    }

    /// <summary>A register of the given width; the widths of one instruction's registers must agree.</summary>
    private int ParseRegister(bool wide)
    {
        var token = Peek();
        var number = ParseRegister(out var actual);
        if (actual != wide)
            throw Error($"'{token.Text}' where a {(wide ? "64-bit r" : "32-bit w")} register is needed");
        return number;
    }

    private Int128 ParseInteger()
    {
        var negative = Accept("-");
        if (!negative)
            Accept("+");
        var token = Next();
        if (token.Kind != TokenKind.Number)
            throw Error($"expected a number but found {Describe(token)}");
        return negative ? -(Int128)token.Value : token.Value;
    }

    /// <summary>An imm operand: signed or unsigned 32-bit (0xffffffff is -1), as LLVM accepts it.</summary>
    private int Imm32(Int128 value, string what)
    {
        if (value < int.MinValue || value > uint.MaxValue)
            throw Error($"{what} {value} does not fit in 32 bits");
        return unchecked((int)(long)value);
    }

    private int Signed32(Int128 value, string what)
    {
        if (value < int.MinValue || value > int.MaxValue)
            throw Error($"{what} {value} out of range ({int.MinValue} to {int.MaxValue})");
        return (int)value;
    }

    private short Off16(Int128 value, string what)
    {
        if (value < short.MinValue || value > short.MaxValue)
            throw Error($"{what} {value} out of range ({short.MinValue} to {short.MaxValue})");
        return (short)value;
    }

    private int ParseRange(int min, int max, string what)
    {
        var value = ParseInteger();
        if (value < min || value > max)
            throw Error($"{what} {value} out of range ({min} to {max})");
        return (int)value;
    }

    private void Emit(byte code, int dst, int src, short off, int imm) => output.Add(new bpf_insn(code, dst, src, off, imm));

    private void ParseInstruction()
    {
        var first = Peek();
        if (first.IsWord(Syntax.Raw))
            ParseRaw();
        else if (AcceptWord(Syntax.Exit))
            Emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        else if (AcceptWord(Syntax.Goto))
            Emit(BPF_JMP | BPF_JA, 0, 0, (short)ParseTarget(FixupKind.Offset, "jump offset"), 0);
        else if (AcceptWord(Syntax.GotoLong))
            Emit(BPF_JMP32 | BPF_JA, 0, 0, 0, ParseTarget(FixupKind.Immediate, "jump offset"));
        else if (AcceptWord(Syntax.Call))
            ParseCall();
        else if (AcceptWord(Syntax.If))
            ParseIf();
        else if (AcceptWord(Syntax.Lock))
            ParseLock();
        else if (first.Is("*"))
            ParseStore();
        else if (IsRegisterAhead())
            ParseRegisterStatement();
        else if (first.Kind == TokenKind.Identifier)
            throw Error($"unknown instruction '{first.Text}'");
        else
            throw Error($"unexpected {Describe(first)}");
    }

    /// <summary>A pc-relative target: a signed number, or a label resolved once every line is read.</summary>
    private int ParseTarget(FixupKind kind, string what)
    {
        int value;
        if (IsLabelAhead())
        {
            fixups.Add(new Fixup(output.Count, kind, Next().Text, lineNumber, text));
            value = 0;
        }
        else if (IsNumberAhead())
        {
            var number = ParseInteger();
            value = kind == FixupKind.Offset ? Off16(number, what) : Signed32(number, what);
        }
        else
        {
            throw Error($"expected a signed offset or a label but found {Describe(Peek())}");
        }
        // llvm-objdump appends the target's symbol, 'goto +3 <LBB0_4>'; it is a comment.
        if (Accept("<"))
        {
            while (Peek().Kind != TokenKind.End && !Peek().Is(">"))
                Next();
            Expect(">");
        }
        return value;
    }

    private void ParseRaw()
    {
        Next();
        var code = ParseRange(0, 255, "opcode");
        Expect(",");
        var dst = ParseRange(0, 15, "dst_reg");
        Expect(",");
        var src = ParseRange(0, 15, "src_reg");
        Expect(",");
        var off = Off16(ParseInteger(), "offset");
        Expect(",");
        var imm = Imm32(ParseInteger(), "immediate");
        Emit((byte)code, dst, src, off, imm);
    }

    private void ParseCall()
    {
        if (Peek().IsWord(Syntax.ProgramCounter) && (Peek(1).Is("+") || Peek(1).Is("-")))
        {
            Next();
            Emit(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, Signed32(ParseInteger(), "call offset"));
        }
        else if (Peek().IsWord(Syntax.Kfunc) && Peek(1).Is("("))
        {
            Next();
            Next();
            var id = Imm32(ParseInteger(), "kfunc BTF id");
            var off = Accept(",") ? Off16(ParseInteger(), "kfunc module index") : (short)0;
            Expect(")");
            Emit(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, off, id);
        }
        else if (IsNumberAhead())
        {
            Emit(BPF_JMP | BPF_CALL, 0, 0, 0, Imm32(ParseInteger(), "helper number"));
        }
        else if (IsLabelAhead())
        {
            Emit(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, ParseTarget(FixupKind.Immediate, "call offset"));
        }
        else
        {
            throw Error($"expected a helper number, pc+N, kfunc(ID) or a label after 'call' but found {Describe(Peek())}");
        }
    }

    private void ParseIf()
    {
        var dst = ParseRegister(out var wide);
        var op = Next();
        if (op.Kind != TokenKind.Punctuation || !Syntax.TryParseJumpOperator(op.Text, out var jump))
            throw Error($"expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &) but found {Describe(op)}");
        var cls = wide ? BPF_JMP : BPF_JMP32;
        byte source;
        int src = 0, imm = 0;
        if (IsRegisterAhead())
        {
            src = ParseRegister(wide);
            source = BPF_X;
        }
        else if (IsNumberAhead())
        {
            imm = Imm32(ParseInteger(), "immediate");
            source = BPF_K;
        }
        else
        {
            throw Error($"expected a register or a number after '{op.Text}' but found {Describe(Peek())}");
        }
        if (!AcceptWord(Syntax.Goto))
            throw Error($"expected 'goto' but found {Describe(Peek())}");
        var off = (short)ParseTarget(FixupKind.Offset, "jump offset");
        Emit((byte)(cls | jump | source), dst, src, off, imm);
    }

    private void ParseRegisterStatement()
    {
        var dst = ParseRegister(out var wide);
        var op = Next();
        if (op.Is("="))
        {
            ParseAssignment(dst, wide);
            return;
        }
        if (op.Kind != TokenKind.Punctuation || !Syntax.TryParseAluOperator(op.Text, out var alu, out var off))
            throw Error($"expected an assignment operator but found {Describe(op)}");
        var cls = wide ? BPF_ALU64 : BPF_ALU;
        if (IsRegisterAhead())
            Emit((byte)(cls | alu | BPF_X), dst, ParseRegister(wide), off, 0);
        else if (IsNumberAhead())
            Emit((byte)(cls | alu | BPF_K), dst, 0, off, Imm32(ParseInteger(), "immediate"));
        else
            throw Error($"expected a register or a number after '{op.Text}' but found {Describe(Peek())}");
    }

    private void ParseAssignment(int dst, bool wide)
    {
        var cls = wide ? BPF_ALU64 : BPF_ALU;
        var first = Peek();
        if (first.Is("-") && IsRegisterAhead(1))
        {
            Next();
            if (ParseRegister(wide) != dst)
                throw Error("negation is written 'rN = -rN' with one register");
            Emit((byte)(cls | BPF_NEG | BPF_K), dst, 0, 0, 0);
        }
        else if (IsNumberAhead())
        {
            var value = ParseInteger();
            if (AcceptWord(Syntax.Wide))
                ParseLddwValue(dst, wide, value);
            else
                Emit((byte)(cls | BPF_MOV | BPF_K), dst, 0, 0, Imm32(value, "immediate"));
        }
        else if (IsRegisterAhead())
        {
            Emit((byte)(cls | BPF_MOV | BPF_X), dst, ParseRegister(wide), 0, 0);
        }
        else if (Accept("("))
        {
            var token = Next();
            if (token.Kind != TokenKind.Identifier || !Syntax.TryParseSize(token.Text, out var size, out var signed) || !signed || (!wide && size == BPF_W))
                throw Error($"expected a sign-extending cast ({(wide ? "s8, s16, s32" : "s8, s16")}) but found {Describe(token)}");
            Expect(")");
            Emit((byte)(cls | BPF_MOV | BPF_X), dst, ParseRegister(wide), (short)Syntax.Bits(size), 0);
        }
        else if (first.Is("*"))
        {
            ParseLoad(dst, wide);
        }
        else if (first.Kind == TokenKind.Identifier)
        {
            ParseNamedOperand(dst, wide, first.Text);
        }
        else
        {
            throw Error($"expected a register, a number or an expression after '=' but found {Describe(first)}");
        }
    }

    /// <summary>A word after '=': a byte swap, an atomic that returns a value, or an lddw pseudo form.</summary>
    private void ParseNamedOperand(int dst, bool wide, string name)
    {
        if (Syntax.TryParseByteSwap(name, out var swapClass, out var order, out var width))
        {
            Next();
            var src = ParseRegister(out var srcWide);
            if (!wide || !srcWide || src != dst)
                throw Error($"a byte swap is written 'rN = {name} rN' with one r register");
            Emit((byte)(swapClass | BPF_END | order), dst, 0, 0, width);
        }
        else if (Syntax.ParsePseudoLoad(name) is var src and > 0)
        {
            Next();
            ParsePseudoLoad(dst, wide, src, name);
        }
        else if (!TryParseAtomicAssignment(dst, wide, name))
        {
            throw Error($"unknown operand '{name}'");
        }
    }
}
