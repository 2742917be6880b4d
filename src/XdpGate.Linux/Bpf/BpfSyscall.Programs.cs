using System.Text;
using Tmds.Linux;
using static XdpGate.Linux.Bpf.bpf_cmd;

namespace XdpGate.Linux.Bpf;

/// <summary>The program commands: load (with the verifier's log on refusal) and test run.</summary>
public static unsafe partial class BpfSyscall
{
#pragma warning disable CA1707 // kernel names kept exactly
    // log_level bits of BPF_PROG_LOAD, from include/linux/bpf_verifier.h (not uapi, though log_level takes them):
    // the instruction trace; every state too; statistics only (the verifier's reasons and a summary, no trace,
    // which makes a long verification several times faster); a log that stops when full instead of keeping its tail.
    public const uint BPF_LOG_LEVEL1 = 1;
    public const uint BPF_LOG_LEVEL2 = 2;
    public const uint BPF_LOG_STATS = 4;
    public const uint BPF_LOG_FIXED = 8;
#pragma warning restore CA1707

    private const int MaxLoadAttempts = 5;

    /// <summary>The log buffer of a failed load's second try: enough for the tail the exception quotes.</summary>
    public const int RetryLogSize = 1 << 20;

    /// <summary>
    /// BPF_PROG_LOAD of <paramref name="insns"/> (raw struct bpf_insn, 8 bytes each). When the kernel refuses and no
    /// log was asked for, the load is tried once more with log_level 1 so the exception can quote the verifier.
    /// </summary>
    /// <param name="fdArray">The descriptors that BPF_PSEUDO_MAP_IDX and BPF_PSEUDO_MAP_IDX_VALUE index, if any.</param>
    /// <param name="btf">prog_btf_fd: the type information that <paramref name="funcInfo"/> refers to.</param>
    /// <param name="funcInfo">One record per function of the program, by start instruction (needs <paramref name="btf"/>).</param>
    public static BpfProgFd ProgLoad(uint progType, ReadOnlySpan<byte> insns, string license = "GPL", string? name = null,
        uint expectedAttachType = 0, uint progFlags = 0, uint logLevel = 0, int logSize = RetryLogSize, ReadOnlySpan<int> fdArray = default,
        BpfBtfFd? btf = null, ReadOnlySpan<bpf_func_info> funcInfo = default)
    {
        ArgumentNullException.ThrowIfNull(license);
        name ??= "";
        if (insns.Length == 0 || insns.Length % BPF_INSN_SIZE != 0)
            throw new ArgumentException($"program '{name}' is {insns.Length} bytes, not a non-zero multiple of {BPF_INSN_SIZE}", nameof(insns));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(logSize);
        if (!funcInfo.IsEmpty && btf is null)
            throw new ArgumentException($"program '{name}': func_info needs the BTF it refers to", nameof(btf));

        using var btfLease = btf is null ? default : btf.Use();
        var load = new BtfArgs(btf is null ? 0 : (uint)btfLease.Fd, funcInfo);
        var result = TryProgLoad(progType, insns, license, name, expectedAttachType, progFlags, logLevel, logLevel == 0 ? 0 : logSize, fdArray, load, out var log);
        if (result >= 0)
            return new BpfProgFd(result, progType, name, log);
        if (logLevel == 0)
        {
            var retry = TryProgLoad(progType, insns, license, name, expectedAttachType, progFlags, 1, logSize, fdArray, load, out log);
            // The kernel accepted it this time (it should not, but the program is loaded): give it to the caller.
            if (retry >= 0)
                return new BpfProgFd(retry, progType, name, "");
        }
        throw new BpfSyscallException(BPF_PROG_LOAD, result,
            $"program '{name}' (prog_type {progType}, {insns.Length / BPF_INSN_SIZE} insns)", log);
    }

    private readonly ref struct BtfArgs(uint fd, ReadOnlySpan<bpf_func_info> funcInfo)
    {
        public uint Fd { get; } = fd;
        public ReadOnlySpan<bpf_func_info> FuncInfo { get; } = funcInfo;
    }

    private static int TryProgLoad(uint progType, ReadOnlySpan<byte> insns, string license, string name, uint expectedAttachType,
        uint progFlags, uint logLevel, int logSize, ReadOnlySpan<int> fdArray, BtfArgs btf, out string log)
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
            prog_btf_fd = btf.Fd,
            func_info_rec_size = btf.FuncInfo.IsEmpty ? 0 : (uint)sizeof(bpf_func_info),
            func_info_cnt = (uint)btf.FuncInfo.Length,
        };
        CopyName(name, attr.prog_name, nameof(name));
        int result;
        fixed (byte* i = insns)
        fixed (byte* l = licenseBytes)
        fixed (byte* b = logBuffer)
        fixed (int* f = fdArray)
        fixed (bpf_func_info* fi = btf.FuncInfo)
        {
            attr.func_info = btf.FuncInfo.IsEmpty ? 0 : (ulong)fi;
            attr.insns = (ulong)i;
            attr.license = (ulong)l;
            attr.log_buf = (ulong)b;
            attr.fd_array = fdArray.IsEmpty ? 0 : (ulong)f;
            // A signal during verification makes the kernel give up with EAGAIN; libbpf retries, and so do we.
            var attempts = 0;
            do
                result = Invoke(BPF_PROG_LOAD, &attr, sizeof(bpf_attr_prog_load));
            while (result == -LibC.EAGAIN && ++attempts < MaxLoadAttempts);
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
}
