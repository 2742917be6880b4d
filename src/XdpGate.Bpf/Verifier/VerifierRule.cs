namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Why the verifier refused a program: one rule per kind of kernel verifier refusal. Case files spell these in
/// kebab-case (<see cref="VerifierRules.Name"/>).
/// </summary>
public enum VerifierRule
{
    JumpOutOfRange,
    JumpIntoLddw,
    UnreachableInstruction,
    FallsOffEnd,
    InfiniteLoop,
    ComplexityLimit,
    CallDepth,
    StackTooLarge,
    UninitializedRegister,
    FramePointerWrite,
    InvalidPacketAccess,
    InvalidMapValueAccess,
    PossiblyNullPointer,
    InvalidStackAccess,
    UninitializedStackRead,
    ScalarDereference,
    InvalidContextAccess,
    PointerArithmetic,
    PointerComparison,
    PointerLeak,
    HelperArgument,
    WrongMapType,
    InvalidReturnValue,
    /// <summary>A ring buffer reservation (a reference) not submitted or discarded on some path (kernel: "Unreleased reference").</summary>
    UnreleasedReference,
    /// <summary>A call of a helper that does not exist, or that the program type may not use (kernel: "program of this type cannot use helper").</summary>
    UnknownHelper,
    /// <summary>An instruction the kernel refuses for what it is (division by constant zero, shift by the width or more).</summary>
    InvalidInstruction,
    /// <summary>A global function used where the kernel cannot: called with a BTF prototype it does not verify against
    /// (more than 5 parameters, a return type that is not a scalar, a parameter type it does not handle: "Global function
    /// f() doesn't return scalar"), or its address taken as a callback ("callback function not static").</summary>
    GlobalFunction,
}

public static class VerifierRules
{
    /// <summary>The kebab-case name case files use: InvalidPacketAccess is invalid-packet-access.</summary>
    public static string Name(this VerifierRule rule)
    {
        var text = rule.ToString();
        var name = new System.Text.StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsUpper(text[i]) && i > 0)
                name.Append('-');
            name.Append(char.ToLowerInvariant(text[i]));
        }
        return name.ToString();
    }

    /// <summary>The rule a kebab-case name stands for; throws naming the unknown name.</summary>
    public static VerifierRule Parse(string name) =>
        Enum.GetValues<VerifierRule>().FirstOrDefault(r => r.Name() == name.Trim(), (VerifierRule)(-1)) is var rule && rule >= 0
            ? rule
            : throw new ArgumentException($"unknown verifier rule '{name}'; known: {string.Join(", ", Enum.GetValues<VerifierRule>().Select(r => r.Name()))}", nameof(name));
}
