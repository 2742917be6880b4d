using System.Runtime.InteropServices;

namespace XdpGate.Testing.Kernel;

/// <summary>
/// The running kernel's release as <c>uname -r</c> prints it ("6.18.44-fc-v1300"): the name every recorded kernel
/// result carries. Two builds of one upstream version can differ (a distribution's patches, a config), so the whole
/// string is compared, not the version number.
/// </summary>
public static class KernelRelease
{
    public static string Current { get; } = Read();

    /// <summary>uname -m: recorded results hold byte orders and sizes of this machine.</summary>
    public static string Machine { get; } = RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static string Read()
    {
        const string path = "/proc/sys/kernel/osrelease";
        return File.Exists(path) ? File.ReadAllText(path).Trim() : "unknown";
    }
}
