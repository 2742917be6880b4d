using System.Text.Json;
using Xunit;
using XdpGate.Appliance.Control;

namespace XdpGate.Appliance.Tests.Control;

public sealed class ControlRequestTests : IDisposable
{
    private readonly FirewallAppliance appliance = new();
    private readonly ControlRequestHandler handler;

    public ControlRequestTests() => handler = new ControlRequestHandler(appliance.Appliance);

    private JsonElement Ok(string request)
    {
        using var document = JsonDocument.Parse(handler.Handle(request));
        Assert.True(document.RootElement.GetProperty("ok").GetBoolean(), document.RootElement.GetRawText());
        return document.RootElement.GetProperty("result").Clone();
    }

    private string Refused(string request)
    {
        using var document = JsonDocument.Parse(handler.Handle(request));
        Assert.False(document.RootElement.GetProperty("ok").GetBoolean());
        return document.RootElement.GetProperty("error").GetString()!;
    }

    private static string Map(params string[] args) => JsonSerializer.Serialize(new { cmd = "map", args });

    public static TheoryData<string, string> Garbage() => new()
    {
        { "", "" },
        { "not json", "" },
        { "[]", "a request is a JSON object with a string \"cmd\"" },
        { "{}", "a request is a JSON object with a string \"cmd\"" },
        { "{\"cmd\":5}", "a request is a JSON object with a string \"cmd\"" },
        { "{\"cmd\":\"reboot\"}", "unknown command 'reboot' (status, stats, rules, reload, map)" },
        { "{\"cmd\":\"map\",\"args\":[1]}", "\"args\" must be an array of strings" },
        { "{\"cmd\":\"map\",\"args\":\"dump\"}", "\"args\" must be an array of strings" },
        { "{\"cmd\":\"map\"}", "map: expected list, dump, lookup, update or delete" },
        { "{\"cmd\":\"map\",\"args\":[\"dump\"]}", "map dump: expected a map name" },
        { "{\"cmd\":\"map\",\"args\":[\"frob\",\"fw_actions\"]}", "map: unknown verb 'frob' (list, dump, lookup, update, delete)" },
        { "{\"cmd\":\"map\",\"args\":[\"lookup\",\"fw_actions\"]}", "expected 'key' at argument 3" },
        { "{\"cmd\":\"map\",\"args\":[\"lookup\",\"fw_actions\",\"key\",\"hex\",\"zz\"]}", "key: 'zz' is not a byte in hex" },
        { "{\"cmd\":\"map\",\"args\":[\"lookup\",\"fw_actions\",\"key\",\"300\",\"0\",\"0\",\"0\"]}", "key: '300' is not a byte (0..255, or 0x00..0xff)" },
        { "{\"cmd\":\"map\",\"args\":[\"lookup\",\"fw_actions\",\"key\",\"1\",\"0\"]}", "key is 2 bytes; map 'fw_actions' has key_size 4" },
        { "{\"cmd\":\"map\",\"args\":[\"lookup\",\"fw_actions\",\"key\",\"u16\",\"70000\"]}", "key u16: expected an unsigned number that fits 2 byte(s)" },
        { "{\"cmd\":\"map\",\"args\":[\"update\",\"fw_actions\",\"key\",\"u32\",\"0\",\"value\",\"u32\",\"1\",\"sometimes\"]}", "'sometimes' is not an update flag (any, noexist, exist)" },
        { "{\"cmd\":\"map\",\"args\":[\"dump\",\"nope\"]}", "no map named 'nope'" },
        { new string('[', 5000), "" },
        { "{\"cmd\":\"status\"", "" },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void A_malformed_request_gets_an_error_response_naming_the_problem(string request, string expected)
    {
        var error = Refused(request);

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.Equal(appliance.ConfigPath, Ok("{\"cmd\":\"status\"}").GetProperty("config").GetString());
    }

    [Fact]
    public void Map_list_names_every_map_with_its_shape()
    {
        var maps = Ok(Map("list")).EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);

        Assert.Equal("lpm_trie", maps["fw_src4"].GetProperty("type").GetString());
        Assert.Equal(65536u, maps["fw_actions"].GetProperty("max_entries").GetUInt32());
        Assert.True(maps["fw_rule_counts"].GetProperty("percpu").GetBoolean());
    }

    [Fact]
    public void Lookup_update_and_delete_work_with_hex_decimal_and_typed_keys()
    {
        Assert.Equal("ff000000", Ok(Map("lookup", "fw_actions", "key", "u32", "0")).GetProperty("value").GetString());
        Assert.Equal("01000000", Ok(Map("lookup", "fw_actions", "key", "hex", "01", "00", "00", "00")).GetProperty("value").GetString());

        Assert.Equal("updated", Ok(Map("update", "fw_actions", "key", "1", "0", "0", "0", "value", "0x02", "0", "0", "0", "exist")).GetString());
        Assert.Equal("02000000", Ok(Map("lookup", "fw_actions", "key", "u32", "1")).GetProperty("value").GetString());

        Assert.Equal("map 'fw_ingress': ENOENT", Refused(Map("lookup", "fw_ingress", "key", "u32", "9")));
        Assert.Equal("updated", Ok(Map("update", "fw_ingress", "key", "u32", "9", "value", "u32", "3", "noexist")).GetString());
        Assert.Equal("map 'fw_ingress': EEXIST", Refused(Map("update", "fw_ingress", "key", "u32", "9", "value", "u32", "3", "noexist")));
        Assert.Equal("deleted", Ok(Map("delete", "fw_ingress", "key", "u32", "9")).GetString());
        Assert.Equal("map 'fw_actions': EINVAL", Refused(Map("delete", "fw_actions", "key", "u32", "1")));
    }

    [Fact]
    public void Per_cpu_values_come_one_per_cpu_and_rules_carry_their_counters()
    {
        var entry = Ok(Map("lookup", "fw_rule_counts", "key", "u32", "0"));
        Assert.Equal("02000000000000005400000000000000", entry.GetProperty("values")[0].GetString());

        var rules = Ok("{\"cmd\":\"rules\"}").EnumerateArray().ToList();
        Assert.Equal(("udp-seen", "count", "protocol 17", 2UL), (rules[0].GetProperty("name").GetString(), rules[0].GetProperty("action").GetString(), rules[0].GetProperty("match").GetString(), rules[0].GetProperty("packets").GetUInt64()));
        Assert.Equal(("dns", 1UL), (rules[1].GetProperty("name").GetString(), rules[1].GetProperty("packets").GetUInt64()));
        Assert.Equal(1UL, Ok("{\"cmd\":\"stats\"}").GetProperty("firewall.default.packets").GetUInt64());
    }

    [Fact]
    public void Map_dump_lists_every_entry()
    {
        var entries = Ok(Map("dump", "fw_src4")).EnumerateArray().ToList();

        Assert.Equal("0000000000000000", entries.Single().GetProperty("key").GetString());
    }

    [Fact]
    public void A_failed_reload_is_reported_and_a_good_one_confirmed()
    {
        appliance.BreakConfig();
        Assert.StartsWith($"reload failed, the running config keeps serving: {appliance.ConfigPath}:1:1: error: unknown key 'prots'", Refused("{\"cmd\":\"reload\"}"), StringComparison.Ordinal);

        appliance.RestoreConfig();
        Assert.Equal("reloaded", Ok("{\"cmd\":\"reload\"}").GetString());
        Assert.Equal(2, appliance.Appliance.Version);
    }

    public void Dispose() => appliance.Dispose();
}
