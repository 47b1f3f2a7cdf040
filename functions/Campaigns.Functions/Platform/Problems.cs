using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Campaigns.Platform;

/// <summary>
/// An RFC 9457 problem with a stable <c>code</c> a microsite can switch on. Endpoints return these;
/// code deeper down may throw <see cref="ProblemException"/> with one.
/// </summary>
public sealed record ApiProblem(int Status, string Code, string Title, string? Detail = null,
    IDictionary<string, string[]>? Errors = null)
{
    public IResult ToResult()
    {
        var extensions = new Dictionary<string, object?> { ["code"] = Code };
        if (Errors is { Count: > 0 }) extensions["errors"] = Errors;
        return Results.Problem(statusCode: Status, title: Title, detail: Detail, extensions: extensions,
            type: $"https://campaigns.example/problems/{Code}");
    }

    public static ApiProblem Validation(IDictionary<string, string[]> errors, string code = "validation_failed")
        => new(400, code, "The request is not valid.", "See 'errors' for each invalid field.", errors);
    public static ApiProblem Validation(string field, string message, string code = "validation_failed")
        => Validation(new Dictionary<string, string[]> { [field] = [message] }, code);
    public static ApiProblem NotFound(string code, string what) => new(404, code, $"{what} was not found.");
    public static ApiProblem Conflict(string code, string detail) => new(409, code, "Conflict.", detail);
    public static ApiProblem Stale() => new(412, "stale_etag", "The resource changed since you read it.",
        "Read it again and send its current ETag in If-Match.");
    public static ApiProblem PreconditionRequired() => new(428, "if_match_required", "If-Match is required.",
        "Send the ETag you read in If-Match so concurrent edits are not lost.");
}

public sealed class ProblemException(ApiProblem problem) : Exception(problem.Detail ?? problem.Title)
{
    public ApiProblem Problem { get; } = problem;
}

/// <summary>Turns request-shape failures into 4xx problems; anything unexpected is a 500 without internals.</summary>
public sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var problem = Map(exception);
        if (problem is null)
        {
            // The route template, not the path: paths carry fan ids and entry ids, which logs must not keep.
            logger.LogError(exception, "Unhandled error on {Method} {Route}", context.Request.Method, Telemetry.RouteOf(context));
            problem = new ApiProblem(500, "internal_error", "Something went wrong on our side.", "The error was logged; try again later.");
        }
        await problem.ToResult().ExecuteAsync(context);
        return true;
    }

    public static ApiProblem? Map(Exception e) => e switch
    {
        ProblemException p => p.Problem,
        BadHttpRequestException { StatusCode: 413 } => new ApiProblem(413, "body_too_large", "The request body is too large.",
            $"Bodies are limited to {RequestLimits.MaxBodyBytes / 1024} KiB."),
        BadHttpRequestException { InnerException: JsonException je } => new ApiProblem(400, "malformed_json",
            "The request body is not valid JSON for this endpoint.", Clean(je.Message)),
        BadHttpRequestException b when b.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase) ||
                                       b.Message.Contains("body", StringComparison.OrdinalIgnoreCase) =>
            new ApiProblem(400, "malformed_request", "The request could not be read.", b.Message),
        BadHttpRequestException b => new ApiProblem(b.StatusCode is >= 400 and < 500 ? b.StatusCode : 400, "bad_request",
            "The request is not valid.", b.Message),
        // Minimal APIs read a JSON body in the charset of its Content-Type; an unknown one is the client's choice, not our fault.
        InvalidOperationException { InnerException: ArgumentException } io when io.Message.Contains("charset", StringComparison.Ordinal) =>
            new ApiProblem(415, "unsupported_charset", "The request body's charset is not supported.", "Send JSON in UTF-8."),
        JsonException je => new ApiProblem(400, "malformed_json", "The request body is not valid JSON for this endpoint.", Clean(je.Message)),
        _ => null,
    };

    // System.Text.Json messages name .NET types; keep the path and the reason only.
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var path = cut >= 0 ? message[(cut + 1)..] : "";
        var reason = message.Contains("could not be mapped", StringComparison.Ordinal) ? "Unknown field." :
            message.Contains("missing required", StringComparison.OrdinalIgnoreCase) ? "A required field is missing." :
            message.Contains("null", StringComparison.OrdinalIgnoreCase) ? "A field is null that must have a value." :
            message.Contains("could not be converted", StringComparison.Ordinal) ? "A field has the wrong type." :
            "Malformed JSON.";
        return $"{reason} {path}".Trim();
    }
}

public static class RequestLimits
{
    /// <summary>API bodies are small JSON documents; media goes straight to Blob storage through SAS URLs.</summary>
    public const long MaxBodyBytes = 64 * 1024;
}

public static class JsonDefaults
{
    public static void Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        o.PropertyNameCaseInsensitive = true;
        o.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        o.RespectNullableAnnotations = true;
        o.RespectRequiredConstructorParameters = true;
        o.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(o);
        return o;
    }
}
