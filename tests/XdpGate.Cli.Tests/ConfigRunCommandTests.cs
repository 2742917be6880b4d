using System.Diagnostics;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// `xdpgate run` (a config file, the demo, or flags) as a user runs it: a separate process (signals are process-wide), stopped by
/// SIGTERM or its duration, reloaded by SIGHUP and by a change of its file, queried over its control socket.
/// </summary>
public sealed class ConfigRunCommandTests : IDisposable
{
    private static readonly string Xdpgate = Path.Combine(AppContext.BaseDirectory, "xdpgate.dll");
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-configrun-");

    public void Dispose() => temp.Delete(recursive: true);

    /// <summary>Starts `dotnet xdpgate.dll ARGS` (as nobody through setpriv when <paramref name="asNobody"/>), in <paramref name="directory"/>.</summary>
    private static Process Start(string directory, bool asNobody, params string[] args)
    {
        var start = new ProcessStartInfo { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        if (asNobody)
        {
            start.FileName = "setpriv";
            foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" })
                start.ArgumentList.Add(arg);
            start.Environment["HOME"] = "/tmp";
        }
        else
        {
            start.FileName = "dotnet";
        }
        start.ArgumentList.Add(Xdpgate);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    /// <summary>Waits (at most 20 s) until the process's stderr has a line containing <paramref name="text"/>; returns what it read so far.</summary>
    private static void WaitFor(Process process, List<string> lines, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            lock (lines)
            {
                if (lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
                    return;
            }
            Assert.False(process.HasExited, $"xdpgate exited before logging '{text}': {string.Join("\n", lines)}");
            Thread.Sleep(20);
        }
        lock (lines)
            Assert.Fail($"no '{text}' within 20 s in: {string.Join("\n", lines)}");
    }

    [SkippableFact]
    public void The_embedded_demo_runs_from_any_directory_without_root_or_a_NIC()
    {
        var asNobody = Environment.UserName == "root";
        Skip.If(asNobody && !File.Exists("/usr/bin/setpriv"), "setpriv is needed to drop root for this test");
        // As nobody, the test's own (0700) directories are out of reach: the demo must need nothing from them.
        Skip.If(asNobody && !CanNobodyRead(Xdpgate), $"nobody cannot read {Xdpgate}");
        using var process = Start("/", asNobody, "run", "--demo", "--duration", "2", "--stats", "--no-control");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "the demo did not stop after its duration");

        Assert.True(process.ExitCode == 0, error);
        Assert.Contains("info: config built-in demo: built-in firewall: rules 5, default pass, unparseable drop, non_ip pass, 1 worker(s), jit", error, StringComparison.Ordinal);
        Assert.Contains("Summary: 7 frames", output, StringComparison.Ordinal);
        Assert.Contains("rule 1 ssh-admin pass [src 198.18.0.0/24,2001:2:0:1::/64 protocol 6 dport 22]: 1 packets, 54 bytes", output, StringComparison.Ordinal);
        Assert.Contains("info: stopped; ports closed", error, StringComparison.Ordinal);
    }

    private static bool CanNobodyRead(string path)
    {
        using var probe = Process.Start("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "test", "-r", path]);
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }

    [Fact]
    public void SIGHUP_and_a_change_of_the_file_reload_it_the_control_socket_answers_and_SIGTERM_stops_it_cleanly()
    {
        var config = Path.Combine(temp.FullName, "appliance.yaml");
        var socket = Path.Combine(temp.FullName, "control.sock");
        var rules = """
            ports:
              - name: gen
                driver: synthetic
            firewall:
              rules:
                - name: first
                  action: drop
                  protocol: udp
            """;
        File.WriteAllText(config, rules);
        using var process = Start(temp.FullName, false, "run", "--config", config, "--control", socket, "--rate", "1000");
        var lines = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginErrorReadLine();
        try
        {
            WaitFor(process, lines, "info: running; Ctrl+C or SIGTERM stops, SIGHUP reloads");
            Process.Start("kill", ["-HUP", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
            WaitFor(process, lines, "now version 2");
            Assert.Contains(lines, l => l.Contains("reloading " + config + " (SIGHUP)", StringComparison.Ordinal));

            File.WriteAllText(config, rules.Replace("name: first", "name: second", StringComparison.Ordinal));
            WaitFor(process, lines, "now version 3");
            Assert.Contains(lines, l => l.Contains("(the file changed)", StringComparison.Ordinal));
            var (exit, output, error) = CliRunner.Run("", "rules", "-j", "--control", socket);
            Assert.True(exit == 0, error);
            Assert.Contains("\"name\":\"second\",\"action\":\"drop\",\"match\":\"protocol 17\"", output, StringComparison.Ordinal);

            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
            Assert.True(process.WaitForExit(20_000), "SIGTERM did not stop it");
            // Only the wait without a timeout waits for the asynchronous reader to deliver stderr's last lines.
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            Assert.Contains(lines, l => l.Contains("info: stopped; ports closed", StringComparison.Ordinal));
            Assert.False(File.Exists(socket), "the control socket was left behind");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    /// <summary>A run from flags is the same appliance: it serves a control socket when given one, and has no file to reload.</summary>
    [Fact]
    public void A_run_from_flags_serves_the_control_socket_it_is_given_and_refuses_to_reload_having_no_file()
    {
        var socket = Path.Combine(temp.FullName, "control.sock");
        var guard = Path.Combine(AppContext.BaseDirectory, "configs", "programs", "xdp_ttl_guard.o");
        using var process = Start(temp.FullName, false, "run", "-d", "synthetic", "-i", "gen", "--prog", guard, "--rate", "1000", "--control", socket);
        var lines = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginErrorReadLine();
        try
        {
            WaitFor(process, lines, "info: running; Ctrl+C or SIGTERM stops, as does the end of every port's traffic");
            var (exit, status, error) = CliRunner.Run("", "status", "--control", socket);
            Assert.True(exit == 0, error);
            Assert.Contains("config the command line\nprog xdp_ttl_guard\nports gen\n", status.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Contains("verdicts: percpu_array", CliRunner.Run("", "map", "list", "--control", socket).Out, StringComparison.Ordinal);

            (exit, _, error) = CliRunner.Run("", "reload", "--control", socket);
            Assert.Equal(1, exit);
            Assert.Contains("reload failed, the running config keeps serving: this appliance runs a config made from command-line flags; there is no file to reload", error, StringComparison.Ordinal);
            (exit, _, error) = CliRunner.Run("", "rules", "--control", socket);
            Assert.Equal(1, exit);
            Assert.Contains("'rules' is the built-in firewall's; the running program is not the firewall", error, StringComparison.Ordinal);

            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
            Assert.True(process.WaitForExit(20_000), "SIGTERM did not stop it");
            Assert.Equal(0, process.ExitCode);
            Assert.False(File.Exists(socket), "the control socket was left behind");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    [Theory]
    [InlineData("--iface", "eth0", "--iface is for runs without a config")]
    [InlineData("--demo", null, "--config and --demo exclude each other")]
    public void A_config_run_refuses_options_that_the_config_decides(string option, string? value, string expected)
    {
        string[] args = value is null ? ["run", "--config", "x.yaml", option] : ["run", "--config", "x.yaml", option, value];
        File.WriteAllText(Path.Combine(temp.FullName, "x.yaml"), "ports: []");
        var cwd = Environment.CurrentDirectory;
        var (exit, _, error) = CliRunner.Run("", [.. args.Select(a => a == "x.yaml" ? Path.Combine(temp.FullName, a) : a)]);
        Assert.Equal(1, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(cwd, Environment.CurrentDirectory);
    }

    /// <summary>check only warns of an interface missing here (the config may be for another machine); run cannot start without it.</summary>
    [Fact]
    public void A_config_run_refuses_an_interface_missing_here_at_its_line()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken", "unknown_interface.yaml");

        var (exit, output, error) = CliRunner.Run("", "run", "--config", path, "--no-control", "--duration", "1");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains($"{path}:5:16: error: port 'wan': no interface named 'xg-no-such-if' (see /sys/class/net)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_neither_a_config_nor_ports_says_what_it_needs()
    {
        var (exit, _, error) = CliRunner.Run("", "run");
        Assert.Equal(1, exit);
        Assert.Contains("run needs --config FILE (or --demo for the built-in demo), or --iface IF and --prog OBJ", error, StringComparison.Ordinal);
    }
}
