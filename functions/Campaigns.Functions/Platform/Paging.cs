using Azure;
using Azure.Data.Tables;

namespace Campaigns.Platform;

/// <summary>One page of a list and the opaque token for the next one (null on the last page).</summary>
public sealed record ListPage<T>(IReadOnlyList<T> Items, string? Continuation);

/// <summary>
/// Every staff list is paged: a campaign with 350,000 labels has as many audit rows, and one request must not load
/// them all. Pages follow the table's key order; the continuation is the table's own token, passed through.
/// </summary>
public static class Paging
{
    public const int DefaultSize = 50;
    public const int MaxSize = 200;

    public static int Size(int? requested) => Math.Clamp(requested ?? DefaultSize, 1, MaxSize);

    /// <summary>One page of rows matching the filter; a token that is not one of this list's answers 400 invalid_continuation.</summary>
    public static async Task<ListPage<T>> PageAsync<T>(this TableClient table, string filter, int? pageSize, string? continuation,
        Func<TableEntity, T> read, CancellationToken ct, IEnumerable<string>? select = null)
    {
        var size = Size(pageSize);
        try
        {
            await foreach (var page in table.QueryAsync<TableEntity>(filter, size, select, ct).AsPages(continuation, size))
                return new ListPage<T>(page.Values.Select(read).ToList(), page.ContinuationToken);
        }
        catch (Exception e) when (continuation is not null && e is RequestFailedException { Status: 400 } or FormatException or ArgumentException)
        {
            throw new ProblemException(InvalidContinuation);
        }
        return new ListPage<T>([], null);
    }

    public static ApiProblem InvalidContinuation =>
        ApiProblem.Validation("continuation", "Not a continuation token from this list.", "invalid_continuation");
}
