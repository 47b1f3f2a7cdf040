using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Campaigns.Winners;

namespace Campaigns.Tests.Winners;

public sealed class DrawAlgorithmTests
{
    private static List<DrawAlgorithm.ListLine> Ids(int n, Func<int, string?>? score = null)
        => Enumerable.Range(0, n).Select(i => new DrawAlgorithm.ListLine(DrawAlgorithm.Sha256Hex(Encoding.UTF8.GetBytes("fan-" + i)), score?.Invoke(i)))
            .OrderBy(l => l.Id, StringComparer.Ordinal).ToList();

    private static byte[] Seed(int i)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, i);
        return SHA256.HashData(b);
    }

    // Chi-square critical value for 95 degrees of freedom at alpha = 0.001 (Wilson–Hilferty: 143.4).
    // Seeds are fixed, so the statistic is deterministic: no flaky test.
    private const double Critical95 = 143.4;
    private const int Cells = 96, Draws = Cells * 200;

    private static double ChiSquare(int[] counts)
    {
        var expected = counts.Sum() / (double)counts.Length;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }

    [Fact]
    public void Every_position_is_uniform_over_many_seeds_and_a_modulo_biased_implementation_fails_the_same_test()
    {
        var list = Ids(Cells);
        var index = list.Select((l, i) => (l.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var sha = DrawAlgorithm.Sha256Hex(DrawAlgorithm.WriteList(list));
        var positions = new[] { new int[Cells], new int[Cells], new int[Cells] };
        var biased = new int[Cells];
        for (var s = 0; s < Draws; s++)
        {
            var seed = Seed(s);
            var picked = DrawAlgorithm.Select(seed, "camp", "draw", sha, null, list, 3);
            Assert.Equal(3, picked.Distinct().Count());
            for (var p = 0; p < 3; p++) positions[p][index[picked[p]]]++;
            biased[index[BiasedFirstPick(seed, sha, list)]]++;
        }
        for (var p = 0; p < 3; p++)
        {
            var chi = ChiSquare(positions[p]);
            Console.WriteLine($"position {p + 1}: chi-square {chi:F1} (critical {Critical95})");
            Assert.True(chi < Critical95, $"position {p + 1} is not uniform: chi-square {chi:F1} ≥ {Critical95}");
        }
        var biasedChi = ChiSquare(biased);
        Console.WriteLine($"modulo-biased: chi-square {biasedChi:F1}");
        Assert.True(biasedChi > Critical95, $"the test has no teeth: a biased pick scored {biasedChi:F1}");
    }

    /// <summary>The common shortcut: one random byte modulo n, no rejection. With n = 96, values below 64 come up 3/256, the rest 2/256.</summary>
    private static string BiasedFirstPick(byte[] seed, string sha, List<DrawAlgorithm.ListLine> list)
    {
        var key = DrawAlgorithm.GroupKey(DrawAlgorithm.DrawKey(seed, "camp", "draw", sha, null), "");
        var word = DrawAlgorithm.Word(key, 0);
        return list[(int)((word >> 56) % (ulong)list.Count)].Id;
    }

    [Fact]
    public void Words_in_the_top_zone_are_rejected_so_every_index_has_the_same_number_of_words()
    {
        // 2^64 mod 3 = 1: only the very last word is rejected.
        Assert.Null(DrawAlgorithm.Uniform(ulong.MaxValue, 3));
        Assert.Equal((ulong.MaxValue - 1) % 3, DrawAlgorithm.Uniform(ulong.MaxValue - 1, 3));
        // n = 2^63 + 1: 2^64 mod n = 2^63 − 1, so every word above 2^63 is rejected.
        var n = (1UL << 63) + 1;
        Assert.Equal(1UL << 63, DrawAlgorithm.Uniform(1UL << 63, n));
        Assert.Null(DrawAlgorithm.Uniform((1UL << 63) + 1, n));
        // Powers of two divide 2^64: nothing is rejected.
        Assert.Equal(ulong.MaxValue % 64, DrawAlgorithm.Uniform(ulong.MaxValue, 64));
        Assert.Equal(0UL, DrawAlgorithm.Uniform(12345, 1));
    }

    [Fact]
    public void Selection_is_deterministic_without_replacement_and_depends_on_seed_list_and_external_value()
    {
        var list = Ids(10);
        var sha = DrawAlgorithm.Sha256Hex(DrawAlgorithm.WriteList(list));
        var a = DrawAlgorithm.Select(Seed(1), "c", "d", sha, null, list, 10);
        Assert.Equal(a, DrawAlgorithm.Select(Seed(1), "c", "d", sha, null, list, 10));
        Assert.Equal(list.Select(l => l.Id).Order(), a.Order());
        Assert.Equal(a.Take(4), DrawAlgorithm.Select(Seed(1), "c", "d", sha, null, list, 4));
        Assert.NotEqual(a, DrawAlgorithm.Select(Seed(2), "c", "d", sha, null, list, 10));
        Assert.NotEqual(a, DrawAlgorithm.Select(Seed(1), "c", "d", sha, new string('0', 64), list, 10));
        Assert.NotEqual(a, DrawAlgorithm.Select(Seed(1), "c", "d2", sha, null, list, 10));
        Assert.Equal(3, DrawAlgorithm.Select(Seed(1), "c", "d", sha, null, list.Take(3).ToList(), 10).Count);
    }

    [Fact]
    public void Ranked_lists_take_higher_scores_first_and_settle_ties_by_the_seeded_draw()
    {
        // Scores: 3 with 9 votes, 4 tied at 5 votes, the rest 1 vote.
        var list = Ids(12, i => i < 3 ? "9" : i < 7 ? "5" : "1");
        var sha = DrawAlgorithm.Sha256Hex(DrawAlgorithm.WriteList(list));
        var top = list.Where(l => l.Score == "9").Select(l => l.Id).ToHashSet();
        var tied = list.Where(l => l.Score == "5").Select(l => l.Id).ToHashSet();
        var orders = new HashSet<string>();
        for (var s = 0; s < 40; s++)
        {
            var picked = DrawAlgorithm.Select(Seed(s), "c", "d", sha, null, list, 5);
            Assert.True(top.SetEquals(picked.Take(3)));
            Assert.All(picked.Skip(3), id => Assert.Contains(id, tied));
            orders.Add(string.Join(",", picked.Skip(3)));
        }
        Assert.True(orders.Count > 5, "ties must be settled by the seed, not by a fixed order");
        // Decimal scores compare as numbers, not strings.
        var dec = Ids(3, i => i switch { 0 => "0.900000", 1 => "10.000000", _ => "2.000000" });
        var byScore = DrawAlgorithm.Select(Seed(1), "c", "d", "x", null, dec, 3).Select(id => dec.Single(l => l.Id == id).Score);
        Assert.Equal(["10.000000", "2.000000", "0.900000"], byScore);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("abc\n", "line 1")]
    [InlineData("\uFEFFx\n", "byte-order mark")]
    public void Malformed_lists_are_refused_with_the_reason(string text, string expected)
    {
        var (lines, error) = DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes(text));
        Assert.Null(lines);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Lists_must_be_canonical_sorted_unique_terminated_and_consistently_scored()
    {
        var a = new string('a', 64);
        var b = new string('b', 64);
        Assert.NotNull(DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a}\n{b}\n")).Lines);
        Assert.Contains("newline", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a}\n{b}")).Error);
        Assert.Contains("order", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{b}\n{a}\n")).Error);
        Assert.Contains("order", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a}\n{a}\n")).Error);
        Assert.Contains("every line", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a} 3\n{b}\n")).Error);
        Assert.Contains("mix", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a} 3\n{b} 0.500000\n")).Error);
        Assert.Contains("canonical", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a} 03\n")).Error);
        Assert.Contains("line 2", DrawAlgorithm.ParseList(Encoding.UTF8.GetBytes($"{a}\n{b.ToUpperInvariant()}\n")).Error);
        var written = DrawAlgorithm.WriteList([new(b, "2"), new(a, "7")]);
        Assert.Equal($"{a} 7\n{b} 2\n", Encoding.UTF8.GetString(written));
    }

    [Fact]
    public void Pseudonyms_are_keyed_and_per_campaign()
    {
        var key = Encoding.UTF8.GetBytes(new string('k', 32));
        var p = DrawAlgorithm.Pseudonym(key, "camp-a", "fan-1");
        Assert.Matches("^[0-9a-f]{64}$", p);
        Assert.Equal(p, DrawAlgorithm.Pseudonym(key, "camp-a", "fan-1"));
        Assert.NotEqual(p, DrawAlgorithm.Pseudonym(key, "camp-b", "fan-1"));
        Assert.NotEqual(p, DrawAlgorithm.Pseudonym(Encoding.UTF8.GetBytes(new string('j', 32)), "camp-a", "fan-1"));
        Assert.NotEqual(p, DrawAlgorithm.Sha256Hex(Encoding.UTF8.GetBytes("camp-a\nfan-1")));
    }
}
