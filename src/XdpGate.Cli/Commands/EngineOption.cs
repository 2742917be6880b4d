using System.CommandLine;
using XdpGate.Bpf.Execution;

namespace XdpGate.Cli.Commands;

/// <summary>`--engine interp|jit`: which execution engine runs the program. The interpreter is the reference and the default until the verifier lands.</summary>
internal static class EngineOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--engine") { Description = "Execution engine: interp (reference) or jit", DefaultValueFactory = _ => "interp" };
        option.AcceptOnlyFromAmong([.. ExecutionEngines.Names]);
        return option;
    }

    public static ExecutionEngine Parse(string? name) => ExecutionEngines.Parse(name ?? "interp");

    public static string Name(ExecutionEngine engine) => engine == ExecutionEngine.Jit ? "jit" : "interp";
}
