using Microsoft.Extensions.Options;
using NCrontab;

namespace Campaigns.Hosting;

/// <summary>Standalone mode: fires every timerTrigger on its six-field NCRONTAB schedule in UTC, with a TimerInfo payload.</summary>
public sealed class StandaloneTimers(
    FunctionCatalog catalog, FunctionInvoker invoker, TimeProvider time, IOptions<HostingOptions> hosting,
    ILogger<StandaloneTimers> logger) : BackgroundService
{
    public static CrontabSchedule Parse(string schedule)
        => CrontabSchedule.Parse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true });

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!hosting.Value.Standalone) return Task.CompletedTask;
        return Task.WhenAll(catalog.Functions.Where(f => f.Trigger is TimerTrigger)
            .Select(f => Task.Run(() => RunAsync(f, stoppingToken), CancellationToken.None)));
    }

    private async Task RunAsync(FunctionDefinition function, CancellationToken stopping)
    {
        var trigger = (TimerTrigger)function.Trigger;
        var schedule = Parse(trigger.Schedule);
        DateTimeOffset? last = null;
        var now = time.GetUtcNow();
        if (trigger.RunOnStartup) await FireAsync(function, false, last, Next(schedule, now), now);
        while (!stopping.IsCancellationRequested)
        {
            now = time.GetUtcNow();
            var due = Next(schedule, now);
            try { await Task.Delay(due - now, time, stopping); }
            catch (OperationCanceledException) { break; }
            now = time.GetUtcNow();
            // Past due when the tick came late enough that the next occurrence is already behind us.
            var pastDue = Next(schedule, due) <= now;
            await FireAsync(function, pastDue, last, Next(schedule, now), now);
            last = due;
        }
    }

    private async Task FireAsync(FunctionDefinition function, bool pastDue, DateTimeOffset? last, DateTimeOffset next, DateTimeOffset now)
    {
        var payload = FunctionInvoker.TimerPayload(function, pastDue, last, next, now);
        var result = await invoker.InvokeAsync(function.Name, payload, null, CancellationToken.None);
        if (!result.Succeeded) logger.LogWarning("Timer {FunctionName} failed; it runs again at {Next}", function.Name, next);
    }

    private static DateTimeOffset Next(CrontabSchedule schedule, DateTimeOffset after)
        => new(DateTime.SpecifyKind(schedule.GetNextOccurrence(after.UtcDateTime), DateTimeKind.Utc));
}
