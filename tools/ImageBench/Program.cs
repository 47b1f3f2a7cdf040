using System.Diagnostics;
using System.Globalization;
using Campaigns.Submissions;
using NetVips;

// Image pipeline benchmark: the real ImagePipeline.Process (sniff → header probe → decode with shrink-on-load →
// orient → sRGB → strip → 1080 + 320 px JPEGs) over 12 MP JPEGs made here with NetVips.
//   generate DIR [COUNT]             write COUNT photo-like 4000×3000 JPEGs with EXIF (orientation 6) into DIR
//   run DIR CONCURRENCY [IMAGES]     process IMAGES images (cycling over DIR) with CONCURRENCY workers
// Peak RSS is the process's VmHWM, so run each concurrency in its own process.

var mode = args.ElementAtOrDefault(0);
if (mode == "generate" && args.Length >= 2)
{
    var dir = Directory.CreateDirectory(args[1]).FullName;
    var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
    for (var i = 0; i < count; i++)
    {
        // A smooth gradient with mild noise compresses and decodes like a photo (pure noise would not).
        using var x = Image.Xyz(4000, 3000);
        using var gx = x.ExtractBand(0) * (255.0 / 4000);
        using var gy = x.ExtractBand(1) * (255.0 / 3000);
        using var noise = Image.Gaussnoise(4000, 3000, mean: 0, sigma: 12 + i);
        using var r = gx + noise;
        using var g = gy + noise;
        using var b = (gx + gy) * 0.5 - noise;
        using var rgb = r.Bandjoin(g, b).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using var tagged = rgb.Mutate(m =>
        {
            m.Set(GValue.GIntType, "orientation", 6);
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitude", "48/1 51/1 2400/100");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitudeRef", "N");
        });
        File.WriteAllBytes(Path.Combine(dir, $"photo-{i}.jpg"), tagged.JpegsaveBuffer(q: 88, keep: Enums.ForeignKeep.All));
    }
    Console.WriteLine($"generated {count} 4000x3000 JPEGs in {dir}");
    return 0;
}

if (mode == "run" && args.Length >= 3)
{
    var files = Directory.GetFiles(args[1], "*.jpg").Order().Select(File.ReadAllBytes).ToArray();
    var concurrency = int.Parse(args[2], CultureInfo.InvariantCulture);
    var total = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 40;
    var limits = new ImageLimits(50_000_000, 16_384);
    Console.Error.WriteLine(ImagePipeline.Init(concurrency));

    // Warm-up, as a long-running worker is: every input once on each worker, so loading the native library and
    // JIT-compiling the path (tiering up included) fall outside the measured window.
    Parallel.For(0, files.Length * concurrency, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, i =>
    {
        if (!ImagePipeline.Process(files[i % files.Length], limits).Ok) throw new InvalidOperationException("warm-up image was refused");
    });

    var next = -1;
    var machineBefore = MachineCpu.Read();
    var gcBefore = (Gen0: GC.CollectionCount(0), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration());
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < total)
        {
            var outcome = ImagePipeline.Process(files[i % files.Length], limits);
            if (!outcome.Ok || outcome.Derivatives.Count != 2) throw new InvalidOperationException($"image {i}: {outcome.ReasonCode}");
        }
    })).ToArray();
    Task.WaitAll(workers);
    sw.Stop();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    var machine = MachineCpu.Read() - machineBefore;
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
    // CPU time per image depends less on what else the machine runs than images/s does. Steal is the share of the
    // run the hypervisor gave this VM's vCPUs to someone else: images/s can only be judged next to it.
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"cpu_ms_per_image={cpu.TotalMilliseconds / total:F0} cpu_steal_pct={machine.StealPercent:F0} gc0={GC.CollectionCount(0) - gcBefore.Gen0} gc2={GC.CollectionCount(2) - gcBefore.Gen2} gc_pause_ms={(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalMilliseconds:F0} load_average={load} cores={Environment.ProcessorCount}"));

    var peakKb = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"images_per_s={total / sw.Elapsed.TotalSeconds:F1} peak_rss_mb={peakKb / 1024.0:F0} concurrency={concurrency}"));
    return 0;
}

Console.Error.WriteLine("usage: ImageBench generate DIR [COUNT] | run DIR CONCURRENCY [IMAGES]");
return 2;

/// <summary>The machine-wide "cpu" line of /proc/stat: all jiffies, and those stolen by the hypervisor.</summary>
internal readonly record struct MachineCpu(long Total, long Steal)
{
    public static MachineCpu Read()
    {
        if (!File.Exists("/proc/stat")) return default;
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user and nice]
        return new MachineCpu(fields.Take(8).Sum(), fields.Length > 7 ? fields[7] : 0);
    }

    public static MachineCpu operator -(MachineCpu a, MachineCpu b) => new(a.Total - b.Total, a.Steal - b.Steal);
    public double StealPercent => Total > 0 ? 100.0 * Steal / Total : 0;
}
