using XdpGate.Appliance.PcapFiles;

namespace XdpGate.Appliance.Tests.Dataplane;

/// <summary>A corpus program's frames (NAME.packets) and what the kernel answered for each (NAME.kernel.txt).</summary>
internal sealed record RecordedFrame(byte[] Input, uint Retval, byte[] Output);

internal static class CorpusFrames
{
    public static IReadOnlyList<RecordedFrame> Read(string name)
    {
        var inputs = File.ReadLines(Programs.DataFile("programs", name + ".packets"))
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => Convert.FromHexString(line.Trim()))
            .ToList();
        var results = new List<(uint, byte[])>();
        uint retval = 0;
        foreach (var line in File.ReadLines(Programs.DataFile("programs", name + ".kernel.txt")))
        {
            if (line.StartsWith("retval ", StringComparison.Ordinal))
                retval = uint.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            else if (line.StartsWith("data ", StringComparison.Ordinal))
                results.Add((retval, Convert.FromHexString(line["data ".Length..])));
        }
        if (results.Count != inputs.Count)
            throw new InvalidDataException($"{name}: {inputs.Count} frames but {results.Count} recorded results");
        return [.. inputs.Zip(results, (input, result) => new RecordedFrame(input, result.Item1, result.Item2))];
    }

    public static void WritePcap(string path, IEnumerable<byte[]> frames)
    {
        using var file = File.Create(path);
        using var writer = new PcapWriter(file);
        foreach (var frame in frames)
            writer.Write(DateTimeOffset.UnixEpoch, frame);
    }

    public static List<string> ReadPcap(string path)
    {
        using var file = File.OpenRead(path);
        return [.. PcapReader.ReadAsync(file, path).ToBlockingEnumerable().Select(r => Convert.ToHexStringLower(r.Data))];
    }
}
