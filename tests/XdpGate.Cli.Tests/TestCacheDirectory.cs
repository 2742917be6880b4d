using System.Runtime.CompilerServices;
using XdpGate.Appliance.Objects;

namespace XdpGate.Cli.Tests;

/// <summary>
/// Keeps the objects these tests compile from C out of the user's cache (~/.cache/xdpgate): before the first test,
/// $XDPGATE_CACHE_DIR names a directory of this test run, used by the commands run in process and inherited by the
/// processes tests start; it is removed when the test process exits.
/// </summary>
internal static class TestCacheDirectory
{
#pragma warning disable CA2255 // A test assembly, not a library: nothing loads it but the test runner, which runs this first.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Isolate()
    {
        var path = Directory.CreateTempSubdirectory("xdpgate-cli-tests-cache-").FullName;
        Environment.SetEnvironmentVariable(CompileCache.DirectoryVariable, path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process a test started may still be writing to it; a leftover in /tmp is harmless.
            }
        };
    }
}
