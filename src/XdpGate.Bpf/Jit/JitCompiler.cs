using System.Runtime.CompilerServices;
using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// Translates a loaded program into IL in a DynamicMethod, which RyuJIT compiles to machine code: one method per
/// program, registers in IL locals, one label per instruction, helpers called directly. A memory access the
/// verifier proved in bounds on every path (<see cref="Verifier.VerificationResult"/>) is emitted without a check;
/// every other access is checked exactly as the interpreter checks it, by the same <see cref="Execution.BpfRuntime"/>.
/// </summary>
/// <remarks>
/// BPF-to-BPF calls stay inside the method: a call pushes the runtime's call frame (vm.CallFrames) and branches;
/// an exit pops it and dispatches on the return pc. So r0-r5 flow through calls, r6-r9 are restored and faults
/// report the same pc as in the interpreter. Tail calls and exits into another program's frame return to the
/// driver (<see cref="JitRuntime"/>), which continues in the other program's compiled code.
/// </remarks>
public static class JitCompiler
{
    // The JIT's code, per program, for as long as the program lives: the table holds neither alive.
    private static readonly ConditionalWeakTable<BpfProgram, JitProgram> Compiled = new();

    /// <summary>Compiles <paramref name="program"/> once; later calls give the same code.</summary>
    public static JitProgram Compile(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Compiled.GetValue(program, static p => new JitProgram(p));
    }
}
