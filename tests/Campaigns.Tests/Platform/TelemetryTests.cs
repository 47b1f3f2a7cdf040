using Campaigns.Platform;
using Campaigns.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Campaigns.Tests.Platform;

/// <summary>Telemetry keeps no personal data: no fan ids from paths or storage keys, no SAS, no span per idle poll.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public void Storage_urls_keep_only_account_and_resource()
    {
        Assert.Equal("http://127.0.0.1:10002/devstoreaccount1/submissions",
            Telemetry.RedactStorageUrl(new Uri("http://127.0.0.1:10002/devstoreaccount1/submissions(PartitionKey='f%7Cfan-giulia',RowKey='c1%7Ce1')?$select=Doc")));
        Assert.Equal("https://acct.blob.core.windows.net/uploads",
            Telemetry.RedactStorageUrl(new Uri("https://acct.blob.core.windows.net/uploads/c1/fan-giulia/e1.jpg?sv=2025-01-05&sig=SECRET")));
        Assert.Equal("https://acct.queue.core.windows.net/votes",
            Telemetry.RedactStorageUrl(new Uri("https://acct.queue.core.windows.net/votes/messages?numofmessages=16")));
    }

    [Fact]
    public void Only_queue_receives_are_idle_polls()
    {
        Assert.True(Telemetry.IsQueuePoll(new HttpRequestMessage(HttpMethod.Get, "https://acct.queue.core.windows.net/votes/messages?numofmessages=16")));
        Assert.False(Telemetry.IsQueuePoll(new HttpRequestMessage(HttpMethod.Post, "https://acct.queue.core.windows.net/votes/messages")));
        Assert.False(Telemetry.IsQueuePoll(new HttpRequestMessage(HttpMethod.Get, "https://acct.blob.core.windows.net/media/messages.jpg")));
    }

    [Fact]
    public async Task Errors_are_logged_with_the_route_template_not_the_fans_path()
    {
        var sink = new ListLoggerProvider();
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Logging.AddProvider(sink);
            // A read that fails unexpectedly: the handler behind /api/fans/{fanId} throws.
            b.Services.AddSingleton<global::Campaigns.Fans.FanStore>(_ => throw new InvalidOperationException("store down"));
        });
        var response = await app.As("operator", "ops-1").GetAsync("/api/fans/fan-giulia-rossi");
        Assert.Equal(500, (int)response.StatusCode);
        var logged = string.Join("\n", sink.Messages);
        Assert.Contains("/api/fans/{fanId}", logged);
        Assert.DoesNotContain("fan-giulia-rossi", logged);
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();
        public ILogger CreateLogger(string categoryName) => new ListLogger(this);
        public void Dispose() { }

        private sealed class ListLogger(ListLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) owner.Messages.Enqueue(formatter(state, exception));
            }
        }
    }
}
