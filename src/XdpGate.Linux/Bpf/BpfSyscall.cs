using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>
/// Typed wrappers over the bpf() system call: each fills its command's <c>union bpf_attr</c> variant, calls the
/// kernel, and throws <see cref="BpfSyscallException"/> naming the command and errno when the kernel refuses.
/// Instructions are opaque bytes here: nothing in this layer knows what they mean.
/// </summary>
public static unsafe class BpfSyscall
{
#pragma warning disable CA1707 // kernel names kept exactly
    /// <summary>__NR_bpf of this architecture.</summary>
    public static int SYS_bpf { get; } = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        _ => -1,
    };

    /// <summary>sizeof(struct bpf_insn).</summary>
    public const int BPF_INSN_SIZE = 8;

    // Map types whose values bpf() copies as one round_up(value_size, 8) slot per possible CPU (bpf_map_value_size).
    private const uint BPF_MAP_TYPE_PERCPU_HASH = 5;
    private const uint BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    private const uint BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
    private const uint BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;
#pragma warning restore CA1707

    /// <summary>The log buffer of a failed load's second try: enough for the tail the exception quotes.</summary>
    public const int RetryLogSize = 1 << 20;

    /// <summary>bpf(cmd, attr, size): the non-negative result, or the negative errno.</summary>
    public static int Invoke(bpf_cmd cmd, void* attr, int size)
    {
        if (SYS_bpf < 0)
            throw new PlatformNotSupportedException($"bpf(): no syscall number known for {RuntimeInformation.ProcessArchitecture}");
        var result = (long)(ssize_t)LibC.syscall(SYS_bpf, (int)cmd, attr, (uint)size);
        return result < 0 ? -LibC.errno : (int)result;
    }

    /// <summary>
    /// Why this process cannot use bpf() (no syscall number, not root, or the kernel refusing a one-element array
    /// map), or null when it can.
    /// </summary>
    public static string? WhyUnavailable()
    {
        if (SYS_bpf < 0)
            return $"no bpf() syscall number known for {RuntimeInformation.ProcessArchitecture}";
        if (!OperatingSystem.IsLinux())
            return "bpf() is a Linux system call";
        if (!Environment.IsPrivilegedProcess)
            return "not running as root: loading programs and creating maps needs CAP_BPF (or CAP_SYS_ADMIN)";
        try
        {
            using var probe = MapCreate(2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1, name: "probe");
            return null;
        }
        catch (BpfSyscallException e)
        {
            return $"the kernel refuses bpf(): {e.Message}";
        }
    }

    /// <summary>The value round_up(value_size, 8) per possible CPU has for per-CPU maps, value_size otherwise.</summary>
    public static int UserValueSize(uint mapType, uint valueSize) => mapType switch
    {
        BPF_MAP_TYPE_PERCPU_HASH or BPF_MAP_TYPE_PERCPU_ARRAY or BPF_MAP_TYPE_LRU_PERCPU_HASH or BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
            => checked((int)((valueSize + 7) & ~7u) * PossibleCpus.Count),
        _ => checked((int)valueSize),
    };

    /// <summary>BPF_MAP_CREATE. <paramref name="name"/> is at most 15 bytes of letters, digits, '_' and '.'.</summary>
    public static BpfMapFd MapCreate(uint mapType, uint keySize, uint valueSize, uint maxEntries, uint mapFlags = 0, string? name = null)
    {
        name ??= "";
        var attr = new bpf_attr_map_create
        {
            map_type = mapType,
            key_size = keySize,
            value_size = valueSize,
            max_entries = maxEntries,
            map_flags = mapFlags,
        };
        CopyName(name, attr.map_name, nameof(name));
        var fd = Invoke(BPF_MAP_CREATE, &attr, sizeof(bpf_attr_map_create));
        if (fd < 0)
            throw new BpfSyscallException(BPF_MAP_CREATE, fd,
                $"map '{name}' type {mapType} key_size {keySize} value_size {valueSize} max_entries {maxEntries} map_flags 0x{mapFlags:x}");
        return new BpfMapFd(fd, mapType, keySize, valueSize, maxEntries, mapFlags, name, UserValueSize(mapType, valueSize));
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM: copies the value (every CPU's slot for per-CPU maps); false when the key has none.</summary>
    public static bool MapLookup(BpfMapFd map, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0)
    {
        CheckKey(map, key);
        CheckValue(map, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Elem(BPF_MAP_LOOKUP_ELEM, map, k, v, flags);
            return result == 0 || Refuse(BPF_MAP_LOOKUP_ELEM, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST (see <see cref="bpf_defines"/>).</summary>
    public static void MapUpdate(BpfMapFd map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = bpf_defines.BPF_ANY)
    {
        CheckKey(map, key);
        CheckValue(map, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Elem(BPF_MAP_UPDATE_ELEM, map, k, v, flags);
            if (result != 0)
                Refuse(BPF_MAP_UPDATE_ELEM, result, map);
        }
    }

    /// <summary>BPF_MAP_DELETE_ELEM; false when the key had no element.</summary>
    public static bool MapDelete(BpfMapFd map, ReadOnlySpan<byte> key)
    {
        CheckKey(map, key);
        fixed (byte* k = key)
        {
            var result = Elem(BPF_MAP_DELETE_ELEM, map, k, null, 0);
            return result == 0 || Refuse(BPF_MAP_DELETE_ELEM, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>
    /// BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/>, or the first key when <paramref name="key"/> is empty;
    /// false after the last key.
    /// </summary>
    public static bool MapGetNextKey(BpfMapFd map, ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!key.IsEmpty)
            CheckKey(map, key);
        if (nextKey.Length != map.KeySize)
            throw new ArgumentException($"{map}: next key buffer is {nextKey.Length} bytes, the map's key_size is {map.KeySize}", nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            // A NULL key asks for the first key.
            var result = Elem(BPF_MAP_GET_NEXT_KEY, map, key.IsEmpty ? null : k, n, 0);
            return result == 0 || Refuse(BPF_MAP_GET_NEXT_KEY, result, map, allowed: Errno.ENOENT);
        }
    }

    /// <summary>Every element, walked with BPF_MAP_GET_NEXT_KEY and read with BPF_MAP_LOOKUP_ELEM.</summary>
    public static List<KeyValuePair<byte[], byte[]>> MapEntries(BpfMapFd map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var entries = new List<KeyValuePair<byte[], byte[]>>();
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (MapGetNextKey(map, key, next))
        {
            key = (byte[])next.Clone();
            var value = new byte[map.UserValueSize];
            // An element deleted between the two calls is simply not listed.
            if (MapLookup(map, key, value))
                entries.Add(new(key, value));
        }
        return entries;
    }

    /// <summary>
    /// BPF_PROG_LOAD of <paramref name="insns"/> (raw struct bpf_insn, 8 bytes each). When the kernel refuses and no
    /// log was asked for, the load is tried once more with log_level 1 so the exception can quote the verifier.
    /// </summary>
    /// <param name="fdArray">The descriptors that BPF_PSEUDO_MAP_IDX and BPF_PSEUDO_MAP_IDX_VALUE index, if any.</param>
    public static BpfProgFd ProgLoad(uint progType, ReadOnlySpan<byte> insns, string license = "GPL", string? name = null,
        uint expectedAttachType = 0, uint progFlags = 0, uint logLevel = 0, int logSize = RetryLogSize, ReadOnlySpan<int> fdArray = default)
    {
        ArgumentNullException.ThrowIfNull(license);
        name ??= "";
        if (insns.Length == 0 || insns.Length % BPF_INSN_SIZE != 0)
            throw new ArgumentException($"program '{name}' is {insns.Length} bytes, not a non-zero multiple of {BPF_INSN_SIZE}", nameof(insns));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(logSize);

        var result = TryProgLoad(progType, insns, license, name, expectedAttachType, progFlags, logLevel, logLevel == 0 ? 0 : logSize, fdArray, out var log);
        if (result >= 0)
            return new BpfProgFd(result, progType, name, log);
        if (logLevel == 0)
        {
            var retry = TryProgLoad(progType, insns, license, name, expectedAttachType, progFlags, 1, logSize, fdArray, out log);
            // The kernel accepted it this time (it should not, but the program is loaded): give it to the caller.
            if (retry >= 0)
                return new BpfProgFd(retry, progType, name, "");
        }
        throw new BpfSyscallException(BPF_PROG_LOAD, result,
            $"program '{name}' (prog_type {progType}, {insns.Length / BPF_INSN_SIZE} insns)", log);
    }

    private static int TryProgLoad(uint progType, ReadOnlySpan<byte> insns, string license, string name, uint expectedAttachType,
        uint progFlags, uint logLevel, int logSize, ReadOnlySpan<int> fdArray, out string log)
    {
        var licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        var logBuffer = logSize > 0 ? new byte[logSize] : null;
        var attr = new bpf_attr_prog_load
        {
            prog_type = progType,
            insn_cnt = (uint)(insns.Length / BPF_INSN_SIZE),
            log_level = logBuffer is null ? 0 : logLevel,
            log_size = (uint)(logBuffer?.Length ?? 0),
            prog_flags = progFlags,
            expected_attach_type = expectedAttachType,
        };
        CopyName(name, attr.prog_name, nameof(name));
        int result;
        fixed (byte* i = insns)
        fixed (byte* l = licenseBytes)
        fixed (byte* b = logBuffer)
        fixed (int* f = fdArray)
        {
            attr.insns = (ulong)i;
            attr.license = (ulong)l;
            attr.log_buf = (ulong)b;
            attr.fd_array = fdArray.IsEmpty ? 0 : (ulong)f;
            result = Invoke(BPF_PROG_LOAD, &attr, sizeof(bpf_attr_prog_load));
        }
        log = logBuffer is null ? "" : Encoding.UTF8.GetString(logBuffer, 0, Math.Max(0, Array.IndexOf(logBuffer, (byte)0)));
        return result;
    }

    /// <summary>
    /// BPF_PROG_TEST_RUN: runs the program <paramref name="repeat"/> times (0 counts as 1) on a copy of
    /// <paramref name="dataIn"/> and, when given, the context <paramref name="ctxIn"/>. Output buffers of
    /// <paramref name="dataOutSize"/> and <paramref name="ctxOutSize"/> bytes receive the final packet and context;
    /// a size of 0 asks for none (the kernel still reports the sizes).
    /// </summary>
    public static BpfTestRunResult ProgTestRun(BpfProgFd prog, ReadOnlySpan<byte> dataIn, int dataOutSize, ReadOnlySpan<byte> ctxIn = default,
        int ctxOutSize = 0, uint repeat = 0, uint flags = 0, uint cpu = 0, uint batchSize = 0)
    {
        ArgumentNullException.ThrowIfNull(prog);
        ArgumentOutOfRangeException.ThrowIfNegative(dataOutSize);
        ArgumentOutOfRangeException.ThrowIfNegative(ctxOutSize);
        // data_size_out 0 with a data_out pointer would mean "no limit" to the kernel, so no buffer goes with size 0.
        var dataOut = new byte[dataOutSize];
        var ctxOut = new byte[ctxOutSize];
        using var lease = prog.Use();
        var attr = new bpf_attr_test
        {
            prog_fd = (uint)lease.Fd,
            data_size_in = (uint)dataIn.Length,
            data_size_out = (uint)dataOutSize,
            repeat = repeat,
            ctx_size_in = (uint)ctxIn.Length,
            ctx_size_out = (uint)ctxOutSize,
            flags = flags,
            cpu = cpu,
            batch_size = batchSize,
        };
        int result;
        fixed (byte* di = dataIn)
        fixed (byte* @do = dataOut)
        fixed (byte* ci = ctxIn)
        fixed (byte* co = ctxOut)
        {
            attr.data_in = (ulong)di;
            attr.data_out = dataOutSize == 0 ? 0 : (ulong)@do;
            attr.ctx_in = ctxIn.IsEmpty ? 0 : (ulong)ci;
            attr.ctx_out = ctxOutSize == 0 ? 0 : (ulong)co;
            result = Invoke(BPF_PROG_TEST_RUN, &attr, sizeof(bpf_attr_test));
        }
        if (result < 0)
            throw new BpfSyscallException(BPF_PROG_TEST_RUN, result,
                $"{prog} data_size_in {dataIn.Length} data_size_out {dataOutSize} (kernel wants {attr.data_size_out}) ctx_size_in {ctxIn.Length} ctx_size_out {ctxOutSize} (kernel wants {attr.ctx_size_out}) repeat {repeat} flags 0x{flags:x}");
        return new BpfTestRunResult(attr.retval, attr.duration,
            dataOut.AsSpan(0, (int)Math.Min(attr.data_size_out, (uint)dataOutSize)).ToArray(), attr.data_size_out,
            ctxOut.AsSpan(0, (int)Math.Min(attr.ctx_size_out, (uint)ctxOutSize)).ToArray());
    }

    private static int Elem(bpf_cmd cmd, BpfMapFd map, byte* key, byte* valueOrNextKey, ulong flags)
    {
        using var lease = map.Use();
        var attr = new bpf_attr_map_elem
        {
            map_fd = (uint)lease.Fd,
            key = (ulong)key,
            value = (ulong)valueOrNextKey,
            flags = flags,
        };
        return Invoke(cmd, &attr, sizeof(bpf_attr_map_elem));
    }

    /// <summary>False for the one errno the caller expects; throws for any other.</summary>
    private static bool Refuse(bpf_cmd cmd, int result, BpfMapFd map, int allowed = 0)
    {
        if (allowed != 0 && result == -allowed)
            return false;
        throw new BpfSyscallException(cmd, result, map.ToString());
    }

    private static void CheckKey(BpfMapFd map, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (key.Length != map.KeySize)
            throw new ArgumentException($"{map}: key is {key.Length} bytes, the map's key_size is {map.KeySize}", nameof(key));
    }

    // bpf() copies exactly the map's user value size to or from the buffer, so any other length is refused here.
    private static void CheckValue(BpfMapFd map, int length)
    {
        if (length != map.UserValueSize)
            throw new ArgumentException($"{map}: value is {length} bytes, bpf() copies {map.UserValueSize}", "value");
    }

    private static void CopyName(string name, byte* destination, string parameter)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length >= bpf_defines.BPF_OBJ_NAME_LEN)
            throw new ArgumentException($"name '{name}' is {bytes.Length} bytes; the kernel takes at most {bpf_defines.BPF_OBJ_NAME_LEN - 1}", parameter);
        bytes.CopyTo(new Span<byte>(destination, bpf_defines.BPF_OBJ_NAME_LEN));
    }

    private static class Errno
    {
        public const int ENOENT = 2;
    }
}

/// <summary>What BPF_PROG_TEST_RUN reported: r0 (retval), the mean run time in ns, and the output packet and context.</summary>
/// <param name="DataSizeOut">The length of the output packet as the kernel reported it (DataOut holds what fitted).</param>
public sealed record BpfTestRunResult(uint Retval, uint Duration, byte[] DataOut, uint DataSizeOut, byte[] CtxOut);
