namespace XdpGate.Bpf.Program;

/// <summary>What a global function's parameter is to the verifier, from its BTF type (the kernel's btf_prepare_func_args).</summary>
public enum GlobalFunctionArgKind
{
    /// <summary>An integer, enum or bool: any scalar.</summary>
    Scalar,

    /// <summary>A pointer to the program type's context struct (struct xdp_md, struct __sk_buff).</summary>
    Context,

    /// <summary>A pointer to any other sized type: that many bytes of memory (0 for an empty struct), or NULL.</summary>
    Memory,
}

/// <summary>One parameter of a global function: its kind and, for <see cref="GlobalFunctionArgKind.Memory"/>, the pointed-to size.</summary>
public readonly record struct GlobalFunctionArg(GlobalFunctionArgKind Kind, int MemorySize = 0);

/// <summary>
/// A subprogram with global linkage (a non-static C function, BTF FUNC linkage BTF_FUNC_GLOBAL). As in the kernel, the
/// verifier proves it once on its own, from arguments derived from its prototype, and at each call checks only the
/// arguments against the prototype; the caller then knows nothing of its return value or of what it wrote.
/// </summary>
/// <param name="InstructionIndex">Where the function starts in the linked program (a call target, never 0).</param>
/// <param name="Name">The C function's name, for the verifier's messages.</param>
/// <param name="Args">Its parameters, r1 onwards.</param>
/// <param name="Unsupported">The kernel's message when it cannot verify against this prototype (more than 5
/// parameters, a return type that is not a scalar, a parameter type it does not handle); any call is then refused.</param>
public sealed record GlobalFunction(int InstructionIndex, string Name, IReadOnlyList<GlobalFunctionArg> Args, string? Unsupported = null)
{
    public override string ToString() =>
        $"{Name}@{InstructionIndex}({string.Join(", ", Args.Select(a => a.Kind == GlobalFunctionArgKind.Memory ? $"mem{a.MemorySize}" : a.Kind.ToString()))}){(Unsupported is null ? "" : " unsupported: " + Unsupported)}";
}
