using System.CommandLine;
using System.Text.Json;
using XdpGate.Appliance.Config;
using XdpGate.Appliance.Control;

namespace XdpGate.Cli.Commands;

/// <summary>
/// The client side of the control socket: `xdpgate status`, `stats`, `map list|dump|lookup|update|delete`, `rules`,
/// `reload`. Text output follows bpftool's; -j prints JSON.
/// </summary>
internal static class ControlCommands
{
    private static Option<string> ControlOption() => new("--control") { Description = $"Control socket of the running appliance (default {ControlConfig.DefaultSocket})", DefaultValueFactory = _ => ControlConfig.DefaultSocket };

    private static Option<bool> JsonOption() => new("-j", "--json") { Description = "JSON output" };

    public static IEnumerable<Command> Build(CliIo io)
    {
        yield return Simple(io, "status", "Show what the running appliance serves: config, program, ports, workers, uptime", PrintStatus);
        yield return Simple(io, "stats", "Show the appliance's counters", PrintStats);
        yield return Simple(io, "rules", "Show the firewall rules with their packet and byte counters", PrintRules);
        yield return Simple(io, "reload", "Reload the config; on any error the running config keeps serving", (o, r) => o.WriteLine(r.GetString()));
        yield return Map(io);
    }

    private static Command Simple(CliIo io, string name, string description, Action<TextWriter, JsonElement> print)
    {
        var control = ControlOption();
        var json = JsonOption();
        var command = new Command(name, description) { control, json };
        command.SetAction(parsed => Exchange(io, parsed.GetValue(control)!, name, [], parsed.GetValue(json), print));
        return command;
    }

    private static Command Map(CliIo io)
    {
        var map = new Command("map", "Inspect and change the running program's maps, as bpftool map does");
        foreach (var (verb, description) in new[]
        {
            ("list", "List the maps"),
            ("dump", "Every entry of map NAME"),
            ("lookup", "NAME key [hex] BYTES... | key u8|u16|u32|u64 N"),
            ("update", "NAME key ... value ... [any|noexist|exist]"),
            ("delete", "NAME key ..."),
        })
        {
            var control = ControlOption();
            var json = JsonOption();
            var rest = new Argument<string[]>("ARGS") { Arity = verb == "list" ? ArgumentArity.Zero : ArgumentArity.OneOrMore, Description = description };
            var command = new Command(verb, description) { control, json };
            if (verb != "list")
                command.Arguments.Add(rest);
            command.SetAction(parsed => Exchange(io, parsed.GetValue(control)!, "map", [verb, .. parsed.GetValue(rest) ?? []], parsed.GetValue(json),
                verb switch { "list" => PrintMapList, "dump" or "lookup" => PrintEntries, _ => (o, r) => o.WriteLine(r.GetString()) }));
            map.Subcommands.Add(command);
        }
        return map;
    }

    private static int Exchange(CliIo io, string socket, string command, IReadOnlyList<string> args, bool json, Action<TextWriter, JsonElement> print)
    {
        var result = ControlClient.Request(socket, command, args);
        using var document = JsonDocument.Parse(result);
        if (json)
            io.Out.WriteLine(command == "map" && args[0] is "dump" or "lookup" ? BpftoolJson(document.RootElement) : result);
        else
            print(io.Out, document.RootElement);
        return ExitCode.Success;
    }

    private static void PrintStatus(TextWriter output, JsonElement status)
    {
        output.WriteLine($"config {status.GetProperty("config").GetString()}");
        output.WriteLine($"prog {status.GetProperty("program").GetString()}");
        output.WriteLine($"ports {string.Join(" ", status.GetProperty("ports").EnumerateArray().Select(p => p.GetString()))}");
        output.WriteLine($"workers {status.GetProperty("workers").GetInt32()}");
        output.WriteLine($"uptime {status.GetProperty("uptime").GetDouble():0.0}s");
    }

    private static void PrintStats(TextWriter output, JsonElement stats)
    {
        foreach (var counter in stats.EnumerateObject())
            output.WriteLine($"{counter.Name} {counter.Value.GetUInt64()}");
    }

    private static void PrintRules(TextWriter output, JsonElement rules)
    {
        output.WriteLine($"{"#",5}  {"packets",12}  {"bytes",14}  {"action",-6}  name: match");
        foreach (var rule in rules.EnumerateArray())
        {
            var name = rule.GetProperty("name").GetString();
            output.WriteLine($"{rule.GetProperty("index").GetInt32() + 1,5}  {rule.GetProperty("packets").GetUInt64(),12}  {rule.GetProperty("bytes").GetUInt64(),14}  {rule.GetProperty("action").GetString(),-6}  {(name is null ? "" : name + ": ")}{rule.GetProperty("match").GetString()}");
        }
    }

    private static void PrintMapList(TextWriter output, JsonElement maps)
    {
        foreach (var m in maps.EnumerateArray())
            output.WriteLine($"{m.GetProperty("name").GetString()}: {m.GetProperty("type").GetString()}  key {m.GetProperty("key_size").GetUInt32()}B  value {m.GetProperty("value_size").GetUInt32()}B  max_entries {m.GetProperty("max_entries").GetUInt32()}  flags 0x{m.GetProperty("flags").GetUInt32():x}");
    }

    /// <summary>bpftool's text: `key: 0a 00 00 01  value: 01 00 00 00`, per-CPU values one line per CPU.</summary>
    private static void PrintEntries(TextWriter output, JsonElement result)
    {
        var entries = result.ValueKind == JsonValueKind.Array ? result.EnumerateArray().ToList() : [result];
        foreach (var entry in entries)
        {
            var key = Spaced(entry.GetProperty("key").GetString()!);
            if (entry.TryGetProperty("values", out var values))
            {
                output.WriteLine($"key: {key}");
                var cpu = 0;
                foreach (var value in values.EnumerateArray())
                    output.WriteLine($"value (CPU {cpu++:00}): {Spaced(value.GetString()!)}");
            }
            else
            {
                output.WriteLine($"key: {key}  value: {Spaced(entry.GetProperty("value").GetString()!)}");
            }
        }
        if (result.ValueKind == JsonValueKind.Array)
            output.WriteLine($"Found {entries.Count} element{(entries.Count == 1 ? "" : "s")}");
    }

    /// <summary>bpftool's -j shape: bytes as arrays of "0x.." strings, per-CPU values as [{"cpu":N,"value":[...]}].</summary>
    private static string BpftoolJson(JsonElement result)
    {
        static string[] Bytes(string hex) => [.. Convert.FromHexString(hex).Select(b => $"0x{b:x2}")];
        object Entry(JsonElement e) => e.TryGetProperty("values", out var values)
            ? new { key = Bytes(e.GetProperty("key").GetString()!), values = values.EnumerateArray().Select((v, cpu) => new { cpu, value = Bytes(v.GetString()!) }) }
            : new { key = Bytes(e.GetProperty("key").GetString()!), value = Bytes(e.GetProperty("value").GetString()!) };
        return result.ValueKind == JsonValueKind.Array
            ? JsonSerializer.Serialize(result.EnumerateArray().Select(Entry))
            : JsonSerializer.Serialize(Entry(result));
    }

    private static string Spaced(string hex) => string.Join(" ", Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
}
