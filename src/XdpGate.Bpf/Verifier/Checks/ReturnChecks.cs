namespace XdpGate.Bpf.Verifier.Checks;

/// <summary>
/// The kernel's rules at an exit (prepare_func_exit, check_return_code, check_reference_leak): what r0 may hold back in
/// a caller, at the end of a bpf_loop callback run, and at the end of the program or of a global function proven on
/// its own; and no reference may be left.
/// </summary>
internal static class ReturnChecks
{
    /// <param name="root">Whether the exit ends a global function proven on its own, whose callers take r0 as an unknown scalar.</param>
    public static void Exit(in CheckSite at, in Reg r0, bool root)
    {
        var frames = at.State.Frames.Count;
        if (frames > 1)
        {
            // bpf_loop's callback says 0 to go on and 1 to stop; the kernel relies on r0's value here.
            if (at.State.Current.IsCallback)
            {
                if (r0.Kind != RegKind.Scalar || r0.Var.UMax > 1)
                    throw at.Refuse(VerifierRule.InvalidReturnValue, $"At callback return the register R0 has {r0} should have been in [0, 1]", 0);
            }
            else if (r0.Kind == RegKind.Stack && r0.Frame == frames - 1)
            {
                throw at.Refuse(VerifierRule.InvalidStackAccess, "cannot return stack pointer to the caller", 0);
            }
            return;
        }
        if (root && r0.Kind != RegKind.Scalar)
            throw at.Refuse(VerifierRule.InvalidReturnValue, $"At subprogram exit the register R0 is not a scalar value ({Reg.KindName(r0.Kind)})", 0);
        if (r0.IsPointer && at.Strict)
            throw at.Refuse(VerifierRule.PointerLeak, "R0 leaks addr as return value", 0);
        if (at.State.References.Count > 0)
            throw at.Refuse(VerifierRule.UnreleasedReference, $"Unreleased reference id={at.State.References[0]}");
    }
}
