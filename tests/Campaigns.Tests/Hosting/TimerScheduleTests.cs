using Campaigns.Hosting;

namespace Campaigns.Tests.Hosting;

public sealed class TimerScheduleTests
{
    [Theory]
    [InlineData("0 * * * * *", "2026-03-29T00:59:30Z", "2026-03-29T01:00:00Z")]
    [InlineData("0 */5 * * * *", "2026-10-25T00:58:00Z", "2026-10-25T01:00:00Z")]
    [InlineData("30 0 18 * * *", "2026-03-29T18:00:31Z", "2026-03-30T18:00:30Z")]
    public void Six_field_schedules_are_evaluated_in_utc(string schedule, string after, string expected)
    {
        var next = StandaloneTimers.Parse(schedule).GetNextOccurrence(DateTimeOffset.Parse(after).UtcDateTime);
        Assert.Equal(DateTimeOffset.Parse(expected).UtcDateTime, next);
    }

    [Fact]
    public void Five_field_expressions_are_refused()
        => Assert.ThrowsAny<Exception>(() => StandaloneTimers.Parse("* * * * *"));

    [Fact]
    public void Host_json_queue_settings_are_read()
    {
        var s = HostQueueSettings.Load(Path.Combine(Infrastructure.Azurite.RepoRoot(), "host.json"));
        Assert.Equal(16, s.BatchSize);
        Assert.Equal(5, s.MaxDequeueCount);
        Assert.Equal(TimeSpan.FromSeconds(5), s.VisibilityTimeout);
    }
}
