using System.Text;

namespace XdpGate.Testing.Programs;

/// <summary>
/// A generated XDP program of straight-line branchy code, for the verifier's cost: after one bounds check of 64
/// packet bytes, blocks that each read a packet byte and branch on it, with the two sides leaving different values in
/// registers that only reach the return value. Every path is a different state, so without pruning the paths double
/// with every block. Shared by the tests and the benchmarks.
/// </summary>
public static class BranchyProgram
{
    public static string Source(int instructions, int seed = 4000)
    {
        var random = new Random(seed);
        var text = new StringBuilder("""
            r6 = r1
            r2 = *(u32 *)(r6 + 0)
            r3 = *(u32 *)(r6 + 4)
            r4 = r2
            r4 += 64
            if r4 > r3 goto out
            r7 = 0
            r8 = 0

            """);
        var count = 8;
        while (count < instructions - 8)
        {
            var offset = random.Next(64);
            var bound = random.Next(256);
            text.Append($"r5 = *(u8 *)(r2 + {offset})\n");
            if (random.Next(2) == 0)
            {
                text.Append($"if r5 > {bound} goto +2\nr7 += r5\nr8 ^= {offset}\n");
                count += 4;
            }
            else
            {
                text.Append($"if r5 == {bound} goto +1\nr8 += 1\n");
                count += 3;
            }
        }
        text.Append("""
            r0 = r7
            r0 ^= r8
            r0 &= 3
            exit
            out:
            r0 = 1
            exit

            """);
        return text.ToString();
    }
}
