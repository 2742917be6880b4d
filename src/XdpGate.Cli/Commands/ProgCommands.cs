using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text;
using XdpGate.Appliance.MapData;
using XdpGate.Appliance.Objects;
using XdpGate.Appliance.PcapFiles;
using XdpGate.Appliance.ProgramTools;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Uapi;

namespace XdpGate.Cli.Commands;

/// <summary>`xdpgate prog load|show|dump|run|replay|verify OBJ`: bpftool's prog commands over clang objects (or C source).</summary>
internal static class ProgCommands
{
    public static Command Build(CliIo io)
    {
        var prog = new Command("prog", "Load, inspect and run programs from clang-compiled objects (or C source)");
        prog.Subcommands.Add(Load(io));
        prog.Subcommands.Add(Show(io));
        prog.Subcommands.Add(Dump(io));
        prog.Subcommands.Add(Run(io));
        prog.Subcommands.Add(Replay(io));
        prog.Subcommands.Add(ProgVerifyCommand.Build(io));
        return prog;
    }

    private static Argument<string> ObjectArgument() => new("OBJ") { Description = "Object file (clang -O2 -g -target bpf), or a .c file to compile" };

    private static Option<string?> ProgramOption() => new("--prog")
    {
        Description = "Program (C function) name, or a section name as ip link's sec takes it; it must load (siblings load when they can). Default: the first program XdpGate runs",
    };

    private static Option<bool> JsonOption() => new("-j", "--json") { Description = "JSON output" };

    private static Option<string?> MapsInitOption() => new("--maps-init") { Description = "JSON map contents to set before the first run: {\"MAP\":[{\"key\":\"HEX\",\"value\":\"HEX\"},{\"key\":\"HEX\",\"prog\":\"NAME\"}]}" };

    private static Command Load(CliIo io)
    {
        var obj = ObjectArgument();
        var name = ProgramOption();
        var command = new Command("load", "Open, link and load the programs XdpGate runs and every map; report each program (exit 1 if any is refused)") { obj, name };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(obj)!;
            using var loaded = ObjectFiles.Open(path).Load(Environment.ProcessorCount, program: parsed.GetValue(name));
            io.Out.WriteLine($"{path}: loaded {loaded.Programs.Count} program(s), {loaded.Maps.Count} map(s)");
            foreach (var p in loaded.Object.Programs)
            {
                if (loaded.Programs.ContainsKey(p.Name))
                    io.Out.WriteLine($"prog {p.Name}  loaded");
                else if (loaded.Refused.TryGetValue(p.Name, out var refusal))
                    io.Out.WriteLine($"prog {p.Name}  refused: {refusal}");
                else
                    io.Out.WriteLine($"prog {p.Name}  not loaded: {loaded.Unloaded[p.Name]}");
            }
            foreach (var (map, why) in loaded.MapsNotCreated)
                io.Out.WriteLine($"map {map}  not created: {why}");
            return loaded.Refused.Count == 0 ? ExitCode.Success : ExitCode.Failure;
        });
        return command;
    }

    private static Command Show(CliIo io)
    {
        var obj = ObjectArgument();
        var json = JsonOption();
        var command = new Command("show", "List the object's programs and maps") { obj, json };
        command.SetAction(parsed =>
        {
            var o = ObjectFiles.Open(parsed.GetValue(obj)!);
            if (parsed.GetValue(json))
            {
                WriteJson(io, writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("license", o.License);
                    writer.WriteStartArray("programs");
                    foreach (var p in o.Programs)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("name", p.Name);
                        writer.WriteString("section", p.Section);
                        writer.WriteString("type", ObjectProgram.TypeName(p.Type));
                        writer.WriteNumber("insns", p.InstructionCount);
                        writer.WriteBoolean("loadable", p.NotLoadable is null);
                        if (p.NotLoadable is { } why)
                            writer.WriteString("not_loadable", why);
                        if (!p.SectionKnown)
                            writer.WriteString("note", LegacySectionNote);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteStartArray("maps");
                    foreach (var m in o.Maps)
                    {
                        var d = m.Definition;
                        writer.WriteStartObject();
                        writer.WriteString("name", d.Name);
                        writer.WriteString("type", MapTypeName(d.Type));
                        writer.WriteNumber("key_size", d.KeySize);
                        writer.WriteNumber("value_size", d.ValueSize);
                        writer.WriteNumber("max_entries", d.MaxEntries);
                        writer.WriteNumber("flags", d.Flags);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                });
                return ExitCode.Success;
            }
            foreach (var p in o.Programs)
            {
                var note = p.NotLoadable is { } why ? $"  (not loadable here: {why})" : p.SectionKnown ? "" : $"  ({LegacySectionNote})";
                io.Out.WriteLine($"prog {p.Name}  section {p.Section}  type {ObjectProgram.TypeName(p.Type)}  insns {p.InstructionCount}{note}");
            }
            foreach (var m in o.Maps)
            {
                var d = m.Definition;
                io.Out.WriteLine($"map {d.Name}  type {MapTypeName(d.Type)}  key {d.KeySize}B  value {d.ValueSize}B  max_entries {d.MaxEntries}  flags 0x{d.Flags:x}");
            }
            io.Out.WriteLine($"license \"{o.License}\"");
            return ExitCode.Success;
        });
        return command;
    }

    private static Command Dump(CliIo io)
    {
        var obj = ObjectArgument();
        var name = ProgramOption();
        var command = new Command("dump", "Disassemble programs with their C source lines interleaved") { obj, name };
        command.SetAction(parsed =>
        {
            var o = ObjectFiles.Open(parsed.GetValue(obj)!);
            var selected = parsed.GetValue(name) is { } wanted
                ? o.Programs.Where(p => p.Name == wanted).ToArray() is { Length: > 0 } found ? found
                    : throw new CliInputException($"no program named '{wanted}' (programs: {string.Join(", ", o.Programs.Select(p => p.Name))})")
                : o.Programs.ToArray();
            foreach (var program in selected)
                io.Out.Write(Listing(program));
            return ExitCode.Success;
        });
        return command;
    }

    private static string Listing(ObjectProgram program) =>
        $"{program.Name}:  (section {program.Section}, {program.InstructionCount} insns)\n"
        + SourceListing.Format(program.Instructions.ToArray(), program.LineInfo) + "\n";

    private static Command Run(CliIo io)
    {
        var obj = ObjectArgument();
        var name = ProgramOption();
        var dataIn = new Option<string>("--data-in") { Description = "The packet: a file of raw bytes", Required = true };
        var dataOut = new Option<string?>("--data-out") { Description = "Write data_meta..data_end after the run to this file" };
        var repeat = new Option<int>("--repeat") { Description = "Runs on the same frame; the duration is their average, timed after a warm-up on a second load of the object", DefaultValueFactory = _ => 1 };
        var engine = EngineOption.Create();
        var mapsInit = MapsInitOption();
        var rodata = RodataOption.Create();
        var json = JsonOption();
        var command = new Command("run", "Run a program on one packet, like bpftool prog run") { obj, name, dataIn, dataOut, repeat, engine, mapsInit, rodata, json };
        command.SetAction(parsed =>
        {
            var executionEngine = EngineOption.Parse(parsed.GetValue(engine));
            if (parsed.GetValue(repeat) < 1)
                throw new CliInputException("--repeat must be at least 1");
            var source = ObjectFiles.Open(parsed.GetValue(obj)!);
            LoadedObject Load()
            {
                var loaded = RodataOption.Load(source, parsed.GetValue(rodata), Environment.ProcessorCount, program: parsed.GetValue(name));
                try
                {
                    ApplyMapsInit(loaded, parsed.GetValue(mapsInit));
                    return loaded;
                }
                catch
                {
                    loaded.Dispose();
                    throw;
                }
            }
            using var loaded = Load();
            var program = ObjectFiles.Select(loaded, parsed.GetValue(name));
            // Repeated runs are timed warm, after a warm-up on a second load whose maps the measured runs never see.
            using var twin = parsed.GetValue(repeat) > 1 ? Load() : null;
            using var vm = new BpfVm();
            vm.Trace = io.Error.WriteLine;
            var result = TestRun.Run(vm, program, InputFiles.ReadBytes(parsed.GetValue(dataIn)!), parsed.GetValue(repeat), executionEngine,
                twin is null ? null : ObjectFiles.Select(twin, parsed.GetValue(name)));
            if (result.Fault.Reason != FaultReason.None)
                io.Error.WriteLine($"fault: {Describe(program, result.Fault)}");
            if (parsed.GetValue(dataOut) is { } outPath)
                File.WriteAllBytes(outPath, result.DataOut);
            var duration = (long)Math.Round(result.AverageNanoseconds);
            if (parsed.GetValue(json))
            {
                WriteJson(io, writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("retval", result.ReturnValue);
                    writer.WriteNumber("duration", duration);
                    writer.WriteString("data_out", HexBytes.Format(result.DataOut));
                    writer.WriteEndObject();
                });
            }
            else
            {
                // The first run compiles and warms what it calls (tens to hundreds of microseconds), so alone it says little.
                var note = parsed.GetValue(repeat) == 1 ? " (one run, first-call costs included; --repeat 100000 for a steady figure)" : "";
                io.Out.WriteLine($"Return value: {result.ReturnValue}, duration (average): {duration}ns{note}");
            }
            return ExitCode.Success;
        });
        return command;
    }

    private static Command Replay(CliIo io)
    {
        var obj = ObjectArgument();
        var name = ProgramOption();
        var pcap = new Option<string>("--pcap") { Description = "Packets to run, in order (pcap)", Required = true };
        var outPcap = new Option<string?>("--out-pcap") { Description = "Write the packets the program transmits (XDP_TX, XDP_REDIRECT) here" };
        var engine = EngineOption.Create();
        var mapsInit = MapsInitOption();
        var rodata = RodataOption.Create();
        var json = JsonOption();
        var command = new Command("replay", "Run a program over every packet of a capture, keeping map state; print results and final maps as JSON")
            { obj, name, pcap, outPcap, engine, mapsInit, rodata, json };
        command.SetAction(async (parsed, cancellation) =>
        {
            var executionEngine = EngineOption.Parse(parsed.GetValue(engine));
            using var loaded = RodataOption.Load(parsed.GetValue(obj)!, parsed.GetValue(rodata), Environment.ProcessorCount, program: parsed.GetValue(name));
            ApplyMapsInit(loaded, parsed.GetValue(mapsInit));
            var program = ObjectFiles.Select(loaded, parsed.GetValue(name));
            var inputPath = parsed.GetValue(pcap)!;
            await using var input = File.OpenRead(InputFiles.Require(inputPath));
            await using var output = parsed.GetValue(outPcap) is { } outPath ? File.Create(outPath) : null;
            using var writer = output is null ? null : new PcapWriter(output);
            using var vm = new BpfVm();
            vm.Trace = io.Error.WriteLine;
            var packets = await PcapReplay.RunAsync(vm, program, input, inputPath, writer, executionEngine, cancellation).ConfigureAwait(false);
            foreach (var packet in packets.Where(p => p.Fault.Reason != FaultReason.None))
                io.Error.WriteLine($"packet {packet.Index}: fault: {Describe(program, packet.Fault)}");
            WriteJson(io, json =>
            {
                json.WriteStartObject();
                json.WriteStartArray("packets");
                foreach (var packet in packets)
                {
                    json.WriteStartObject();
                    json.WriteNumber("retval", packet.ReturnValue);
                    json.WriteString("data_out", HexBytes.Format(packet.DataOut));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WritePropertyName("maps");
                MapsJson.Write(json, loaded.Object.Maps.Where(m => loaded.Maps.ContainsKey(m.Name)).Select(m => loaded.Maps[m.Name]));
                json.WriteEndObject();
            });
            return ExitCode.Success;
        });
        return command;
    }

    private static void ApplyMapsInit(LoadedObject loaded, string? path)
    {
        if (path is null)
            return;
        try
        {
            MapsInit.Apply(File.ReadAllText(InputFiles.Require(path)), path, loaded.Maps, loaded.Programs);
        }
        catch (FormatException e)
        {
            throw new CliInputException(e.Message);
        }
    }

    /// <summary>A fault with its C source line when the object carries line info.</summary>
    private static string Describe(BpfProgram program, Fault fault) =>
        program.LineAt(fault.Pc) is { } line ? $"{line.Location}: {fault}" : fault.ToString();

    private static void WriteJson(CliIo io, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            write(writer);
        io.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private const string LegacySectionNote = "section name libbpf does not know: xdp, as ip link and libxdp load it";

    private static string MapTypeName(Uapi.bpf_map_type type) => type.ToString()["BPF_MAP_TYPE_".Length..].ToLowerInvariant();
}
