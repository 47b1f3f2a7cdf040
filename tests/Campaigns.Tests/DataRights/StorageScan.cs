using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Campaigns.DataRights;
using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;

namespace Campaigns.Tests.DataRights;

/// <summary>
/// Searches every table (keys and every property), every container (blob names, metadata, and the content of text
/// blobs such as print manifests and eligible lists) and every queue (visible messages, poison queues included) the app
/// registers — the list-resources output, so a table added later is searched without touching this test — for any of
/// the given strings. Rows named by a kept record (and the kept records themselves) are the documented exceptions.
/// </summary>
internal static class StorageScan
{
    public static async Task<List<string>> FindAsync(TestApp app, params string[] needles)
    {
        var manifest = StorageManifest.FromServices(app.Services);
        var storage = app.Service<StorageClients>();
        var kept = new HashSet<(string, string, string)>();
        await foreach (var k in app.Service<DataRightsStore>().KeptAsync(null, CancellationToken.None)) kept.Add((k.Table, k.PartitionKey, k.RowKey));
        bool Has(string? text) => text is not null && needles.Any(n => text.Contains(n, StringComparison.Ordinal));

        var hits = new List<string>();
        foreach (var table in manifest.Tables)
            await foreach (var e in storage.Table(table).QueryAsync<TableEntity>())
            {
                var texts = new List<string?> { e.PartitionKey, e.RowKey };
                foreach (var (_, value) in e)
                    texts.Add(value switch { byte[] b => Encoding.UTF8.GetString(b), BinaryData d => d.ToString(), _ => value?.ToString() });
                if (!texts.Any(Has)) continue;
                if (table == DataRightsStore.TableName && e.PartitionKey == DataRightsStore.KeptPartition) continue;
                if (kept.Contains((table, e.PartitionKey, e.RowKey))) continue;
                hits.Add($"table {table}: {e.PartitionKey} / {e.RowKey}");
            }
        foreach (var name in manifest.Containers)
        {
            var container = storage.Container(name);
            await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }))
            {
                if (Has(blob.Name) || blob.Metadata.Any(m => Has(m.Key) || Has(m.Value))) { hits.Add($"blob {name}/{blob.Name} (name or metadata)"); continue; }
                var type = blob.Properties.ContentType ?? "";
                if (!type.StartsWith("text/", StringComparison.Ordinal) && !type.Contains("json", StringComparison.Ordinal)) continue;
                var content = (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
                if (Has(content)) hits.Add($"blob {name}/{blob.Name} (content)");
            }
        }
        foreach (var name in manifest.Queues)
        {
            var queue = storage.Queue(name);
            if (!(await queue.ExistsAsync()).Value) continue;
            foreach (var m in (await queue.PeekMessagesAsync(32)).Value)
                if (Has(m.Body.ToString())) hits.Add($"queue {name}: message {m.MessageId}");
        }
        return hits;
    }
}
