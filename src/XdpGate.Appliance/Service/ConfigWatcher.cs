
namespace XdpGate.Appliance.Service;

/// <summary>
/// Calls back once a config file has changed and then stayed quiet for the debounce interval, so an editor's
/// several writes (or a write-then-rename) cause one reload. The directory is watched, not the file, because editors
/// replace files by renaming a new one over them.
/// </summary>
public sealed class ConfigWatcher : IDisposable
{
    private readonly FileSystemWatcher watcher;
    private readonly Timer quiet;
    private readonly TimeSpan debounce;

    public ConfigWatcher(string path, TimeSpan debounce, Action changed)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(changed);
        var full = Path.GetFullPath(path);
        this.debounce = debounce;
        quiet = new Timer(_ => changed());
        watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => Touch();
        watcher.Created += (_, _) => Touch();
        watcher.Renamed += (_, _) => Touch();
        watcher.EnableRaisingEvents = true;
    }

    // Each event pushes the callback back to a full debounce interval from now.
    private void Touch() => quiet.Change(debounce, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        watcher.Dispose();
        quiet.Dispose();
    }
}
