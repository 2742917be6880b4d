using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>The kernel's check_reg_arg: a register is read only after something wrote it, and r10 is never written.</summary>
internal static class RegisterChecks
{
    public static void Readable(in CheckSite at, int r)
    {
        if (at.Regs[r].Kind == RegKind.NotInit)
            throw at.Refuse(VerifierRule.UninitializedRegister, $"R{r} !read_ok", -1);
    }

    public static void Writable(in CheckSite at, int r)
    {
        if (r == BPF_REG_FP)
            throw at.Refuse(VerifierRule.FramePointerWrite, "frame pointer is read only");
    }
}
