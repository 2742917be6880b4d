namespace XdpGate.Bpf.Isa;

internal enum TokenKind
{
    End,
    Identifier,
    Number,
    Punctuation,
}

/// <summary>One token of an assembler line; a number carries its magnitude (the sign is a separate token).</summary>
internal readonly record struct Token(TokenKind Kind, string Text, ulong Value)
{
    public bool Is(string punctuation) => Kind == TokenKind.Punctuation && Text == punctuation;
    public bool IsWord(string word) => Kind == TokenKind.Identifier && Text == word;
}

/// <summary>Splits one line of LLVM BPF assembly into tokens, dropping comments (<c>;</c>, <c>#</c>, <c>//</c>).</summary>
internal static class AsmLexer
{
    /// <summary>Longest first, so that <c>s&gt;&gt;=</c> wins over <c>s&gt;</c> and <c>&lt;&lt;=</c> over <c>&lt;</c>.</summary>
    private static readonly string[] Punctuation =
    [
        "s>>=",
        "<<=", ">>=", "s/=", "s%=", "s>=", "s<=",
        "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "==", "!=", ">=", "<=", "s>", "s<",
        "=", ">", "<", "&", "(", ")", "[", "]", "*", "+", "-", ",", ":",
    ];

    /// <summary>The tokens of <paramref name="line"/>, ending with an <see cref="TokenKind.End"/> token; null and a reason on a bad character or number.</summary>
    public static List<Token>? Tokenize(string line, out string error)
    {
        var tokens = new List<Token>();
        error = "";
        var i = 0;
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i]))
                i++;
            if (i == line.Length || line[i] == ';' || line[i] == '#' || (line[i] == '/' && i + 1 < line.Length && line[i + 1] == '/'))
                break;
            var c = line[i];
            if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_'))
                    i++;
                var text = line[start..i];
                if (!TryParseNumber(text, out var value))
                {
                    error = $"bad number '{text}'";
                    return null;
                }
                tokens.Add(new Token(TokenKind.Number, text, value));
                continue;
            }
            var punctuation = MatchPunctuation(line, i);
            if (punctuation is not null)
            {
                tokens.Add(new Token(TokenKind.Punctuation, punctuation, 0));
                i += punctuation.Length;
                continue;
            }
            if (IsIdentifierStart(c))
            {
                var start = i;
                while (i < line.Length && IsIdentifierPart(line[i]))
                    i++;
                tokens.Add(new Token(TokenKind.Identifier, line[start..i], 0));
                continue;
            }
            error = $"unexpected character '{c}'";
            return null;
        }
        tokens.Add(new Token(TokenKind.End, "", 0));
        return tokens;
    }

    public static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c == '.';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.';

    private static string? MatchPunctuation(string line, int at)
    {
        foreach (var p in Punctuation)
        {
            // Words are read whole, so an 's' reaching here is never inside one; s8 and skb match no operator.
            if (line.AsSpan(at).StartsWith(p, StringComparison.Ordinal))
                return p;
        }
        return null;
    }

    private static bool TryParseNumber(string text, out ulong value)
    {
        value = 0;
        if (text.Length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
            return ulong.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
        return ulong.TryParse(text, System.Globalization.NumberStyles.None, null, out value);
    }
}
