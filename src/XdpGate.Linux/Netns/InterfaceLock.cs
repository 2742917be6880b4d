namespace XdpGate.Linux.Netns;

/// <summary>
/// An exclusive claim on one interface of one network namespace, held by this process until disposed or until it
/// dies: a file in <see cref="Directory"/> locked with flock (what .NET's FileShare.None takes on Linux), which the
/// kernel releases with the process. It tells a program left attached by a crashed run from one a live run uses.
/// </summary>
public sealed class InterfaceLock : IDisposable
{
    public const string Directory = "/run/xdpgate";

    private readonly FileStream file;

    private InterfaceLock(FileStream file, string path)
    {
        this.file = file;
        Path = path;
    }

    public string Path { get; }

    /// <summary>
    /// Claims <paramref name="ifindex"/> in the calling thread's network namespace for <paramref name="purpose"/>;
    /// throws naming the interface and the holder's pid when another process (or another port here) holds it.
    /// </summary>
    public static InterfaceLock Acquire(int ifindex, string name, string purpose)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        System.IO.Directory.CreateDirectory(Directory);
        var path = System.IO.Path.Combine(Directory, $"{purpose}-{NamespaceId()}-{ifindex}.lock");
        FileStream file;
        while (true)
        {
            try
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                var holder = File.Exists(path) ? TryRead(path) : "";
                throw new InvalidOperationException($"interface '{name}' (ifindex {ifindex}) is in use for {purpose} by another run{(holder.Length > 0 ? $" (pid {holder})" : "")}; lock {path}", e);
            }
            // The holder deletes the file before unlocking: a lock taken on a file that was deleted meanwhile claims nothing.
            if (SameFile(file, path))
                break;
            file.Dispose();
        }
        file.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        file.Write(pid);
        file.Flush();
        return new InterfaceLock(file, path);
    }

    /// <summary>The inode of the calling thread's network namespace, as /proc shows it ("net:[4026531840]").</summary>
    private static string NamespaceId()
    {
        var target = new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? throw new InvalidOperationException("cannot read /proc/thread-self/ns/net");
        return target.Replace("net:[", "", StringComparison.Ordinal).TrimEnd(']');
    }

    // Read with open/read: a FileStream would ask for a shared flock, which the holder's exclusive one refuses.
    private static unsafe string TryRead(string path)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        Span<byte> buffer = stackalloc byte[32];
        fixed (byte* p = name)
        fixed (byte* b = buffer)
        {
            var fd = Tmds.Linux.LibC.open(p, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_CLOEXEC, 0);
            if (fd < 0)
                return "";
            var length = (long)Tmds.Linux.LibC.read(fd, b, (Tmds.Linux.size_t)(ulong)buffer.Length);
            _ = Tmds.Linux.LibC.close(fd);
            return length > 0 ? System.Text.Encoding.ASCII.GetString(buffer[..(int)length]).Trim() : "";
        }
    }

    private static unsafe bool SameFile(FileStream file, string path)
    {
        Tmds.Linux.stat opened, named;
        if (Tmds.Linux.LibC.fstat((int)file.SafeFileHandle.DangerousGetHandle(), &opened) != 0)
            return false;
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Tmds.Linux.LibC.stat(p, &named) != 0)
                return false;
        }
        return opened.st_ino == named.st_ino && opened.st_dev == named.st_dev;
    }

    /// <summary>Deletes the file, then releases the lock (in that order; see <see cref="Acquire"/>).</summary>
    public void Dispose()
    {
        if (file.SafeFileHandle.IsClosed)
            return;
        File.Delete(Path);
        file.Dispose();
    }
}
