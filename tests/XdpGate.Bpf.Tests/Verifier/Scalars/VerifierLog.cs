using System.Text.RegularExpressions;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// The register states in a kernel verifier log (log_level 2): after each instruction (<c>5: (57) r0 &amp;= 255 ;
/// R0=scalar(...)</c>) and at each branch target (<c>from 7 to 10: R0=... R10=fp0</c>). Scalar ids and the
/// precision mark are dropped, since the abstract domain has neither.
/// </summary>
internal sealed partial class VerifierLog
{
    private readonly Dictionary<int, Dictionary<int, string>> afterInsn = [];
    private readonly Dictionary<(int From, int To), Dictionary<int, string>> atBranch = [];
    private readonly HashSet<int> processed = [];

    public VerifierLog(string log)
    {
        Text = log;
        foreach (var line in log.Split('\n'))
        {
            if (InsnLine().Match(line) is { Success: true } insn)
            {
                var index = int.Parse(insn.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                processed.Add(index);
                if (insn.Groups[2].Success)
                    afterInsn[index] = Registers(insn.Groups[2].Value);
            }
            else if (BranchLine().Match(line) is { Success: true } branch)
            {
                var from = int.Parse(branch.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                var to = int.Parse(branch.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                atBranch[(from, to)] = Registers(branch.Groups[3].Value);
            }
        }
    }

    public string Text { get; }

    /// <summary>The instructions from which the verifier pushed a second path to explore.</summary>
    public IEnumerable<int> BranchSources => atBranch.Keys.Select(k => k.From);

    /// <summary>Whether the verifier walked instruction <paramref name="index"/> on some path.</summary>
    public bool Processed(int index) => processed.Contains(index);

    /// <summary>The registers printed after the last walk of instruction <paramref name="index"/>, by number.</summary>
    public IReadOnlyDictionary<int, string> After(int index) => WithoutIds(afterInsn.GetValueOrDefault(index));

    /// <summary>The registers at the start of the branch from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public IReadOnlyDictionary<int, string> Branch(int from, int to) => WithoutIds(atBranch.GetValueOrDefault((from, to)));

    /// <summary>The scalar id the kernel last printed for <paramref name="register"/> before instruction <paramref name="index"/> (0 for none).</summary>
    public int IdBefore(int index, int register)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            if (afterInsn.GetValueOrDefault(i)?.GetValueOrDefault(register) is { } state)
                return IdField().Match(state) is { Success: true } id ? int.Parse(id.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        return 0;
    }

    private static Dictionary<int, string> WithoutIds(Dictionary<int, string>? registers) =>
        registers?.ToDictionary(r => r.Key, r => IdField().Replace(r.Value, "")) ?? [];

    private static Dictionary<int, string> Registers(string states)
    {
        var registers = new Dictionary<int, string>();
        foreach (Match m in RegisterStart().Matches(states))
        {
            // A state runs to the first space outside parentheses: var_off=(0x0; 0xff) has one inside.
            var start = m.Index + m.Length;
            var end = start;
            for (var depth = 0; end < states.Length && (depth > 0 || states[end] != ' '); end++)
                depth += states[end] == '(' ? 1 : states[end] == ')' ? -1 : 0;
            var state = states[start..end];
            registers[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)] = state.StartsWith('P') ? state[1..] : state;
        }
        return registers;
    }

    [GeneratedRegex(@"^(\d+): \([0-9a-f]{2}\) .*?(?:\s+; (.*))?$")]
    private static partial Regex InsnLine();

    [GeneratedRegex(@"^from (\d+) to (\d+): (.*)$")]
    private static partial Regex BranchLine();

    [GeneratedRegex(@"(?<![\w-])R(\d+)(?:_w)?=")]
    private static partial Regex RegisterStart();

    [GeneratedRegex(@"id=(\d+)(?:\+?-?\d+)?,?")]
    private static partial Regex IdField();
}
