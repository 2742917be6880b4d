using Xunit;

namespace XdpGate.Cli.Tests;

public sealed class ProgVerifyTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-verify-");

    private static string Object(string name) => Path.Combine(AppContext.BaseDirectory, "data", "programs", name + ".o");

    [Fact]
    public void Prog_verify_reports_instructions_states_and_time_for_each_program()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", Object("xdp_tailcall"));
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^xdp_dispatch: accepted \(privileged\): processed \d+ insns, peak_states \d+, total_states \d+, time [\d.]+ ms$", output);
        Assert.Equal(5, output.Split('\n').Count(l => l.Contains(": accepted (privileged)", StringComparison.Ordinal)));
    }

    [Fact]
    public void Prog_verify_v_prints_the_path_log()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", Object("xdp_l4_filter"), "--strict", "-v");
        Assert.Equal(0, exit);
        Assert.Contains("0: ", output, StringComparison.Ordinal);
        Assert.Contains("R1=ctx(off=0)", output, StringComparison.Ordinal);
        Assert.Contains(": accepted (strict)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_program_is_named_with_its_source_line_rule_and_registers()
    {
        var source = Path.Combine(temp.FullName, "unchecked.c");
        File.WriteAllText(source, """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>

            SEC("xdp")
            int unchecked(struct xdp_md *ctx)
            {
                unsigned char *data = (void *)(long)ctx->data;
                return data[14];
            }

            char _license[] SEC("license") = "GPL";
            """);
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", source);
        Assert.Equal(1, exit);
        Assert.Matches(@"unchecked: refused \(privileged, invalid-packet-access\): unchecked\.c:8:\d+: insn \d+: r0 = \*\(u8 \*\)\(r1 \+ 14\): invalid access to packet, off=14 size=1", output);
        Assert.Contains("R1=pkt(id=0,off=0,r=0)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Prog_verify_strict_refuses_a_pointer_leak_the_default_level_accepts()
    {
        var source = Path.Combine(temp.FullName, "leak.c");
        File.WriteAllText(source, """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>

            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } addrs SEC(".maps");

            SEC("xdp")
            int leak(struct xdp_md *ctx)
            {
                __u32 key = 0;
                __u64 *slot = bpf_map_lookup_elem(&addrs, &key);
                if (slot)
                    *slot = (__u64)(long)ctx;
                return XDP_PASS;
            }

            char _license[] SEC("license") = "GPL";
            """);
        Assert.Equal(0, CliRunner.Run("", "prog", "verify", source).Exit);
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", source, "--strict");
        Assert.Equal(1, exit);
        Assert.Contains("leak: refused (strict, pointer-leak)", output, StringComparison.Ordinal);
        Assert.Contains("leaks addr into map", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 0, "rodata_knob: accepted")]
    [InlineData("read_unchecked=0", 0, "rodata_knob: accepted")]
    [InlineData("read_unchecked=1", 1, "rodata_knob: refused (privileged, invalid-packet-access)")]
    [InlineData("read_unchecked=0x01000000", 1, "rodata_knob: refused (privileged, invalid-packet-access)")]
    public void A_rodata_knob_set_on_the_command_line_decides_what_the_verifier_explores(string? assignment, int status, string expected)
    {
        var knob = Path.Combine(AppContext.BaseDirectory, "data", "elf", "xdp_rodata_knob.o");
        string[] args = assignment is null ? ["prog", "verify", knob] : ["prog", "verify", knob, "--rodata", assignment];
        var (exit, output, _) = CliRunner.Run("", args);
        Assert.Equal(status, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("read_unchecked", "--rodata read_unchecked: expected NAME=VALUE")]
    [InlineData("nosuch=1", "--rodata nosuch=1: rodata variable 'nosuch' does not exist; the object's read-only globals are: read_unchecked")]
    [InlineData("read_unchecked=4294967296", "4294967296 does not fit 'read_unchecked', a 4-byte variable")]
    [InlineData("read_unchecked=zz", "'read_unchecked' needs an unsigned integer or hex bytes, not 'zz'")]
    public void A_bad_rodata_assignment_is_refused_naming_what_is_wrong(string assignment, string message)
    {
        var knob = Path.Combine(AppContext.BaseDirectory, "data", "elf", "xdp_rodata_knob.o");
        var (exit, _, error) = CliRunner.Run("", "prog", "run", knob, "--data-in", knob, "--rodata", assignment);
        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    public void Dispose() => temp.Delete(recursive: true);
}
