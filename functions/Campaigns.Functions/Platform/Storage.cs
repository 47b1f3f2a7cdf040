using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;

namespace Campaigns.Platform;

/// <summary>
/// Storage settings. Locally a connection string (Azurite); in Azure identity-based service URIs, the Functions
/// convention <c>AzureWebJobsStorage__blobServiceUri</c> etc. with <c>AzureWebJobsStorage__credential=managedidentity</c>.
/// Tables may point elsewhere (Cosmos DB for Table) through <c>Tables__ServiceUri</c> or <c>Tables__ConnectionString</c>.
/// </summary>
public sealed class StorageOptions
{
    public string? ConnectionString { get; set; }
    public string? BlobServiceUri { get; set; }
    public string? QueueServiceUri { get; set; }
    public string? TableServiceUri { get; set; }
    public string? Credential { get; set; }
    public string? ClientId { get; set; }
    public string? TablesConnectionString { get; set; }
    /// <summary>Create tables, queues and containers at start (local); in Azure the infrastructure creates them.</summary>
    public bool CreateResources { get; set; } = true;

    public static void Bind(StorageOptions o, IConfiguration config)
    {
        var section = config.GetSection("AzureWebJobsStorage");
        o.ConnectionString = section.Value;
        o.BlobServiceUri = section["blobServiceUri"];
        o.QueueServiceUri = section["queueServiceUri"];
        o.TableServiceUri = config["Tables:ServiceUri"] ?? section["tableServiceUri"];
        o.Credential = section["credential"];
        o.ClientId = section["clientId"];
        o.TablesConnectionString = config["Tables:ConnectionString"];
        if (bool.TryParse(config["Storage:CreateResources"], out var create)) o.CreateResources = create;
    }
}

public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        if (!string.IsNullOrWhiteSpace(o.ConnectionString)) return ValidateOptionsResult.Success;
        var missing = new List<string>();
        if (!Uri.TryCreate(o.BlobServiceUri, UriKind.Absolute, out _)) missing.Add("AzureWebJobsStorage__blobServiceUri");
        if (!Uri.TryCreate(o.QueueServiceUri, UriKind.Absolute, out _)) missing.Add("AzureWebJobsStorage__queueServiceUri");
        if (!Uri.TryCreate(o.TableServiceUri, UriKind.Absolute, out _)) missing.Add("Tables__ServiceUri");
        return missing.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Storage is not configured: set AzureWebJobsStorage (a connection string) or the identity-based settings {string.Join(", ", missing)}.");
    }
}

/// <summary>The storage clients of the app. Queue messages are Base64, as the Functions queue trigger expects by default.</summary>
public sealed class StorageClients
{
    public StorageClients(IOptions<StorageOptions> options)
    {
        var o = options.Value;
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        if (!string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            Blobs = new BlobServiceClient(o.ConnectionString);
            Queues = new QueueServiceClient(o.ConnectionString, queueOptions);
            Tables = o.TablesConnectionString is { Length: > 0 } t ? new TableServiceClient(t) : new TableServiceClient(o.ConnectionString);
        }
        else
        {
            TokenCredential credential = string.IsNullOrWhiteSpace(o.ClientId)
                ? new DefaultAzureCredential()
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(o.ClientId));
            Blobs = new BlobServiceClient(new Uri(o.BlobServiceUri!), credential);
            Queues = new QueueServiceClient(new Uri(o.QueueServiceUri!), credential, queueOptions);
            Tables = new TableServiceClient(new Uri(o.TableServiceUri!), credential);
        }
    }

    public BlobServiceClient Blobs { get; }
    public QueueServiceClient Queues { get; }
    public TableServiceClient Tables { get; }

    public TableClient Table(string name) => Tables.GetTableClient(name);
    public QueueClient Queue(string name) => Queues.GetQueueClient(name);
    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);
}

/// <summary>A table, queue or container a capability needs; created at start in local mode.</summary>
public abstract record StorageResource(string Name);
public sealed record TableResource(string Name) : StorageResource(Name);
public sealed record QueueResource(string Name) : StorageResource(Name);
public sealed record ContainerResource(string Name) : StorageResource(Name);

public static class StorageRegistration
{
    public static IServiceCollection AddTable(this IServiceCollection s, string name) => s.AddSingleton<StorageResource>(new TableResource(name));
    public static IServiceCollection AddQueue(this IServiceCollection s, string name) => s.AddSingleton<StorageResource>(new QueueResource(name));
    public static IServiceCollection AddContainer(this IServiceCollection s, string name) => s.AddSingleton<StorageResource>(new ContainerResource(name));
}

public sealed class StorageInitializer(StorageClients storage, IEnumerable<StorageResource> resources,
    Hosting.FunctionCatalog catalog, IOptions<StorageOptions> options, ILogger<StorageInitializer> logger)
{
    public IReadOnlyList<StorageResource> All() => Resources(resources, catalog);

    /// <summary>Registered resources plus every trigger queue and its poison queue (also what the infrastructure must create).</summary>
    public static IReadOnlyList<StorageResource> Resources(IEnumerable<StorageResource> resources, Hosting.FunctionCatalog catalog)
    {
        var queues = catalog.Functions.Select(f => f.Trigger).OfType<Hosting.QueueTrigger>()
            .SelectMany(q => new[] { q.QueueName, q.QueueName + "-poison" })
            .Select(n => (StorageResource)new QueueResource(n));
        return resources.Concat(queues).Distinct().ToList();
    }

    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        if (!options.Value.CreateResources) return;
        var all = All();
        await Task.WhenAll(all.Select(r => r switch
        {
            TableResource t => (Task)storage.Tables.CreateTableIfNotExistsAsync(t.Name, ct),
            QueueResource q => storage.Queue(q.Name).CreateIfNotExistsAsync(cancellationToken: ct),
            ContainerResource c => storage.Container(c.Name).CreateIfNotExistsAsync(cancellationToken: ct),
            _ => Task.CompletedTask,
        }));
        logger.LogInformation("Storage ready: {Count} tables, queues and containers", all.Count);
    }
}

/// <summary>The storage the app needs, grouped as the infrastructure creates it (tables in Cosmos DB for Table, queues and containers in Storage).</summary>
public sealed record StorageManifest(IReadOnlyList<string> Tables, IReadOnlyList<string> Queues, IReadOnlyList<string> Containers)
{
    public static StorageManifest FromServices(IServiceProvider services)
    {
        var all = StorageInitializer.Resources(services.GetServices<StorageResource>(), services.GetRequiredService<Hosting.FunctionCatalog>());
        List<string> Names<T>() where T : StorageResource => all.OfType<T>().Select(r => r.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        return new StorageManifest(Names<TableResource>(), Names<QueueResource>(), Names<ContainerResource>());
    }

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(
        new { tables = Tables, queues = Queues, containers = Containers },
        new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
}
