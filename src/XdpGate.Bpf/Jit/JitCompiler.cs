using System.Reflection;
using System.Reflection.Emit;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// Translates a loaded program into IL in a DynamicMethod, which RyuJIT compiles to machine code: one method per
/// program, registers in IL locals, one label per instruction, helpers called directly. A memory access the
/// verifier proved in bounds on every path (<see cref="Verifier.VerificationResult"/>) is emitted without a check;
/// every other access is checked exactly as the interpreter checks it.
/// </summary>
/// <remarks>
/// BPF-to-BPF calls stay inside the method: a call pushes the interpreter's own call frame (vm.CallFrames) and
/// branches; an exit pops it and dispatches on the return pc. So r0-r5 flow through calls, r6-r9 are restored and
/// faults report the same pc as in the interpreter. Tail calls and exits into another program's frame return to
/// the driver (<see cref="JitRuntime"/>), which continues in the other program's compiled code.
/// </remarks>
public static partial class JitCompiler
{
    /// <summary>Compiles <paramref name="program"/> (once; the code is cached on the program).</summary>
    public static JitProgram Compile(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return CodeFor(program);
    }

    internal static JitProgram CodeFor(BpfProgram program)
    {
        if (program.Jitted is { } compiled)
            return compiled;
        // CPU 0's code is compiled here, so code the runtime refuses is a compile-time error; other CPUs' on first use.
        var code = new Emitter(program, 0).Compile();
        var fresh = new JitProgram(program, code.Body, code.Entries, code.CheckedAccesses);
        return Interlocked.CompareExchange(ref program.Jitted, fresh, null) ?? fresh;
    }
}
