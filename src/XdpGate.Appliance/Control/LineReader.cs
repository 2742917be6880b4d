using System.Text;

namespace XdpGate.Appliance.Control;

/// <summary>Newline-delimited UTF-8 lines from a stream, each at most a bounded length (the protocol's framing).</summary>
internal sealed class LineReader(Stream stream, int maxBytes)
{
    private readonly byte[] buffer = new byte[4096];
    private readonly List<byte> line = [];
    private int start, end;

    /// <summary>The next line without its newline; null at the end of the stream; TooLong when it exceeds the bound.</summary>
    public async Task<(string? Line, bool TooLong)> ReadLineAsync(CancellationToken cancel)
    {
        line.Clear();
        while (true)
        {
            if (start == end)
            {
                start = 0;
                end = await stream.ReadAsync(buffer, cancel).ConfigureAwait(false);
                if (end == 0)
                    return (line.Count > 0 ? Decode() : null, false);
            }
            var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            var stop = newline < 0 ? end : newline;
            line.AddRange(buffer.AsSpan(start, stop - start).ToArray());
            start = newline < 0 ? end : newline + 1;
            if (line.Count > maxBytes)
                return (null, true);
            if (newline >= 0)
                return (Decode(), false);
        }
    }

    private string Decode() => Encoding.UTF8.GetString([.. line]).TrimEnd('\r');
}
