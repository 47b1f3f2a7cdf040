using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Campaigns.Platform;

namespace Campaigns.Winners;

/// <summary>
/// A campaign's draws live in its partition of the "winners" table, one JSON document per draw (changes use its
/// ETag). Eligible lists are blobs named by their SHA-256, so a retried draw writes the same bytes to the same name.
/// </summary>
public sealed class DrawStore(StorageClients storage)
{
    public const string TableName = "winners";
    public const string ContainerName = "draws";
    private TableClient Table => storage.Table(TableName);

    private static string Pk(string campaignId) => TableKeys.Escape(campaignId);
    private static string Rk(string drawId) => "draw|" + drawId;

    public async Task<(DrawState State, ETag ETag)?> GetAsync(string campaignId, string drawId, CancellationToken ct)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(Pk(campaignId), Rk(drawId), ["Doc"], ct);
        if (!r.HasValue || r.Value is null) return null;
        return (Read(r.Value), r.Value.ETag);
    }

    public async Task<List<DrawState>> ListAsync(string campaignId, CancellationToken ct)
    {
        var all = new List<DrawState>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, select: ["Doc"], cancellationToken: ct)) all.Add(Read(e));
        return all;
    }

    /// <summary>A page of the campaign's draws in draw-id order.</summary>
    public Task<ListPage<DrawState>> PageAsync(string campaignId, int? pageSize, string? continuation, CancellationToken ct)
        => Table.PageAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Pk(campaignId)}"), pageSize, continuation, Read, ct, ["Doc"]);

    /// <summary>Insert (no ETag) or replace at the ETag read; a lost race is a 412 the caller maps to a problem.</summary>
    public async Task<ETag> SaveAsync(DrawState s, ETag? ifMatch, CancellationToken ct)
    {
        var entity = new TableEntity(Pk(s.CampaignId), Rk(s.DrawId)) { ["Doc"] = JsonSerializer.Serialize(s, JsonDefaults.Options) };
        try
        {
            var response = ifMatch is { } tag
                ? await Table.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, ct)
                : await Table.AddEntityAsync(entity, ct);
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new ProblemException(ApiProblem.Conflict("draw_changed", "The draw changed at the same time; read it again."));
        }
    }

    public static string ListBlobName(string campaignId, string drawId, string sha) => $"{campaignId}/{drawId}/{sha}.txt";

    public async Task PutListAsync(string campaignId, string drawId, string sha, byte[] bytes, CancellationToken ct)
    {
        var blob = storage.Container(ContainerName).GetBlobClient(ListBlobName(campaignId, drawId, sha));
        await blob.UploadAsync(new BinaryData(bytes), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" },
        }, ct);
    }

    public async Task<byte[]?> GetListAsync(string campaignId, string drawId, string sha, CancellationToken ct)
    {
        var blob = storage.Container(ContainerName).GetBlobClient(ListBlobName(campaignId, drawId, sha));
        try
        {
            return (await blob.DownloadContentAsync(ct)).Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static DrawState Read(TableEntity e)
        => JsonSerializer.Deserialize<DrawState>(e.GetString("Doc"), JsonDefaults.Options)
           ?? throw new InvalidDataException($"Draw {e.RowKey} has an empty document.");
}
