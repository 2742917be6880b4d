using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace XdpGate.Linux.Tap;

/// <summary>
/// A TAP interface (IFF_TAP | IFF_NO_PI on /dev/net/tun): every frame written to it is received by the kernel's
/// network stack as if it had arrived on that interface. The appliance's way into the host stack for XDP_PASS.
/// The device exists while this object holds it open (it is not made persistent), so closing removes it.
/// </summary>
public sealed unsafe partial class TapDevice : IDisposable
{
#pragma warning disable CA1707 // kernel names kept exactly
    public const uint TUNSETIFF = 0x400454ca;
    public const short IFF_TAP = 0x0002;
    public const short IFF_NO_PI = 0x1000;
    public const uint SIOCGIFFLAGS = 0x8913;
    public const uint SIOCSIFFLAGS = 0x8914;
    public const uint SIOCSIFHWADDR = 0x8924;
    public const uint SIOCGIFINDEX = 0x8933;
    public const short IFF_UP = 0x1;
    public const ushort ARPHRD_ETHER = 1;
    public const int IFNAMSIZ = 16;
#pragma warning restore CA1707

    private int fd;

    private TapDevice(int fd, string name, int ifindex)
    {
        this.fd = fd;
        Name = name;
        Ifindex = ifindex;
    }

    public string Name { get; }
    public int Ifindex { get; }

    /// <summary>
    /// Creates TAP interface <paramref name="name"/> in the calling thread's network namespace, gives it
    /// <paramref name="mac"/> (so frames addressed to the port it stands for are "to us" there) and sets it up.
    /// </summary>
    public static TapDevice Create(string name, ReadOnlySpan<byte> mac)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= IFNAMSIZ)
            throw new ArgumentException($"TAP name '{name}' is longer than {IFNAMSIZ - 1} bytes", nameof(name));
        if (mac.Length != 6)
            throw new ArgumentException($"a MAC address is 6 bytes, not {mac.Length}", nameof(mac));
        var path = "/dev/net/tun\0"u8;
        int tun;
        fixed (byte* p = path)
            tun = LibC.open(p, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
        if (tun < 0)
            throw new SyscallException("open(/dev/net/tun)", LibC.errno, "TAP devices need the tun module and CAP_NET_ADMIN");
        try
        {
            var request = Request(name);
            request.Flags = IFF_TAP | IFF_NO_PI;
            Check(ioctl(tun, TUNSETIFF, &request), "ioctl(TUNSETIFF)", name);
            var control = SyscallException.Check(LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), "socket(AF_INET)", name);
            try
            {
                var address = Request(name);
                address.AddressFamily = ARPHRD_ETHER;
                mac.CopyTo(new Span<byte>(address.Address, 6));
                Check(ioctl(control, SIOCSIFHWADDR, &address), "ioctl(SIOCSIFHWADDR)", name);
                var flags = Request(name);
                Check(ioctl(control, SIOCGIFFLAGS, &flags), "ioctl(SIOCGIFFLAGS)", name);
                flags.Flags |= IFF_UP;
                Check(ioctl(control, SIOCSIFFLAGS, &flags), "ioctl(SIOCSIFFLAGS)", name);
                var index = Request(name);
                Check(ioctl(control, SIOCGIFINDEX, &index), "ioctl(SIOCGIFINDEX)", name);
                return new TapDevice(tun, name, index.Index);
            }
            finally
            {
                _ = LibC.close(control);
            }
        }
        catch
        {
            _ = LibC.close(tun);
            throw;
        }
    }

    /// <summary>Hands one frame to the host stack: the bytes written, or the negative errno (-EAGAIN when the queue is full). Never throws.</summary>
    public int Write(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            var written = (long)LibC.write(fd, p, (size_t)frame.Length);
            return written < 0 ? -LibC.errno : (int)written;
        }
    }

    /// <summary>The descriptor, for poll().</summary>
    public int Fd => fd;

    /// <summary>Takes one frame the host stack sent out of the TAP: its length, 0 when none waits, or the negative errno. Never throws.</summary>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var read = (long)LibC.read(fd, p, (size_t)buffer.Length);
            if (read >= 0)
                return (int)read;
            var errno = LibC.errno;
            return errno == LibC.EAGAIN ? 0 : -errno;
        }
    }

    public void Dispose()
    {
        if (fd >= 0)
        {
            _ = LibC.close(fd);
            fd = -1;
        }
    }

    // Tmds.LibC's ioctl takes an int argument only; these requests take a pointer to struct ifreq.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, nuint request, void* argument);

    private static void Check(int result, string call, string name)
    {
        if (result < 0)
            throw new SyscallException(call, Marshal.GetLastPInvokeError(), $"TAP device {name}");
    }

    private static IfReq Request(string name)
    {
        var request = default(IfReq);
        Encoding.UTF8.GetBytes(name, new Span<byte>(request.Name, IFNAMSIZ - 1));
        return request;
    }

    /// <summary>struct ifreq (40 bytes on 64-bit): the name, then a union of flags, ifindex and a sockaddr.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    private struct IfReq
    {
        [FieldOffset(0)] public fixed byte Name[IFNAMSIZ];
        [FieldOffset(16)] public short Flags;
        [FieldOffset(16)] public int Index;
        [FieldOffset(16)] public ushort AddressFamily;
        [FieldOffset(18)] public fixed byte Address[14];
    }
}
