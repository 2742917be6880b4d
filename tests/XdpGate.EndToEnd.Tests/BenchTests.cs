using XdpGate.Appliance.Bench;
using XdpGate.Testing.Net;
using Xunit;

namespace XdpGate.EndToEnd.Tests;

/// <summary>`xdpgate bench` on veth, briefly: both sides measured, and the namespaces it built gone afterwards.</summary>
public sealed class BenchTests
{
    [SkippableFact]
    public void The_veth_bench_measures_the_kernel_and_the_appliance_and_cleans_up()
    {
        var why = ApplianceFixture.WhyUnavailable() ?? BenchTopology.WhyUnavailable();
        Skip.If(why is not null, why);
        var log = new List<string>();
        var options = new VethBenchOptions { Modes = [BenchMode.Drop], Drivers = ["afxdp"], Duration = TimeSpan.FromSeconds(1.5) };

        var rows = VethBench.Run(options, log.Add).ToList();

        Assert.Equal(["kernel", "xdpgate afxdp"], rows.Select(r => r.Dut));
        Assert.All(rows, row => Assert.True(row.Mpps > 0 && row.GeneratorMpps > 0, $"{row.Dut}: {row.Mpps} Mpps, generator {row.GeneratorMpps}"));
        var topology = Assert.Single(log).Split(' ')[1].Split('/')[0];
        Assert.DoesNotContain(topology, VethPair.Ip("netns list"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_veth_bench_measures_the_C_reference_loops_after_the_appliance_and_cleans_up()
    {
        var why = ApplianceFixture.WhyUnavailable() ?? BenchTopology.WhyUnavailable() ?? ReferenceBuild.WhyUnavailable;
        Skip.If(why is not null, why);
        var log = new List<string>();
        var options = new VethBenchOptions { Modes = [BenchMode.Drop], Drivers = [], Duration = TimeSpan.FromSeconds(1.5), References = ReferenceBuild.Directory };

        var rows = VethBench.Run(options, log.Add).ToList();

        Assert.Equal(["kernel", "C afxdp", "C tpacket_v3"], rows.Select(r => r.Dut));
        Assert.All(rows, row => Assert.True(row.Mpps > 0 && row.GeneratorMpps > 0, $"{row.Dut}: {row.Mpps} Mpps, generator {row.GeneratorMpps}"));
        Assert.Contains(log, line => line.StartsWith("xsk_loop ", StringComparison.Ordinal) && line.Contains(" drop: ", StringComparison.Ordinal));
        Assert.Contains(log, line => line.StartsWith("tpacket_loop ", StringComparison.Ordinal) && line.Contains(" drop: ", StringComparison.Ordinal));
        var topology = log[0].Split(' ')[1].Split('/')[0];
        Assert.DoesNotContain(topology, VethPair.Ip("netns list"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_directory_that_does_not_exist_is_refused_by_name()
    {
        var options = new VethBenchOptions { References = "/nonexistent/xdpgate-references" };

        var error = Assert.Throws<ArgumentException>(() => VethBench.Run(options, _ => { }).ToList());

        Assert.Contains("'/nonexistent/xdpgate-references' does not exist", error.Message, StringComparison.Ordinal);
    }
}
