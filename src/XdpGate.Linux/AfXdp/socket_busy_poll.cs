namespace XdpGate.Linux.AfXdp;

/// <summary>The busy-polling socket options of asm-generic/socket.h (x86_64 and arm64 share them).</summary>
#pragma warning disable CA1707, IDE1006, CS8981 // kernel names kept exactly
public static class socket_busy_poll
{
    public const int SOL_SOCKET = 1;
    public const int SO_BUSY_POLL = 46;
    public const int SO_PREFER_BUSY_POLL = 69;
    public const int SO_BUSY_POLL_BUDGET = 70;
}
#pragma warning restore CA1707, IDE1006, CS8981
