namespace XdpGate.Testing;

/// <summary>
/// The checkout the tests were built from: test binaries run from a copy of tests/data, so anything that rewrites
/// recorded data (the kernel recorders) writes to the source tree found above the binary.
/// </summary>
public static class SourceTree
{
    /// <summary>The directory holding XdpGate.sln above the test binary.</summary>
    /// <exception cref="DirectoryNotFoundException">The binary does not run from inside a checkout.</exception>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under tests/data in the source tree.</summary>
    public static string Data(string relativePath) => Path.Combine(Root, "tests", "data", relativePath);

    /// <summary>A path under the copy of tests/data next to the test binary.</summary>
    public static string DataCopy(string relativePath) => Path.Combine(AppContext.BaseDirectory, "data", relativePath);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XdpGate.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no XdpGate.sln above {AppContext.BaseDirectory}");
    }
}
