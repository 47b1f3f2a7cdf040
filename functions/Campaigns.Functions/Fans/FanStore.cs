using System.Text.Json;
using Azure.Data.Tables;
using Campaigns.Platform;

namespace Campaigns.Fans;

/// <summary>One partition per fan: the profile row and one consent row per campaign.</summary>
public sealed class FanStore(StorageClients storage)
{
    public const string TableName = "fans";
    private TableClient Table => storage.Table(TableName);

    public Task<FanProfile?> GetProfileAsync(string fanId, CancellationToken ct) => Get<FanProfile>(fanId, "profile", ct);
    public Task SaveProfileAsync(FanProfile p, CancellationToken ct) => Put(p.FanId, "profile", p, ct);

    public Task<CampaignConsent?> GetConsentAsync(string fanId, string campaignId, CancellationToken ct) => Get<CampaignConsent>(fanId, "consent|" + campaignId, ct);
    public Task SaveConsentAsync(CampaignConsent c, CancellationToken ct) => Put(c.FanId, "consent|" + c.CampaignId, c, ct);

    private async Task<T?> Get<T>(string pk, string rk, CancellationToken ct) where T : class
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(TableKeys.Escape(pk), rk, ["Doc"], ct);
        return r.HasValue && r.Value is not null ? JsonSerializer.Deserialize<T>(r.Value.GetString("Doc"), JsonDefaults.Options) : null;
    }

    private Task Put<T>(string pk, string rk, T doc, CancellationToken ct)
        => Table.UpsertEntityAsync(new TableEntity(TableKeys.Escape(pk), rk) { ["Doc"] = JsonSerializer.Serialize(doc, JsonDefaults.Options) },
            TableUpdateMode.Replace, ct);
}
