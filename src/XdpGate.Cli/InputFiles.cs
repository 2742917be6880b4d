namespace XdpGate.Cli;

/// <summary>Files named on the command line: a missing one is an input error that names it, not an I/O exception.</summary>
internal static class InputFiles
{
    public static string Require(string path) =>
        File.Exists(path) ? path : throw new CliInputException($"{path}: no such file");

    public static byte[] ReadBytes(string path) => File.ReadAllBytes(Require(path));
}
