using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>The creation checks every map type shares with the kernel's map_alloc_check; failures name the map and errno.</summary>
internal static class MapChecks
{
    /// <summary>KMALLOC_MAX_SIZE-derived limit the kernel applies to keys and values of most maps.</summary>
    public const uint MaxValueSize = 1u << 20;

    public static void Require(MapDefinition definition, bool condition, string problem, int errno = Errno.EINVAL)
    {
        if (!condition)
            throw new BpfLoadException($"map '{definition.Name}' ({definition.Type}): {problem} ({ErrnoText.Name(errno)})");
    }

    public static void RequireCommon(MapDefinition definition, uint allowedFlags, bool valueRequired = true)
    {
        Require(definition, definition.MaxEntries > 0, "max_entries must be greater than 0");
        if (valueRequired)
            Require(definition, definition.ValueSize > 0, "value_size must be greater than 0");
        Require(definition, definition.ValueSize <= MaxValueSize, $"value_size {definition.ValueSize} is too large", Errno.E2BIG);
        var unknown = definition.Flags & ~allowedFlags;
        Require(definition, unknown == 0, $"map_flags 0x{unknown:x} are not valid for this map type");
    }
}
