namespace XdpGate.Cli.Tests;

/// <summary>Runs `xdpgate` in process with captured streams.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Error) Run(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = CommandTable.Run(args, new CliIo(new StringReader(stdin), output, error));
        return (exit, output.ToString(), error.ToString());
    }
}
