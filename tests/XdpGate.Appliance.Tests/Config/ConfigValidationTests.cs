using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Appliance.Config;
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

        var result = ConfigReader.ReadFile(path, requireInterfaces: requireInterfaces);

        Assert.Equal(expected, result.Diagnostics.Sorted().Select(d => d.Format("")[1..]));
        Assert.Equal(expected.Any(e => e.Contains(": error: ", StringComparison.Ordinal)), result.Config is null);
    }

    [Theory]
    [InlineData("demo.yaml")]
    [InlineData("reference.yaml")]
    [InlineData("custom-program.yaml")]
    public void An_example_config_is_valid_without_a_warning_and_compiles(string name)
    {
        var result = ConfigReader.ReadFile(Path.Combine(ConfigsDirectory, name));

        Assert.Empty(result.Diagnostics.Items.Select(d => d.Format(name)));
        var plan = ConfigPlan.Build(result.Config!);
        Assert.NotEmpty(plan.Maps);
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
        Assert.Equal([7u], config.Firewall.Rules[0].Ingress);
        Assert.Equal(new TcpFlagMatch(0x12, 0x02), config.Firewall.Rules[4].TcpFlags);
        Assert.Equal(FirewallAction.Drop, config.Firewall.DefaultAction);
        Assert.Equal([new KeyRange(80, 80), new KeyRange(443, 443), new KeyRange(8080, 8089)], config.Firewall.Rules[1].DestinationPorts);
    }

    [Fact]
    public void An_empty_config_takes_every_default()
    {
        var result = ConfigReader.Read("{}", "empty.yaml");

        var config = result.Config!;
        Assert.Empty(config.Ports);
        Assert.Equal([0], config.Workers.Cpus);
        Assert.True(config.Program.IsBuiltinFirewall);
        Assert.Empty(config.Firewall.Rules);
        Assert.Equal((FirewallAction.Pass, FirewallAction.Drop, FirewallAction.Pass),
            (config.Firewall.DefaultAction, config.Firewall.UnparseableAction, config.Firewall.NonIpAction));
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

        var rule = result.Config!.Firewall.Rules.Single();
        Assert.Equal(["198.18.0.0/16", "2001:2::/48", "198.19.0.1/32", "198.19.1.0/24"], rule.Source!.Select(p => p.ToString()));
        Assert.Equal([new KeyRange(80, 80), new KeyRange(8000, 8999)], rule.DestinationPorts);
    }
}
