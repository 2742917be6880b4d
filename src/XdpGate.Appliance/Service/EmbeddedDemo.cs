namespace XdpGate.Appliance.Service;

/// <summary>
/// configs/demo.yaml and the capture it replays, built into the assembly so `xdpgate run --demo` works from any
/// directory with no root and no NIC. They are written to a fresh private directory, removed on dispose.
/// </summary>
public sealed class EmbeddedDemo : IDisposable
{
    private static readonly string[] Files = ["demo.yaml", "demo.pcap"];
    private readonly DirectoryInfo directory;

    public EmbeddedDemo()
    {
        directory = Directory.CreateTempSubdirectory("xdpgate-demo-");
        try
        {
            foreach (var file in Files)
            {
                using var resource = typeof(EmbeddedDemo).Assembly.GetManifestResourceStream($"XdpGate.Appliance.Demo.{file}")
                    ?? throw new InvalidOperationException($"the assembly lacks its embedded {file}");
                using var copy = File.Create(Path.Combine(directory.FullName, file));
                resource.CopyTo(copy);
            }
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>The demo config, next to its capture.</summary>
    public string ConfigPath => Path.Combine(directory.FullName, "demo.yaml");

    public void Dispose() => directory.Delete(recursive: true);
}
