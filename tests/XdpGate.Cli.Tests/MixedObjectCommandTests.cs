using System.Text.Json;
using Xunit;

namespace XdpGate.Cli.Tests;

/// <summary>
/// Objects as people have them, through the commands: an XDP program beside tp_btf and tc programs
/// (xdp_mixed_sections), XDP programs in legacy sections (xdp_legacy_sections), and programs refused one by one
/// (elf/xdp_mixed_refusals). Every program is listed; what XdpGate runs loads; `--prog` takes a program or a section.
/// </summary>
public sealed class MixedObjectCommandTests : IDisposable
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");
    private static readonly string Mixed = Path.Combine(Data, "programs", "xdp_mixed_sections.o");
    private static readonly string Legacy = Path.Combine(Data, "programs", "xdp_legacy_sections.o");
    private static readonly string Refusals = Path.Combine(Data, "elf", "xdp_mixed_refusals.o");
    private const string NotRun = "XdpGate runs xdp and socket_filter programs";
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("xdpgate-mixed-");

    public void Dispose() => temp.Delete(true);

    /// <summary>Frame [<paramref name="number"/>] of a fixture's .packets file, written to a temporary file.</summary>
    private string Frame(string fixture, int number)
    {
        var lines = File.ReadAllLines(Path.Combine(Data, "programs", fixture + ".packets"));
        var at = Array.FindIndex(lines, l => l.StartsWith($"# [{number}] ", StringComparison.Ordinal));
        var path = Path.Combine(temp.FullName, $"{fixture}-{number}.bin");
        File.WriteAllBytes(path, Convert.FromHexString(lines[at + 1]));
        return path;
    }

    [Fact]
    public void Prog_show_lists_every_program_with_its_type_and_says_which_do_not_load_here()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "show", Mixed);
        Assert.Equal(0, exit);
        Assert.Contains("prog xdp_classify  section xdp  type xdp  insns ", output, StringComparison.Ordinal);
        Assert.Contains($"prog trace_exception  section tp_btf/xdp_exception  type tracing  insns 32  (not loadable here: a tracing program (section 'tp_btf/xdp_exception'); {NotRun})", output, StringComparison.Ordinal);
        Assert.Contains($"prog tc_count  section tc  type sched_cls  insns 12  (not loadable here: a sched_cls program (section 'tc'); {NotRun})", output, StringComparison.Ordinal);

        var (_, json, _) = CliRunner.Run("", "prog", "show", Mixed, "-j");
        var programs = JsonDocument.Parse(json).RootElement.GetProperty("programs").EnumerateArray()
            .Select(p => $"{p.GetProperty("name").GetString()} {p.GetProperty("type").GetString()} {p.GetProperty("loadable").GetBoolean()}");
        Assert.Equal(["xdp_classify xdp True", "trace_exception tracing False", "tc_count sched_cls False"], programs);
    }

    [Fact]
    public void Prog_show_says_legacy_sections_are_xdp_as_ip_link_and_libxdp_load_them()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "show", Legacy);
        Assert.Equal(0, exit);
        foreach (var (name, section) in new[] { ("xdp_swap_macs", "xdp_redirect_swap"), ("xdp_prog_count", "prog"), ("xdp_sock_filter", "xdp_sock") })
            Assert.Matches($@"prog {name}  section {section}  type xdp  insns \d+  \(section name libbpf does not know: xdp, as ip link and libxdp load it\)", output);
    }

    [Fact]
    public void Prog_load_loads_the_xdp_program_and_reports_the_others_unloaded()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "load", Mixed);
        Assert.Equal(0, exit);
        Assert.Equal(
        [
            $"{Mixed}: loaded 1 program(s), 2 map(s)",
            "prog xdp_classify  loaded",
            $"prog trace_exception  not loaded: a tracing program (section 'tp_btf/xdp_exception'); {NotRun}",
            $"prog tc_count  not loaded: a sched_cls program (section 'tc'); {NotRun}",
        ], output.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Prog_load_reports_each_refused_program_and_exits_1_while_its_siblings_load()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "load", Refusals);
        Assert.Equal(1, exit);
        Assert.Contains("prog pass_counted  loaded", output, StringComparison.Ordinal);
        Assert.Contains("prog reads_skb  refused: program 'reads_skb' (section 'xdp'): xdp_mixed_refusals.c:", output, StringComparison.Ordinal);
        Assert.Contains("prog samples  refused: program 'samples' (section 'xdp'): map 'events': type BPF_MAP_TYPE_PERF_EVENT_ARRAY is not supported", output, StringComparison.Ordinal);
        Assert.Contains("prog calls_kfunc  refused: program 'calls_kfunc' (section 'xdp'): ", output, StringComparison.Ordinal);
        Assert.Contains("prog trace_event  not loaded: a tracing program", output, StringComparison.Ordinal);
        Assert.Contains("map events  not created: map 'events': type BPF_MAP_TYPE_PERF_EVENT_ARRAY is not supported", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("xdp_classify")]
    [InlineData("xdp")]
    public void Prog_run_runs_the_xdp_program_of_a_mixed_object(string? name)
    {
        string[] select = name is null ? [] : ["--prog", name];
        var (exit, output, error) = CliRunner.Run("", ["prog", "run", Mixed, "--data-in", Frame("xdp_mixed_sections", 3), "-j", .. select]);
        Assert.True(exit == 0, error);
        Assert.Equal(1, JsonDocument.Parse(output).RootElement.GetProperty("retval").GetInt32());   // ARP: XDP_DROP
    }

    [Fact]
    public void Prog_run_refuses_a_program_of_a_type_it_does_not_run_naming_the_type()
    {
        var (exit, _, error) = CliRunner.Run("", "prog", "run", Mixed, "--prog", "tc_count", "--data-in", Frame("xdp_mixed_sections", 1));
        Assert.Equal(1, exit);
        Assert.Contains($"program 'tc_count': a sched_cls program (section 'tc'); {NotRun}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xdp_sock", 9, 1)]          // the section ip link's sec names: UDP to 4242 dropped
    [InlineData("xdp_sock_filter", 10, 2)]  // the program's name: UDP to 4243 passed
    [InlineData("xdp_redirect_swap", 1, 3)]
    [InlineData("prog", 3, 2)]
    public void Prog_run_takes_a_legacy_section_or_program_name(string name, int frame, int retval)
    {
        var (exit, output, error) = CliRunner.Run("", "prog", "run", Legacy, "--prog", name, "--data-in", Frame("xdp_legacy_sections", frame), "-j");
        Assert.True(exit == 0, error);
        Assert.Equal(retval, JsonDocument.Parse(output).RootElement.GetProperty("retval").GetInt32());
    }

    [Fact]
    public void Prog_run_of_a_refused_program_names_why_and_a_sibling_still_runs()
    {
        var packet = Frame("xdp_mixed_sections", 1);
        var (exit, _, error) = CliRunner.Run("", "prog", "run", Refusals, "--prog", "samples", "--data-in", packet);
        Assert.Equal(1, exit);
        Assert.Contains("program 'samples' (section 'xdp'): map 'events': type BPF_MAP_TYPE_PERF_EVENT_ARRAY is not supported", error, StringComparison.Ordinal);
        (exit, var output, error) = CliRunner.Run("", "prog", "run", Refusals, "--prog", "pass_counted", "--data-in", packet, "-j");
        Assert.True(exit == 0, error);
        Assert.Equal(2, JsonDocument.Parse(output).RootElement.GetProperty("retval").GetInt32());
    }

    [Fact]
    public void Prog_verify_verifies_what_loads_and_lists_what_does_not()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", Mixed);
        Assert.Equal(0, exit);
        Assert.Contains("xdp_classify: accepted (privileged)", output, StringComparison.Ordinal);
        Assert.Contains($"trace_exception: not verified: a tracing program (section 'tp_btf/xdp_exception'); {NotRun}", output, StringComparison.Ordinal);

        (exit, output, _) = CliRunner.Run("", "prog", "verify", Refusals);
        Assert.Equal(1, exit);
        Assert.Contains("pass_counted: accepted (privileged)", output, StringComparison.Ordinal);
        Assert.Contains("samples: refused before verification: program 'samples' (section 'xdp'): map 'events'", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Prog_verify_with_a_legacy_section_name_verifies_its_program()
    {
        var (exit, output, _) = CliRunner.Run("", "prog", "verify", Legacy, "--prog", "xdp_sock");
        Assert.Equal(0, exit);
        Assert.Contains("xdp_sock_filter: accepted (privileged)", output, StringComparison.Ordinal);
    }

    private string Config(string name)
    {
        var path = Path.Combine(temp.FullName, "mixed.yaml");
        File.WriteAllText(path, $"""
            ports:
              - name: in
                driver: synthetic
            program:
              object: {Mixed}
              name: {name}
            """);
        return path;
    }

    [Theory]
    [InlineData("xdp_classify")]
    [InlineData("xdp")]
    public void A_config_naming_the_xdp_program_of_a_mixed_object_checks_and_runs(string name)
    {
        var config = Config(name);
        var (exit, output, error) = CliRunner.Run("", "check", "--config", config);
        Assert.True(exit == 0, error);
        Assert.Contains($"prog xdp_classify  from {Mixed}", output, StringComparison.Ordinal);
        Assert.Contains($"prog trace_exception  not loaded: a tracing program (section 'tp_btf/xdp_exception'); {NotRun}", output, StringComparison.Ordinal);
        Assert.Contains($"prog tc_count  not loaded: a sched_cls program (section 'tc'); {NotRun}", output, StringComparison.Ordinal);

        (exit, output, error) = CliRunner.Run("", "run", "--config", config, "--no-control", "--duration", "1");
        Assert.True(exit == 0, error);
        Assert.Matches(@"port in \(ifindex \d+\): rx [1-9]", output);
    }

    [Fact]
    public void A_config_on_an_object_with_refused_programs_checks_and_lists_them_and_the_map_it_could_not_create_is_left_out()
    {
        var config = Path.Combine(temp.FullName, "refusals.yaml");
        File.WriteAllText(config, $"""
            ports:
              - name: in
                driver: synthetic
            program:
              object: {Refusals}
            """);
        var (exit, output, error) = CliRunner.Run("", "check", "--config", config);
        Assert.True(exit == 0, error);
        Assert.Contains($"prog pass_counted  from {Refusals}", output, StringComparison.Ordinal);
        Assert.Contains("prog samples  not loaded: refused: program 'samples' (section 'xdp'): map 'events'", output, StringComparison.Ordinal);
        Assert.Contains("map passes  type array", output, StringComparison.Ordinal);
        Assert.DoesNotContain("map events", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_naming_the_tc_program_of_a_mixed_object_is_refused_at_its_line()
    {
        var config = Config("tc_count");
        var (exit, _, error) = CliRunner.Run("", "check", "--config", config);
        Assert.Equal(1, exit);
        Assert.Contains($"{config}:6:9: error: {Mixed}: program 'tc_count' cannot run here: a sched_cls program (section 'tc'); {NotRun}", error, StringComparison.Ordinal);
    }
}
