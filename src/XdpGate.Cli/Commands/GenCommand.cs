using System.CommandLine;
using System.Globalization;
using System.Net;
using XdpGate.Appliance.Ports.Synthetic;
using XdpGate.Appliance.Ports;
using XdpGate.Appliance.Ports.AfPacket;
using XdpGate.Appliance.Ports.AfXdp;
using XdpGate.Linux.Netlink;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `xdpgate gen --iface IF --count N | --duration S [--rate PPS] [--size B] [--flows N] [--src A] [--dst A]`: a
/// bounded traffic generator for benchmarks, sending UDP only to the benchmark ranges (198.18.0.0/15, 2001:2::/48).
/// </summary>
internal static class GenCommand
{
    public static Command Build(CliIo io)
    {
        var iface = new Option<string>("--iface", "-i") { Description = "Interface to send from", Required = true };
        var driver = new Option<string>("--driver", "-d") { Description = "afpacket (TPACKET_V3 TX ring) or afxdp (AF_XDP socket; attaches a redirect program to the interface)", DefaultValueFactory = _ => "afpacket" };
        driver.AcceptOnlyFromAmong("afpacket", "afxdp");
        var count = new Option<long?>("--count", "-n") { Description = "Frames to send" };
        var duration = new Option<double?>("--duration") { Description = "Seconds to send for" };
        var rate = new Option<long>("--rate") { Description = "Frames per second (0: as fast as the ring takes them)" };
        var size = new Option<int>("--size") { Description = "Frame size in bytes without FCS", DefaultValueFactory = _ => 60 };
        var flows = new Option<int>("--flows") { Description = "Flows: source address and port count up from --src and 1024", DefaultValueFactory = _ => 1 };
        var src = new Option<string>("--src") { Description = "First source address (198.18.0.0/15 or 2001:2::/48)", DefaultValueFactory = _ => "198.18.0.1" };
        var dst = new Option<string>("--dst") { Description = "Destination address (198.18.0.0/15 or 2001:2::/48)", DefaultValueFactory = _ => "198.19.0.1" };
        var dstMac = new Option<string>("--dst-mac") { Description = "Destination MAC", DefaultValueFactory = _ => "ff:ff:ff:ff:ff:ff" };
        var dstPort = new Option<ushort>("--dst-port") { Description = "UDP destination port", DefaultValueFactory = _ => 9 };
        var command = new Command("gen", "Send bounded benchmark traffic (UDP to 198.18.0.0/15 or 2001:2::/48) out of an interface")
            { iface, driver, count, duration, rate, size, flows, src, dst, dstMac, dstPort };
        command.SetAction((parsed, cancellation) =>
        {
            var seconds = parsed.GetValue(duration);
            var frames = parsed.GetValue(count);
            if (frames is null && seconds is null)
                throw new CliInputException("gen needs a bound: --count N or --duration S");
            if (seconds is <= 0 || frames is <= 0)
                throw new CliInputException("--count and --duration must be positive");
            var name = parsed.GetValue(iface)!;
            byte[] mac;
            using (var route = new RouteSocket())
                mac = Links.Get(route, name).Address;
            var traffic = new SyntheticTraffic
            {
                Size = parsed.GetValue(size),
                Flows = parsed.GetValue(flows),
                Rate = parsed.GetValue(rate),
                Source = Address(parsed.GetValue(src)!, "--src"),
                Destination = Address(parsed.GetValue(dst)!, "--dst"),
                DestinationPort = parsed.GetValue(dstPort),
                SourceMac = mac,
                DestinationMac = Mac(parsed.GetValue(dstMac)!),
            };
            try
            {
                traffic.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliInputException(e.Message);
            }
            var options = new PortOptions { Queues = 1 };
            using IPort port = parsed.GetValue(driver) == "afxdp" ? AfXdpPort.Open(name, options) : AfPacketPort.Open(name, options, takeFromHost: false);
            var result = Generator.Run(port.Queues[0], traffic, frames, seconds is { } s ? TimeSpan.FromSeconds(s) : Timeout.InfiniteTimeSpan, cancellation);
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: sent {result.Sent:N0} frames of {traffic.Size} bytes in {result.Elapsed.TotalSeconds:F2} s: {result.PacketsPerSecond / 1e6:F3} Mpps ({result.RingFull:N0} waits for a full ring, {result.Failed:N0} refused)"));
            return Task.FromResult(ExitCode.Success);
        });
        return command;
    }

    private static IPAddress Address(string text, string option) =>
        IPAddress.TryParse(text, out var address) ? address : throw new CliInputException($"{option} {text}: not an IP address");

    private static byte[] Mac(string text)
    {
        var hex = text.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        try
        {
            var bytes = Convert.FromHexString(hex);
            return bytes.Length == 6 ? bytes : throw new CliInputException($"--dst-mac {text}: a MAC address is 6 bytes");
        }
        catch (FormatException)
        {
            throw new CliInputException($"--dst-mac {text}: not a MAC address (like 02:00:00:00:00:01)");
        }
    }
}
