using System.Buffers.Binary;
using System.Diagnostics;
using XdpGate.Bpf.Elf;
using Xunit;
using Xunit.Abstractions;
using static XdpGate.Bpf.Elf.ElfConstants;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>
/// Thousands of damaged copies of each fixture (truncations, flipped bits, bytes and words set to edge values; seeded,
/// so every failure can be replayed) must each either load or be refused with a BpfLoadException. Any other
/// exception (an index out of range, an overflow, a null) is a loader bug and fails the test, naming the variant.
/// </summary>
public sealed class MutationTests(ITestOutputHelper output)
{
    private static readonly int Variants = int.Parse(Environment.GetEnvironmentVariable("ELF_MUTATIONS") ?? "3000", System.Globalization.CultureInfo.InvariantCulture);
    // ELF_MUTATIONS and ELF_MUTATION_SEED explore further than the default run; a failure names its variant for replay.
    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("ELF_MUTATION_SEED") ?? "17", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly uint[] EdgeValues = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];

    // The CO-RE parser of the corpus too: damage to its .BTF.ext relocations and the BTF they name.
    public static TheoryData<string> Fixtures => new([.. ElfFixtures.Good, "core_missing_field.o", Path.Combine("..", "programs", "xdp_core_parse.o")]);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_damaged_copy_loads_or_is_refused_with_a_BpfLoadException(string file)
    {
        var original = ElfFixtures.Bytes(file);
        var regions = ReadRegions(original);
        var random = new Random(file.Aggregate(Seed, (seed, c) => seed * 31 + c));
        var clock = Stopwatch.StartNew();
        int loaded = 0, refused = 0;
        var failures = new List<string>();
        for (var i = 0; i < Variants; i++)
        {
            var (bytes, description) = Mutate(original, regions, random);
            try
            {
                var obj = BpfObject.Open(bytes);
                if (ElfFixtures.SmallEnoughToLoad(obj, 2))
                {
                    using var objectLoaded = obj.Load(possibleCpus: 2);
                }
                loaded++;
            }
            catch (BpfLoadException)
            {
                refused++;
            }
#pragma warning disable CA1031 // the point of the test: any other exception is a finding, reported with its variant
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures.Add($"variant {i} ({description}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        output.WriteLine($"{file}: {Variants} variants, {loaded} loaded, {refused} refused, {failures.Count} other exceptions, {clock.ElapsedMilliseconds} ms");
        Assert.True(failures.Count == 0, $"{failures.Count} variants threw something else than BpfLoadException:\n{string.Join("\n", failures.Take(5))}");
        Assert.True(refused > Variants / 10, $"only {refused} variants were refused: the mutations miss what the loader reads");
    }

    /// <summary>One damaged copy: a cut (one in ten), or one to four changes, mostly inside what the loader reads.</summary>
    private static (byte[] Bytes, string Description) Mutate(byte[] original, List<(int Start, int Length)> regions, Random random)
    {
        if (random.Next(10) == 0)
        {
            var length = random.Next(original.Length);
            return (original[..length], $"cut at {length}");
        }
        var bytes = (byte[])original.Clone();
        var changes = new List<string>();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            var (start, size) = random.Next(5) == 0 ? (0, original.Length) : regions[random.Next(regions.Count)];
            var at = start + random.Next(size);
            switch (random.Next(4))
            {
                case 0:
                    var bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    changes.Add($"bit {bit} of byte {at}");
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    changes.Add($"byte {at} = 0x{bytes[at]:x2}");
                    break;
                default:
                    // Fields are aligned little-endian words; an edge value there reaches the checks a random byte rarely does.
                    at &= ~3;
                    if (at + 4 > bytes.Length)
                        break;
                    var value = EdgeValues[random.Next(EdgeValues.Length)];
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
                    changes.Add($"u32 at {at} = 0x{value:x}");
                    break;
            }
        }
        return (bytes, string.Join(", ", changes));
    }

    /// <summary>The bytes the loader reads: the ELF header, the section headers, and the sections it parses.</summary>
    private static List<(int Start, int Length)> ReadRegions(byte[] bytes)
    {
        var elf = ElfFile.Parse(bytes.ToArray());
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x28));
        var regions = new List<(int, int)> { (0, 64), (shoff, 64 * elf.Sections.Count) };
        var parsed = new HashSet<int>(elf.Sections.Where(s => s.IsExecutable || s.Name is ".BTF" or ".BTF.ext" or ".maps" or "maps" or "license" or ".symtab" or ".strtab"
            || s.Name.StartsWith(".rodata", StringComparison.Ordinal) || s.Name.StartsWith(".data", StringComparison.Ordinal)).Select(s => s.Index));
        foreach (var relocations in elf.Relocations.Where(r => parsed.Contains(r.Target.Index) && (r.Target.IsExecutable || r.Target.Name == ".maps")))
            parsed.Add(relocations.Section.Index);
        foreach (var section in elf.Sections.Where(s => parsed.Contains(s.Index) && s.Type != SHT_NOBITS && s.Size > 0))
            regions.Add(((int)section.Header.sh_offset, (int)section.Size));
        return regions;
    }
}
