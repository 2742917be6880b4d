using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Appliance.Bench;

/// <summary>A reference loop's binary name, its row in the table, and whether the host stack's copy of its frames is to be dropped.</summary>
public sealed record ReferenceLoopKind(string Binary, string Row, bool TakesFromHost);

/// <summary>
/// One of the plain C reference loops of perf/reference (built by perf/reference/build.sh), run as a child process
/// inside a namespace (<c>ip netns exec</c>) on one interface. It prints a line once it is attached and counting and
/// one with its totals when it ends, and keeps its running frame count in an 8-byte file it maps shared; that file is
/// mapped here too, so every read is one aligned load and never half of an update. Disposing kills the child if it still runs and deletes the file.
/// </summary>
public sealed class ReferenceLoop : IDisposable
{
    /// <summary>The loops, in the order their rows are measured.</summary>
    public static readonly IReadOnlyList<ReferenceLoopKind> Known =
    [
        new("xsk_loop", "C afxdp", TakesFromHost: false),
        // An AF_PACKET socket only copies frames; like the appliance's AF_PACKET port it needs IngressDrop.
        new("tpacket_loop", "C tpacket_v3", TakesFromHost: true),
    ];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly Process process;
    private readonly string name;
    private readonly string counterPath;
    private readonly List<string> errors = [];
    private MemoryMappedFile? counterFile;
    private MemoryMappedViewAccessor? counter;

    private ReferenceLoop(Process process, string name, string counterPath)
    {
        this.process = process;
        this.name = name;
        this.counterPath = counterPath;
    }

    /// <summary>
    /// Starts <paramref name="binary"/> in namespace <paramref name="ns"/> on <paramref name="iface"/>, pinned to
    /// <paramref name="cpu"/>, ending by itself after <paramref name="duration"/>, and returns once it is counting;
    /// throws naming the binary and quoting its error output when it cannot start or attach.
    /// </summary>
    public static ReferenceLoop Start(string binary, string ns, string iface, BenchMode mode, int cpu, TimeSpan duration)
    {
        if (mode is not (BenchMode.Drop or BenchMode.Tx))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "the reference loops do drop and tx only");
        if (!File.Exists(binary))
            throw new FileNotFoundException($"reference loop {binary} not found", binary);
        var counterPath = Path.Combine(Path.GetTempPath(), $"xdpgate-bench-{Path.GetFileName(binary)}-{Guid.NewGuid():N}.count");
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
                 {
                     "netns", "exec", ns, binary, "--iface", iface, "--mode", mode.ToString().ToLowerInvariant(),
                     "--cpu", cpu.ToString(CultureInfo.InvariantCulture),
                     "--duration", duration.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--counter", counterPath,
                 })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start ip netns exec {ns} {binary}");
        var loop = new ReferenceLoop(process, Path.GetFileName(binary), counterPath);
        try
        {
            process.ErrorDataReceived += (_, line) =>
            {
                if (line.Data is not null)
                {
                    lock (loop.errors)
                        loop.errors.Add(line.Data);
                }
            };
            process.BeginErrorReadLine();
            var ready = process.StandardOutput.ReadLineAsync();
            if (!ready.Wait(StartTimeout))
                throw new InvalidOperationException($"{loop.name} on {iface} in {ns} was not attached within {StartTimeout.TotalSeconds} s: {loop.ErrorText()}");
            if (ready.Result is null)
            {
                loop.WaitForExit();
                throw new InvalidOperationException($"{loop.name} on {iface} in {ns} did not start{loop.Exit()}: {loop.ErrorText()}");
            }
            // Mapped only now: the child creates and sizes the file before it reports ready.
            loop.counterFile = MemoryMappedFile.CreateFromFile(counterPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            loop.counter = loop.counterFile.CreateViewAccessor(0, sizeof(ulong), MemoryMappedFileAccess.Read);
            return loop;
        }
        catch
        {
            loop.Dispose();
            throw;
        }
    }

    /// <summary>Frames the loop has handled so far.</summary>
    public ulong Count() => counter!.ReadUInt64(0);

    /// <summary>
    /// Stops the loop as Ctrl+C would (SIGTERM: it detaches and closes its socket) and returns its closing line (frames
    /// handled, frames the TX ring had no room for, failed kicks);
    /// throws with its error output when it fails or does not stop in time.
    /// </summary>
    public string Stop()
    {
        if (!process.HasExited && LibC.kill(process.Id, LibC.SIGTERM) != 0 && !process.HasExited)
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) for {name}: errno {LibC.errno}");
        if (!WaitForExit())
            throw new InvalidOperationException($"{name} did not stop within {StopTimeout.TotalSeconds} s of SIGTERM");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{name} failed{Exit()}: {ErrorText()}");
        return process.StandardOutput.ReadToEnd().Trim();
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                WaitForExit();
            }
        }
        finally
        {
            counter?.Dispose();
            counterFile?.Dispose();
            File.Delete(counterPath);
            process.Dispose();
        }
    }

    /// <summary>Waits, boundedly, for the child to end and then for its error output to be read to the end.</summary>
    private bool WaitForExit()
    {
        if (!process.WaitForExit(StopTimeout))
            return false;
        process.WaitForExit();
        return true;
    }

    private string Exit() => process.HasExited ? $" (exit {process.ExitCode})" : "";

    private string ErrorText()
    {
        lock (errors)
            return errors.Count == 0 ? "no error output" : string.Join(" | ", errors);
    }
}
