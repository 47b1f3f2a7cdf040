using System.Globalization;
using System.Text.Json;

namespace Campaigns.Hosting;

/// <summary>
/// One invocation as the Functions host sends it: {"Data":{binding:…},"Metadata":{…}}.
/// Parsing is lenient because the host serialises scalars with JsonConvert: a JSON queue message can arrive
/// double-encoded ("\"{…}\"") and numbers can arrive as strings.
/// </summary>
public sealed class FunctionInvocation
{
    public FunctionInvocation(FunctionDefinition function, string invocationId, JsonElement data, JsonElement metadata,
        IServiceProvider services, CancellationToken cancellation)
    {
        Function = function;
        InvocationId = invocationId;
        Data = data;
        Metadata = metadata;
        Services = services;
        Cancellation = cancellation;
    }

    public FunctionDefinition Function { get; }
    public string InvocationId { get; }
    public JsonElement Data { get; }
    public JsonElement Metadata { get; }
    public IServiceProvider Services { get; }
    public CancellationToken Cancellation { get; }
    public List<string> Logs { get; } = [];

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    public JsonElement Trigger => Property(Data, Function.Trigger.BindingName)
        ?? throw new InvocationPayloadException($"Data has no '{Function.Trigger.BindingName}' binding.");

    /// <summary>The queue message text, unwrapped from any number of JSON string encodings.</summary>
    public string QueueMessageText()
    {
        var element = Trigger;
        if (element.ValueKind != JsonValueKind.String) return element.GetRawText();
        var text = element.GetString() ?? "";
        // A string that is itself a JSON string literal was encoded twice by the host; unwrap until plain.
        for (var i = 0; i < 3 && text.Length >= 2 && text[0] == '"' && text[^1] == '"'; i++)
        {
            try { text = JsonSerializer.Deserialize<string>(text) ?? ""; }
            catch (JsonException) { break; }
        }
        return text;
    }

    public T QueueMessage<T>(JsonSerializerOptions options)
    {
        var text = QueueMessageText();
        try
        {
            return JsonSerializer.Deserialize<T>(text, options) ?? throw new InvocationPayloadException("Queue message is null.");
        }
        catch (JsonException e)
        {
            throw new InvocationPayloadException($"Queue message is not a valid {typeof(T).Name}: {e.Message}");
        }
    }

    public long DequeueCount => MetadataNumber("DequeueCount") ?? 1;

    public TimerInfo Timer()
    {
        var t = Trigger;
        var status = Property(t, "ScheduleStatus");
        return new TimerInfo(
            IsPastDue: Property(t, "IsPastDue") is { } p && LenientBool(p),
            Last: status is { } s ? LenientTime(Property(s, "Last")) : null,
            Next: status is { } s2 ? LenientTime(Property(s2, "Next")) : null);
    }

    public long? MetadataNumber(string name)
    {
        if (Property(Metadata, name) is not { } e) return null;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.GetInt64(),
            JsonValueKind.String when long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
    }

    internal static JsonElement? Property(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in obj.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    private static bool LenientBool(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.String => bool.TryParse(e.GetString(), out var b) && b,
        _ => false,
    };

    private static DateTimeOffset? LenientTime(JsonElement? e)
        => e is { ValueKind: JsonValueKind.String } s
           && DateTimeOffset.TryParse(s.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime() : null;
}

public sealed record TimerInfo(bool IsPastDue, DateTimeOffset? Last, DateTimeOffset? Next);

/// <summary>The host sent something this function cannot read; retrying will not help, so the host poison-queues it.</summary>
public sealed class InvocationPayloadException(string message) : Exception(message);
