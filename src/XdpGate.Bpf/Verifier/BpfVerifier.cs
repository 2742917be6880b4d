using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// Proves a program safe before it runs, with the Linux kernel's verifier rules for its program type (XDP,
/// socket filter). <see cref="BpfProgram.Load(ReadOnlySpan{Isa.bpf_insn}, ProgramOptions?)"/> calls it; a refusal is a
/// <see cref="VerifierException"/> naming the rule, the instruction, its C source line and the registers involved.
/// </summary>
public static class BpfVerifier
{
    /// <summary>Verifies <paramref name="program"/> at <paramref name="level"/>; throws <see cref="VerifierException"/> when it is refused.</summary>
    public static VerificationResult Verify(BpfProgram program, VerificationLevel level, bool verbose = false)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (level == VerificationLevel.None)
            return VerificationResult.NotVerified;
        if (program.Type is not (bpf_prog_type.BPF_PROG_TYPE_XDP or bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER))
            throw new BpfLoadException($"program '{program.Name}' is {program.Type}: the verifier knows the rules of XDP and socket filter programs only; raw-memory programs (BPF_PROG_TYPE_UNSPEC) load with verification None");
        if (verbose)
            return Exploration.Verify(program, level, verbose);
        var key = VerificationCache.Key(program, level);
        if (VerificationCache.Find(key) is { } known)
            return known;
        var result = Exploration.Verify(program, level, verbose);
        VerificationCache.Add(key, result);
        return result;
    }
}
