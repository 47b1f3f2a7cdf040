using System.Text.Json;
using System.Text.Json.Nodes;

namespace Campaigns.Hosting;

/// <summary>A trigger as the Functions host describes it in function.json.</summary>
public abstract record TriggerBinding(string BindingName)
{
    public abstract JsonObject ToFunctionJson();
}

public sealed record QueueTrigger(string QueueName, string BindingName = "message", string Connection = "AzureWebJobsStorage")
    : TriggerBinding(BindingName)
{
    public override JsonObject ToFunctionJson() => new()
    {
        ["type"] = "queueTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["queueName"] = QueueName,
        ["connection"] = Connection,
    };
}

/// <summary>Six-field NCRONTAB schedule, evaluated in UTC (WEBSITE_TIME_ZONE is unsupported on Linux plans).</summary>
public sealed record TimerTrigger(string Schedule, string BindingName = "timer", bool RunOnStartup = false)
    : TriggerBinding(BindingName)
{
    public override JsonObject ToFunctionJson() => new()
    {
        ["type"] = "timerTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["schedule"] = Schedule,
        ["runOnStartup"] = RunOnStartup,
        ["useMonitor"] = true,
    };
}

/// <summary>HTTP functions are proxied as-is to the handler; authorisation is done by the handler's own policies.</summary>
public sealed record HttpTrigger(string Route, string[] Methods, string BindingName = "req", string AuthLevel = "anonymous")
    : TriggerBinding(BindingName)
{
    public override JsonObject ToFunctionJson() => new()
    {
        ["type"] = "httpTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["authLevel"] = AuthLevel,
        ["route"] = Route,
        ["methods"] = new JsonArray(Methods.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
    };
}

/// <summary>One function of the app: its trigger and, for non-HTTP triggers, the handler the host invokes at POST /{Name}.</summary>
public sealed record FunctionDefinition(string Name, TriggerBinding Trigger, Func<FunctionInvocation, Task<object?>>? Handler = null)
{
    public JsonObject ToFunctionJson()
    {
        var bindings = new JsonArray { Trigger.ToFunctionJson() };
        if (Trigger is HttpTrigger)
            bindings.Add(new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" });
        return new JsonObject { ["bindings"] = bindings };
    }

    public static readonly JsonSerializerOptions FileJson = new() { WriteIndented = true };
}

public static class FunctionRegistration
{
    /// <summary>Registers a function; the catalog, the standalone triggers and the function.json writer all read these.</summary>
    public static IServiceCollection AddFunction(this IServiceCollection services, FunctionDefinition function)
        => services.AddSingleton(function);

    public static IServiceCollection AddQueueFunction(this IServiceCollection services, string name, string queueName,
        Func<FunctionInvocation, Task> handler)
        => services.AddFunction(new FunctionDefinition(name, new QueueTrigger(queueName), async inv => { await handler(inv); return null; }));

    public static IServiceCollection AddTimerFunction(this IServiceCollection services, string name, string schedule,
        Func<FunctionInvocation, Task> handler)
        => services.AddFunction(new FunctionDefinition(name, new TimerTrigger(schedule), async inv => { await handler(inv); return null; }));
}

public sealed class FunctionCatalog
{
    public FunctionCatalog(IEnumerable<FunctionDefinition> functions)
    {
        var list = functions.ToList();
        var dup = list.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidOperationException($"Function '{dup.Key}' is registered twice.");
        foreach (var f in list)
        {
            if (f.Trigger is not HttpTrigger && f.Handler is null)
                throw new InvalidOperationException($"Function '{f.Name}' has a {f.Trigger.GetType().Name} but no handler.");
        }
        Functions = list.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<FunctionDefinition> Functions { get; }

    public FunctionDefinition? Find(string name)
        => Functions.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Writes host.json's sibling folders: one &lt;Name&gt;/function.json per function.</summary>
    public void WriteFunctionJson(string root)
    {
        foreach (var f in Functions)
        {
            var dir = Path.Combine(root, f.Name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "function.json"), f.ToFunctionJson().ToJsonString(FunctionDefinition.FileJson) + "\n");
        }
    }
}
