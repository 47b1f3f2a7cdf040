using System.Text.Json;

namespace Campaigns.Hosting;

/// <summary>The queue settings of host.json, which standalone mode honours the way the Functions host does.</summary>
public sealed record HostQueueSettings(int BatchSize, int NewBatchThreshold, TimeSpan MaxPollingInterval,
    TimeSpan VisibilityTimeout, int MaxDequeueCount)
{
    public static readonly HostQueueSettings Defaults = new(16, 8, TimeSpan.FromSeconds(2), TimeSpan.Zero, 5);

    public static HostQueueSettings Load(string hostJsonPath)
    {
        if (!File.Exists(hostJsonPath)) return Defaults;
        using var doc = JsonDocument.Parse(File.ReadAllText(hostJsonPath));
        if (!doc.RootElement.TryGetProperty("extensions", out var ext) || !ext.TryGetProperty("queues", out var q))
            return Defaults;
        int Int(string name, int fallback) => q.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        TimeSpan Span(string name, TimeSpan fallback) => q.TryGetProperty(name, out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var settings = new HostQueueSettings(
            Int("batchSize", Defaults.BatchSize),
            Int("newBatchThreshold", Defaults.NewBatchThreshold),
            Span("maxPollingInterval", Defaults.MaxPollingInterval),
            Span("visibilityTimeout", Defaults.VisibilityTimeout),
            Int("maxDequeueCount", Defaults.MaxDequeueCount));
        if (settings.BatchSize is < 1 or > 32) throw new InvalidOperationException("host.json extensions.queues.batchSize must be 1..32.");
        if (settings.MaxDequeueCount < 1) throw new InvalidOperationException("host.json extensions.queues.maxDequeueCount must be ≥ 1.");
        return settings;
    }
}
