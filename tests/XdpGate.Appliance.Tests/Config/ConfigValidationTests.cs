using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Service;
using Xunit;

namespace XdpGate.Appliance.Tests.Config;

public class ConfigValidationTests
{
    private static readonly string BrokenDirectory = Path.Combine(AppContext.BaseDirectory, "data", "configs", "broken");
    private static readonly string ConfigsDirectory = Path.Combine(AppContext.BaseDirectory, "configs");

    public static TheoryData<string> BrokenConfigs() => [.. Directory.GetFiles(BrokenDirectory, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)!).Order()];

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public void A_broken_config_reports_exactly_its_expected_diagnostics(string name)
    {
        var path = Path.Combine(BrokenDirectory, name + ".yaml");
        var header = File.ReadLines(path).TakeWhile(l => l.StartsWith("# ", StringComparison.Ordinal)).ToList();
        var expected = header.Where(l => l.StartsWith("# expect: ", StringComparison.Ordinal)).Select(l => l["# expect: ".Length..]).ToList();
        Assert.NotEmpty(expected);
        // What `xdpgate check` reports: missing interfaces are warnings unless the file asks for check --require-interfaces.
        var requireInterfaces = header.Contains("# check: --require-interfaces");

        var (program, diagnostics) = BuiltProgram.Read(path, requireInterfaces: requireInterfaces);
        using var built = program;

        Assert.Equal(expected, diagnostics.Sorted().Select(d => d.Format("")[1..]));
        Assert.Equal(expected.Any(e => e.Contains(": error: ", StringComparison.Ordinal)), program is null);
    }

    [Theory]
    [InlineData("demo.yaml")]
    [InlineData("reference.yaml")]
    [InlineData("custom-program.yaml")]
    public void An_example_config_is_valid_without_a_warning_and_builds(string name)
    {
        var (program, diagnostics) = BuiltProgram.Read(Path.Combine(ConfigsDirectory, name));
        using var built = program;

        Assert.Empty(diagnostics.Items.Select(d => d.Format(name)));
        Assert.NotEmpty(built!.Contents);
    }

    [Fact]
    public void The_inline_firewall_example_is_valid_where_its_interfaces_exist()
    {
        var interfaces = new Dictionary<string, uint> { ["xg-outside"] = 7, ["xg-inside"] = 8 };

        var result = ConfigReader.ReadFile(Path.Combine(ConfigsDirectory, "firewall.yaml"), n => interfaces.TryGetValue(n, out var i) ? i : null);

        Assert.Empty(result.Diagnostics.Items.Select(d => d.Format("firewall.yaml")));
        var config = result.Config!;
        Assert.Equal([7u, 8u], config.Ports.Select(p => p.Ifindex));
        Assert.Equal(["inside", "outside"], config.Ports.Select(p => p.Pass));
        var policy = Policy(config);
        Assert.Equal([7u], policy.Rules[0].Ingress);
        Assert.Equal(new TcpFlagMatch(0x12, 0x02), policy.Rules[4].TcpFlags);
        Assert.Equal(FirewallAction.Drop, policy.DefaultAction);
        Assert.Equal([new KeyRange(80, 80), new KeyRange(443, 443), new KeyRange(8080, 8089)], policy.Rules[1].DestinationPorts);
    }

    [Fact]
    public void An_empty_config_takes_every_default()
    {
        var result = ConfigReader.Read("{}", "empty.yaml");

        var config = result.Config!;
        Assert.Empty(config.Ports);
        Assert.Equal([0], config.Workers.Cpus);
        var policy = Policy(config);
        Assert.Empty(policy.Rules);
        Assert.Equal((FirewallAction.Pass, FirewallAction.Drop, FirewallAction.Pass),
            (policy.DefaultAction, policy.UnparseableAction, policy.NonIpAction));
        Assert.Equal(ControlConfig.DefaultSocket, config.Control.Socket);
        Assert.Equal(LoggingConfig.Default, config.Logging);
    }

    [Fact]
    public void Sets_expand_into_the_rules_that_name_them_with_both_address_families()
    {
        var result = ConfigReader.Read("""
            firewall:
              sets:
                nets: [198.18.0.0/16, 2001:2::/48, 198.19.0.1]
                ports: [80, 8000-8999]
              rules:
                - action: drop
                  src: ["@nets", 198.19.1.0/24]
                  dport: "@ports"
            """, "sets.yaml");

        var rule = Policy(result.Config!).Rules.Single();
        Assert.Equal(["198.18.0.0/16", "2001:2::/48", "198.19.0.1/32", "198.19.1.0/24"], rule.Source!.Select(p => p.ToString()));
        Assert.Equal([new KeyRange(80, 80), new KeyRange(8000, 8999)], rule.DestinationPorts);
    }

    /// <summary>The firewall policy a config runs (a config without a program section runs the firewall).</summary>
    private static FirewallPolicy Policy(AppConfig config) => Assert.IsType<FirewallConfig>(config.Program.Builtin).Policy;
}
