using System.Diagnostics;

namespace XdpGate.Linux.Netns;

/// <summary>
/// The few system commands that build and tear down namespaces and veth pairs (ip, taskset): they do it the way an
/// operator would, and are bounded in time so a wedged command never hangs a benchmark or a test.
/// </summary>
public static class Commands
{
    private const int TimeoutMs = 10_000;

    /// <summary>Runs <c>ip ARGUMENTS</c> and returns its standard output; throws naming the command on failure.</summary>
    public static string Ip(string arguments) => Run("ip", arguments);

    /// <summary>Runs <paramref name="command"/> inside network namespace <paramref name="ns"/>.</summary>
    public static string Exec(string ns, string command) => Run("ip", $"netns exec {ns} {command}");

    /// <summary>Deletes network namespace <paramref name="ns"/> (and with it the links inside); one already gone is not an error.</summary>
    public static void DeleteNamespace(string ns)
    {
        try
        {
            Ip($"netns delete {ns}");
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing left to clean.
        }
    }

    /// <summary>Runs <paramref name="program"/> and returns its standard output; throws naming the command when it fails or takes over 10 s.</summary>
    public static string Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeoutMs))
        {
            process.Kill();
            throw new InvalidOperationException($"{program} {arguments}: no answer in {TimeoutMs / 1000} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {arguments}: exit {process.ExitCode}: {stderr.Trim()}");
        return stdout.Result;
    }
}
