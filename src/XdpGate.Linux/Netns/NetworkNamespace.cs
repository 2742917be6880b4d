using System.Runtime.ExceptionServices;
using System.Text;
using LibC = Tmds.Linux.LibC;

namespace XdpGate.Linux.Netns;

/// <summary>
/// Runs code inside a named network namespace (as <c>ip netns</c> names them, /run/netns/NAME). Sockets keep the
/// namespace they were created in, so a socket opened here can be used from any thread afterwards.
/// </summary>
public static class NetworkNamespace
{
    public const string RunDirectory = "/run/netns";

    // CLONE_NEWNET of sched.h.
    private const int CLONE_NEWNET = 0x40000000;

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread that has joined namespace <paramref name="name"/> with setns()
    /// (namespace membership is per thread; the thread ends with the body, so no pooled thread is left inside).
    /// </summary>
    public static T Run<T>(string name, Func<T> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(body);
        if (name.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"network namespace name '{name}' must not contain '/'", nameof(name));
        var path = Path.Combine(RunDirectory, name);
        var fd = Open(path);
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        try
        {
            var thread = new Thread(() =>
            {
                try
                {
                    SyscallException.Check(LibC.setns(fd, CLONE_NEWNET), "setns(CLONE_NEWNET)", path);
                    result = body();
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
            }) { Name = $"netns {name}", IsBackground = true };
            thread.Start();
            thread.Join();
        }
        finally
        {
            _ = LibC.close(fd);
        }
        failure?.Throw();
        return result;
    }

    /// <summary>Runs <paramref name="body"/> inside namespace <paramref name="name"/>; see <see cref="Run{T}"/>.</summary>
    public static void Run(string name, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Run(name, () =>
        {
            body();
            return 0;
        });
    }

    private static unsafe int Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            var fd = LibC.open(p, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            return fd >= 0 ? fd : throw new SyscallException("open", LibC.errno, $"network namespace {path} (does 'ip netns add' know it?)");
        }
    }
}
