using System.CommandLine;
using XdpGate.Appliance.Objects;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Cli.Commands;

/// <summary>
/// `--rodata NAME=VALUE` (repeatable): sets a `volatile const` before the object loads, as a config's
/// `program.rodata` does. Afterwards `.rodata` is frozen, and the verifier folds what programs read from it.
/// </summary>
internal static class RodataOption
{
    public static Option<string[]> Create() => new("--rodata")
    {
        Description = "Set a read-only global (volatile const) before load: NAME=VALUE, an unsigned integer or hex bytes of its size; repeatable",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Opens <paramref name="path"/> and loads it (every program it runs, or the one `--prog` names) with the `--rodata` <paramref name="assignments"/>.</summary>
    public static LoadedObject Load(string path, IEnumerable<string>? assignments, int possibleCpus,
        VerificationLevel verification = VerificationLevel.Privileged, string? program = null) =>
        Load(ObjectFiles.Open(path), assignments, possibleCpus, verification, program);

    /// <summary>Loads the opened <paramref name="obj"/> with the `--rodata` <paramref name="assignments"/>.</summary>
    public static LoadedObject Load(BpfObject obj, IEnumerable<string>? assignments, int possibleCpus,
        VerificationLevel verification = VerificationLevel.Privileged, string? program = null)
    {
        try
        {
            return obj.Load(possibleCpus, RodataValues.ParseAssignments(obj, assignments ?? []), verification, program: program);
        }
        catch (FormatException e)
        {
            throw new CliInputException(e.Message);
        }
    }
}
