using System.Buffers.Binary;
using Xunit;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Linux.Tests.Bpf;

/// <summary>
/// The wrappers against the running kernel. Programs are raw instruction bytes here (this layer does not know
/// eBPF); without root or with bpf() refused, each test is reported skipped with the reason.
/// </summary>
public sealed class BpfSyscallTests
{
    private const uint BPF_MAP_TYPE_HASH = 1;
    private const uint BPF_MAP_TYPE_ARRAY = 2;
    private const uint BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    private const uint BPF_PROG_TYPE_XDP = 6;

    private static readonly Lazy<string?> Unavailable = new(BpfSyscall.WhyUnavailable);

    private static void RequireKernel() => Skip.If(Unavailable.Value is not null, Unavailable.Value);

    // r0 = 2 (mov64 imm: b7); exit (95)
    private static readonly byte[] ReturnPass = [0xb7, 0x00, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    [SkippableFact]
    public void Hash_map_updates_looks_up_walks_and_deletes()
    {
        RequireKernel();
        using var map = BpfSyscall.MapCreate(BPF_MAP_TYPE_HASH, 4, 8, 16, name: "t_hash");
        Assert.True(map.Fd >= 0);
        var value = new byte[8];
        Assert.False(BpfSyscall.MapLookup(map, U32(1), value));
        Assert.False(BpfSyscall.MapGetNextKey(map, [], new byte[4]));

        for (uint k = 1; k <= 3; k++)
            BpfSyscall.MapUpdate(map, U32(k), BitConverter.GetBytes((ulong)k * 100));
        Assert.True(BpfSyscall.MapLookup(map, U32(2), value));
        Assert.Equal(200UL, BitConverter.ToUInt64(value));

        var entries = BpfSyscall.MapEntries(map);
        Assert.Equal([1u, 2u, 3u], entries.Select(e => BitConverter.ToUInt32(e.Key)).Order());
        Assert.All(entries, e => Assert.Equal(BitConverter.ToUInt32(e.Key) * 100UL, BitConverter.ToUInt64(e.Value)));

        var duplicate = Assert.Throws<BpfSyscallException>(() => BpfSyscall.MapUpdate(map, U32(1), new byte[8], bpf_defines.BPF_NOEXIST));
        Assert.Equal(17, duplicate.Errno);
        Assert.StartsWith("BPF_MAP_UPDATE_ELEM: EEXIST (File exists): map 't_hash'", duplicate.Message, StringComparison.Ordinal);

        Assert.True(BpfSyscall.MapDelete(map, U32(2)));
        Assert.False(BpfSyscall.MapDelete(map, U32(2)));
        Assert.Equal(2, BpfSyscall.MapEntries(map).Count);
    }

    [SkippableFact]
    public void Per_cpu_values_have_one_8_byte_aligned_slot_per_possible_cpu()
    {
        RequireKernel();
        using var map = BpfSyscall.MapCreate(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2, name: "t_percpu");
        Assert.Equal(8 * PossibleCpus.Count, map.UserValueSize);
        var value = new byte[map.UserValueSize];
        for (var cpu = 0; cpu < PossibleCpus.Count; cpu++)
            value[cpu * 8] = (byte)(cpu + 1);
        BpfSyscall.MapUpdate(map, U32(1), value);
        var back = new byte[map.UserValueSize];
        Assert.True(BpfSyscall.MapLookup(map, U32(1), back));
        Assert.Equal(value, back);
        Assert.Throws<ArgumentException>(() => BpfSyscall.MapLookup(map, U32(1), new byte[4]));
    }

    [SkippableFact]
    public void Map_create_errors_name_the_command_the_errno_and_the_map()
    {
        RequireKernel();
        var e = Assert.Throws<BpfSyscallException>(() => BpfSyscall.MapCreate(BPF_MAP_TYPE_ARRAY, 3, 4, 1, name: "bad_key"));
        Assert.Equal(bpf_cmd.BPF_MAP_CREATE, e.Command);
        Assert.Equal("BPF_MAP_CREATE: EINVAL (Invalid argument): map 'bad_key' type 2 key_size 3 value_size 4 max_entries 1 map_flags 0x0", e.Message);
        Assert.Throws<ArgumentException>(() => BpfSyscall.MapCreate(BPF_MAP_TYPE_ARRAY, 4, 4, 1, name: "sixteen_chars_xx"));
    }

    [SkippableFact]
    public void Loaded_program_runs_in_test_run_and_returns_r0_and_the_packet()
    {
        RequireKernel();
        using var prog = BpfSyscall.ProgLoad(BPF_PROG_TYPE_XDP, ReturnPass, name: "t_pass");
        var packet = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var run = BpfSyscall.ProgTestRun(prog, packet, packet.Length + 256, repeat: 3);
        Assert.Equal(2u, run.Retval);
        Assert.Equal(packet, run.DataOut);
        Assert.Equal((uint)packet.Length, run.DataSizeOut);
    }

    [SkippableFact]
    public void Test_run_with_too_small_an_output_buffer_is_ENOSPC()
    {
        RequireKernel();
        using var prog = BpfSyscall.ProgLoad(BPF_PROG_TYPE_XDP, ReturnPass, name: "t_nospace");
        var e = Assert.Throws<BpfSyscallException>(() => BpfSyscall.ProgTestRun(prog, new byte[64], 16));
        Assert.Equal(28, e.Errno);
        Assert.Contains("kernel wants 64", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Refused_program_throws_with_the_verifier_log_tail()
    {
        RequireKernel();
        // r0 = r5 (uninitialized); exit
        byte[] readsUninitialized = [0xbf, 0x50, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
        var e = Assert.Throws<BpfSyscallException>(() => BpfSyscall.ProgLoad(BPF_PROG_TYPE_XDP, readsUninitialized, name: "t_bad"));
        Assert.Equal(13, e.Errno);
        Assert.StartsWith("BPF_PROG_LOAD: EACCES (Permission denied): program 't_bad' (prog_type 6, 2 insns):", e.Message, StringComparison.Ordinal);
        Assert.Contains("R5 !read_ok", e.VerifierLog, StringComparison.Ordinal);
        Assert.Contains("R5 !read_ok", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Log_asked_for_at_load_comes_back_on_success()
    {
        RequireKernel();
        using var prog = BpfSyscall.ProgLoad(BPF_PROG_TYPE_XDP, ReturnPass, name: "t_log", logLevel: 1);
        Assert.Contains("processed 2 insns", prog.VerifierLog, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Disposing_closes_the_descriptor()
    {
        RequireKernel();
        var map = BpfSyscall.MapCreate(BPF_MAP_TYPE_ARRAY, 4, 4, 1, name: "t_close");
        var link = $"/proc/self/fd/{map.Fd}";
        Assert.Equal("anon_inode:bpf-map", new FileInfo(link).LinkTarget);
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.Fd);
        // The number may be reused at once by another thread's open, but not by another map of ours.
        Assert.NotEqual("anon_inode:bpf-map", File.Exists(link) ? new FileInfo(link).LinkTarget : null);
    }

    [Fact]
    public void Errno_text_has_name_and_message()
    {
        Assert.Equal("EACCES (Permission denied)", ErrnoText.Describe(13));
        Assert.Equal("EINVAL (Invalid argument)", ErrnoText.Describe(-22));
        Assert.StartsWith("ENOTSUPP (", ErrnoText.Describe(524), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1\n", 2)]
    [InlineData("0-3,6,8-9", 7)]
    public void Possible_cpu_lists_are_counted(string list, int count) => Assert.Equal(count, PossibleCpus.Parse(list));

    [Fact]
    public void Malformed_cpu_lists_are_refused() => Assert.Throws<FormatException>(() => PossibleCpus.Parse("3-1"));

    /// <summary>A BTF blob of one type, INT 'int' (4 bytes, signed, 32 bits), built by hand.</summary>
    private static byte[] IntBtf(uint bits = 32)
    {
        byte[] strings = [0, (byte)'i', (byte)'n', (byte)'t', 0];
        var blob = new byte[24 + 16 + strings.Length];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, 0xeb9f);
        span[2] = 1;                                          // version
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 24); // hdr_len
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0);  // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], 16); // type_len
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 16); // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)strings.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], 1);       // name_off "int"
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], 1u << 24); // info: BTF_KIND_INT
        BinaryPrimitives.WriteUInt32LittleEndian(span[32..], 4);       // size
        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], (1u << 24) | bits); // BTF_INT_SIGNED, nr_bits
        strings.CopyTo(span[40..]);
        return blob;
    }

    [SkippableFact]
    public void Btf_of_one_int_loads()
    {
        RequireKernel();
        using var btf = BpfSyscall.BtfLoad(IntBtf());
        Assert.True(btf.Fd >= 0);
        Assert.Equal(45, btf.Size);
    }

    [SkippableFact]
    public void Btf_the_kernel_refuses_is_reported_with_its_log()
    {
        RequireKernel();
        // An int of 33 bits does not fit its 4 bytes.
        var e = Assert.Throws<BpfSyscallException>(() => BpfSyscall.BtfLoad(IntBtf(33)));
        Assert.Equal(bpf_cmd.BPF_BTF_LOAD, e.Command);
        Assert.Equal(22, e.Errno);
        Assert.NotEmpty(e.VerifierLog);
    }

    [Fact]
    public void Func_info_without_btf_is_refused_before_the_kernel_sees_it()
    {
        var e = Assert.Throws<ArgumentException>(() => BpfSyscall.ProgLoad(BPF_PROG_TYPE_XDP, ReturnPass, name: "t", funcInfo: new bpf_func_info[1]));
        Assert.Equal("btf", e.ParamName);
    }
}
