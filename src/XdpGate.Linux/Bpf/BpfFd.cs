using System.Runtime.InteropServices;
using Tmds.Linux;
using XdpGate.Uapi;

namespace XdpGate.Linux.Bpf;

/// <summary>A file descriptor that bpf() returned (a map or a program); disposing it closes it.</summary>
public abstract class BpfFd : SafeHandle
{
    protected BpfFd(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => (long)handle < 0;

    /// <summary>The descriptor number; valid until the handle is disposed.</summary>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle;
        }
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;

    /// <summary>Keeps the descriptor open (not closed by a concurrent Dispose) for the length of one syscall.</summary>
    internal Lease Use() => new(this);

    internal readonly ref struct Lease
    {
        private readonly BpfFd owner;
        private readonly bool added;

        public Lease(BpfFd owner)
        {
            this.owner = owner;
            owner.DangerousAddRef(ref added);
            Fd = (int)owner.handle;
        }

        public int Fd { get; }

        public void Dispose()
        {
            if (added)
                owner.DangerousRelease();
        }
    }
}

/// <summary>A map made by BPF_MAP_CREATE, with the parameters it was created with.</summary>
public sealed class BpfMapFd : BpfFd
{
    internal BpfMapFd(int fd, uint mapType, uint keySize, uint valueSize, uint maxEntries, uint mapFlags, string name, int userValueSize)
        : base(fd)
    {
        MapType = mapType;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        MapFlags = mapFlags;
        Name = name;
        UserValueSize = userValueSize;
    }

    public uint MapType { get; }
    public uint KeySize { get; }
    public uint ValueSize { get; }
    public uint MaxEntries { get; }
    public uint MapFlags { get; }
    public string Name { get; }

    /// <summary>Bytes of a value as bpf() copies it: value_size, or round_up(value_size, 8) per possible CPU for per-CPU maps.</summary>
    public int UserValueSize { get; }

    public override string ToString() => $"map '{Name}' (fd {Fd}, type {MapType}, key {KeySize}, value {ValueSize}, max_entries {MaxEntries}, flags 0x{MapFlags:x})";
}

/// <summary>A program loaded by BPF_PROG_LOAD.</summary>
public sealed class BpfProgFd : BpfFd
{
    internal BpfProgFd(int fd, uint progType, string name, string verifierLog) : base(fd)
    {
        ProgType = progType;
        Name = name;
        VerifierLog = verifierLog;
    }

    public uint ProgType { get; }
    public string Name { get; }

    /// <summary>The verifier's log when a log level was asked for at load; empty otherwise.</summary>
    public string VerifierLog { get; }

    public override string ToString() => $"program '{Name}' (fd {Fd}, type {ProgType})";
}

/// <summary>A link made by BPF_LINK_CREATE: the attachment lasts as long as the descriptor, so closing it (or the process ending) detaches.</summary>
public sealed class BpfLinkFd : BpfFd
{
    internal BpfLinkFd(int fd, string description) : base(fd) => Description = description;

    /// <summary>What was attached where, for messages.</summary>
    public string Description { get; }

    public override string ToString() => $"link (fd {Fd}): {Description}";
}

/// <summary>Type information loaded by BPF_BTF_LOAD, for BPF_PROG_LOAD's prog_btf_fd.</summary>
public sealed class BpfBtfFd : BpfFd
{
    internal BpfBtfFd(int fd, int size) : base(fd) => Size = size;

    /// <summary>Bytes of the blob that was loaded.</summary>
    public int Size { get; }

    public override string ToString() => $"BTF (fd {Fd}, {Size} bytes)";
}
