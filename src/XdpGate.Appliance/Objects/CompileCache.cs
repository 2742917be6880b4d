using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using XdpGate.Bpf;
using XdpGate.Linux;

namespace XdpGate.Appliance.Objects;

/// <summary>
/// Objects compiled from C, kept on disk so that a source is compiled once, not at every open (a check, a build,
/// each reload, each command). An object is found by a hash of everything that decides it: the clang executable
/// (its resolved path, size and modification time, as ccache identifies a compiler without running it), the flags,
/// the working directory and the source's path as given (both go into the object's debug info), and the contents of
/// every file clang read for it: the source and each header it included, system headers too, as clang lists them
/// (<c>-MD</c>). A manifest per compiler, flags, directory and path names those files, so a lookup hashes them and
/// never runs clang. The cache never makes an open fail: where it cannot be read or written, the source is compiled.
/// </summary>
public sealed partial class CompileCache
{
    /// <summary>The environment variable that names the cache directory.</summary>
    public const string DirectoryVariable = "XDPGATE_CACHE_DIR";

    /// <summary>Entries unused for this long are removed when a new one is stored.</summary>
    public static readonly TimeSpan Unused = TimeSpan.FromDays(30);

    private const string Version = "xdpgate compile cache 1";
    private readonly string? clang;

    /// <param name="directory">Where objects are kept; null compiles every time.</param>
    /// <param name="clang">The clang to run; by default <see cref="ClangCompiler.Find"/>'s at each compile.</param>
    public CompileCache(string? directory, string? clang = null)
    {
        Directory = directory;
        this.clang = clang;
    }

    /// <summary>The cache directory, null when there is none.</summary>
    public string? Directory { get; }

    /// <summary>The cache in <see cref="DefaultDirectory"/>, with the clang <see cref="ClangCompiler.Find"/> finds.</summary>
    public static CompileCache Default => new(DefaultDirectory());

    /// <summary>
    /// $XDPGATE_CACHE_DIR, else <c>xdpgate/objects</c> in the XDG cache directory ($XDG_CACHE_HOME, else
    /// $HOME/.cache); null, so no caching, when none of them is set.
    /// </summary>
    public static string? DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
            return configured;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { } x && Path.IsPathFullyQualified(x) ? x
            : Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? Path.Combine(home, ".cache")
            : null;
        return xdg is null ? null : Path.Combine(xdg, "xdpgate", "objects");
    }

    /// <summary>The object clang makes of <paramref name="cFile"/>, from the cache when nothing that decides it changed.</summary>
    /// <exception cref="BpfLoadException">clang is missing (the message says how to install it) or refuses the source (with its messages).</exception>
    public byte[] Compile(string cFile)
    {
        ArgumentNullException.ThrowIfNull(cFile);
        var compiler = clang ?? ClangCompiler.Find();
        if (compiler is null || !File.Exists(compiler))
            throw new BpfLoadException($"clang not found: {ClangCompiler.InstallHint}");
        var manifestKey = Directory is null ? null : TryManifestKey(compiler, cFile);
        if (manifestKey is not null && TryLoad(manifestKey) is { } cached)
            return cached;
        var started = DateTime.UtcNow;
        ClangOutput output;
        try
        {
            output = ClangCompiler.Compile(cFile, compiler);
        }
        catch (CompilerException e)
        {
            throw new BpfLoadException(e.Message, e);
        }
        if (manifestKey is not null)
            TryStore(manifestKey, output, started);
        return output.Object;
    }

    private static string? TryManifestKey(string compiler, string cFile)
    {
        try
        {
            var executable = File.ResolveLinkTarget(compiler, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(compiler);
            var info = new FileInfo(executable);
            var identity = new StringBuilder(Version).Append('\n')
                .Append(executable).Append('\n').Append(info.Length).Append('\n').Append(info.LastWriteTimeUtc.Ticks).Append('\n')
                .AppendJoin('\n', ClangCompiler.Flags()).Append('\n')
                .Append(Environment.CurrentDirectory).Append('\n')
                .Append(cFile);
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The object stored for the files the manifest lists, as they read now; null when any of it is missing.</summary>
    private byte[]? TryLoad(string manifestKey)
    {
        try
        {
            var manifest = Path.Combine(Directory!, manifestKey + ".deps");
            if (!File.Exists(manifest))
                return null;
            var objectFile = Path.Combine(Directory!, ObjectKey(manifestKey, File.ReadAllLines(manifest)) + ".o");
            if (!File.Exists(objectFile))
                return null;
            var bytes = File.ReadAllBytes(objectFile);
            // Use keeps an entry from being pruned.
            File.SetLastWriteTimeUtc(objectFile, DateTime.UtcNow);
            File.SetLastWriteTimeUtc(manifest, DateTime.UtcNow);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void TryStore(string manifestKey, ClangOutput output, DateTime started)
    {
        if (!OperatingSystem.IsLinux())
            return; // the directory is made owner-only, a Unix file mode
        try
        {
            var files = output.Dependencies.Select(Path.GetFullPath).ToArray();
            // A file changed while clang ran may not hash to what clang read: compiled, but not kept.
            if (files.Any(f => File.GetLastWriteTimeUtc(f) >= started))
                return;
            var objectKey = ObjectKey(manifestKey, files);
            System.IO.Directory.CreateDirectory(Directory!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Prune();
            WriteWhole(Path.Combine(Directory!, objectKey + ".o"), output.Object);
            WriteWhole(Path.Combine(Directory!, manifestKey + ".deps"), Encoding.UTF8.GetBytes(string.Join('\n', files) + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not kept; the next open compiles again.
        }
    }

    /// <summary>The hash of the manifest's key and each file's path and contents (a missing file throws <see cref="IOException"/>).</summary>
    private static string ObjectKey(string manifestKey, IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(manifestKey + "\n"));
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            hash.AppendData(Encoding.UTF8.GetBytes($"{file}\n{Convert.ToHexStringLower(SHA256.HashData(stream))}\n"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Readers see the old file or the new one, never a part: the bytes go to a temporary name first.</summary>
    private static void WriteWhole(string path, byte[] bytes)
    {
        var temporary = $"{path}.{Guid.NewGuid():n}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes this cache's own files (never anything else the directory may hold) unused for <see cref="Unused"/>.</summary>
    private void Prune()
    {
        var cutoff = DateTime.UtcNow - Unused;
        foreach (var file in new DirectoryInfo(Directory!).EnumerateFiles())
        {
            if (EntryName().IsMatch(file.Name) && file.LastWriteTimeUtc < cutoff)
                file.Delete();
        }
    }

    [GeneratedRegex(@"^[0-9a-f]{64}\.(o|deps)(\.[0-9a-f]{32}\.tmp)?$")]
    private static partial Regex EntryName();
}
