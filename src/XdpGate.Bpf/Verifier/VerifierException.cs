namespace XdpGate.Bpf.Verifier;

/// <summary>The verifier refused a program: which rule, at which instruction, and the message with source line, disassembly and register state.</summary>
public sealed class VerifierException : BpfLoadException
{
    public VerifierException(VerifierRule rule, int pc, string message) : base(message)
    {
        Rule = rule;
        Pc = pc;
    }

    public VerifierRule Rule { get; }

    /// <summary>The instruction the refusal is about.</summary>
    public int Pc { get; }

    /// <summary>The path log up to the refusal, when a verbose log was asked for.</summary>
    public string Log { get; init; } = "";
}
