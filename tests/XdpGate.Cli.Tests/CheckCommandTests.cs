using Xunit;

namespace XdpGate.Cli.Tests;

public sealed class CheckCommandTests
{
    private static string Config(string name) => Path.Combine(AppContext.BaseDirectory, "configs", name);

    [Fact]
    public void Check_prints_the_plan_of_a_valid_config_and_exits_0()
    {
        var (exit, output, error) = CliRunner.Run("", "check", "--config", Config("demo.yaml"));

        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("demo.yaml: valid", output, StringComparison.Ordinal);
        Assert.Contains("prog xdp_firewall  from built-in firewall  rules 5  default pass  unparseable drop  non_ip pass", output, StringComparison.Ordinal);
        Assert.Contains("map fw_src4  type lpm_trie  max_entries 262144  entries 4", output, StringComparison.Ordinal);
        Assert.Contains("map fw_actions  type array  max_entries 65536  entries 5", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_reports_every_problem_at_its_line_and_exits_1()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken", "several_errors_are_all_reported.yaml");

        var (exit, output, error) = CliRunner.Run("", "check", "--config", path);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal(
        [
            $"{path}:4:10: error: 'workers' must be an integer 1..1024",
            $"{path}:8:12: error: '10.0.0.0/40': the prefix length must be 0..32 for IPv4",
            $"{path}:9:14: error: '99999': a port must be 0..65535",
            $"{path}: invalid (3 error(s))",
        ], error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Check_of_a_config_with_only_warnings_prints_them_and_exits_0()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken", "shadowed_rule.yaml");

        var (exit, output, error) = CliRunner.Run("", "check", "--config", path);

        Assert.Equal(0, exit);
        Assert.Contains("rules 2", output, StringComparison.Ordinal);
        Assert.Contains(":8:7: warning: rule 2 ('ssh-lab') can never match", error, StringComparison.Ordinal);
    }

    public static TheoryData<string> ShippedConfigs() =>
        [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs"), "*.yaml").Select(f => Path.GetFileName(f)).Order()];

    /// <summary>A config names the interfaces of the machine it is for; checking it anywhere else still passes.</summary>
    [Theory]
    [MemberData(nameof(ShippedConfigs))]
    public void Every_shipped_config_passes_check_on_any_machine(string name)
    {
        var (exit, output, error) = CliRunner.Run("", "check", "--config", Config(name));

        Assert.True(exit == 0, error);
        Assert.DoesNotContain(": error: ", error, StringComparison.Ordinal);
        Assert.Contains($"{name}: valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_warns_of_interfaces_missing_here_and_exits_0()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken", "unknown_interface.yaml");

        var (exit, output, error) = CliRunner.Run("", "check", "--config", path);

        Assert.Equal(0, exit);
        Assert.Equal($"{path}:5:16: warning: port 'wan': no interface named 'xg-no-such-if' here (see /sys/class/net); running this config needs it\n",
            error.ReplaceLineEndings("\n"));
        Assert.Contains("port wan  driver afxdp  xg-no-such-if  ifindex ? (not on this machine)  queues 1  pass host", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_with_require_interfaces_makes_a_missing_interface_an_error_as_run_does()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken", "unknown_interface.yaml");

        var (exit, output, error) = CliRunner.Run("", "check", "--config", path, "--require-interfaces");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal(
        [
            $"{path}:5:16: error: port 'wan': no interface named 'xg-no-such-if' (see /sys/class/net)",
            $"{path}: invalid (1 error(s))",
        ], error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Check_of_a_missing_file_is_an_error()
    {
        var (exit, _, error) = CliRunner.Run("", "check", "--config", "/nonexistent/xdpgate.yaml");

        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/xdpgate.yaml: no such file", error, StringComparison.Ordinal);
    }
}
