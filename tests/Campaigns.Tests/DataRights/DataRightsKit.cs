using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Submissions;
using Campaigns.Tests.Voting;
using Microsoft.Extensions.Time.Testing;

namespace Campaigns.Tests.DataRights;

/// <summary>One fan who did everything a fan can do in a campaign, among two other voters, on a fake clock.</summary>
internal sealed record FanFootprint(TestApp App, FakeTimeProvider Time, string CampaignId, string FanId, HttpClient Fan, string LabelText,
    string Caption, string PhotoEntryId, string LabelEntryId, string PublicSmallUrl, string[] OtherFans);

internal static class DataRightsKit
{
    public static async Task<(TestApp App, FakeTimeProvider Time)> StartAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = VotingKit.Settings(("DataRights:ErasureQueue", "erase-" + Guid.NewGuid().ToString("N")[..12]));
        var app = await TestApp.StartAsync(b => b.Services.AddSingleton<TimeProvider>(time), settings);
        return (app, time);
    }

    public static async Task<FanFootprint> FootprintAsync(TestApp app, FakeTimeProvider time)
    {
        var now = time.GetUtcNow();
        var marketer = app.As("marketer");
        var id = "dr-" + Guid.NewGuid().ToString("N")[..12];
        var created = await marketer.PostAsJsonAsync("/api/campaigns", new
        {
            id, name = "Rights", brand = "Brand", timeZone = "Europe/Paris", locales = new[] { "en", "fr" }, features = new[] { "voting", "submissions" },
            windows = new
            {
                publish = new { start = now.AddDays(-10), end = now.AddDays(60) },
                voting = new { start = now.AddHours(-1), end = now.AddDays(1) },
                entry = new { start = now.AddDays(-1), end = now.AddDays(20) },
                reveal = now.AddDays(1).AddHours(1),
            },
            rules = new { version = "r1", text = new Dictionary<string, string> { ["en"] = "Rules" } },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot());

        var tag = Guid.NewGuid().ToString("N")[..8];
        var fanId = "erased-fan-" + tag;
        var fan = app.As("fan", fanId);
        var others = new[] { "voter-a-" + tag, "voter-b-" + tag };
        foreach (var (f, who) in others.Select(o => (app.As("fan", o), o)).Prepend((fan, fanId)))
        {
            Assert.Equal(200, (int)(await f.PutAsJsonAsync("/api/me/profile", new { displayName = "Name " + who, country = "FR", birthDate = "1990-05-01" })).StatusCode);
            Assert.Equal(200, (int)(await f.PutAsJsonAsync($"/api/me/campaigns/{id}/consent",
                new { rulesVersion = "r1", rightsGrant = true, ageConfirmed = true, marketingOptIn = true, showNamePublicly = true })).StatusCode);
            Assert.Equal(202, (int)(await f.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "red"), ("wheels", "sport")))).StatusCode);
        }
        // First vote is final: the fan's second ballot is kept as a refusal (with its IP key).
        // Order among votes is by their instant: on a frozen clock two votes would tie and either could count first.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "blue")))).StatusCode);

        // A photo, published: public copies, derivatives, original.
        var caption = "Caption of " + tag;
        var (photoId, uploadUrl, _) = await Submit.CreateAsync(fan, id,
            new { kind = "photo", locale = "en", text = caption, consent = Submit.Consent, upload = new { contentType = "image/jpeg", size = TestImages.TaggedJpeg().Length } });
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(uploadUrl!, TestImages.TaggedJpeg())).StatusCode);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, id, photoId)).StatusCode);
        Assert.Equal("pending", (await Submit.WaitProcessedAsync(fan, id, photoId)).GetProperty("status").GetString());
        await app.Service<IEntryModeration>().ApplyAsync(id, photoId, new EntryDecision("approved", null, null, "mod-1", now), CancellationToken.None);
        var own = await (await fan.GetAsync($"/api/me/submissions/{id}/{photoId}")).Json();
        var publicSmall = own.GetProperty("media").GetProperty("small").GetString()!;
        using (var http = new HttpClient()) Assert.Equal(200, (int)(await http.GetAsync(publicSmall)).StatusCode);

        // A jury round over the photo, scored now, closed by its deadline when the clock moves on.
        var judge = "judge-" + tag;
        var jury = $"/api/judging/campaigns/{id}";
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"{jury}/setup", new
        {
            rubric = new { criteria = new[] { new { id = "story", label = "Story", weight = 1.0 } }, scaleMin = 1, scaleMax = 10 }, judges = new[] { judge },
        })).StatusCode);
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync($"{jury}/rounds", new { id = "jury", deadline = now.AddHours(1), entryIds = new[] { photoId } })).StatusCode);
        Assert.Equal(200, (int)(await app.As("judge", judge).PutAsJsonAsync($"{jury}/rounds/jury/entries/{photoId}/score",
            new { scores = new Dictionary<string, int> { ["story"] = 7 } })).StatusCode);

        // A label with the fan's name: previewed, approved, printed (manifest line with fan id and text).
        var labelText = "Zéphyrine " + tag;
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{id}/label-template", new
        {
            width = 600, height = 300, backgroundColor = "#ffcc00", textColor = "#3a1f04", box = new { x = 50, y = 100, width = 500, height = 120 },
            maxFontPoints = 40, printScale = 1,
        })).StatusCode);
        Assert.Equal(200, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/labels/preview", new { text = labelText })).StatusCode);
        var (labelId, _, _) = await Submit.CreateAsync(fan, id, new { kind = "label", locale = "fr", text = labelText, consent = Submit.Consent });
        await app.Service<IEntryModeration>().ApplyAsync(id, labelId, new EntryDecision("approved", null, null, "mod-1", now), CancellationToken.None);
        Assert.Equal(201, (int)(await marketer.PostAsync($"/api/campaigns/{id}/print-batches", null)).StatusCode);

        await VotingKit.WaitAsync(app, id, t => t.GetProperty("votesCounted").GetInt64() == 3 && VotingKit.Refused(t, "duplicate") == 1);

        // A draw among the voters, committed before the close and run after it; then the round's reveal.
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{id}/draws/prize", new { method = "random", pool = "voters", winners = 1, alternates = 2 })).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/draws/prize/commit", null)).StatusCode);
        time.Advance(TimeSpan.FromDays(2));
        var run = await marketer.PostAsync($"/api/campaigns/{id}/draws/prize/run", null);
        Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync());
        var results = await marketer.GetAsync($"{jury}/rounds/jury/results");
        Assert.True(results.IsSuccessStatusCode, await results.Content.ReadAsStringAsync());
        var reveal = await app.As("owner").PostAsync($"/api/campaigns/{id}/rounds/r1/reveal", null);
        Assert.True(reveal.IsSuccessStatusCode, await reveal.Content.ReadAsStringAsync());

        return new FanFootprint(app, time, id, fanId, fan, labelText, caption, photoId, labelId, publicSmall, others);
    }

    /// <summary>Polls the status until it reads "done" for the given run (bounded: about a minute).</summary>
    public static async Task<JsonElement> WaitErasedAsync(Func<Task<HttpResponseMessage>> status, int run)
    {
        JsonElement last = default;
        for (var i = 0; i < 300; i++)
        {
            var r = await status();
            if (r.IsSuccessStatusCode)
            {
                last = await r.Json();
                if (last.GetProperty("status").GetString() == "done" && last.GetProperty("run").GetInt32() == run) return last;
            }
            await Task.Delay(200);
        }
        Assert.Fail("The erasure job did not finish: " + last);
        return last;
    }

    /// <summary>The public draw record and eligible list as published, and what the verifier says of them.</summary>
    public static async Task<(byte[] Record, byte[] List, global::Campaigns.Winners.DrawVerifier.Outcome Outcome)> DrawAsync(TestApp app, string campaignId)
    {
        var record = await app.Client.GetByteArrayAsync($"/api/public/campaigns/{campaignId}/draws/prize/record");
        var list = await app.Client.GetByteArrayAsync($"/api/public/campaigns/{campaignId}/draws/prize/eligible.txt");
        return (record, list, global::Campaigns.Winners.DrawVerifier.Verify(record, list));
    }
}
