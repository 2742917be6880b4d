using XdpGate.Appliance.Tests.Dataplane;
using Xunit;

namespace XdpGate.Appliance.Tests.Service;

/// <summary>
/// Reloading an object program: maps it declares alike are kept with their contents, the ones its maps file fills
/// are made anew from the file, and a kept map outlives the program that made it.
/// </summary>
public sealed class ObjectReloadTests
{
    private static readonly string Program = $"""
        program:
          object: {Programs.DataFile("programs", "xdp_router_nat.o")}
          maps: {Programs.DataFile("programs", "xdp_router_nat.maps.json")}
        """;

    private const ulong Marked = 1UL << 40;

    [Fact]
    public void A_reload_keeps_the_state_maps_and_rebuilds_the_maps_the_config_fills()
    {
        using var harness = new ApplianceHarness(Program);
        harness.Appliance.Start();
        var before = harness.Appliance.Maps;
        var key = new byte[4];
        // Far above what the traffic counts meanwhile, so only the kept map can hold it.
        var counts = new byte[before["rt_stats"].PossibleCpus * 8];
        BitConverter.TryWriteBytes(counts, Marked);
        Assert.Equal(0, before["rt_stats"].Update(key, counts));
        Assert.Equal(0, before["dnat"].Delete(Convert.FromHexString("c612320100500600")));

        Assert.Null(harness.Appliance.Reload());

        var after = harness.Appliance.Maps;
        Assert.Same(before["rt_stats"], after["rt_stats"]);
        var read = new byte[counts.Length];
        Assert.Equal(0, after["rt_stats"].Lookup(key, read));
        Assert.True(BitConverter.ToUInt64(read) >= Marked);
        Assert.NotSame(before["dnat"], after["dnat"]);
        Assert.Equal(3, after["dnat"].Dump().Count());
        Assert.NotSame(before["next_hop"], after["next_hop"]);
        Assert.Contains(harness.Log, line => line.Contains("rt_stats kept from the previous program", StringComparison.Ordinal));
    }

    [Fact]
    public void A_kept_map_stays_usable_after_the_program_that_made_it_is_retired()
    {
        using var harness = new ApplianceHarness(Program);
        harness.Appliance.Start();
        var first = harness.Appliance.Maps["rt_stats"];
        Assert.Null(harness.Appliance.Reload());
        // The second reload retires the second program too: the map has had three owners and keeps one.
        Assert.Null(harness.Appliance.Reload());

        var kept = harness.Appliance.Maps["rt_stats"];
        Assert.Same(first, kept);
        Assert.DoesNotContain(harness.Log, line => line.Contains("did not leave", StringComparison.Ordinal));
        var values = new byte[kept.PossibleCpus * 8];
        BitConverter.TryWriteBytes(values, Marked);
        Assert.Equal(0, kept.Update(new byte[4], values));
        Assert.Equal(0, kept.Lookup(new byte[4], values));
        Assert.True(BitConverter.ToUInt64(values) >= Marked);
    }
}
