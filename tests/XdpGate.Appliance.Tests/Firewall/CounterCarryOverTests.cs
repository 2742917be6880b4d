using Xunit;
using XdpGate.Appliance.Firewall;

namespace XdpGate.Appliance.Tests.Firewall;

/// <summary>Which rules of a reloaded firewall keep the counters of the rules before (the identity reloads compare).</summary>
public class CounterCarryOverTests
{
    private static FirewallRule Ssh() => new(FirewallAction.Drop, DestinationPorts: [new KeyRange(22, 22)], Name: "ssh");

    [Fact]
    public void A_rule_written_again_with_the_same_name_action_and_match_is_the_same_rule() =>
        Assert.Equal(CounterCarryOver.Identity(Ssh()), CounterCarryOver.Identity(Ssh()));

    [Theory]
    [InlineData("name")]
    [InlineData("action")]
    [InlineData("match")]
    public void A_rule_whose_name_action_or_match_changed_is_another_and_starts_at_zero(string change)
    {
        var changed = change switch
        {
            "name" => Ssh() with { Name = "ssh-admin" },
            "action" => Ssh() with { Action = FirewallAction.Count },
            _ => Ssh() with { DestinationPorts = [new KeyRange(22, 23)] },
        };
        Assert.NotEqual(CounterCarryOver.Identity(Ssh()), CounterCarryOver.Identity(changed));
    }
}
