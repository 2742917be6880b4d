using System.Text;
using Tmds.Linux;

namespace XdpGate.Linux;

/// <summary>File types .NET does not expose (lstat's st_mode).</summary>
public static unsafe class FileTypes
{
    private const uint S_IFMT = 0xf000;
    private const uint S_IFSOCK = 0xc000;

    /// <summary>True when <paramref name="path"/> itself (not a link's target) is a Unix-domain socket.</summary>
    public static bool IsSocket(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.lstat(p, &st) != 0)
                return false;
        }
        return ((uint)st.st_mode & S_IFMT) == S_IFSOCK;
    }
}
