using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace XdpGate.Appliance.Config;

/// <summary>Typed reads of YAML nodes that report a wrong type or value at the node and return null instead of throwing.</summary>
internal sealed class YamlNodes(ConfigDiagnostics diagnostics)
{
    public ConfigDiagnostics Diagnostics { get; } = diagnostics;

    /// <summary>The mapping's entries by key; unknown keys and duplicates are reported.</summary>
    public Dictionary<string, YamlNode>? Mapping(YamlNode node, string what, IReadOnlyCollection<string> keys)
    {
        if (node is not YamlMappingNode mapping)
        {
            Diagnostics.Error(node, $"{what} must be a mapping of keys ({string.Join(", ", keys)})");
            return null;
        }
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!keys.Contains(key))
                Diagnostics.Error(keyNode, $"unknown key '{key}' in {what} (known: {string.Join(", ", keys)})");
            else if (!result.TryAdd(key, value))
                Diagnostics.Error(keyNode, $"duplicate key '{key}' in {what}");
        }
        return result;
    }

    public string? String(YamlNode node, string what)
    {
        if (node is YamlScalarNode scalar && scalar.Value is { Length: > 0 } text)
            return text;
        Diagnostics.Error(node, $"{what} must be a non-empty string");
        return null;
    }

    public int? Int(YamlNode node, string what, int min, int max)
    {
        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            if (value >= min && value <= max)
                return value;
            Diagnostics.Error(node, $"{what} must be {min}..{max}, not {value}");
            return null;
        }
        Diagnostics.Error(node, $"{what} must be an integer {min}..{max}");
        return null;
    }

    public T? Enum<T>(YamlNode node, string what, IReadOnlyDictionary<string, T> names) where T : struct
    {
        if (node is YamlScalarNode { Value: { } text } && names.TryGetValue(text, out var value))
            return value;
        Diagnostics.Error(node, $"{what} must be one of {string.Join(", ", names.Keys)}");
        return null;
    }

    /// <summary>A sequence's items, or a lone scalar as a one-item list (so `dport: 80` and `dport: [80, 443]` both read).</summary>
    public IReadOnlyList<YamlNode>? Items(YamlNode node, string what)
    {
        switch (node)
        {
            case YamlSequenceNode sequence when sequence.Children.Count > 0:
                return [.. sequence.Children];
            case YamlSequenceNode:
                Diagnostics.Error(node, $"{what} is an empty list (leave the key out to match everything)");
                return null;
            case YamlScalarNode:
                return [node];
            default:
                Diagnostics.Error(node, $"{what} must be a value or a list of values");
                return null;
        }
    }
}
