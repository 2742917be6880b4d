namespace XdpGate.Bpf.Verifier;

/// <summary>How strictly a program is verified before it may run.</summary>
public enum VerificationLevel
{
    /// <summary>The kernel's rules for a privileged loader (root with CAP_BPF and CAP_PERFMON): what root can load into the kernel loads here.</summary>
    Privileged,
    /// <summary>Privileged plus the kernel's rules for unprivileged loaders: no pointer leaks (into maps, r0, helpers), no uninitialized stack reads, no pointer comparisons that could leak.</summary>
    Strict,
    /// <summary>
    /// No verification. Only for BPF_PROG_TYPE_UNSPEC programs run over raw memory (`vm run`, ISA conformance cases):
    /// their r1 is a plain buffer and r2 its length, a convention no kernel program type has, so there are no kernel
    /// rules to check them against; the engines' run-time checks still keep them from touching other memory. One rule
    /// needs no program type and still applies: no read of a register some path left unwritten (<see cref="WrittenRegisters"/>).
    /// </summary>
    None,
}
