using Microsoft.Extensions.Options;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Campaigns.Hosting;

public sealed record InvocationResult(bool Succeeded, JsonObject Body);

/// <summary>
/// The one path from a host payload to a handler. The host's POST /{FunctionName} and the standalone
/// triggers both come through here, with the same JSON.
/// </summary>
public sealed class FunctionInvoker(FunctionCatalog catalog, IServiceScopeFactory scopes, ILogger<FunctionInvoker> logger)
{
    private static readonly ActivitySource Source = new("Campaigns.Functions");

    public async Task<InvocationResult> InvokeAsync(string functionName, string payloadJson, string? invocationId, CancellationToken ct)
    {
        var function = catalog.Find(functionName);
        if (function?.Handler is null)
            throw new KeyNotFoundException($"No non-HTTP function named '{functionName}'.");
        invocationId ??= Guid.NewGuid().ToString();

        using var activity = Source.StartActivity($"invoke {function.Name}");
        activity?.SetTag("faas.invocation_id", invocationId);
        var logs = new List<string>();
        try
        {
            using var doc = ParsePayload(payloadJson);
            var data = FunctionInvocation.Property(doc.RootElement, "Data") ?? default;
            var metadata = FunctionInvocation.Property(doc.RootElement, "Metadata") ?? default;
            await using var scope = scopes.CreateAsyncScope();
            var invocation = new FunctionInvocation(function, invocationId, data, metadata, scope.ServiceProvider, ct);
            var value = await function.Handler(invocation);
            logs.AddRange(invocation.Logs);
            return new InvocationResult(true, Response(logs, value));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Failing the invocation (not swallowing) is what lets the host retry and poison-queue.
            logger.LogError(e, "Function {FunctionName} invocation {InvocationId} failed", function.Name, invocationId);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            logs.Add($"{e.GetType().Name}: {e.Message}");
            return new InvocationResult(false, Response(logs, null));
        }
    }

    private static JsonDocument ParsePayload(string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvocationPayloadException($"Invocation body is not JSON: {e.Message}"); }
    }

    private static JsonObject Response(List<string> logs, object? value) => new()
    {
        ["Outputs"] = new JsonObject(),
        ["Logs"] = new JsonArray(logs.Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()),
        ["ReturnValue"] = value is null ? null : JsonSerializer.SerializeToNode(value),
    };

    /// <summary>The body the Functions host posts for a queue message (the message as a JSON string, as the host sends it).</summary>
    public static string QueuePayload(FunctionDefinition f, string messageText, string id, long dequeueCount,
        DateTimeOffset? inserted, DateTimeOffset? expires, string popReceipt)
    {
        var body = new JsonObject
        {
            ["Data"] = new JsonObject { [f.Trigger.BindingName] = JsonSerializer.Serialize(messageText) },
            ["Metadata"] = new JsonObject
            {
                ["DequeueCount"] = dequeueCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Id"] = JsonSerializer.Serialize(id),
                ["InsertionTime"] = inserted?.ToString("O"),
                ["ExpirationTime"] = expires?.ToString("O"),
                ["PopReceipt"] = JsonSerializer.Serialize(popReceipt),
                ["sys"] = new JsonObject { ["MethodName"] = f.Name, ["UtcNow"] = DateTimeOffset.UtcNow.ToString("O") },
            },
        };
        return body.ToJsonString();
    }

    public static string TimerPayload(FunctionDefinition f, bool isPastDue, DateTimeOffset? last, DateTimeOffset next, DateTimeOffset now)
    {
        var body = new JsonObject
        {
            ["Data"] = new JsonObject
            {
                [f.Trigger.BindingName] = new JsonObject
                {
                    ["Schedule"] = new JsonObject { ["AdjustForDST"] = false },
                    ["ScheduleStatus"] = new JsonObject
                    {
                        ["Last"] = (last ?? DateTimeOffset.MinValue).ToString("O"),
                        ["Next"] = next.ToString("O"),
                        ["LastUpdated"] = now.ToString("O"),
                    },
                    ["IsPastDue"] = isPastDue,
                },
            },
            ["Metadata"] = new JsonObject { ["sys"] = new JsonObject { ["MethodName"] = f.Name, ["UtcNow"] = now.ToString("O") } },
        };
        return body.ToJsonString();
    }
}

/// <summary>
/// Who may call <c>POST /{function}</c>. Under the Functions host: loopback requests that carry the host's invocation id
/// header, which a webhook or other server-side request aimed at loopback cannot add. Standalone, the triggers run
/// in-process and nobody needs the endpoint: it answers only requests carrying this process's random key (tests).
/// Never "any loopback caller": a webhook URL of http://127.0.0.1:7071/VoteCounter would otherwise run a trigger.
/// </summary>
public sealed class InvocationGuard(IOptions<HostingOptions> hosting)
{
    public const string KeyHeader = "X-Campaigns-Invocation-Key";
    public string Key { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public bool Allows(HttpContext http)
    {
        if (http.Connection.RemoteIpAddress is not { } ip || !System.Net.IPAddress.IsLoopback(ip)) return false;
        if (!hosting.Value.Standalone) return http.Request.Headers.ContainsKey("X-Azure-Functions-InvocationId");
        var sent = http.Request.Headers[KeyHeader].ToString();
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(sent), System.Text.Encoding.ASCII.GetBytes(Key));
    }
}

public static class InvocationEndpoints
{
    public const string HostOnlyPolicy = "FunctionsHost";

    /// <summary>POST /{FunctionName}: how the Functions host invokes queue and timer functions.</summary>
    public static void MapFunctionInvocations(this WebApplication app)
    {
        app.MapPost("/{functionName:regex(^[A-Za-z][A-Za-z0-9_]*$)}", async (string functionName, HttpRequest request,
                FunctionCatalog catalog, FunctionInvoker invoker, CancellationToken ct) =>
            {
                if (catalog.Find(functionName)?.Handler is null)
                    return Results.Problem(statusCode: 404, title: "Unknown function", detail: $"No function named '{functionName}'.",
                        extensions: new Dictionary<string, object?> { ["code"] = "unknown_function" });
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync(ct);
                var id = request.Headers["X-Azure-Functions-InvocationId"].FirstOrDefault();
                var result = await invoker.InvokeAsync(functionName, body, id, ct);
                return Results.Json(result.Body, statusCode: result.Succeeded ? 200 : 500);
            })
            .RequireAuthorization(HostOnlyPolicy)
            .ExcludeFromDescription()
            .WithName("InvokeFunction");
    }
}
