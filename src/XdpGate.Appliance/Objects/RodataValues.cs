using System.Buffers.Binary;
using System.Globalization;
using XdpGate.Appliance.MapData;
using XdpGate.Bpf;
using XdpGate.Bpf.Elf;

namespace XdpGate.Appliance.Objects;

/// <summary>Values for an object's read-only globals as users write them, in configs (`program.rodata`) and on the command line (`--rodata`).</summary>
public static class RodataValues
{
    /// <summary>An unsigned integer stored little-endian in the variable's size, or hex bytes of exactly its size.</summary>
    /// <exception cref="FormatException">The text is neither; the message names the variable.</exception>
    public static byte[] Parse(string text, ObjectVariable variable)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(variable);
        var bytes = new byte[variable.Size];
        if (ulong.TryParse(text, CultureInfo.InvariantCulture, out var number) && variable.Size <= 8)
        {
            if (variable.Size < 8 && number >> (variable.Size * 8) != 0)
                throw new FormatException($"{number} does not fit '{variable.Name}', a {variable.Size}-byte variable");
            Span<byte> all = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(all, number);
            all[..variable.Size].CopyTo(bytes);
            return bytes;
        }
        byte[] hex;
        try
        {
            hex = HexBytes.Parse(text, $"'{variable.Name}'");
        }
        catch (FormatException)
        {
            throw new FormatException($"'{variable.Name}' needs an unsigned integer or hex bytes, not '{text}'");
        }
        return hex.Length == variable.Size ? hex : throw new FormatException($"'{variable.Name}' is {variable.Size} bytes; the value has {hex.Length}");
    }

    /// <summary>A `--rodata NAME=VALUE` assignment's name and value.</summary>
    /// <exception cref="FormatException">It has no name, or no '='.</exception>
    public static (string Name, string Value) Split(string assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
            throw new FormatException($"--rodata {assignment}: expected NAME=VALUE");
        return (assignment[..equals], assignment[(equals + 1)..]);
    }

    /// <summary>`NAME=VALUE` assignments to <paramref name="obj"/>'s read-only globals, for <see cref="BpfObject.Load"/>.</summary>
    /// <exception cref="FormatException">An assignment is malformed, names no read-only global, or its value does not fit.</exception>
    public static Dictionary<string, byte[]> ParseAssignments(BpfObject obj, IEnumerable<string> assignments)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(assignments);
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var (name, value) = Split(assignment);
            try
            {
                values[name] = Parse(value, obj.RodataVariable(name));
            }
            catch (BpfLoadException e)
            {
                throw new FormatException($"--rodata {assignment}: {e.Message}", e);
            }
        }
        return values;
    }
}
