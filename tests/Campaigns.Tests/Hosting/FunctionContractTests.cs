using System.Text.Json;
using System.Text.RegularExpressions;
using Campaigns.Hosting;
using Campaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;

namespace Campaigns.Tests.Hosting;

/// <summary>function.json files are generated from the program's catalog; these check they stay well-formed and complete.</summary>
public sealed partial class FunctionContractTests
{
    [GeneratedRegex("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")] private static partial Regex QueueName();

    private static WebApplication BuildApp() => CampaignsApp.Build(["--urls", "http://127.0.0.1:0"],
        b => b.Configuration.AddInMemoryCollection(TestApp.Settings(Azurite.Instance)));

    [Fact]
    public void Every_function_json_is_well_formed_and_has_a_handler_and_every_handler_has_one()
    {
        var app = BuildApp();
        var catalog = app.Services.GetRequiredService<FunctionCatalog>();
        var dir = Directory.CreateTempSubdirectory("functions-");
        catalog.WriteFunctionJson(dir.FullName);

        var folders = dir.GetDirectories().Select(d => d.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(catalog.Functions.Select(f => f.Name).ToList(), folders);
        Assert.Contains("Api", folders);

        foreach (var folder in folders)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, folder, "function.json")));
            var bindings = doc.RootElement.GetProperty("bindings").EnumerateArray().ToList();
            var trigger = Assert.Single(bindings, b => b.GetProperty("direction").GetString() == "in");
            Assert.Matches("^[A-Za-z][A-Za-z0-9_]*$", folder);
            Assert.False(string.IsNullOrWhiteSpace(trigger.GetProperty("name").GetString()));
            var function = catalog.Find(folder);
            Assert.NotNull(function);
            switch (trigger.GetProperty("type").GetString())
            {
                case "queueTrigger":
                    Assert.Matches(QueueName(), trigger.GetProperty("queueName").GetString()!);
                    Assert.Equal("AzureWebJobsStorage", trigger.GetProperty("connection").GetString());
                    Assert.NotNull(function!.Handler);
                    Assert.Single(bindings);
                    break;
                case "timerTrigger":
                    var schedule = trigger.GetProperty("schedule").GetString()!;
                    Assert.Equal(6, schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
                    StandaloneTimers.Parse(schedule); // throws on an invalid NCRONTAB expression
                    Assert.NotNull(function!.Handler);
                    Assert.Single(bindings);
                    break;
                case "httpTrigger":
                    Assert.Contains(trigger.GetProperty("authLevel").GetString(), new[] { "anonymous", "function", "admin" });
                    Assert.False(string.IsNullOrWhiteSpace(trigger.GetProperty("route").GetString()));
                    Assert.NotEmpty(trigger.GetProperty("methods").EnumerateArray());
                    var output = Assert.Single(bindings, b => b.GetProperty("direction").GetString() == "out");
                    Assert.Equal("http", output.GetProperty("type").GetString());
                    Assert.Equal(2, bindings.Count);
                    break;
                default:
                    Assert.Fail($"{folder}: unexpected trigger type {trigger.GetProperty("type")}");
                    break;
            }
        }
    }

    [Fact]
    public void Every_api_endpoint_is_reachable_through_an_http_function()
    {
        var app = BuildApp();
        var catalog = app.Services.GetRequiredService<FunctionCatalog>();
        ((IEndpointRouteBuilder)app).DataSources.ToList(); // routes are mapped by Build
        var http = catalog.Functions.Select(f => f.Trigger).OfType<HttpTrigger>().ToList();
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText ?? "").Where(r => r.StartsWith("/api/", StringComparison.Ordinal) || r.StartsWith("api/", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(routes);
        foreach (var route in routes)
        {
            var relative = route.TrimStart('/')["api/".Length..];
            Assert.True(http.Any(h => h.Route == "{*path}" || relative.StartsWith(h.Route.Split('{')[0], StringComparison.Ordinal)),
                $"{route} is not covered by any HTTP function route");
        }
        // The host proxies /api/<route>; the prefix must agree with host.json.
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Azurite.RepoRoot(), "host.json")));
        Assert.Equal("api", host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.True(host.RootElement.GetProperty("customHandler").GetProperty("enableProxyingHttpRequest").GetBoolean());
    }
}
