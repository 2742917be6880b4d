using System.CommandLine;
using XdpGate.Bpf.Execution;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `--engine interp|jit`: which execution engine runs the program. The JIT is the default for programs the verifier
/// checked (its proofs let it drop run-time checks); the interpreter stays the reference.
/// </summary>
internal static class EngineOption
{
    public const string Default = "jit";

    /// <param name="defaultName">The engine when none is given: `vm run` runs unverified bytecode and defaults to the reference.</param>
    public static Option<string> Create(string defaultName = Default)
    {
        var option = new Option<string>("--engine") { Description = $"Execution engine: interp (reference) or jit (default {defaultName})", DefaultValueFactory = _ => defaultName };
        option.AcceptOnlyFromAmong([.. ExecutionEngines.Names]);
        return option;
    }

    public static ExecutionEngine Parse(string? name) => ExecutionEngines.Parse(name ?? Default);

    public static string Name(ExecutionEngine engine) => engine == ExecutionEngine.Jit ? "jit" : "interp";
}
