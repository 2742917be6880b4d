namespace XdpGate.Bpf.Execution;

/// <summary>Why a run was stopped. A faulting run ends with r0 = 0 (XDP_ABORTED) and never harms the host process.</summary>
public enum FaultReason
{
    None = 0,
    /// <summary>A load outside the packet, stack, context, map values and helper memory.</summary>
    InvalidRead,
    /// <summary>A store outside writable packet, stack, map values and helper memory.</summary>
    InvalidWrite,
    /// <summary>A context field read of the wrong size or offset, or a context write.</summary>
    InvalidContextAccess,
    /// <summary>An atomic operation on an address not aligned to its size.</summary>
    MisalignedAtomic,
    /// <summary>More than eight nested BPF-to-BPF call frames.</summary>
    CallStackOverflow,
    /// <summary>The run exceeded the VM's instruction budget (a loop the verifier would have refused).</summary>
    InstructionLimit,
    /// <summary>A helper was given something that is not a map of the kind it needs.</summary>
    InvalidMapArgument,
    /// <summary>A helper was given a pointer to memory it may not read or write.</summary>
    InvalidHelperMemory,
    /// <summary>A helper argument is outside what the helper accepts and the kernel's verifier would have refused.</summary>
    InvalidHelperArgument,
    /// <summary>An opcode the loader should have refused; a safety net, never expected.</summary>
    InvalidInstruction,
}

/// <summary>Where and why the last faulting run stopped.</summary>
public readonly record struct Fault(FaultReason Reason, int Pc, ulong Address, int Size, string ProgramName)
{
    public override string ToString() => Reason switch
    {
        FaultReason.None => "no fault",
        FaultReason.InvalidRead or FaultReason.InvalidWrite or FaultReason.MisalignedAtomic or FaultReason.InvalidContextAccess or FaultReason.InvalidHelperMemory =>
            $"{ProgramName}: insn {Pc}: {Describe(Reason)}: {Size} bytes at 0x{Address:x}",
        _ => $"{ProgramName}: insn {Pc}: {Describe(Reason)}",
    };

    private static string Describe(FaultReason reason) => reason switch
    {
        FaultReason.InvalidRead => "read outside accessible memory",
        FaultReason.InvalidWrite => "write outside writable memory",
        FaultReason.InvalidContextAccess => "invalid context access",
        FaultReason.MisalignedAtomic => "misaligned atomic operation",
        FaultReason.CallStackOverflow => $"call stack deeper than {Isa.Opcodes.MAX_CALL_FRAMES} frames",
        FaultReason.InstructionLimit => "instruction budget exhausted (unbounded loop?)",
        FaultReason.InvalidMapArgument => "helper given a value that is not a map of the right type",
        FaultReason.InvalidHelperMemory => "helper given memory it may not access",
        FaultReason.InvalidHelperArgument => "helper given an invalid argument",
        FaultReason.InvalidInstruction => "invalid instruction",
        _ => reason.ToString(),
    };
}
