using System.Diagnostics;
using Xunit;
using XdpGate.Appliance.PcapFiles;

namespace XdpGate.Appliance.Tests.PcapFiles;

public sealed class PcapFileTests
{
    private const string Tcpdump = "/usr/bin/tcpdump";

    private static readonly byte[][] Packets =
    [
        Enumerable.Range(0, 60).Select(i => (byte)i).ToArray(),
        Enumerable.Range(0, 1514).Select(i => (byte)(i * 7)).ToArray(),
        new byte[14],
    ];

    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static byte[] Written()
    {
        using var file = new MemoryStream();
        using (var writer = new PcapWriter(file))
        {
            for (var i = 0; i < Packets.Length; i++)
                writer.Write(Start.AddMilliseconds(i * 1.5), Packets[i]);
        }
        return file.ToArray();
    }

    private static async Task<List<PcapRecord>> ReadAll(byte[] pcap, string name = "test.pcap")
    {
        var records = new List<PcapRecord>();
        await foreach (var record in PcapReader.ReadAsync(new MemoryStream(pcap), name))
            records.Add(record);
        return records;
    }

    [Fact]
    public async Task What_the_writer_writes_the_reader_reads_back()
    {
        var records = await ReadAll(Written());
        Assert.Equal(Packets, records.Select(r => r.Data));
        Assert.Equal(Start.AddMilliseconds(1.5), records[1].Timestamp);
    }

    [SkippableFact]
    public async Task Tcpdump_reads_our_files_and_we_read_its_nanosecond_files()
    {
        Skip.IfNot(File.Exists(Tcpdump), $"{Tcpdump} not found (apt-get install tcpdump); nothing was compared");
        var dir = Directory.CreateTempSubdirectory("xdpgate-pcap-");
        try
        {
            var ours = Path.Combine(dir.FullName, "ours.pcap");
            var theirs = Path.Combine(dir.FullName, "theirs.pcap");
            await File.WriteAllBytesAsync(ours, Written());
            var listing = RunTcpdump("-r", ours, "-nn", "-xx", "-tt");
            Assert.Equal(Packets.Length, listing.Split('\n').Count(l => l.StartsWith("17", StringComparison.Ordinal)));
            Assert.Contains("0x0000:  0001 0203 0405 0607 0809 0a0b 0c0d 0e0f", listing, StringComparison.Ordinal);

            RunTcpdump("-r", ours, "--time-stamp-precision=nano", "-w", theirs);
            var records = await ReadAll(await File.ReadAllBytesAsync(theirs));
            Assert.Equal(Packets, records.Select(r => r.Data));
            Assert.Equal(Start.AddMilliseconds(3), records[2].Timestamp);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(0, "test.pcap: empty")]
    [InlineData(10, "test.pcap: file header: the file ends after 10 of its 24 bytes")]
    [InlineData(30, "test.pcap: record 0 at byte 24: record header: the file ends after 6 of its 16 bytes")]
    [InlineData(24 + 16 + 59, "test.pcap: record 0 at byte 24: packet data: the file ends after 59 of its 60 bytes")]
    [InlineData(24 + 16 + 60 + 16 + 1514 + 3, "record 2 at byte 1630: record header")]
    public async Task Truncated_files_name_the_record_and_offset(int length, string message)
    {
        var e = await Assert.ThrowsAsync<PcapFormatException>(() => ReadAll(Written()[..length]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pcapng_and_other_files_are_refused_with_a_reason()
    {
        var pcapng = Written();
        pcapng[0] = 0x0a; pcapng[1] = 0x0d; pcapng[2] = 0x0d; pcapng[3] = 0x0a;
        var e = await Assert.ThrowsAsync<PcapFormatException>(() => ReadAll(pcapng));
        Assert.Contains("pcapng", e.Message, StringComparison.Ordinal);
        var text = "hello, this is not a capture file"u8.ToArray();
        e = await Assert.ThrowsAsync<PcapFormatException>(() => ReadAll(text));
        Assert.Contains("not a pcap file", e.Message, StringComparison.Ordinal);
    }

    private static string RunTcpdump(params string[] arguments)
    {
        var start = new ProcessStartInfo(Tcpdump) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
