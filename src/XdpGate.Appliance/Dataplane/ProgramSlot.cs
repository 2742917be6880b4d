using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Dataplane;

/// <summary>
/// What workers run, as one immutable object: the program (bound to its maps and program arrays) and its JIT code
/// when the engine is the JIT. A reload builds a whole new plan, then publishes it in one reference write, so a
/// batch runs entirely on the old plan or entirely on the new one.
/// </summary>
public sealed class ProgramPlan
{
    /// <param name="workers">The JIT compiles one code per worker (its VM's processor id, the worker's index), all of them here.</param>
    public ProgramPlan(BpfProgram program, ExecutionEngine engine, long version, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        // Compiled here, on the publisher's thread, so no worker pays for it at a batch boundary.
        engine.Prepare(program);
        Program = program;
        Jitted = engine == ExecutionEngine.Jit ? JitCompiler.Compile(program) : null;
        for (var worker = 0; worker < workers && Jitted is not null; worker++)
            Jitted.Prepare(worker);
        Version = version;
    }

    public BpfProgram Program { get; }

    /// <summary>The JIT's code for <see cref="Program"/>, or null to interpret it.</summary>
    public JitProgram? Jitted { get; }

    /// <summary>Increases with every publication; workers report the version they last read (<see cref="Worker.PlanVersion"/>).</summary>
    public long Version { get; }

    /// <summary>The program made ready for <paramref name="vm"/>: a worker's entry point, resolved once per publication.</summary>
    public ProgramEntry Bind(BpfVm vm) => Jitted?.Bind(vm) ?? ExecutionEngine.Interpreter.Bind(Program, vm);
}

/// <summary>
/// The published plan every worker reads once per batch (a volatile read, no lock). <see cref="Publish"/> swaps it;
/// <see cref="WorkerPool.WaitForPlan"/> tells when no worker can still be running the previous one, so its maps may be freed.
/// </summary>
public sealed class ProgramSlot(ProgramPlan initial)
{
    private ProgramPlan current = initial ?? throw new ArgumentNullException(nameof(initial));

    public ProgramPlan Current => Volatile.Read(ref current);

    public void Publish(ProgramPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Version <= Current.Version)
            throw new ArgumentException($"plan version {plan.Version} does not follow the published {Current.Version}", nameof(plan));
        Volatile.Write(ref current, plan);
    }
}
