using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Bpf.Program;

/// <summary>How to load a program: its name and type, the maps its <c>lddw map_by_idx</c> instructions index, and where its instructions came from.</summary>
public sealed record ProgramOptions
{
    public string Name { get; init; } = "prog";
    public bpf_prog_type Type { get; init; } = bpf_prog_type.BPF_PROG_TYPE_UNSPEC;
    public IReadOnlyList<BpfMap> Maps { get; init; } = [];

    /// <summary>
    /// Source positions of instructions (from an object's .BTF.ext), checked as the kernel checks line_info: strictly
    /// increasing instruction indexes, each inside the program and on the first slot of an instruction.
    /// </summary>
    public IReadOnlyList<BpfLineInfo> LineInfo { get; init; } = [];

    /// <summary>
    /// The subprograms with global linkage (from an object's BTF func_info), verified on their own from their
    /// prototypes as the kernel does; every other subprogram is verified inline at each call, as a static one.
    /// </summary>
    public IReadOnlyList<GlobalFunction> GlobalFunctions { get; init; } = [];

    /// <summary>libbpf's poison for a CO-RE relocation it cannot resolve: a call of this helper ("invalid func unknown#195896080").</summary>
    public const int CorePoisonHelper = 0xbad2310;

    /// <summary>
    /// Calls of helper 0xbad2310 that stand for CO-RE relocations the loader could not resolve (libbpf's poisoning),
    /// by instruction, with what could not be resolved: the verifier names it if such a call is reachable.
    /// </summary>
    public IReadOnlyDictionary<int, string> CorePoisons { get; init; } = new Dictionary<int, string>();

    /// <summary>How the program is verified before it may run: the kernel's privileged rules unless asked otherwise.</summary>
    public VerificationLevel Verification { get; init; } = VerificationLevel.Privileged;

    /// <summary>Whether verification keeps a path log (<see cref="VerificationResult.Log"/>, or <see cref="VerifierException.Log"/> on refusal).</summary>
    public bool VerboseLog { get; init; }
}
