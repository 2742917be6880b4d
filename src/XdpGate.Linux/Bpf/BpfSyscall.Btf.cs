using System.Text;
using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>BPF_BTF_LOAD: type information as opaque bytes, checked by the kernel's BTF verifier.</summary>
public static unsafe partial class BpfSyscall
{
    /// <summary>
    /// BPF_BTF_LOAD of <paramref name="btf"/> (a whole .BTF blob: header, types, strings). When the kernel refuses,
    /// the load is tried once more with btf_log_level 1 so the exception can quote the kernel's reason.
    /// </summary>
    public static BpfBtfFd BtfLoad(ReadOnlySpan<byte> btf, int logSize = RetryLogSize)
    {
        if (btf.IsEmpty)
            throw new ArgumentException("BTF is empty", nameof(btf));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(logSize);
        var result = TryBtfLoad(btf, 0, 0, out _);
        if (result >= 0)
            return new BpfBtfFd(result, btf.Length);
        var retry = TryBtfLoad(btf, 1, logSize, out var log);
        if (retry >= 0)
            return new BpfBtfFd(retry, btf.Length);
        throw new BpfSyscallException(BPF_BTF_LOAD, result, $"BTF of {btf.Length} bytes", log);
    }

    private static int TryBtfLoad(ReadOnlySpan<byte> btf, uint logLevel, int logSize, out string log)
    {
        var logBuffer = logSize > 0 ? new byte[logSize] : null;
        var attr = new bpf_attr_btf_load
        {
            btf_size = (uint)btf.Length,
            btf_log_size = (uint)(logBuffer?.Length ?? 0),
            btf_log_level = logBuffer is null ? 0 : logLevel,
        };
        int result;
        fixed (byte* b = btf)
        fixed (byte* l = logBuffer)
        {
            attr.btf = (ulong)b;
            attr.btf_log_buf = (ulong)l;
            result = Invoke(BPF_BTF_LOAD, &attr, sizeof(bpf_attr_btf_load));
        }
        log = logBuffer is null ? "" : Encoding.UTF8.GetString(logBuffer, 0, Math.Max(0, Array.IndexOf(logBuffer, (byte)0)));
        return result;
    }
}
