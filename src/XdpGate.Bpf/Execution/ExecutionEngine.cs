using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Execution;

/// <summary>What executes a program: the reference interpreter, or the JIT (IL compiled by RyuJIT).</summary>
public enum ExecutionEngine
{
    Interpreter,
    Jit,
}

/// <summary>One entry point for either engine, so callers (CLI, replay, tests) do not branch on it themselves.</summary>
public static class ExecutionEngines
{
    /// <summary>The names commands accept, as in `--engine interp|jit`.</summary>
    public static IReadOnlyList<string> Names { get; } = ["interp", "jit"];

    public static ExecutionEngine Parse(string name) => name switch
    {
        "interp" => ExecutionEngine.Interpreter,
        "jit" => ExecutionEngine.Jit,
        _ => throw new ArgumentException($"unknown engine '{name}'; choose one of {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>Does the one-time work before the first run (JIT compilation, or compiling the interpreter's paths), so no run pays for it.</summary>
    public static void Prepare(this ExecutionEngine engine, BpfProgram program)
    {
        // Both engines share the run setup, helpers and map code that Warmup compiles.
        Warmup.Prepare(program);
        if (engine == ExecutionEngine.Jit)
            JitCompiler.Compile(program);
    }

    /// <summary>Makes <paramref name="program"/> ready to run on <paramref name="vm"/> with this engine (the JIT compiles it on first use).</summary>
    public static ProgramEntry Bind(this ExecutionEngine engine, BpfProgram program, BpfVm vm)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(vm);
        return engine == ExecutionEngine.Jit ? JitCompiler.Compile(program).Bind(vm) : new ProgramEntry(vm, program, null);
    }

    public static ulong Run(this ExecutionEngine engine, BpfVm vm, BpfProgram program, Span<byte> memory) =>
        engine.Bind(program, vm).Run(memory);

    public static xdp_action RunXdp(this ExecutionEngine engine, BpfVm vm, BpfProgram program, ref XdpContext context) =>
        engine.Bind(program, vm).RunXdp(ref context);
}
