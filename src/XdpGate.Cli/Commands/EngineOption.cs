using System.CommandLine;

namespace XdpGate.Cli.Commands;

/// <summary>`--engine`: which execution engine runs the program. The interpreter is the reference and, for now, the only one.</summary>
internal static class EngineOption
{
    public static readonly string[] Engines = ["interp"];

    public static Option<string> Create()
    {
        var option = new Option<string>("--engine") { Description = "Execution engine: interp", DefaultValueFactory = _ => "interp" };
        option.AcceptOnlyFromAmong(Engines);
        return option;
    }

    public static void Require(string? engine)
    {
        if (engine is not null && !Engines.Contains(engine))
            throw new CliInputException($"--engine {engine}: not available; choose one of {string.Join(", ", Engines)}");
    }
}
